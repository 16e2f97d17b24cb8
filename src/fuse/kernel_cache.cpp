#include "kernel_cache.hpp"

#include <spdlog/spdlog.h>

#include <cstring>
#include <utility>

namespace fastfs::fuse {
namespace {

// Negative offset: attributes only; offset 0 and length 0: attributes and every cached page (for a
// directory, its cached listing).
constexpr off_t kAttributesOnly = -1;

// ENOENT: the kernel does not know the inode or name (any more, or yet).
int notify_result(const char* what, uint64_t node_id, int rc) {
    if (rc != 0 && rc != -ENOENT) spdlog::debug("{} of node {:#x}: {}", what, node_id, std::strerror(-rc));
    return rc;
}

}  // namespace

void invalidate_now(fuse_session* se, uint64_t node_id) {
    notify_result("invalidating an inode", node_id, fuse_lowlevel_notify_inval_inode(se, node_id, 0, 0));
}

KernelCacheKeeper::KernelCacheKeeper(MountContext& ctx) : ctx_(ctx) {
    notifier_ = std::thread([this] {
        notify_loop();
        notifier_finished_ = true;
    });
    start_watcher();
}

void KernelCacheKeeper::start_watcher() {
    const std::string backing = ctx_.config.backing.string();
    if (!ctx_.config.watch_backing) {
        spdlog::info("not watching {} (no_watch_backing): outside changes show within the timeouts", backing);
        ctx_.watch_note = "no_watch_backing";
        return;
    }
    if (!ctx_.nodes->uses_handles()) {
        spdlog::info("not watching {}: no file handles there; outside changes show within 1 s", backing);
        ctx_.watch_note = "no file handles on the backing";
        return;
    }
    auto watcher = fs::BackingWatcher::create(*ctx_.nodes);
    if (!watcher) {
        spdlog::info("cannot watch {} for outside changes ({}); they show through the mount within 1 s",
                     backing, std::strerror(watcher.error()));
        ctx_.watch_note = std::string("fanotify: ") + std::strerror(watcher.error());
        return;
    }
    dev_t root_dev = ctx_.nodes->root().key.dev;
    if (!(*watcher)->watch(root_dev, ctx_.nodes->mount_fd_for(root_dev))) {
        spdlog::info(
            "{} cannot be watched (a btrfs subvolume, or not a local filesystem); outside changes "
            "show through the mount within 1 s",
            backing);
        ctx_.watch_note = "a btrfs subvolume, or not a local filesystem";
        return;
    }
    ctx_.watcher = std::move(*watcher);
    watcher_ = std::thread([this] {
        ctx_.watcher->run([this](const fs::BackingChange& change) { ctx_.notifications.post(change); });
    });
}

KernelCacheKeeper::~KernelCacheKeeper() {
    if (!stop(std::chrono::seconds(2)) && notifier_.joinable()) notifier_.detach();  // see stop()
}

bool KernelCacheKeeper::stop(std::chrono::milliseconds patience) {
    if (ctx_.watcher) ctx_.watcher->stop();
    if (watcher_.joinable()) watcher_.join();  // it never waits on the kernel
    ctx_.notifications.close();
    if (!notifier_.joinable()) return true;
    auto deadline = std::chrono::steady_clock::now() + patience;
    while (!notifier_finished_ && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!notifier_finished_) return false;
    notifier_.join();
    return true;
}

void KernelCacheKeeper::notify_loop() {
    while (auto change = ctx_.notifications.next())
        apply(*change);
}

bool KernelCacheKeeper::invalidate_inode(uint64_t node_id, fs::BackingChange::Kind kind) {
    if (node_id == 0) return false;
    // Contents: attributes and cached pages; attributes: only those.
    off_t offset = kind == fs::BackingChange::Kind::contents ? 0 : kAttributesOnly;
    return notify_result("invalidating an inode", node_id,
                         fuse_lowlevel_notify_inval_inode(ctx_.session, node_id, offset, 0)) != -ENOENT;
}

void KernelCacheKeeper::apply(const fs::BackingChange& change) {
    fuse_session* se = ctx_.session;
    switch (change.kind) {
        case fs::BackingChange::Kind::entry:
            notify_result("invalidating an entry", change.node_id,
                          fuse_lowlevel_notify_inval_entry(se, change.node_id, change.name.c_str(),
                                                           change.name.size()));
            notify_result("invalidating a directory", change.node_id,
                          fuse_lowlevel_notify_inval_inode(se, change.node_id, 0, 0));
            break;
        case fs::BackingChange::Kind::contents:
        case fs::BackingChange::Kind::attributes:
            if (invalidate_inode(change.node_id, change.kind) || change.parent_id == 0) break;
            // The kernel does not hold the inode, or not yet: a lookup or listing of `parent` may be
            // installing it right now with attributes read before this change, which the kernel would then
            // trust for the whole timeout. Invalidating the name takes the directory's lock, so it returns
            // only once such a lookup has finished; then the inode, if it now exists, can be invalidated.
            notify_result("invalidating an entry", change.parent_id,
                          fuse_lowlevel_notify_inval_entry(se, change.parent_id, change.name.c_str(),
                                                           change.name.size()));
            if (auto node = ctx_.nodes->find_by_handle(change.object)) invalidate_inode(*node, change.kind);
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
