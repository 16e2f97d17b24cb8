// The operation table and connection setup (FUSE INIT): which kernel features fastfs asks for, and why.
#include <spdlog/spdlog.h>

#include <cstdint>
#include <initializer_list>
#include <string>

#include "fastfs/sys/credentials.hpp"
#include "handlers.hpp"

namespace fastfs::fuse {
namespace {

// Asks for each flag the kernel offers. One flag per call: fuse_set_feature_flag() takes every bit it is
// given as soon as the kernel offers one of them, and libfuse fails INIT if we want one it does not offer.
void want(fuse_conn_info* conn, std::initializer_list<uint64_t> flags) {
    for (uint64_t flag : flags)
        fuse_set_feature_flag(conn, flag);
}
void do_not_want(fuse_conn_info* conn, std::initializer_list<uint64_t> flags) {
    for (uint64_t flag : flags)
        fuse_unset_feature_flag(conn, flag);
}

// Passthrough wherever it can work, and one line at mount saying whether it does, and why not (kept in
// `note` for `fastfs status`).
bool negotiate_passthrough(fuse_conn_info* conn, const MountConfig& config, std::string& note) {
    constexpr int kCapSysAdmin = 21;
    const char* why_not = nullptr;
    if (!config.passthrough)
        why_not = "passthrough=off";
    else if (config.writeback_cache)
        why_not = "the kernel does not combine it with writeback_cache";
    else if (!(conn->capable_ext & FUSE_CAP_PASSTHROUGH))
        why_not = "this kernel does not offer it (Linux 6.9+, CONFIG_FUSE_PASSTHROUGH)";
    else if (!sys::host_capable(kCapSysAdmin))
        why_not =
            "registering backing files needs CAP_SYS_ADMIN on the host (mount as root, outside a user "
            "namespace)";
    if (why_not != nullptr) {
        spdlog::info("passthrough off: {}; reads and writes go through fastfs", why_not);
        note = why_not;
        return false;
    }
    fuse_set_feature_flag(conn, FUSE_CAP_PASSTHROUGH);
    // The backing files are on ordinary filesystems: one level of stacking. A backing that is itself
    // stacked (overlayfs, another FUSE passthrough) refuses registration, and those files use the page cache.
    conn->max_backing_stack_depth = 1;
    spdlog::info("passthrough on: the kernel reads and writes regular files on their backing files itself");
    return true;
}

void init(void* userdata, fuse_conn_info* conn) {
    auto& ctx = *static_cast<MountContext*>(userdata);
    const MountConfig& config = ctx.config;

    // Listing a directory usually means stat'ing its entries next: send attributes with the names.
    want(conn, {FUSE_CAP_READDIRPLUS, FUSE_CAP_READDIRPLUS_AUTO});
    want(conn,
         {FUSE_CAP_PARALLEL_DIROPS, FUSE_CAP_ASYNC_READ, FUSE_CAP_ATOMIC_O_TRUNC, FUSE_CAP_CACHE_SYMLINKS});
    want(conn, {FUSE_CAP_IOCTL_DIR});        // `fastfs stats` asks the mount's root directory
    want(conn, {FUSE_CAP_AUTO_INVAL_DATA});  // drop cached pages when the backing file changed
    // Locks stay local to this host's kernel (the default when these are not requested).
    do_not_want(conn, {FUSE_CAP_POSIX_LOCKS, FUSE_CAP_FLOCK_LOCKS});
    // No security.capability lookup before every write; we clear suid/sgid instead (kernel_features.hpp).
    want(conn, {FUSE_CAP_HANDLE_KILLPRIV_V2});
    // Direct-I/O opens must refuse shared mappings: that is how writers of append-only files are kept from
    // overwriting them (file_ops.cpp, append_only).
    do_not_want(conn, {FUSE_CAP_DIRECT_IO_ALLOW_MMAP});

    if (config.default_permissions) want(conn, {FUSE_CAP_POSIX_ACL});  // the kernel enforces ACLs too
    // Let the backing filesystem apply the caller's umask itself, so default ACLs combine with it as they
    // would natively. Needs a per-thread umask; without one, keep the kernel applying it.
    if (sys::CallerUmask::thread_umask_supported() && fuse_set_feature_flag(conn, FUSE_CAP_DONT_MASK))
        ctx.thread_umask = true;
    if (config.writeback_cache)
        want(conn, {FUSE_CAP_WRITEBACK_CACHE});
    else
        do_not_want(conn, {FUSE_CAP_WRITEBACK_CACHE});
    ctx.passthrough = negotiate_passthrough(conn, config, ctx.passthrough_note);
    // Splicing requests in (SPLICE_READ) saves copying the data of WRITEs, at the price of two system calls
    // per request (splice into a pipe, then read the header out of it) instead of one read. With passthrough
    // the kernel writes files itself, so requests are small: one read each made create 7-15% and per-file
    // copies 5% faster here (docs/performance.md). Replies with file data still splice (SPLICE_WRITE).
    if (config.splice && !ctx.passthrough)
        want(conn, {FUSE_CAP_SPLICE_READ});
    else
        do_not_want(conn, {FUSE_CAP_SPLICE_READ});
    if (config.splice)
        want(conn, {FUSE_CAP_SPLICE_WRITE, FUSE_CAP_SPLICE_MOVE});
    else
        do_not_want(conn, {FUSE_CAP_SPLICE_WRITE, FUSE_CAP_SPLICE_MOVE});
    ctx.io_uring = ctx.io_uring_asked && (conn->capable_ext & FUSE_CAP_OVER_IO_URING);
    if (ctx.io_uring_asked && !ctx.io_uring) {
        ctx.io_uring_note =
            "the kernel does not offer it on this mount (enable_uring turned off since, or before Linux "
            "6.14)";
        spdlog::warn("io_uring: the kernel does not offer FUSE over io_uring on this mount; using /dev/fuse");
    }
    if (ctx.io_uring) {
        // Started here, on a thread acting as the daemon, whose credentials they inherit.
        ctx.slow_requests.start(max_tree_copies(config) + 2);
        spdlog::info("io_uring: requests come over the kernel's per-CPU queues");
    } else {
        spdlog::info("io_uring off: {}", ctx.io_uring_note);
    }

    conn->max_write = kMaxRequestBytes;
    conn->max_read = kMaxRequestBytes;
    conn->max_readahead = kMaxRequestBytes;
    conn->max_background = 64;
    conn->congestion_threshold = 48;
    conn->time_gran = 1;
    spdlog::debug("FUSE connection: protocol {}.{}, capable {:#x}, want {:#x}", conn->proto_major,
                  conn->proto_minor, conn->capable_ext, conn->want_ext);
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
    o.tmpfile = ops::tmpfile;
    o.read = ops::read;
    o.write_buf = ops::write_buf;
    o.release = ops::release;
    o.fsync = aside::fsync;
    o.fallocate = aside::fallocate;
    o.lseek = aside::lseek;
    o.opendir = ops::opendir;
    o.readdir = ops::readdir;
    o.readdirplus = ops::readdirplus;
    o.releasedir = ops::releasedir;
    o.fsyncdir = aside::fsyncdir;
    o.setxattr = ops::setxattr;
    o.getxattr = ops::getxattr;
    o.listxattr = ops::listxattr;
    o.removexattr = ops::removexattr;
    o.copy_file_range = aside::copy_file_range;
    o.ioctl = aside::ioctl;
    return o;
}

static_assert(fs::NodeTable::kRootNodeId == FUSE_ROOT_ID, "the node table's root id is the kernel's");

}  // namespace

const fuse_lowlevel_ops& operations() {
    static const fuse_lowlevel_ops table = make_operations();
    return table;
}

}  // namespace fastfs::fuse
