// The few mount-table facts and mount calls the CSI driver needs beyond the Docker plugin's mount_table.hpp.
#pragma once

#include <filesystem>

#include "fastfs/sys/result.hpp"
#include "fastfs/sys/unique_fd.hpp"

namespace fastfs::csi {

// Opens directory `relative` below `dir` (O_PATH), never leaving it: "..", absolute symlinks and symlinks
// that climb out fail with EXDEV (openat2 RESOLVE_BENEATH); magic links are refused too.
sys::Result<sys::UniqueFd> open_beneath(const std::filesystem::path& dir,
                                        const std::filesystem::path& relative);

// Where an open descriptor's file is, as /proc/self/fd tells it.
sys::Result<std::filesystem::path> path_of(int fd);

// Binds the directory `dir_fd` refers to (not the mounts below it) onto `target`, read-only if asked. The
// bind is made read-only before it is attached (open_tree, mount_setattr, move_mount): under a shared mount
// such as kubelet's, the copies propagated to other namespaces are then read-only too, which a remount after
// attaching would not give them.
sys::Result<void> attach_bind(int dir_fd, const std::filesystem::path& target, bool readonly);

// Whether a mount sits exactly at `path`; whether it answers (statfs, which a dead FUSE daemon fails with
// ENOTCONN while stat may still answer from the cache).
bool is_mount_point(const std::filesystem::path& path);
bool answers(const std::filesystem::path& path);

// Unmounts everything stacked at `path`: a dead (ENOTCONN) or busy mount is detached lazily.
void unmount_all(const std::filesystem::path& path);

}  // namespace fastfs::csi
