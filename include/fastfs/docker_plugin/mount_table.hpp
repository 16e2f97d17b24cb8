// The mount table as /proc/self/mountinfo tells it, and the few mount(2) calls the plugin makes.
#pragma once

#include <filesystem>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "fastfs/sys/result.hpp"

namespace fastfs::docker_plugin {

struct MountEntry {
    unsigned long id = 0;
    std::string device;                 // "major:minor"
    std::filesystem::path root;         // the directory of the filesystem that is mounted here
    std::filesystem::path mount_point;  // where, in this mount namespace
    std::string fstype;                 // e.g. "xfs", "fuse.fastfs"
    std::string source;                 // e.g. "/dev/sda1"; a fastfs mount's fsname
};

// Parses mountinfo lines (octal escapes such as "\040" decoded). Lines that do not parse are skipped.
std::vector<MountEntry> parse_mountinfo(std::istream& in);
std::vector<MountEntry> read_mount_table(const std::filesystem::path& file = "/proc/self/mountinfo");

// The mount tables of every mount namespace on the system other than this process's own, one per
// namespace (read through some process in it).
std::vector<std::vector<MountEntry>> other_namespaces_mount_tables();

// The mount a path is reached through (statx STATX_MNT_ID, so stacked and bind mounts are exact).
sys::Result<MountEntry> mount_of(const std::filesystem::path& path);

// The topmost mount exactly at `path`, if any.
std::optional<MountEntry> mount_at(const std::vector<MountEntry>& table, const std::filesystem::path& path);

// Whether `path` lies at or below `dir`, comparing whole components.
bool is_within(const std::filesystem::path& path, const std::filesystem::path& dir);

// Bind-mounts `source` at `target` (not recursively, so mounts below `source` stay out), private so that
// later mounts elsewhere do not propagate into it, then applies per-mount `flags` (MS_RDONLY, ...).
sys::Result<void> bind_private(const std::filesystem::path& source, const std::filesystem::path& target,
                               unsigned long flags);

// Unmounts `path`; if it is busy, detaches it lazily (it goes away once no one uses it).
sys::Result<void> unmount(const std::filesystem::path& path);
sys::Result<void> detach(const std::filesystem::path& path);  // lazy only: for dead FUSE mounts

}  // namespace fastfs::docker_plugin
