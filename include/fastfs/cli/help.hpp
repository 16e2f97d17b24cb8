// Text of --help and --version. The mount options listed here, those of the man page (docs/fastfs.8) and
// those the parser knows (options.cpp) are the same: tests/unit/cli/help_test.cpp checks it.
#pragma once

#include <string>

namespace fastfs::cli {

// "fastfs 0.1.0 (libfuse 3.14)"
std::string version_text();

// The -o options, one line each, appended to --help.
std::string mount_options_help();

}  // namespace fastfs::cli
