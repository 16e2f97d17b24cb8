// `fastfs clone -r SRC DST` and `fastfs copy -r SRC DST`: the directory tree SRC as a new directory DST
// (which must not exist), all or nothing. Inside a fastfs mount the daemon does the whole walk in one request
// (FASTFS_IOC_TREE_COPY) while a second thread reads its progress; outside one the command walks itself with
// the same code (copy::copy_tree). A SRC that is a file is copied as by the command without -r.
#pragma once

#include <string>

#include "fastfs/copy/tree_copy.hpp"

namespace fastfs::cli {

int run_tree(copy::TreeMode mode, const std::string& source, const std::string& destination);

// "cloned 1041 files (4.6 GiB) to DST in 0.41 s: 4.6 GiB shared, 0 B copied, 3.9 GiB holes kept; 21
// directories, 3 symlinks"
std::string tree_summary(copy::TreeMode mode, const copy::TreeCounts& counts, const std::string& destination,
                         double seconds);

}  // namespace fastfs::cli
