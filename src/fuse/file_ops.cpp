// Open files: open/create, the data path (splice where libfuse can), sync, fallocate and SEEK_DATA/HOLE.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include <span>
#include <utility>
#include <vector>

#include "fastfs/sys/credentials.hpp"
#include "fastfs/sys/syscalls.hpp"
#include "handlers.hpp"
#include "kernel_features.hpp"

namespace fastfs::fuse {
namespace {

// Flags for the backing open.
// - O_APPEND stays: an append-only (chattr +a) file opens for writing only with it. Every WRITE then
//   chooses its own position (write_buf), so page writeback of an O_APPEND file still lands where the page
//   belongs. Kernels without RWF_NOAPPEND (before 6.9) cannot position such writes: there O_APPEND is
//   dropped and appends are made with RWF_APPEND instead (append-only files then refuse writers).
// - O_DIRECT is honoured by bypassing the kernel's page cache for this open (direct_io) instead of on the
//   backing descriptor, whose alignment rules the FUSE buffers cannot meet.
// - With writeback caching the kernel reads pages to fill partial writes, so a write-only open must be
//   readable on the backing side.
int backing_flags(const MountContext& ctx, fuse_file_info* fi) {
    int flags = fi->flags & ~O_DIRECT;
    if (!sys::positioned_writes_on_append_fds()) flags &= ~O_APPEND;
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

// How many of the `size` bytes at `off` a read delivers. libfuse does not say how much it read; a read of a
// regular file comes up short only at its end, where the kernel often asks for more (whole pages, or what
// an application asked for). Counted before the reply, while `fd` is certainly open; a size change racing
// with the read makes it off by that change.
uint64_t bytes_before_end(int fd, off_t off, size_t size) {
    auto st = sys::stat_fd(fd);
    if (!st || st->st_size <= off) return 0;
    return std::min<uint64_t>(size, uint64_t(st->st_size - off));
}

// Who the kernel writes passthrough files as (passthrough_files.hpp, "Credentials").
const sys::Identity& registration_identity(const MountContext& ctx) {
    return ctx.config.allow_other ? PassthroughFiles::shared_mount_identity() : sys::daemon_identity();
}

// On a shared mount, a caller with CAP_FSETID writing a set-user-ID or set-group-ID file keeps its bits
// natively; passthrough writes there would clear them (they run unprivileged), the page-cache mode keeps
// them.
bool prefers_page_cache(fuse_req_t req, const fuse_file_info* fi, int fd) {
    constexpr uint64_t kCapFsetid = uint64_t(1) << 4;
    if (!context(req).config.allow_other || (fi->flags & O_ACCMODE) == O_RDONLY) return false;
    if (!(context(req).callers.of(*fuse_req_ctx(req)).capabilities & kCapFsetid)) return false;
    auto st = sys::stat_fd(fd);
    return st && ((st->st_mode & S_ISUID) || (st->st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP));
}

// An append-only (chattr +a) file must never be written where its data already is. The kernel enforces
// that natively on the inode's own flag, which the FUSE inode never carries: a shared writable mapping of
// an O_APPEND descriptor (natively EACCES) would let a writer overwrite it, directly on the backing file in
// passthrough mode, or through page write-back in the page-cache mode. So such a file is never opened in
// passthrough mode (where the kernel can: an inode already open in passthrough mode keeps it), and its
// writers get direct I/O, for which the kernel refuses every shared mapping (ENODEV: fastfs does not ask for
// FUSE_DIRECT_IO_ALLOW_MMAP) and every write reaches fastfs, where the backing descriptor's O_APPEND
// decides where it lands.
bool append_only(int fd, const fs::Node& node) {
    if (!S_ISREG(node.type)) return false;
    auto guards = sys::inode_guards(fd);
    return guards && guards->append_only;
}

// execve(2) of a file on a filesystem mounted noexec inside the backing tree: natively EACCES, and the
// kernel checks only the FUSE mount's own flag (the backing root's noexec is carried over at mount:
// session.cpp). The kernel marks exec opens with __FMODE_EXEC in the open flags.
bool exec_forbidden(const fuse_file_info* fi, int fd) {
    constexpr int kFmodeExec = 0x20;  // __FMODE_EXEC
    if (!(fi->flags & kFmodeExec)) return false;
    auto sv = sys::statvfs_fd(fd);
    return sv && (sv->f_flag & ST_NOEXEC);
}

// Whether a passthrough open keeps the descriptor it registered, and the hold that counts it. The kernel
// reads and writes such a file itself, but copy_file_range, fsync, fallocate, ioctls and fstat-like
// requests on it still reach fastfs: with the descriptor kept they use it, instead of opening the inode by
// handle and closing it again for every request (a copy made file by file sent several per file). It is
// only a saving, so it takes a spare share of the caller's descriptors (DescriptorBudget::acquire_spare)
// and is closed at once when there is none. An O_APPEND descriptor is not kept: fcntl can take O_APPEND off
// the kernel's file without fastfs learning of it, and a copy into the descriptor would then fail (EBADF)
// where natively it works; those requests use the inode's shared write descriptor (request_fd).
std::optional<fs::DescriptorBudget::Hold> keep_for_requests(fuse_req_t req, int backing_flags) {
    if (backing_flags & O_APPEND) return std::nullopt;
    return context(req).descriptors->acquire_spare(fuse_req_ctx(req)->uid);
}

// Makes the open file of `fi` from `fd`, the backing descriptor just opened for it: a passthrough open
// where the mount can (then `fd` registers the inode's backing file, and is kept only as keep_for_requests
// allows), else an open that keeps `fd`, counted against the caller's share of descriptors. False: it
// replied with an error.
bool attach(fuse_req_t req, fuse_file_info* fi, sys::UniqueFd fd, int backing_flags, fs::Node& node) {
    auto& ctx = context(req);
    // No FLUSH at close(2): written data is already in the backing file, and local filesystems report
    // write errors at write or fsync time, so a flush would be a round trip with nothing to do. With
    // writeback caching the kernel still writes dirty pages back before release.
    fi->noflush = 1;
    bool writer = (fi->flags & O_ACCMODE) != O_RDONLY;
    bool guarded = append_only(fd.get(), node);
    bool tried_passthrough = ctx.passthrough && S_ISREG(node.type);
    if (tried_passthrough) {
        auto decision =
            ctx.passthrough_files.open(req, ctx.nodes->node_id(node), fd.get(), registration_identity(ctx),
                                       guarded || prefers_page_cache(req, fi, fd.get()), writer);
        if (decision.mode == PassthroughFiles::Mode::passthrough) {
            ctx.counters.passthrough_opens.add();
            auto kept = keep_for_requests(req, backing_flags);
            if (!kept) fd.reset();
            auto file = std::make_shared<OpenFile>(std::move(fd), fi->flags, backing_flags, &node, false,
                                                   kept ? std::move(*kept) : fs::DescriptorBudget::Hold());
            file->backing_id = decision.backing_id;
            fi->backing_id = decision.backing_id;
            // The kernel refuses to keep a page cache for passthrough opens; O_DIRECT goes to the backing
            // file, with its own alignment rules, as natively.
            fi->keep_cache = 0;
            fi->direct_io = 0;
            fi->fh = ctx.open_files.add(std::move(file));
            return true;
        }
        if (decision.mode == PassthroughFiles::Mode::refused) {
            ctx.counters.passthrough_refused.add();
            spdlog::debug("passthrough refused for node {:#x}: {}", ctx.nodes->node_id(node),
                          std::strerror(decision.error));
        } else {
            ctx.counters.passthrough_inode_cached.add();  // the inode is open in the page-cache mode
        }
    }
    auto counted = count_descriptor(req);
    if (!counted) {
        if (tried_passthrough) ctx.passthrough_files.release(req, ctx.nodes->node_id(node), 0, false);
        reply_error(req, EMFILE);
        return false;
    }
    if (guarded && writer) fi->direct_io = 1;
    auto file = std::make_shared<OpenFile>(std::move(fd), fi->flags, backing_flags, &node, writer,
                                           std::move(*counted));
    file->appends_only = guarded;
    // The kernel may write the inode's dirty pages back through this open (act_as_writer): remember whose
    // they are. Read-only opens never write, and passthrough opens write in the kernel.
    if (writer) file->opener = ctx.callers.of(*fuse_req_ctx(req));
    fi->fh = ctx.open_files.add(std::move(file));
    if (!fi->direct_io) fi->keep_cache = ctx.config.keep_cache;
    return true;
}

// Undoes attach() for a file the kernel will never release (the open's reply failed), or at release.
void detach(fuse_req_t req, fuse_file_info* fi) {
    auto& ctx = context(req);
    OpenFile& file = open_file(fi);
    if (ctx.passthrough && S_ISREG(file.node->type))
        ctx.passthrough_files.release(req, ctx.nodes->node_id(*file.node), file.backing_id,
                                      (file.flags & O_ACCMODE) != O_RDONLY);
    ctx.open_files.remove(fi->fh);
}

// The request's data in memory: where libfuse read it, or copied out of the pipe it was spliced into.
sys::Result<std::span<const char>> data_in_memory(fuse_bufvec* in, std::vector<char>& storage) {
    size_t size = fuse_buf_size(in);
    if (in->count == 1 && !(in->buf[0].flags & FUSE_BUF_IS_FD))
        return std::span<const char>(static_cast<const char*>(in->buf[0].mem) + in->off, size);
    storage.resize(size);
    fuse_bufvec out = FUSE_BUFVEC_INIT(size);
    out.buf[0].mem = storage.data();
    ssize_t copied = fuse_buf_copy(&out, in, fuse_buf_copy_flags(0));
    if (copied < 0) return sys::fail(int(-copied));
    return std::span<const char>(storage.data(), size_t(copied));
}

// A write where the kernel placed it. On an O_APPEND backing descriptor a plain pwrite would append
// instead (mmap writeback of an O_APPEND file would land at the end), so those are positioned explicitly;
// everything else takes libfuse's copy, which splices when the data came in a pipe.
//
// `whole`: all of it or an error, never a short count. The kernel takes a short answer to page write-back
// for success: it marks the pages clean and the bytes past the count are lost without an error. So a short
// backing write (the filesystem filled up, a quota was reached, mid-request) is continued, and its error
// (ENOSPC, EDQUOT) answered; the kernel records that on the file's mapping, and the writer's fsync, msync
// or close reports it. An application's own write may come back short: it writes the rest itself and gets
// the error then, as natively.
sys::Result<size_t> write_at(OpenFile& file, fuse_bufvec* in, off_t off, bool whole) {
    size_t size = fuse_buf_size(in);
    size_t done = 0;
    if (!(file.backing_flags & O_APPEND)) {
        do {  // fuse_buf_copy advances `in` past what it copied
            fuse_bufvec out = backing_bytes(size - done, file.fd.get(), off + off_t(done));
            ssize_t written = fuse_buf_copy(&out, in, fuse_buf_copy_flags(0));
            if (written < 0) return sys::fail(int(-written));
            if (written == 0) return whole ? sys::fail(EIO) : sys::Result<size_t>(done);
            done += size_t(written);
        } while (whole && done < size);
        return done;
    }
    std::vector<char> storage;
    auto data = data_in_memory(in, storage);
    if (!data) return sys::fail(data.error());
    do {
        auto written = sys::write_at(file.fd.get(), data->subspan(done), off + off_t(done));
        if (!written) return sys::fail(written.error());
        if (*written == 0) return whole ? sys::fail(EIO) : sys::Result<size_t>(done);
        done += *written;
    } while (whole && done < data->size());
    return done;
}

// An application's write through an O_APPEND descriptor. The kernel placed it at the size it cached, which
// another writer (on the backing, through a second mount) may have moved since; natively it lands at the
// file's end, atomically with respect to other appenders, and so it does here. Returns where it landed.
sys::Result<std::pair<size_t, off_t>> append(OpenFile& file, fuse_bufvec* in) {
    std::vector<char> storage;
    auto data = data_in_memory(in, storage);
    if (!data) return sys::fail(data.error());
    auto written = sys::write_at_end(file.fd.get(), *data);
    if (!written) return sys::fail(written.error());
    auto st = sys::stat_fd(file.fd.get());  // another appender may follow at once: then this is a guess
    off_t landed = st ? st->st_size - off_t(*written) : -1;
    return std::pair{*written, landed};
}

// Data written through a shared mapping (or, with writeback_cache, by write(2)) can sit in the kernel's
// page cache, unseen by the backing file, and the kernel does not write it back before FUSE_LSEEK: the
// backing file would report a hole where the application's data is, and a sparse copy would skip it. Only
// an inode with a writer open can have such pages. Invalidating the range makes the kernel write back its
// dirty pages there (launder: WRITE requests that other threads serve) before dropping them; it takes no
// inode lock, so it is safe while the kernel holds this inode's lock for the LSEEK. A single-threaded
// session has no other thread to serve those writes, so it cannot do this.
void write_back_kernel_pages(MountContext& ctx, fuse_ino_t ino, off_t from) {
    if (ctx.config.max_threads == 1) return;
    ctx.counters.lseek_writebacks.add();
    int rc = fuse_lowlevel_notify_inval_inode(ctx.session, ino, from, 0);
    if (rc != 0 && rc != -ENOENT)
        spdlog::debug("writing back pages of node {:#x}: {}", ino, std::strerror(-rc));
}

// CREATE and TMPFILE: makes a new file in `parent` as the caller with `make(parent's descriptor)` (with the
// caller's umask), registers its inode, opens it for the kernel with `open_flags` and replies with its
// entry. An `unnamed` (O_TMPFILE) file's inode stays reachable for the node table the way a removed file the
// kernel still holds does (NodeTable::keep_removed), and its open records where it was made
// (OpenFile::made_in).
template <typename Make>
void open_new_file(fuse_req_t req, fuse_ino_t parent, fuse_file_info* fi, int open_flags, bool unnamed,
                   Make&& make) {
    auto& ctx = context(req);
    auto& dir_node = ctx.nodes->node(parent);
    auto dir = ctx.nodes->path_fd(dir_node);
    if (!dir) return reply_error(req, dir.error());
    sys::Result<sys::UniqueFd> fd = sys::fail(EIO);
    auto as_caller = act_as_caller(req);
    {
        sys::CallerUmask umask(caller_umask(req));
        fd = make((*dir)->get());
    }
    if (!fd) return reply_error(req, fd.error());
    auto entry = ctx.nodes->adopt(fd->get());
    if (!entry) return reply_error(req, entry.error());
    if (unnamed) {
        if (auto path = sys::reopen(fd->get(), O_PATH))
            ctx.nodes->keep_removed({ctx.nodes->node_id(*entry->node), entry->node->generation,
                                     std::make_shared<const sys::UniqueFd>(std::move(*path))});
    }
    if (!attach(req, fi, std::move(*fd), open_flags, *entry->node)) {
        ctx.nodes->forget(*entry->node, 1);  // the kernel never learns of this lookup
        return;
    }
    if (unnamed) open_file(fi).made_in = &dir_node;
    fuse_entry_param e = entry_param(req, *entry);
    if (fuse_reply_create(req, &e, fi) != 0) detach(req, fi);
}

}  // namespace

sys::Result<RequestFd> request_fd(fuse_req_t req, const OpenFile& file, Access access) {
    if (file.fd) return RequestFd(file.fd.get());
    auto& ctx = context(req);
    // A read-only descriptor closes without consequence; closing one that could write makes XFS drop the
    // space it preallocated past the end of file (natively that happens at the writer's last close), so
    // writes share the inode's write descriptor, kept while it has writers.
    if (access == Access::write) {
        auto shared = ctx.passthrough_files.write_fd(
            ctx.nodes->node_id(*file.node), ctx.descriptors->acquire(fuse_req_ctx(req)->uid), [&] {
                // Shared by every writer of the inode, so not O_APPEND (a copy into an O_APPEND descriptor is
                // EBADF) unless the inode takes nothing else (chattr +a).
                auto fd = ctx.nodes->open_fd(*file.node, file.backing_flags & ~O_APPEND);
                if (!fd && fd.error() == EPERM)
                    fd = ctx.nodes->open_fd(*file.node, file.backing_flags | O_APPEND);
                return fd;
            });
        if (!shared) return sys::fail(shared.error());
        return RequestFd(std::move(*shared));
    }
    auto fd = ctx.nodes->open_fd(*file.node, O_RDONLY);
    if (!fd) return sys::fail(fd.error());
    return RequestFd(std::make_shared<const sys::UniqueFd>(std::move(*fd)));
}

namespace ops {

void open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    auto& ctx = context(req);
    auto& node = ctx.nodes->node(ino);
    int flags = backing_flags(ctx, fi);
    auto fd = ctx.nodes->open_fd(node, flags);
    if (!fd) return reply_error(req, fd.error());
    if (exec_forbidden(fi, fd->get())) return reply_error(req, EACCES);
    // The kernel asks for the truncation with the open, done here with the daemon's rights: it says whether
    // the caller would have cleared set-user-ID bits natively.
    if ((fi->flags & O_TRUNC) && fi->kill_suidgid) clear_set_id_bits(fd->get());
    if (!attach(req, fi, std::move(*fd), flags & ~O_TRUNC, node)) return;
    if (fuse_reply_open(req, fi) != 0) detach(req, fi);  // the kernel is gone: no release comes
}

void create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi) {
    int flags = backing_flags(context(req), fi);
    open_new_file(req, parent, fi, flags & ~(O_TRUNC | O_EXCL), false,
                  [&](int dir) { return sys::open_at(dir, name, flags | O_CREAT, mode); });
}

// O_TMPFILE: an unnamed file in `parent`, made as the caller; linkat through the mount names it later
// (ops::link).
void tmpfile(fuse_req_t req, fuse_ino_t parent, mode_t mode, fuse_file_info* fi) {
    int flags = backing_flags(context(req), fi) & ~(O_TMPFILE | O_CREAT | O_TRUNC);
    open_new_file(req, parent, fi, flags & ~O_EXCL, true,
                  [&](int dir) { return sys::open_at(dir, ".", flags | O_TMPFILE, mode); });
}

void read(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
    auto& ctx = context(req);
    ctx.counters.read_requests.add();
    // Hand libfuse the descriptor, not bytes: with splice enabled the data goes file -> pipe -> /dev/fuse
    // without passing through our memory.
    int fd = open_file(fi).fd.get();
    fuse_bufvec data = backing_bytes(size, fd, off);
    ctx.counters.read_bytes.add(bytes_before_end(fd, off, size));
    fuse_reply_data(req, &data, FUSE_BUF_SPLICE_MOVE);
}

void write_buf(fuse_req_t req, fuse_ino_t, struct fuse_bufvec* in_buf, off_t off, fuse_file_info* fi) {
    auto& ctx = context(req);
    ctx.counters.write_requests.add();
    OpenFile& file = open_file(fi);
    // As the caller: no root exemption from reserved blocks or quotas, and the backing clears set-user-ID
    // and set-group-ID bits of a file a non-owner writes, as natively. Page write-back comes without a
    // caller (uid 0): it runs as the file's opener (act_as_writer).
    bool writeback = from_page_writeback(req, fi);
    auto as_caller = act_as_writer(req, file, fi);
    size_t written = 0;
    // fi->flags are the file's flags at this write (fcntl may have changed them since open); page writeback
    // (writepage) always belongs where its page is. Natively fcntl cannot take O_APPEND off a descriptor of
    // an append-only file (EPERM); here it can (the kernel checks the FUSE inode, which lacks the flag), so
    // such a file's writes append whatever its flags say now.
    if (((fi->flags & O_APPEND) || file.appends_only) && !fi->writepage) {
        auto appended = append(file, in_buf);
        if (!appended) return reply_error(req, appended.error());
        written = appended->first;
        // The kernel put these bytes in its page cache at `off` and will believe the file ends there:
        // when they landed elsewhere, make it forget both.
        if (appended->second != off) {
            ctx.counters.appends_moved.add();
            ctx.notifications.post(
                {fs::BackingChange::Kind::contents, ctx.nodes->node_id(*file.node), 0, {}, {}});
        }
    } else {
        auto done = write_at(file, in_buf, off, writeback);
        if (!done) return reply_error(req, done.error());
        written = *done;
    }
    ctx.counters.write_bytes.add(uint64_t(written));
    fuse_reply_write(req, written);
}

void release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
    detach(req, fi);
    reply_error(req, 0);
}

