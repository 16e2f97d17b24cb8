// Walks the source with SEEK_DATA/SEEK_HOLE so that holes stay holes: data extents are copied, holes
// are reproduced in the destination without allocating blocks.
#include <unistd.h>

#include <algorithm>

#include "copy_job.hpp"
#include "fastfs/sys/result.hpp"

namespace fastfs::copy::detail {
namespace {

struct Segment {
    bool is_data = true;
    off_t end = 0;  // exclusive, never past the range end
};

// The data or hole segment of `fd` that starts at `pos`, cut at `range_end`.
sys::Result<Segment> segment_at(int fd, off_t pos, off_t range_end) {
    off_t data = ::lseek(fd, pos, SEEK_DATA);
    if (data < 0) {
        if (errno == ENXIO) return Segment{false, range_end};  // no data from here to EOF
        if (errno == EINVAL) return Segment{true, range_end};  // no hole support: all of it is data
        return sys::fail_errno();
    }
    if (data > pos) return Segment{false, std::min(data, range_end)};
    off_t hole = ::lseek(fd, pos, SEEK_HOLE);
    if (hole < 0 || hole <= pos) return Segment{true, range_end};
    return Segment{true, std::min(hole, range_end)};
}

}  // namespace

Progress copy_extents(CopyJob& job, off_t in, off_t out, uint64_t len) {
    Progress total;
    const off_t range_end = in + off_t(len);
    off_t pos = in;
    while (pos < range_end) {
        auto segment = segment_at(job.fd_in, pos, range_end);
        if (!segment) {
            total.error = segment.error();
            break;
        }
        uint64_t segment_len = uint64_t(segment->end - pos);
        off_t pos_out = out + (pos - in);
        Progress step = segment->is_data ? copy_data(job, pos, pos_out, segment_len)
                                         : reproduce_hole(job, pos_out, segment_len);
        total.bytes += step.bytes;
        if (step.error != 0) {
            total.error = step.error;
            break;
        }
        if (step.bytes < segment_len) break;  // the source shrank under us
        pos = segment->end;
    }
    return total;
}

}  // namespace fastfs::copy::detail
