// Block sharing: FICLONERANGE for the block-aligned middle of a range, exact byte copies around it.
#include <sys/stat.h>

#include "copy_job.hpp"
#include "fastfs/sys/syscalls.hpp"

namespace fastfs::copy {
namespace detail {
namespace {

off_t round_down(off_t value, uint64_t block) {
    return value - off_t(uint64_t(value) % block);
}
off_t round_up(off_t value, uint64_t block) {
    return round_down(value + off_t(block) - 1, block);
}

// What a clone attempt came to: bytes shared (block-aligned, or up to the source's EOF), or the
// errno; `unsupported` means "copy it another way", anything else is a real failure.
struct CloneOutcome {
    uint64_t bytes = 0;
    int error = 0;
    bool unsupported = false;
};

CloneOutcome classify_clone_error(CopyJob& job, int error) {
    if (!is_unsupported(error)) return {0, error, false};
    job.refuse(CapabilityCache::kReflink);
    job.report.fallbacks |= (error == EXDEV) ? kCrossFilesystem : kNoReflinkSupport;
    return {0, error, true};
}

CloneOutcome clone_middle(CopyJob& job, off_t in, off_t out, uint64_t len, uint64_t block) {
    auto cloned = sys::clone_range(job.fd_in, in, job.fd_out, out, len);
    if (cloned) return {len, 0, false};
    bool partial_last_block = len % block != 0;
    if (cloned.error() != EINVAL || !partial_last_block) return classify_clone_error(job, cloned.error());
    // The kernel clones a partial last block only where it may zero the rest of that block in the
    // destination, i.e. not inside the destination's data: share the whole blocks, copy the rest.
    uint64_t whole_blocks = len - len % block;
    if (whole_blocks == 0) return {0, 0, false};
    auto retried = sys::clone_range(job.fd_in, in, job.fd_out, out, whole_blocks);
    if (retried) return {whole_blocks, 0, false};
    return classify_clone_error(job, retried.error());
}

// The destination's size after the kernel changed it behind our back (a clone can extend it).
void refresh_destination_size(CopyJob& job) {
    if (auto st = sys::stat_fd(job.fd_out)) job.grew_to(st->st_size);
}

Progress add(Progress first, Progress second) {
    return {first.bytes + second.bytes, second.error};
}

}  // namespace

Progress copy_with_reflink(CopyJob& job, off_t in, off_t out, uint64_t len, off_t src_size, uint64_t block) {
    const off_t end = in + off_t(len);
    const off_t middle_start = round_up(in, block);
    // A range that reaches the source's EOF may clone its partial last block (the kernel rounds it up).
    const off_t middle_end = (end == src_size) ? end : round_down(end, block);
    if (middle_start >= middle_end) return copy_extents(job, in, out, len);

    const uint64_t head_len = uint64_t(middle_start - in);
    Progress head = copy_extents(job, in, out, head_len);
    if (head.error != 0 || head.bytes < head_len) return head;

    const off_t middle_out = out + off_t(head_len);
    CloneOutcome clone =
        clone_middle(job, middle_start, middle_out, uint64_t(middle_end - middle_start), block);
    if (clone.unsupported)
        return add(head, copy_extents(job, middle_start, middle_out, uint64_t(end - middle_start)));
    if (clone.error != 0) return {head.bytes, clone.error};
    job.report.bytes_reflinked += clone.bytes;
    refresh_destination_size(job);

    const off_t tail_start = middle_start + off_t(clone.bytes);
    Progress tail = copy_extents(job, tail_start, out + (tail_start - in), uint64_t(end - tail_start));
    return add({head.bytes + clone.bytes, 0}, tail);
}

}  // namespace detail

sys::Result<void> clone_whole_file(int fd_in, int fd_out) {
    return sys::clone_file(fd_in, fd_out);
}

sys::Result<void> clone_exact_range(int fd_in, off_t off_in, int fd_out, off_t off_out, uint64_t len) {
    return sys::clone_range(fd_in, off_in, fd_out, off_out, len);
}

}  // namespace fastfs::copy
