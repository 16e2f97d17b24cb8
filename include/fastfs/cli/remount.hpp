// `mount -o remount,...`: change a live fastfs mount's read-only state and per-mount flags
// (src/cli/remount.cpp).
#pragma once

#include <string>
#include <vector>

#include "fastfs/cli/mount_command.hpp"

namespace fastfs::cli {

// Whether the -o lists ask for a remount ("remount" among them, as mount(8) passes it to the helper).
bool asks_for_remount(const std::vector<std::string>& option_lists);

// Remounts MOUNTPOINT (mount(8) passes SOURCE MOUNTPOINT; a lone path is the mountpoint) with its current
// flags changed as the options say: ro/rw, [no]suid, [no]dev, [no]exec, atime options, sync/async. Options
// that only the daemon knows cannot change on a live mount: one warning line names them. The backing's own
// nosuid, nodev and noexec stay. Returns the exit code.
int run_remount(const MountRequest& request);

}  // namespace fastfs::cli
