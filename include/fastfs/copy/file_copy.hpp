// Whole-file copy for `fastfs copy SRC DST`: the copy engine (reflink, then sparse extent copy) plus what
// makes a file a copy of another (mode, owner, times, xattrs and ACLs), written to a temporary file in
// DST's directory and renamed into place only when complete.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "fastfs/copy/engine.hpp"
#include "fastfs/sys/result.hpp"

namespace fastfs::copy {

enum class ReflinkMode {
    kAuto,    // share blocks where the filesystems can, copy elsewhere
    kNever,   // always a real copy (new blocks)
    kAlways,  // FICLONE or fail with the kernel's errno (EOPNOTSUPP, EXDEV, ...); never copies
};

struct FileCopyOptions {
    // Mode (including setuid/setgid/sticky), owner and group when permitted, atime/mtime to the
    // nanosecond, and extended attributes (so POSIX ACLs too). Without it the new file gets the source's
    // permission bits less the umask, like cp without -p.
    bool preserve = true;
    ReflinkMode reflink = ReflinkMode::kAuto;
    // Bytes per engine call; progress is reported after each.
    uint64_t chunk_bytes = uint64_t(256) << 20;
    // Called with (bytes done, total) after every chunk, and once with (0, 0) for an empty file.
    std::function<void(uint64_t bytes_done, uint64_t total)> progress = {};
};

struct FileCopyReport {
    std::filesystem::path destination;  // the file written: DST, or DST/basename(SRC) when DST is a directory
    uint64_t bytes = 0;                 // bytes copied (the source's size, unless it shrank meanwhile)
    CopyReport copy;                    // how the bytes were copied
    bool owner_preserved = true;        // false when chown was not permitted (the copy is still made)
    std::vector<std::string> skipped_xattrs;  // not settable on DST (security.*, unsupported namespaces)
};

// What landing a file kept of its source's metadata.
struct LandedMetadata {
    bool owner_preserved = true;              // false when chown was not permitted (the file is still made)
    std::vector<std::string> skipped_xattrs;  // not settable on the new file (security.*, namespaces)
};

// Where land_file() failed, with the errno of that step; nothing is left behind either way.
struct LandingError {
    enum class Step { create, fill, metadata, sync, rename } step;
    int error;
};

// Fills the pending file (its descriptor) with the source's bytes: a copy, a clone, a daemon's clone.
using FillPending = std::function<sys::Result<void>(int pending_fd)>;

// The one way `fastfs copy` and `fastfs clone` put a file in place: a pending file in `dir_fd` that no one
// sees until it is complete, filled by `fill`; with `preserve`, given the source's owner, xattrs, mode and
// times (else the source's permission bits less the umask); fsynced; renamed over `name` (atomic, an
// existing file replaced); then the directory fsynced, since only that makes the rename durable.
std::expected<LandedMetadata, LandingError> land_file(int dir_fd, const std::string& name, int src_fd,
                                                      const struct stat& src_st, bool preserve,
                                                      const FillPending& fill);

// Copies the regular file `source` to `destination`. If `destination` is an existing directory the copy
// goes to destination/basename(source). An existing destination file is replaced atomically (rename);
// on any failure it is left untouched and no temporary file remains. The data is fsynced before the
// rename and the directory after it.
// Errors: the errno of the step that failed, e.g. ENOENT (no source), EISDIR (source is a directory),
// EINVAL (source is not a regular file, or is the destination itself), ENOSPC, EACCES.
// Call it qualified (copy::copy_file): with std::filesystem::path arguments, argument-dependent lookup
// also finds std::filesystem::copy_file.
sys::Result<FileCopyReport> copy_file(const std::filesystem::path& source,
                                      const std::filesystem::path& destination,
                                      const FileCopyOptions& options = {});

}  // namespace fastfs::copy
