// Open files: open/create, the data path (splice where libfuse can), sync, fallocate and SEEK_DATA/HOLE.
#include <fcntl.h>
#include <unistd.h>

#include "fastfs/sys/credentials.hpp"
#include "fastfs/sys/syscalls.hpp"
#include "handlers.hpp"
#include "kernel_features.hpp"

namespace fastfs::fuse {
namespace {

// Flags for the backing open.
// - O_APPEND is dropped: the kernel already sends every WRITE with its offset (i_size for appends), and
//   pwrite on an O_APPEND descriptor ignores the offset, which would put mmap writeback of an O_APPEND file
//   at EOF instead of where the page belongs.
// - O_DIRECT is honoured by bypassing the kernel's page cache for this open (direct_io) instead of on the
//   backing descriptor, whose alignment rules the FUSE buffers cannot meet.
// - With writeback caching the kernel reads pages to fill partial writes, so a write-only open must be
//   readable on the backing side.
int backing_flags(const MountContext& ctx, fuse_file_info* fi) {
    int flags = fi->flags & ~(O_DIRECT | O_APPEND);
    if (fi->flags & O_DIRECT) fi->direct_io = 1;
    if (ctx.config.writeback_cache && (flags & O_ACCMODE) == O_WRONLY) flags = (flags & ~O_ACCMODE) | O_RDWR;
    return flags;
}

// A libfuse buffer that is `size` bytes of the backing file at `off`: libfuse moves them by splice.
fuse_bufvec backing_bytes(size_t size, int fd, off_t off) {
    fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
    buf.buf[0].flags = fuse_buf_flags(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
    buf.buf[0].fd = fd;
    buf.buf[0].pos = off;
    return buf;
}

void attach(fuse_file_info* fi, sys::UniqueFd fd, fs::Node* node, MountContext& ctx) {
    fi->fh =
        ctx.open_files.add(std::make_unique<OpenFile>(OpenFile{std::move(fd), fi->flags, node, nullptr}));
    if (!fi->direct_io) fi->keep_cache = ctx.config.keep_cache;
    // No FLUSH at close(2): written data is already in the backing file, and local filesystems report
    // write errors at write or fsync time, so a flush would be a round trip with nothing to do. With
    // writeback caching the kernel still writes dirty pages back before release.
    fi->noflush = 1;
}

}  // namespace

namespace ops {

void open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    auto& ctx = context(req);
    auto& node = ctx.nodes->node(ino);
    auto fd = ctx.nodes->open_fd(node, backing_flags(ctx, fi));
    if (!fd) return reply_error(req, fd.error());
    if (fi->flags & O_TRUNC) drop_privileges_after_modification(req, fd->get());
    attach(fi, std::move(*fd), &node, ctx);
    if (fuse_reply_open(req, fi) != 0) ctx.open_files.remove(fi->fh);  // the kernel is gone: no release comes
}

void create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi) {
    auto& ctx = context(req);
    auto dir = ctx.nodes->path_fd(ctx.nodes->node(parent));
    if (!dir) return reply_error(req, dir.error());
    sys::Result<sys::UniqueFd> fd = sys::fail(EIO);
    {
        const fuse_ctx* caller = fuse_req_ctx(req);
        sys::CallerCredentials as_caller(caller->uid, caller->gid, caller_umask(req));
        fd = sys::open_at((*dir)->get(), name, backing_flags(ctx, fi) | O_CREAT, mode);
    }
    if (!fd) return reply_error(req, fd.error());
    if (fi->flags & O_TRUNC) drop_privileges_after_modification(req, fd->get());  // an existing file
    auto entry = ctx.nodes->adopt(fd->get());
    if (!entry) return reply_error(req, entry.error());
    attach(fi, std::move(*fd), entry->node, ctx);
    fuse_entry_param e = entry_param(req, *entry);
    if (fuse_reply_create(req, &e, fi) != 0) ctx.open_files.remove(fi->fh);
}

void read(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
    auto& ctx = context(req);
    ctx.counters.read_requests.add();
    // Hand libfuse the descriptor, not bytes: with splice enabled the data goes file -> pipe -> /dev/fuse
    // without passing through our memory.
    fuse_bufvec data = backing_bytes(size, open_file(fi).fd.get(), off);
    ctx.counters.read_bytes.add(size);
    fuse_reply_data(req, &data, FUSE_BUF_SPLICE_MOVE);
}

void write_buf(fuse_req_t req, fuse_ino_t, struct fuse_bufvec* in_buf, off_t off, fuse_file_info* fi) {
    auto& ctx = context(req);
    ctx.counters.write_requests.add();
    int fd = open_file(fi).fd.get();
    fuse_bufvec out = backing_bytes(fuse_buf_size(in_buf), fd, off);
    ssize_t written = fuse_buf_copy(&out, in_buf, fuse_buf_copy_flags(0));
    if (written < 0) return reply_error(req, int(-written));
    if (written > 0) drop_privileges_after_modification(req, fd);
    ctx.counters.write_bytes.add(uint64_t(written));
    fuse_reply_write(req, size_t(written));
}

void release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
    context(req).open_files.remove(fi->fh);
    reply_error(req, 0);
}

void fsync(fuse_req_t req, fuse_ino_t, int datasync, fuse_file_info* fi) {
    auto synced = sys::sync_fd(open_file(fi).fd.get(), datasync != 0);
    reply_error(req, synced ? 0 : synced.error());
}

void fallocate(fuse_req_t req, fuse_ino_t, int mode, off_t offset, off_t length, fuse_file_info* fi) {
    int fd = open_file(fi).fd.get();
    auto done = sys::allocate(fd, mode, offset, length);
    if (done) drop_privileges_after_modification(req, fd);
    reply_error(req, done ? 0 : done.error());
}

void lseek(fuse_req_t req, fuse_ino_t, off_t off, int whence, fuse_file_info* fi) {
    context(req).counters.lseek_requests.add();
    auto pos = sys::seek(open_file(fi).fd.get(), off, whence);
    if (!pos) return reply_error(req, pos.error());
    fuse_reply_lseek(req, *pos);
}

}  // namespace ops
}  // namespace fastfs::fuse
