#include "kernel_cache.hpp"

#include <spdlog/spdlog.h>

#include <cstring>
#include <utility>

namespace fastfs::fuse {
namespace {

// Negative offset: attributes only; offset 0 and length 0: attributes and every cached page (for a
// directory, its cached listing).
constexpr off_t kAttributesOnly = -1;

void notify_failed(const char* what, uint64_t node_id, int rc) {
    // ENOENT: the kernel has already forgotten the inode or name, which is what we wanted.
    if (rc != 0 && rc != -ENOENT) spdlog::debug("{} of node {:#x}: {}", what, node_id, std::strerror(-rc));
}

}  // namespace

void invalidate_cached_contents(fuse_session* se, uint64_t node_id) {
    notify_failed("invalidating data", node_id, fuse_lowlevel_notify_inval_inode(se, node_id, 0, 0));
}

KernelCacheKeeper::KernelCacheKeeper(MountContext& ctx) : ctx_(ctx) {
    const std::string backing = ctx.config.backing.string();
    if (!ctx.config.watch_backing) {
        spdlog::info("not watching {} (no_watch_backing): outside changes show within the timeouts", backing);
        return;
    }
    if (!ctx.nodes->uses_handles()) {
        spdlog::info("not watching {}: no file handles there; outside changes show within 1 s", backing);
        return;
    }
    auto watcher = fs::BackingWatcher::create(*ctx.nodes);
    if (!watcher) {
        spdlog::info("cannot watch {} for outside changes ({}); they show through the mount within 1 s",
                     backing, std::strerror(watcher.error()));
        return;
    }
    dev_t root_dev = ctx.nodes->root().key.dev;
    if (!(*watcher)->watch(root_dev, ctx.nodes->mount_fd_for(root_dev))) {
        spdlog::info(
            "{} cannot be watched (a btrfs subvolume, or not a local filesystem); outside changes "
            "show through the mount within 1 s",
            backing);
        return;
    }
    ctx.watcher = std::move(*watcher);
    thread_ = std::thread([this] {
        ctx_.watcher->run([this](const fs::BackingChange& change) { apply(change); });
        finished_ = true;
    });
}

KernelCacheKeeper::~KernelCacheKeeper() {
    if (!thread_.joinable()) return;
    if (stop(std::chrono::seconds(2))) {
        thread_.join();
    } else {
        thread_.detach();  // see stop(): the caller keeps what it uses alive
    }
}

bool KernelCacheKeeper::stop(std::chrono::milliseconds patience) {
    if (!thread_.joinable()) return true;
    ctx_.watcher->stop();
    auto deadline = std::chrono::steady_clock::now() + patience;
    while (!finished_ && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return finished_;
}

void KernelCacheKeeper::apply(const fs::BackingChange& change) {
    fuse_session* se = ctx_.session;
    switch (change.kind) {
        case fs::BackingChange::Kind::entry:
            notify_failed("invalidating an entry", change.node_id,
                          fuse_lowlevel_notify_inval_entry(se, change.node_id, change.name.c_str(),
                                                           change.name.size()));
            notify_failed("invalidating a directory", change.node_id,
                          fuse_lowlevel_notify_inval_inode(se, change.node_id, 0, 0));
            break;
        case fs::BackingChange::Kind::contents:
            invalidate_cached_contents(se, change.node_id);
            break;
        case fs::BackingChange::Kind::attributes:
            notify_failed("invalidating attributes", change.node_id,
                          fuse_lowlevel_notify_inval_inode(se, change.node_id, kAttributesOnly, 0));
            break;
        case fs::BackingChange::Kind::overflow:
            if (!std::exchange(warned_overflow_, true))
                spdlog::warn(
                    "backing-change events were lost: outside changes may show only after the "
                    "cache timeouts");
            break;
    }
}

}  // namespace fastfs::fuse
