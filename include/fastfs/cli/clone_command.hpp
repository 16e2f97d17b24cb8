// `fastfs clone SRC DST`: DST shares all of SRC's blocks, or the command fails. Never a silent copy.
// Inside a fastfs mount it asks the daemon (FASTFS_IOC_CLONE_SOURCE, then FASTFS_IOC_CLONE_INTO), because
// the kernel stops FICLONE at the FUSE layer; outside any fastfs mount it clones the files directly.
#pragma once

#include <linux/types.h>

#include <optional>
#include <string>

#include "fastfs/cli/errors.hpp"

namespace fastfs::cli {

int run_clone(const std::string& source, const std::string& destination);

// A clone token for the open file or directory `source_fd` (FASTFS_IOC_CLONE_SOURCE); nullopt when it is
// not inside a fastfs mount (ENOTTY); an error naming `source` otherwise.
Checked<std::optional<__u64>> request_clone_token(int source_fd, const std::string& source);
// Whether the open directory `dir_fd` is inside a fastfs mount (it answers the stats ioctl, or refuses it).
bool inside_fastfs(int dir_fd);

}  // namespace fastfs::cli
