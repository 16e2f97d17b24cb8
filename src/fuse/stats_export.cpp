// FASTFS_IOC_GET_STATS: the mount's counters (stats::MountCounters) and the gauges read from its state at
// the moment of asking, in the ABI of ioctl_abi.h, for `fastfs stats`; FASTFS_IOC_GET_STATUS: how the mount
// runs, for `fastfs status`.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <string_view>

#include "fastfs/ioctl_abi.h"
#include "fastfs/sys/logging.hpp"
#include "handlers.hpp"

namespace fastfs::fuse {

namespace {

// Root and the mount's owner only: the counters show what every user does, the status how the mount runs.
bool may_read_mount_state(fuse_req_t req) {
    uid_t caller = fuse_req_ctx(req)->uid;
    return caller == 0 || caller == ::getuid();
}

template <size_t N>
void copy_text(char (&to)[N], std::string_view from) {
    size_t n = std::min(from.size(), N - 1);
    std::memcpy(to, from.data(), n);
    to[n] = '\0';
}

uint64_t milliseconds(double seconds) {
    return uint64_t(seconds * 1000.0 + 0.5);
}

}  // namespace

// The mount's counters.
void export_stats(fuse_req_t req, size_t out_bufsz) {
    auto& ctx = context(req);
    if (!may_read_mount_state(req)) return reply_error(req, EACCES);
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

// How the mount runs: versions, backing, what was negotiated and why not, timeouts, where it logs.
void export_status(fuse_req_t req, size_t out_bufsz) {
    auto& ctx = context(req);
    if (!may_read_mount_state(req)) return reply_error(req, EACCES);
    const MountConfig& config = ctx.config;
    auto status = std::make_unique<fastfs_status>();  // 2.8 KiB: not on a worker's stack
    status->version = FASTFS_STATUS_VERSION;
    status->size = sizeof(fastfs_status);
    status->pid = uint32_t(::getpid());
    status->started = uint64_t(std::chrono::system_clock::to_time_t(ctx.started));
    status->max_threads = config.worker_threads();
    auto flag = [&](bool on, uint32_t bit) { status->flags |= on ? bit : 0; };
    flag(ctx.passthrough, FASTFS_STATUS_PASSTHROUGH);
    flag(ctx.io_uring, FASTFS_STATUS_IO_URING);
    flag(ctx.watcher != nullptr, FASTFS_STATUS_WATCHING);
    flag(config.writeback_cache, FASTFS_STATUS_WRITEBACK_CACHE);
    flag(config.allow_other, FASTFS_STATUS_ALLOW_OTHER);
    flag(config.default_permissions, FASTFS_STATUS_DEFAULT_PERMISSIONS);
    CacheTimeouts timeouts = ctx.timeouts_for(ctx.nodes->root().key.dev);
    status->entry_timeout_ms = milliseconds(timeouts.entry);
    status->attr_timeout_ms = milliseconds(timeouts.attr);
    status->negative_timeout_ms = milliseconds(timeouts.negative);
    copy_text(status->fastfs_version, FASTFS_VERSION);
    copy_text(status->libfuse_version, fuse_pkgversion());
    copy_text(status->backing, config.backing.string());
    copy_text(status->passthrough_note, ctx.passthrough_note);
    copy_text(status->io_uring_note, ctx.io_uring_note);
    copy_text(status->watch_note, ctx.watch_note);
    copy_text(status->log_destination, logging::current_destination());
    reply_ioctl_out(req, status.get(), sizeof(fastfs_status), out_bufsz);
}

}  // namespace fastfs::fuse
