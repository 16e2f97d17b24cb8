// Copies and ioctls: COPY_FILE_RANGE through the copy engine, and an allowlist of ioctls (file attribute
// flags, fsxattr, and fastfs's own stats, clone and tree-copy commands). Nothing else runs with our
// privileges.
#include <fcntl.h>
#include <linux/fs.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "fastfs/ioctl_abi.h"
#include "fastfs/sys/syscalls.hpp"
#include "handlers.hpp"
#include "kernel_cache.hpp"
#include "kernel_features.hpp"

namespace fastfs::fuse {

namespace {

// The most one COPY_FILE_RANGE request copies. The kernel (6.18+) sends COPY_FILE_RANGE_64 (opcode 53, 64-bit
// reply) first; a library without a handler for it answers ENOSYS, and the kernel falls back to opcode 47,
// whose reply (fuse_write_out) is 32-bit. Either way the answer goes through fuse_reply_write().
// - libfuse >= 3.18 answers opcode 53 with a 64-bit count (fuse_reply_write() knows which request it
//   answers), so one request copies any length; it cuts opcode 47 requests to 4 GiB - 4 KiB itself before
//   they reach us. No limit of ours.
// - libfuse 3.17 knows opcode 47 only, which kernels before 6.18 send uncut: stay a page below 4 GiB. The
//   application gets a short count and asks again for the rest (cp does).
#if FUSE_VERSION >= FUSE_MAKE_VERSION(3, 18)
constexpr uint64_t kMaxCopyPerRequest = UINT64_MAX;
#else
constexpr uint64_t kMaxCopyPerRequest = 0xFFFFF000ull;
#endif

bool readable(const OpenFile& file) {
    return (file.flags & O_ACCMODE) != O_WRONLY;
}
bool writable(const OpenFile& file) {
    return (file.flags & O_ACCMODE) != O_RDONLY;
}

void reply_ioctl_out(fuse_req_t req, const void* data, size_t size, size_t out_bufsz) {
    if (out_bufsz < size) return reply_error(req, EINVAL);
    fuse_reply_ioctl(req, 0, data, size);
}

// The inode-attribute ioctls the kernel's fileattr code sends (after its own checks): the flags pair with a
// 4-byte unsigned int (lsattr/chattr), the fsxattr pair with a struct fsxattr. They run on the backing as
// the caller, so the backing filesystem applies its own rules a second time with the caller's rights
// (owner or CAP_FOWNER to change flags, CAP_LINUX_IMMUTABLE for immutable and append-only), and never on a
// read-only mount.
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
    if (context(req).config.read_only) return reply_error(req, EROFS);
    std::memcpy(&value, in_buf, sizeof(value));
    auto as_caller = act_as_caller(req);
    if (::ioctl(fd, backing_cmd, &value) != 0) return reply_error(req, errno);
    fuse_reply_ioctl(req, 0, nullptr, 0);
}

// The mount's counters: for root and the mount's owner only (they show what every user does).
void get_stats(fuse_req_t req, size_t out_bufsz) {
    auto& ctx = context(req);
    uid_t caller = fuse_req_ctx(req)->uid;
    if (caller != 0 && caller != ::getuid()) return reply_error(req, EACCES);
    fastfs_stats s = ctx.counters.snapshot();
    s.nodes = ctx.nodes->node_count();
    s.cached_fds = ctx.nodes->fd_cache().size();
    s.fd_cache_hits = ctx.nodes->fd_cache().hits();
    s.fd_cache_misses = ctx.nodes->fd_cache().misses();
    s.removed_inodes_held = ctx.nodes->removed_pin_count();
    s.open_file_descriptors = ctx.descriptors->held();
    s.opens_refused = ctx.descriptors->refused();
    s.passthrough_backing_files = ctx.passthrough_files.backing_files();
    reply_ioctl_out(req, &s, sizeof(s), out_bufsz);
}

// Step 1 of `fastfs clone`: the caller proves read access by having the source open for reading. For
// `fastfs clone -r` and `copy -r` the source is a directory (tree_ops.cpp).
void clone_source(fuse_req_t req, fuse_file_info* fi, size_t out_bufsz) {
    auto& ctx = context(req);
    auto source = ctx.open_files.find(fi->fh);
    if (!source || !readable(*source)) return reply_error(req, EBADF);
    auto token = ctx.clone_tokens.issue(source, fuse_req_ctx(req)->uid);
    if (!token) return reply_error(req, token.error());
    fastfs_clone_token reply{};
    reply.token = *token;
    reply_ioctl_out(req, &reply, sizeof(reply), out_bufsz);
}

// Step 2: the caller proves write access by having the destination open for writing. Never copies.
void clone_into(fuse_req_t req, OpenFile& destination, const void* in_buf, size_t in_bufsz) {
    auto& ctx = context(req);
    ctx.counters.clone_requests.add();
    fastfs_clone_request request{};
    if (in_bufsz < sizeof(request)) return reply_error(req, EINVAL);
    std::memcpy(&request, in_buf, sizeof(request));
    // As FICLONE natively: the destination must be open for writing, and not for appending only.
    if (!writable(destination) || (destination.flags & O_APPEND)) return reply_error(req, EBADF);
    auto source = ctx.clone_tokens.redeem(request.token, fuse_req_ctx(req)->uid);
    if (!source) return reply_error(req, EINVAL);
    auto from = request_fd(req, *source, Access::read);
    if (!from) return reply_error(req, from.error());
    auto to = request_fd(req, destination, Access::write);
    if (!to) return reply_error(req, to.error());
    // A clone is a write: as the caller, so a non-owner's clone clears set-user-ID bits as natively.
    auto as_caller = act_as_caller(req);
    auto cloned = request.length == 0
                      ? copy::clone_whole_file(from->get(), to->get())
                      : copy::clone_exact_range(from->get(), off_t(request.src_offset), to->get(),
                                                off_t(request.dst_offset), request.length);
    if (!cloned) {
        ctx.counters.clone_failures.add();
        spdlog::debug("clone refused by the backing filesystem: {}", std::strerror(cloned.error()));
        return reply_error(req, cloned.error());
    }
    // The kernel did not ask for this change as such (it only saw an ioctl): it must drop what it caches of
    // the destination before the caller learns the clone is done, or a stat right after would show the old
    // size and mode. An ioctl holds no inode lock, and the pages' locks are not held by anyone waiting for
    // this request, so the notification can be sent from here (kernel_cache.hpp).
    invalidate_now(ctx.session, ctx.nodes->node_id(*destination.node));
    fuse_reply_ioctl(req, 0, nullptr, 0);
}

}  // namespace

