// `fastfs stats MOUNTPOINT [--json]`: the mount's counters, read with FASTFS_IOC_GET_STATS; and
// `fastfs status`.
#pragma once

#include <string>

#include "fastfs/cli/errors.hpp"
#include "fastfs/ioctl_abi.h"

namespace fastfs::cli {

// Reads the counters through any directory inside a fastfs mount.
Checked<fastfs_stats> read_mount_stats(const std::string& directory);

int run_stats(const std::string& mountpoint, bool json);

// `fastfs status MOUNTPOINT [--json]`: how a running mount runs (FASTFS_IOC_GET_STATUS), for root and the
// user who mounted it.
Checked<fastfs_status> read_mount_status(const std::string& directory);
int run_status(const std::string& mountpoint, bool json);

}  // namespace fastfs::cli
