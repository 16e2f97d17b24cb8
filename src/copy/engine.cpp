// copy_range: checks the request the way copy_file_range(2) does, picks reflink or extent copy, and
// leaves the destination at least as long as what was copied.
#include "fastfs/copy/engine.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <limits>

#include "copy_job.hpp"
#include "fastfs/sys/syscalls.hpp"

namespace fastfs::copy {
namespace {

using detail::CopyJob;
using detail::Progress;

sys::Result<void> check_access(int fd_in, int fd_out) {
    int in_flags = ::fcntl(fd_in, F_GETFL);
    int out_flags = ::fcntl(fd_out, F_GETFL);
    if (in_flags < 0 || out_flags < 0) return sys::fail(EBADF);
    if ((in_flags & O_ACCMODE) == O_WRONLY || (in_flags & O_PATH) != 0) return sys::fail(EBADF);
    if ((out_flags & O_ACCMODE) == O_RDONLY || (out_flags & (O_APPEND | O_PATH)) != 0)
        return sys::fail(EBADF);
    return {};
}

sys::Result<void> check_regular(const struct stat& st) {
    if (S_ISDIR(st.st_mode)) return sys::fail(EISDIR);
    if (!S_ISREG(st.st_mode)) return sys::fail(EINVAL);
    return {};
}

bool same_file(const struct stat& a, const struct stat& b) {
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

bool overlaps(off_t a, off_t b, uint64_t len) {
    return a < b ? uint64_t(b - a) < len : uint64_t(a - b) < len;
}

// Block size that clone alignment is judged by: the destination filesystem's.
uint64_t clone_block_size(int fd_out, const struct stat& st_out) {
    if (auto sv = sys::statvfs_fd(fd_out); sv && sv->f_bsize > 0) return sv->f_bsize;
    return st_out.st_blksize > 0 ? uint64_t(st_out.st_blksize) : 4096;
}

// Whether to try FICLONERANGE, noting in the report why not when the answer is no.
bool reflink_worth_trying(CopyJob& job, off_t off_in, off_t off_out, uint64_t block) {
    if (!job.options.allow_reflink) return false;
    if (job.refused(CapabilityCache::kReflink)) {
        job.report.fallbacks |= (job.dev_in != job.dev_out) ? kCrossFilesystem : kNoReflinkSupport;
        return false;
    }
    if (uint64_t(off_in) % block != uint64_t(off_out) % block) {
        job.report.fallbacks |= kUnaligned;
        return false;
    }
    return true;
}

// Extends the destination over trailing source holes (nothing was written there). If that fails,
// bytes past the real end were not copied after all, and they can only be hole bytes.
uint64_t settle_destination_size(CopyJob& job, off_t off_out, uint64_t copied) {
    const off_t wanted = off_out + off_t(copied);
    auto st = sys::stat_fd(job.fd_out);
    off_t size = st ? st->st_size : job.dst_size;
    if (size >= wanted) return copied;
    if (sys::truncate_fd(job.fd_out, wanted)) return copied;
    uint64_t real = size > off_out ? uint64_t(size - off_out) : 0;
    job.report.bytes_hole -= std::min(job.report.bytes_hole, copied - real);
    return real;
}

}  // namespace

sys::Result<uint64_t> copy_range(int fd_in, off_t off_in, int fd_out, off_t off_out, uint64_t len,
                                 CapabilityCache& caps, CopyReport& report, const CopyOptions& options) {
    if (off_in < 0 || off_out < 0) return sys::fail(EINVAL);
    if (auto access = check_access(fd_in, fd_out); !access) return sys::fail(access.error());
    auto st_in = sys::stat_fd(fd_in);
    if (!st_in) return sys::fail(st_in.error());
    auto st_out = sys::stat_fd(fd_out);
    if (!st_out) return sys::fail(st_out.error());
    if (auto regular = check_regular(*st_in); !regular) return sys::fail(regular.error());
    if (auto regular = check_regular(*st_out); !regular) return sys::fail(regular.error());

    if (off_in >= st_in->st_size || len == 0) return 0;
    const uint64_t count = std::min(len, uint64_t(st_in->st_size - off_in));
    if (uint64_t(std::numeric_limits<off_t>::max() - off_out) < count) return sys::fail(EFBIG);
    if (same_file(*st_in, *st_out) && overlaps(off_in, off_out, count)) return sys::fail(EINVAL);

    CopyReport call_report;
    CopyJob job(fd_in, fd_out, st_in->st_dev, st_out->st_dev, st_out->st_size, caps, call_report, options);
    const uint64_t block = clone_block_size(fd_out, *st_out);
    Progress progress = reflink_worth_trying(job, off_in, off_out, block)
                            ? detail::copy_with_reflink(job, off_in, off_out, count, st_in->st_size, block)
                            : detail::copy_extents(job, off_in, off_out, count);
    uint64_t copied = progress.bytes > 0 ? settle_destination_size(job, off_out, progress.bytes) : 0;
    report += call_report;
    if (copied == 0 && progress.error != 0) return sys::fail(progress.error);
    return copied;
}

}  // namespace fastfs::copy