namespace ops {

void copy_file_range(fuse_req_t req, fuse_ino_t, off_t off_in, fuse_file_info* fi_in, fuse_ino_t,
                     off_t off_out, fuse_file_info* fi_out, size_t len, int flags) {
    auto& ctx = context(req);
    if (flags != 0) return reply_error(req, EINVAL);
    uint64_t asked = std::min<uint64_t>(len, kMaxCopyPerRequest);
    ctx.counters.copy_requests.add();
    ctx.counters.copy_bytes_requested.add(asked);
    auto in = request_fd(req, open_file(fi_in), Access::read);
    if (!in) return reply_error(req, in.error());
    auto out = request_fd(req, open_file(fi_out), Access::write);
    if (!out) return reply_error(req, out.error());
    copy::CopyReport report;
    // The destination is written as the caller: reserved blocks, quotas, set-user-ID bits as natively.
    auto as_caller = act_as_caller(req);
    auto copied = copy::copy_range(in->get(), off_in, out->get(), off_out, asked, ctx.copy_caps, report);
    ctx.counters.record_copy(report);
    if (!copied) {
        ctx.counters.copy_errors.add();
        spdlog::debug("copy_file_range off_in={} off_out={} len={}: {}", off_in, off_out, asked,
                      std::strerror(copied.error()));
        return reply_error(req, copied.error());
    }
    ctx.counters.copy_bytes_done.add(*copied);
    spdlog::debug(
        "copy_file_range off_in={} off_out={} len={}: {} bytes (reflink {}, cfr {}, splice {}, rw {}, hole "
        "{})",
        off_in, off_out, asked, *copied, report.bytes_reflinked, report.bytes_copy_file_range,
        report.bytes_splice, report.bytes_read_write, report.bytes_hole);
    fuse_reply_write(req, size_t(*copied));
}

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
            return get_stats(req, out_bufsz);
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
