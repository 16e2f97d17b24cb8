// The copy engine: copies a byte range between two open file descriptors by the best path the backing
// filesystems allow. It knows nothing of FUSE; the FUSE copy handler, `fastfs copy` and `fastfs clone`
// all call it.
//
// Per range it chooses, in order:
//   1. a reflink (FICLONERANGE) of the block-aligned part, when both files are on one filesystem that
//      shares blocks (XFS reflink=1, btrfs), including a range that ends at the source's EOF;
//   2. otherwise an extent-aware copy: SEEK_DATA/SEEK_HOLE over the source, data extents copied with
//      copy_file_range, then splice, then pread/pwrite (falling back per method on EXDEV, EOPNOTSUPP,
//      EINVAL, ENOSYS and remembering per filesystem pair what does not work); source holes become holes
//      in the destination (ftruncate past its end, punch where it had data) without allocating blocks;
//   3. the unaligned head and tail byte for byte, so the result is always exact.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <utility>

#include "fastfs/sys/result.hpp"

namespace fastfs::copy {

// Why the engine did not take the fastest path for (part of) a range. One bit each.
enum FallbackReason : uint32_t {
    kNoReflinkSupport = 1u << 0,  // FICLONERANGE refused: EOPNOTSUPP/EINVAL on this filesystem
    kCrossFilesystem = 1u << 1,   // the two files are on different filesystems: EXDEV
    kUnaligned = 1u << 2,         // offsets not block-aligned alike, so no reflink possible
    kNoCopyFileRange = 1u << 3,   // backing copy_file_range refused
    kNoSplice = 1u << 4,          // splice refused
    kNoPunchHole = 1u << 5,       // holes written as zeros because punching is not supported
};

// What one copy did. Byte counts add up to the bytes the call returned, holes included.
struct CopyReport {
    uint64_t bytes_reflinked = 0;
    uint64_t bytes_copy_file_range = 0;
    uint64_t bytes_splice = 0;
    uint64_t bytes_read_write = 0;
    uint64_t bytes_hole = 0;     // source holes reproduced as destination holes (not read, not written)
    uint64_t holes_punched = 0;  // holes punched in destination data
    uint32_t fallbacks = 0;      // FallbackReason bits

    CopyReport& operator+=(const CopyReport& other);
};

// Remembers, per (source filesystem, destination filesystem) pair, which methods the kernel refused,
// so later copies go straight to the method that works. Thread-safe.
class CapabilityCache {
  public:
    enum Method : uint32_t {
        kReflink = 1u << 0,
        kCopyFileRange = 1u << 1,
        kSplice = 1u << 2,
        kPunch = 1u << 3
    };
    bool refused(dev_t src, dev_t dst, Method method) const;
    void mark_refused(dev_t src, dev_t dst, Method method);

  private:
    mutable std::mutex mutex_;
    // Keyed by the exact (src, dst) pair: a hash collision would silently disable a working method.
    std::map<std::pair<dev_t, dev_t>, uint32_t> refused_;  // value: Method bits
};

struct CopyOptions {
    bool allow_reflink = true;  // false: never share blocks (e.g. a caller asked for a real copy)
};

// Copies up to `len` bytes from fd_in at off_in to fd_out at off_out (like copy_file_range(2), never
// past the source's EOF). Returns the exact number of bytes copied; 0 at or past the source's EOF.
// A failure part-way returns the bytes done so far, or the error if nothing was done. Never changes the
// source, never returns more than `len`. Overlapping ranges of the same file are EINVAL.
// fd_out must be open for writing (not O_APPEND); fd_in for reading. What was done is ADDED to
// `report`, so one report can sum several calls; with a fresh report, bytes_reflinked +
// bytes_copy_file_range + bytes_splice + bytes_read_write + bytes_hole == the returned count.
// With allow_reflink false the backing copy_file_range is not used either: on XFS/btrfs the kernel
// would turn it into a clone.
sys::Result<uint64_t> copy_range(int fd_in, off_t off_in, int fd_out, off_t off_out, uint64_t len,
                                 CapabilityCache& caps, CopyReport& report, const CopyOptions& options = {});

// Makes fd_out share all of fd_in's blocks (FICLONE) or fails: never copies. Used by `fastfs clone`.
sys::Result<void> clone_whole_file(int fd_in, int fd_out);

// Shares [off_in, off_in+len) of fd_in at off_out in fd_out (FICLONERANGE) or fails; len 0 means to EOF.
sys::Result<void> clone_exact_range(int fd_in, off_t off_in, int fd_out, off_t off_out, uint64_t len);

}  // namespace fastfs::copy
