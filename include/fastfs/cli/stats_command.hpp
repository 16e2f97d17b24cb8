// `fastfs stats MOUNTPOINT [--json]`: the mount's counters, read with FASTFS_IOC_GET_STATS.
#pragma once

#include <string>

#include "fastfs/cli/errors.hpp"
#include "fastfs/ioctl_abi.h"

namespace fastfs::cli {

// Reads the counters through any directory inside a fastfs mount.
Checked<fastfs_stats> read_mount_stats(const std::string& directory);

int run_stats(const std::string& mountpoint, bool json);

}  // namespace fastfs::cli
