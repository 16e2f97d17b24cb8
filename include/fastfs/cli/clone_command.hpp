// `fastfs clone SRC DST`: DST shares all of SRC's blocks, or the command fails. Never a silent copy.
// Inside a fastfs mount it asks the daemon (FASTFS_IOC_CLONE_SOURCE, then FASTFS_IOC_CLONE_INTO), because
// the kernel stops FICLONE at the FUSE layer; outside any fastfs mount it clones the files directly.
#pragma once

#include <string>

namespace fastfs::cli {

int run_clone(const std::string& source, const std::string& destination);

}  // namespace fastfs::cli
