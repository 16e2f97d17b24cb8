// The text format of /proc/self/mountinfo, read by the mount checks and by the Docker plugin.
#pragma once

#include <cerrno>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "fastfs/sys/result.hpp"

namespace fastfs::sys {

// Whether a call on a FUSE mount failed because its daemon is gone: the kernel answers ENOTCONN, or
// ECONNABORTED when the daemon served it over io_uring queues.
inline bool fuse_daemon_gone(int error) {
    return error == ENOTCONN || error == ECONNABORTED;
}

// A path field of mountinfo as the path it stands for: the kernel writes space, tab, newline and backslash
// as a backslash and three octal digits.
std::string unescape_mountinfo(std::string_view field);

// One line of mountinfo, path fields decoded:
// "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
struct MountinfoLine {
    unsigned long id = 0;
    std::string device;         // "major:minor"
    std::string root;           // the directory of the filesystem that is mounted here
    std::string mount_point;    // where, in this mount namespace
    std::string fstype;         // e.g. "xfs", "fuse.fastfs", "devtmpfs"
    std::string source;         // e.g. "/dev/sda1"; a fastfs mount's fsname
    std::string super_options;  // the filesystem's own options, e.g. "rw,user_id=0,allow_other"
};

// nullopt for a line that does not parse.
std::optional<MountinfoLine> parse_mountinfo_line(std::string_view line);

// The filesystem type mounted exactly at `canonical_path` (e.g. "fuse.fastfs"), from /proc/self/mountinfo;
// the top one where several are stacked. Reads only mountinfo: it never touches the mount itself.
std::optional<std::string> mounted_type_at(const std::filesystem::path& canonical_path);

// The mount `path` is reached through, as /proc/self/mountinfo lists it (statx STATX_MNT_ID, so stacked and
// bind mounts are exact). ENOENT when mountinfo does not list it or cannot be read (no /proc).
Result<MountinfoLine> mount_of(const std::filesystem::path& path);

}  // namespace fastfs::sys
