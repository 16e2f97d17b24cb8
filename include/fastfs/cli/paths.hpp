// Where a SRC DST pair of a file command (clone, copy) lands: like cp, DST may name a directory.
#pragma once

#include <sys/stat.h>

#include <string>

#include "fastfs/cli/errors.hpp"
#include "fastfs/sys/unique_fd.hpp"

namespace fastfs::cli {

struct OpenedSource {
    sys::UniqueFd fd;
    struct stat st {};
};

struct Destination {
    sys::UniqueFd dir;    // the directory that will hold the file
    std::string name;     // the file's name inside `dir`
    std::string display;  // as the user would write it, for messages
};

// Opens SRC for reading; it must be a regular file.
Checked<OpenedSource> open_source(const std::string& source);

// DST itself, or DST/basename(SRC) when DST is an existing directory. Refuses DST being SRC.
Checked<Destination> resolve_destination(const std::string& source, const struct stat& source_st,
                                         const std::string& destination);

}  // namespace fastfs::cli
