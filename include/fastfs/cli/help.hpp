// Text of --help and --version, kept apart so the man page can be generated from the same words.
#pragma once

#include <string>

namespace fastfs::cli {

// "fastfs 0.1.0 (libfuse 3.14)"
std::string version_text();

// The -o options, one line each, appended to --help.
std::string mount_options_help();

}  // namespace fastfs::cli
