// Copying what besides the bytes makes one file a copy of another: owner, extended attributes (POSIX
// ACLs are xattrs too), mode and times. Private to src/copy.
#pragma once

#include <sys/stat.h>

#include <string>
#include <vector>

#include "fastfs/sys/result.hpp"

namespace fastfs::copy::detail {

struct MetadataOutcome {
    bool owner_preserved = true;
    std::vector<std::string> skipped_xattrs;
};

// Applies `source`'s metadata (from fd `src_fd`) to `dst_fd`, in the order that keeps each step from
// undoing an earlier one: owner (chown clears setuid bits and file capabilities), xattrs, mode, times.
// Not being allowed to chown, or to set a security.* attribute or an attribute namespace the
// destination does not support, is noted in the outcome rather than failing the copy.
sys::Result<MetadataOutcome> copy_metadata(int src_fd, const struct stat& source, int dst_fd);

}  // namespace fastfs::copy::detail
