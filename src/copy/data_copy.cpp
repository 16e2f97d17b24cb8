// Data extents: copy_file_range, then splice through a pipe, then pread/pwrite. Each method that the
// kernel refuses for this pair of filesystems is remembered and skipped from then on.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "copy_job.hpp"
#include "fastfs/sys/result.hpp"
#include "fastfs/sys/syscalls.hpp"

namespace fastfs::copy::detail {
namespace {

// Large enough to amortize the syscall, small enough that a partial failure reports progress often.
constexpr uint64_t kCopyFileRangeChunk = uint64_t(256) << 20;

Progress by_copy_file_range(CopyJob& job, off_t in, off_t out, uint64_t len) {
    Progress done;
    while (done.bytes < len) {
        loff_t pos_in = in + off_t(done.bytes), pos_out = out + off_t(done.bytes);
        size_t chunk = size_t(std::min(len - done.bytes, kCopyFileRangeChunk));
        ssize_t n = sys::retry_eintr(
            [&] { return ::copy_file_range(job.fd_in, &pos_in, job.fd_out, &pos_out, chunk, 0); });
        if (n < 0) {
            done.error = errno;
            break;
        }
        if (n == 0) break;  // the source ended early
        done.bytes += uint64_t(n);
        job.grew_to(pos_out);
    }
    job.report.bytes_copy_file_range += done.bytes;
    return done;
}

sys::Result<void> ensure_pipe(CopyJob& job) {
    if (job.pipe_read) return {};
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return sys::fail_errno();
    job.pipe_read.reset(fds[0]);
    job.pipe_write.reset(fds[1]);
    // A bigger pipe means fewer splice round trips; the default (64 KiB) still works if refused.
    ::fcntl(fds[1], F_SETPIPE_SZ, int(kBufferBytes));
    int capacity = ::fcntl(fds[1], F_GETPIPE_SZ);
    job.pipe_capacity = capacity > 0 ? size_t(capacity) : 65536;
    return {};
}

// Moves `len` bytes already in the pipe to the destination. On failure the pipe still holds data that
// belongs nowhere, so it is dropped and a fresh one made next time.
Progress drain_pipe(CopyJob& job, loff_t& pos_out, size_t len) {
    Progress drained;
    while (drained.bytes < len) {
        ssize_t n = sys::retry_eintr([&] {
            return ::splice(job.pipe_read.get(), nullptr, job.fd_out, &pos_out, len - drained.bytes,
                            SPLICE_F_MOVE);
        });
        if (n <= 0) {
            drained.error = n < 0 ? errno : EIO;
            job.pipe_read.reset();
            job.pipe_write.reset();
            break;
        }
        drained.bytes += uint64_t(n);
    }
    return drained;
}

Progress by_splice(CopyJob& job, off_t in, off_t out, uint64_t len) {
    Progress done;
    if (auto made = ensure_pipe(job); !made) return {0, made.error()};
    while (done.bytes < len) {
        loff_t pos_in = in + off_t(done.bytes), pos_out = out + off_t(done.bytes);
        size_t chunk = size_t(std::min<uint64_t>(len - done.bytes, job.pipe_capacity));
        ssize_t n = sys::retry_eintr([&] {
            return ::splice(job.fd_in, &pos_in, job.pipe_write.get(), nullptr, chunk, SPLICE_F_MOVE);
        });
        if (n < 0) {
            done.error = errno;
            break;
        }
        if (n == 0) break;
        Progress drained = drain_pipe(job, pos_out, size_t(n));
        done.bytes += drained.bytes;
        job.grew_to(pos_out);
        if (drained.error != 0) {
            done.error = drained.error;
            break;
        }
    }
    job.report.bytes_splice += done.bytes;
    return done;
}

// A short pread_full or pwrite_full (an error after some progress) is counted, and the next round, from
// where it stopped, reports the error.
Progress by_read_write(CopyJob& job, off_t in, off_t out, uint64_t len) {
    Progress done;
    if (!job.buffer) job.buffer = std::make_unique<char[]>(kBufferBytes);
    while (done.bytes < len) {
        size_t chunk = size_t(std::min<uint64_t>(len - done.bytes, kBufferBytes));
        auto got = sys::pread_full(job.fd_in, job.buffer.get(), chunk, in + off_t(done.bytes));
        if (!got) {
            done.error = got.error();
            break;
        }
        if (*got == 0) break;  // the source ended early
        auto put = sys::pwrite_full(job.fd_out, job.buffer.get(), *got, out + off_t(done.bytes));
        if (!put || *put == 0) {
            done.error = put ? EIO : put.error();
            break;
        }
        done.bytes += *put;
        job.grew_to(out + off_t(done.bytes));
    }
    job.report.bytes_read_write += done.bytes;
    return done;
}

enum class Method { kCopyFileRange, kSplice, kReadWrite };

Method best_method(const CopyJob& job) {
    // Without reflink permission the backing copy_file_range is off too: XFS/btrfs would clone.
    bool cfr_allowed = job.options.allow_reflink;
    if (cfr_allowed && !job.refused(CapabilityCache::kCopyFileRange)) return Method::kCopyFileRange;
    if (!job.refused(CapabilityCache::kSplice)) return Method::kSplice;
    return Method::kReadWrite;
}

void note_skipped_methods(CopyJob& job, Method chosen) {
    bool cfr_allowed = job.options.allow_reflink;
    if (chosen != Method::kCopyFileRange && cfr_allowed) job.report.fallbacks |= kNoCopyFileRange;
    if (chosen == Method::kReadWrite) job.report.fallbacks |= kNoSplice;
}

}  // namespace

Progress copy_data(CopyJob& job, off_t in, off_t out, uint64_t len) {
    Progress total;
    while (total.bytes < len) {
        Method method = best_method(job);
        note_skipped_methods(job, method);
        off_t at_in = in + off_t(total.bytes), at_out = out + off_t(total.bytes);
        uint64_t left = len - total.bytes;
        Progress step;
        switch (method) {
            case Method::kCopyFileRange:
                step = by_copy_file_range(job, at_in, at_out, left);
                break;
            case Method::kSplice:
                step = by_splice(job, at_in, at_out, left);
                break;
            case Method::kReadWrite:
                step = by_read_write(job, at_in, at_out, left);
                break;
        }
        total.bytes += step.bytes;
        if (step.error == 0) {
            if (step.bytes < left) break;  // the source ended early: a short copy, not an error
            continue;
        }
        if (method == Method::kReadWrite || !is_unsupported(step.error)) {
            total.error = step.error;
            break;
        }
        job.refuse(method == Method::kCopyFileRange ? CapabilityCache::kCopyFileRange
                                                    : CapabilityCache::kSplice);
    }
    return total;
}

}  // namespace fastfs::copy::detail
