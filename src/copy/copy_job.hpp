// Private to the copy engine: the state of one copy_range call, shared by its parts (reflink,
// extent walk, data copy, holes). Nothing here is visible outside src/copy.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <cstdint>
#include <memory>

#include "fastfs/copy/engine.hpp"
#include "fastfs/sys/unique_fd.hpp"

namespace fastfs::copy::detail {

// How far a piece of work got: `bytes` done from its start, and the errno that stopped it (0 when it
// finished, or stopped early only because the source ended).
struct Progress {
    uint64_t bytes = 0;
    int error = 0;
};

struct CopyJob {
    CopyJob(int in, int out, dev_t in_dev, dev_t out_dev, off_t out_size, CapabilityCache& cache,
            CopyReport& call_report, const CopyOptions& copy_options)
        : fd_in(in),
          fd_out(out),
          dev_in(in_dev),
          dev_out(out_dev),
          dst_size(out_size),
          caps(cache),
          report(call_report),
          options(copy_options) {}

    int fd_in = -1;
    int fd_out = -1;
    dev_t dev_in = 0;
    dev_t dev_out = 0;
    off_t dst_size = 0;  // the destination's size as far as this job knows (kept current as it writes)
    CapabilityCache& caps;
    CopyReport& report;
    const CopyOptions& options;

    // Made on first use and reused for every extent of the job.
    sys::UniqueFd pipe_read, pipe_write;
    size_t pipe_capacity = 0;
    std::unique_ptr<char[]> buffer;

    bool refused(CapabilityCache::Method method) const { return caps.refused(dev_in, dev_out, method); }
    void refuse(CapabilityCache::Method method) { caps.mark_refused(dev_in, dev_out, method); }
    void grew_to(off_t end) {
        if (end > dst_size) dst_size = end;
    }
};

inline constexpr size_t kBufferBytes = size_t(1) << 20;

// Errors by which the kernel says "not this way here", as opposed to a real failure (ENOSPC, EIO, ...).
inline bool is_unsupported(int error) {
    return error == EOPNOTSUPP || error == ENOTTY || error == EINVAL || error == ENOSYS || error == EXDEV;
}

// Copies [in, in+len) to `out` by walking the source's data and holes.
Progress copy_extents(CopyJob& job, off_t in, off_t out, uint64_t len);

// Copies a range the source holds as data: copy_file_range, then splice, then pread/pwrite.
Progress copy_data(CopyJob& job, off_t in, off_t out, uint64_t len);

// Makes [out, out+len) of the destination read as zeros without writing data where it can.
Progress reproduce_hole(CopyJob& job, off_t out, uint64_t len);

// Clones the block-aligned middle of [in, in+len) and copies the unaligned head and tail.
// Falls back to copy_extents for what it cannot clone. `src_size` is the source's size.
Progress copy_with_reflink(CopyJob& job, off_t in, off_t out, uint64_t len, off_t src_size, uint64_t block);

}  // namespace fastfs::copy::detail
