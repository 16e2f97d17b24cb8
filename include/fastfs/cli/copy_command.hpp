// `fastfs copy SRC DST`: a copy by the fastest path the filesystems allow (reflink, then an extent-aware
// sparse copy), with a progress bar on a terminal and a one-line summary of what was done.
#pragma once

#include <string>

namespace fastfs::cli {

int run_copy(const std::string& source, const std::string& destination);

}  // namespace fastfs::cli
