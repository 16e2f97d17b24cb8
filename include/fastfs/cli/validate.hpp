// Checks made before mounting, so that a bad command line or an unusable system gives one clear line
// instead of a libfuse message, a hang (recursive mount) or a half-started daemon.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "fastfs/cli/errors.hpp"
#include "fastfs/fuse/mount_config.hpp"

namespace fastfs::cli {

struct MountPaths {
    std::filesystem::path backing;     // canonical
    std::filesystem::path mountpoint;  // canonical
};

// Both must be existing, reachable directories; the backing must not be on a pseudo filesystem (proc,
// sysfs, devtmpfs...: sys/pseudo_filesystem.hpp); the mountpoint must not be a stale or live FUSE mount
// and must lie outside the backing tree (a mount inside its own backing tree calls into itself).
Checked<MountPaths> resolve_mount_paths(std::string_view backing, std::string_view mountpoint);

// /dev/fuse usable by this process; for a non-root user, a setuid fusermount3, write access to the
// mountpoint and, for allow_other, user_allow_other in /etc/fuse.conf.
Checked<void> check_mount_permission(const fuse::MountConfig& config);
// With -o log_file=: the file can be opened for appending (created if missing), so that a daemon's log
// does not vanish after it has left the terminal.
Checked<void> check_log_file(const fuse::MountConfig& config);
// With -o io_uring: the library has it and the kernel has it turned on (one clear error if not).
Checked<void> check_io_uring(const fuse::MountConfig& config);

// The message for a mountpoint whose FUSE daemon died (stat gives ENOTCONN).
std::string stale_mount_message(std::string_view path);

// A fastfs mount whose daemon died (a crash, kill -9) answers ENOTCONN until it is unmounted. So that
// `mount MNT`, fstab and systemd bring it back by running fastfs again, a dead mount of fastfs's own type
// (fuse.<subtype>) at `mountpoint` is detached (lazily: processes still inside keep their dead view) with
// one note line on stderr. A dead mount of any other type is left alone (resolve_mount_paths reports it).
Checked<void> recover_dead_mount(std::string_view mountpoint, const std::string& subtype);

}  // namespace fastfs::cli
