// Source holes in the destination: nothing to do past the destination's end (the final size takes
// care of it); inside it, punch out whatever data is there, or overwrite it with zeros if the
// filesystem cannot punch.
#include <fcntl.h>
#include <linux/falloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "copy_job.hpp"
#include "fastfs/sys/result.hpp"

namespace fastfs::copy::detail {
namespace {

// Where the destination holds data in [from, end), or `end` if nowhere.
sys::Result<off_t> next_destination_data(int fd, off_t from, off_t end) {
    off_t data = ::lseek(fd, from, SEEK_DATA);
    if (data < 0) {
        if (errno == ENXIO) return end;
        if (errno == EINVAL) return from;  // cannot tell: assume data
        return sys::fail_errno();
    }
    return std::min(data, end);
}

sys::Result<void> write_zeros(CopyJob& job, off_t off, off_t end) {
    if (!job.buffer) job.buffer = std::make_unique<char[]>(kBufferBytes);
    std::memset(job.buffer.get(), 0, kBufferBytes);
    while (off < end) {
        size_t chunk = size_t(std::min<off_t>(end - off, off_t(kBufferBytes)));
        ssize_t n = sys::retry_eintr([&] { return ::pwrite(job.fd_out, job.buffer.get(), chunk, off); });
        if (n < 0) return sys::fail_errno();
        if (n == 0) return sys::fail(EIO);
        off += n;
    }
    return {};
}

// Zeros only the destination's data extents in [off, end): its holes already read as zeros.
sys::Result<void> zero_destination_data(CopyJob& job, off_t off, off_t end) {
    while (off < end) {
        auto data = next_destination_data(job.fd_out, off, end);
        if (!data) return sys::fail(data.error());
        if (*data >= end) break;
        off_t hole = ::lseek(job.fd_out, *data, SEEK_HOLE);
        off_t data_end = (hole < 0 || hole <= *data) ? end : std::min(hole, end);
        if (auto zeroed = write_zeros(job, *data, data_end); !zeroed) return zeroed;
        off = data_end;
    }
    return {};
}

sys::Result<void> clear_destination(CopyJob& job, off_t off, off_t end) {
    auto first_data = next_destination_data(job.fd_out, off, end);
    if (!first_data) return sys::fail(first_data.error());
    if (*first_data >= end) return {};  // already a hole
    if (!job.refused(CapabilityCache::kPunch)) {
        int mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
        int rc =
            sys::retry_eintr([&] { return ::fallocate(job.fd_out, mode, *first_data, end - *first_data); });
        if (rc == 0) {
            ++job.report.holes_punched;
            return {};
        }
        if (errno != EOPNOTSUPP && errno != ENOSYS) return sys::fail_errno();
        job.refuse(CapabilityCache::kPunch);
    }
    job.report.fallbacks |= kNoPunchHole;
    return zero_destination_data(job, *first_data, end);
}

}  // namespace

Progress reproduce_hole(CopyJob& job, off_t out, uint64_t len) {
    const off_t end = out + off_t(len);
    const off_t inside_end = std::min(end, job.dst_size);
    if (out < inside_end) {
        if (auto cleared = clear_destination(job, out, inside_end); !cleared) return {0, cleared.error()};
    }
    job.report.bytes_hole += len;
    return {len, 0};
}

}  // namespace fastfs::copy::detail
