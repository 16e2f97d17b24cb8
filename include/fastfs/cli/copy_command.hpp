// `fastfs copy SRC DST`: a copy by the fastest path the filesystems allow (reflink, then an extent-aware
// sparse copy), with a progress bar on a terminal and a one-line summary of what was done.
#pragma once

#include <string>

#include "fastfs/cli/errors.hpp"
#include "fastfs/copy/file_copy.hpp"

namespace fastfs::cli {

// "auto", "always" or "never", as in cp --reflink.
Checked<copy::ReflinkMode> parse_reflink_mode(const std::string& word);

int run_copy(const std::string& source, const std::string& destination, copy::ReflinkMode reflink);

// "copied 64.0 MiB to DST in 0.05 s: 0 B reflinked, 2.0 MiB copied, 62.0 MiB holes"
std::string copy_summary(const copy::FileCopyReport& report, double seconds);

}  // namespace fastfs::cli