void fsync(fuse_req_t req, fuse_ino_t, int datasync, fuse_file_info* fi) {
    auto fd = request_fd(req, open_file(fi), Access::read);
    if (!fd) return reply_error(req, fd.error());
    auto synced = sys::sync_fd(fd->get(), datasync != 0);
    reply_error(req, synced ? 0 : synced.error());
}

void fallocate(fuse_req_t req, fuse_ino_t, int mode, off_t offset, off_t length, fuse_file_info* fi) {
    auto fd = request_fd(req, open_file(fi), Access::write);
    if (!fd) return reply_error(req, fd.error());
    auto as_caller = act_as_writer(req, open_file(fi), fi);  // as write_buf
    auto done = sys::allocate(fd->get(), mode, offset, length);
    reply_error(req, done ? 0 : done.error());
}

void lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, fuse_file_info* fi) {
    auto& ctx = context(req);
    ctx.counters.lseek_requests.add();
    OpenFile& file = open_file(fi);
    if ((whence == SEEK_DATA || whence == SEEK_HOLE) && file.node->writers > 0)
        write_back_kernel_pages(ctx, ino, off);
    auto fd = request_fd(req, file, Access::read);
    if (!fd) return reply_error(req, fd.error());
    auto pos = sys::seek(fd->get(), off, whence);
    if (!pos) return reply_error(req, pos.error());
    fuse_reply_lseek(req, *pos);
}

}  // namespace ops
}  // namespace fastfs::fuse
