// The ioctl allowlist: the only ioctls that run with the daemon's privileges are the inode-attribute ones
// (file attribute flags, fsxattr) and fastfs's own stats, clone and tree-copy commands (ioctl_abi.h).
// Everything else is refused with ENOTTY.
#include <linux/fs.h>
#include <sys/ioctl.h>

#include <cstring>

#include "fastfs/ioctl_abi.h"
#include "handlers.hpp"

namespace fastfs::fuse {

namespace {

// The inode-attribute ioctls the kernel's fileattr code sends (after its own checks): the flags pair with a
// 4-byte unsigned int (lsattr/chattr), the fsxattr pair with a struct fsxattr. They run on the backing as
// the caller, so the backing filesystem applies its own rules a second time with the caller's rights
// (owner or CAP_FOWNER to change flags, CAP_LINUX_IMMUTABLE for immutable and append-only). A read-only
// mount or view never sends the changes: the kernel's fileattr code asks the vfsmount for write access first
// (and a remount can make a mount writable again, which a flag of our own would not follow).
template <typename Value>
void get_attribute(fuse_req_t req, int fd, unsigned long backing_cmd, size_t out_bufsz) {
    Value value{};
    if (::ioctl(fd, backing_cmd, &value) != 0) return reply_error(req, errno);
    reply_ioctl_out(req, &value, sizeof(value), out_bufsz);
}

template <typename Value>
void set_attribute(fuse_req_t req, int fd, unsigned long backing_cmd, const void* in_buf, size_t in_bufsz) {
    Value value{};
    if (in_bufsz < sizeof(value)) return reply_error(req, EINVAL);
    std::memcpy(&value, in_buf, sizeof(value));
    auto as_caller = act_as_caller(req);
    if (::ioctl(fd, backing_cmd, &value) != 0) return reply_error(req, errno);
    fuse_reply_ioctl(req, 0, nullptr, 0);
}

}  // namespace

namespace ops {

void ioctl(fuse_req_t req, fuse_ino_t, unsigned int cmd, void*, fuse_file_info* fi, unsigned flags,
           const void* in_buf, size_t in_bufsz, size_t out_bufsz) {
    auto& ctx = context(req);
    if ((flags & FUSE_IOCTL_COMPAT) || fi == nullptr) {
        ctx.counters.ioctl_refused.add();
        return reply_error(req, ENOTTY);
    }
    auto file_fd = request_fd(req, open_file(fi), Access::read);
    if (!file_fd) return reply_error(req, file_fd.error());
    int fd = file_fd->get();
    // By meaning, not by number: the 32-bit numbers of the flags pair (FS_IOC32_*) reach a FUSE daemon only
    // from a program that sends them itself, past the kernel's checks, and natively a 64-bit kernel answers
    // them ENOTTY; they fall to the default.
    switch (cmd) {
        case FS_IOC_GETFLAGS:
            return get_attribute<unsigned int>(req, fd, FS_IOC_GETFLAGS, out_bufsz);
        case FS_IOC_SETFLAGS:
            return set_attribute<unsigned int>(req, fd, FS_IOC_SETFLAGS, in_buf, in_bufsz);
        case FS_IOC_FSGETXATTR:
            return get_attribute<struct fsxattr>(req, fd, FS_IOC_FSGETXATTR, out_bufsz);
        case FS_IOC_FSSETXATTR:
            return set_attribute<struct fsxattr>(req, fd, FS_IOC_FSSETXATTR, in_buf, in_bufsz);
        case FASTFS_IOC_GET_STATS:
            return export_stats(req, out_bufsz);
        case FASTFS_IOC_GET_STATUS:
            return export_status(req, out_bufsz);
        case FASTFS_IOC_CLONE_SOURCE:
            return clone_source(req, fi, out_bufsz);
        case FASTFS_IOC_CLONE_INTO:
            return clone_into(req, open_file(fi), in_buf, in_bufsz);
        case FASTFS_IOC_TREE_COPY:
            return tree_copy(req, fi, in_buf, in_bufsz, out_bufsz);
        case FASTFS_IOC_TREE_PROGRESS:
            return tree_progress(req, in_buf, in_bufsz, out_bufsz);
        default:
            ctx.counters.ioctl_refused.add();
            return reply_error(req, ENOTTY);
    }
}

}  // namespace ops
}  // namespace fastfs::fuse
