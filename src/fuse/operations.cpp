// The operation table and connection setup (FUSE INIT): which kernel features fastfs asks for, and why.
#include <spdlog/spdlog.h>

#include "fastfs/sys/credentials.hpp"
#include "handlers.hpp"

namespace fastfs::fuse {
namespace {

void want_if_capable(fuse_conn_info* conn, unsigned capability) {
    if (conn->capable & capability) conn->want |= capability;
}

void init(void* userdata, fuse_conn_info* conn) {
    auto& ctx = *static_cast<MountContext*>(userdata);
    const MountConfig& config = ctx.config;

    if (config.splice) {
        want_if_capable(conn, FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
        want_if_capable(conn, FUSE_CAP_SPLICE_READ);
    } else {
        conn->want &= ~(FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE | FUSE_CAP_SPLICE_READ);
    }
    // Listing a directory usually means stat'ing its entries next: send attributes with the names.
    want_if_capable(conn, FUSE_CAP_READDIRPLUS);
    want_if_capable(conn, FUSE_CAP_READDIRPLUS_AUTO);
    want_if_capable(conn, FUSE_CAP_PARALLEL_DIROPS);
    want_if_capable(conn, FUSE_CAP_ASYNC_READ);
    want_if_capable(conn, FUSE_CAP_ATOMIC_O_TRUNC);
    want_if_capable(conn, FUSE_CAP_IOCTL_DIR);        // `fastfs stats` asks the mount's root directory
    want_if_capable(conn, FUSE_CAP_AUTO_INVAL_DATA);  // drop cached pages when the backing file changed
    want_if_capable(conn, FUSE_CAP_CACHE_SYMLINKS);
    // Locks stay local to this host's kernel (the default when these are not requested).
    conn->want &= ~(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);

    if (config.default_permissions)
        want_if_capable(conn, FUSE_CAP_POSIX_ACL);  // the kernel enforces ACLs too
    // Let the backing filesystem apply the caller's umask itself, so default ACLs combine with it as they
    // would natively. Needs a per-thread umask; without one, keep the kernel applying it.
    if ((conn->capable & FUSE_CAP_DONT_MASK) && sys::CallerUmask::thread_umask_supported()) {
        conn->want |= FUSE_CAP_DONT_MASK;
        ctx.thread_umask = true;
    }
    if (config.writeback_cache)
        want_if_capable(conn, FUSE_CAP_WRITEBACK_CACHE);
    else
        conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;

    conn->max_write = kMaxRequestBytes;
    conn->max_read = kMaxRequestBytes;
    conn->max_readahead = kMaxRequestBytes;
    conn->max_background = 64;
    conn->congestion_threshold = 48;
    conn->time_gran = 1;
    spdlog::debug("FUSE connection: protocol {}.{}, capable {:#x}, want {:#x}", conn->proto_major,
                  conn->proto_minor, conn->capable, conn->want);
}

fuse_lowlevel_ops make_operations() {
    fuse_lowlevel_ops o{};
    o.init = init;
    o.lookup = ops::lookup;
    o.forget = ops::forget;
    o.forget_multi = ops::forget_multi;
    o.getattr = ops::getattr;
    o.setattr = ops::setattr;
    o.readlink = ops::readlink;
    o.mknod = ops::mknod;
    o.mkdir = ops::mkdir;
    o.symlink = ops::symlink;
    o.link = ops::link;
    o.unlink = ops::unlink;
    o.rmdir = ops::rmdir;
    o.rename = ops::rename;
    o.statfs = ops::statfs;
    o.access = ops::access;
    o.open = ops::open;
    o.create = ops::create;
    o.read = ops::read;
    o.write_buf = ops::write_buf;
    o.release = ops::release;
    o.fsync = ops::fsync;
    o.fallocate = ops::fallocate;
    o.lseek = ops::lseek;
    o.opendir = ops::opendir;
    o.readdir = ops::readdir;
    o.readdirplus = ops::readdirplus;
    o.releasedir = ops::releasedir;
    o.fsyncdir = ops::fsyncdir;
    o.setxattr = ops::setxattr;
    o.getxattr = ops::getxattr;
    o.listxattr = ops::listxattr;
    o.removexattr = ops::removexattr;
    o.copy_file_range = ops::copy_file_range;
    o.ioctl = ops::ioctl;
    return o;
}

static_assert(fs::NodeTable::kRootNodeId == FUSE_ROOT_ID, "the node table's root id is the kernel's");

}  // namespace

const fuse_lowlevel_ops& operations() {
    static const fuse_lowlevel_ops table = make_operations();
    return table;
}

}  // namespace fastfs::fuse
