// The handlers registered for requests that can take long: over io_uring they are served aside, on
// SlowRequests' threads (fastfs/fuse/slow_requests.hpp, which says why); on /dev/fuse, in place. A request
// served aside outlives the libfuse call that delivered it, so what that call lent by pointer (the open
// files' fuse_file_info, an ioctl's input) is copied first. The kernel holds the open files until answered.
#include <sys/stat.h>

#include <cstdint>
#include <vector>

#include "fastfs/ioctl_abi.h"
#include "fastfs/sys/syscalls.hpp"
#include "handlers.hpp"

namespace fastfs::fuse::aside {
namespace {

SlowRequests& slow(fuse_req_t req) {
    return context(req).slow_requests;
}

// A copy this small takes a few milliseconds even when it must be made byte by byte; a reflink of any
// size takes less. Applications ask for more than the source holds (cp, Go and Python ask for up to
// 1 GiB or SSIZE_MAX), so the source's size decides.
constexpr uint64_t kQuickCopyBytes = uint64_t(8) << 20;

bool quick_copy(fuse_req_t req, const OpenFile& source, off_t off_in, size_t len) {
    if (len <= kQuickCopyBytes) return true;
    auto fd = context(req).nodes->path_fd(*source.node);
    if (!fd) return true;  // the copy will fail at once
    auto st = sys::stat_fd((*fd)->get());
    return st && st->st_size - off_in <= off_t(kQuickCopyBytes);
}

}  // namespace

void copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in, fuse_file_info* fi_in,
                     fuse_ino_t ino_out, off_t off_out, fuse_file_info* fi_out, size_t len, int flags) {
    if (!slow(req).started() || quick_copy(req, open_file(fi_in), off_in, len))
        return ops::copy_file_range(req, ino_in, off_in, fi_in, ino_out, off_out, fi_out, len, flags);
    slow(req).post([=, in = *fi_in, out = *fi_out]() mutable {
        ops::copy_file_range(req, ino_in, off_in, &in, ino_out, off_out, &out, len, flags);
    });
}

void ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void* arg, fuse_file_info* fi, unsigned flags,
           const void* in_buf, size_t in_bufsz, size_t out_bufsz) {
    bool copies = cmd == FASTFS_IOC_TREE_COPY || cmd == FASTFS_IOC_CLONE_INTO;
    if (!slow(req).started() || !copies || fi == nullptr)
        return ops::ioctl(req, ino, cmd, arg, fi, flags, in_buf, in_bufsz, out_bufsz);
    const char* bytes = static_cast<const char*>(in_buf);
    std::vector<char> input(bytes, bytes + in_bufsz);
    slow(req).post([=, file = *fi, input = std::move(input)]() mutable {
        ops::ioctl(req, ino, cmd, arg, &file, flags, input.data(), input.size(), out_bufsz);
    });
}

void fsync(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi) {
    slow(req).post([=, file = *fi]() mutable { ops::fsync(req, ino, datasync, &file); });
}

void fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi) {
    slow(req).post([=, file = *fi]() mutable { ops::fsyncdir(req, ino, datasync, &file); });
}

void fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length, fuse_file_info* fi) {
    slow(req).post([=, file = *fi]() mutable { ops::fallocate(req, ino, mode, offset, length, &file); });
}

// Only SEEK_DATA and SEEK_HOLE on an inode with writers may wait for write-back (ops::lseek).
void lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, fuse_file_info* fi) {
    bool may_wait = (whence == SEEK_DATA || whence == SEEK_HOLE) && open_file(fi).node->writers > 0;
    if (!may_wait) return ops::lseek(req, ino, off, whence, fi);
    slow(req).post([=, file = *fi]() mutable { ops::lseek(req, ino, off, whence, &file); });
}

}  // namespace fastfs::fuse::aside
