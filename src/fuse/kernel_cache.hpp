// Keeps the kernel's caches true to the backing filesystems. Two threads:
// - the notifier sends every FUSE notification, taken from MountContext::notifications: changes the
//   backing watcher saw, and changes fastfs made that the kernel did not ask for as such (an append that
//   landed past the kernel's idea of the end of file, a clone into an open file);
// - the watcher (where the backing can be watched) reads fanotify events (src/fs) and posts them.
// That is what lets the kernel cache names and attributes for long (docs/consistency.md).
#pragma once

#include <fuse_lowlevel.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "fastfs/fuse/mount_context.hpp"

namespace fastfs::fuse {

class KernelCacheKeeper {
  public:
    // Starts the notifier, and the watcher unless the options say not to; logs why not when it cannot.
    // Construct after daemonizing: the watcher recognises fastfs's own changes by its pid.
    explicit KernelCacheKeeper(MountContext& ctx);
    ~KernelCacheKeeper();
    KernelCacheKeeper(const KernelCacheKeeper&) = delete;
    KernelCacheKeeper& operator=(const KernelCacheKeeper&) = delete;

    // Stops both threads, waiting up to `patience` for the notifier. False if it is still inside a
    // notification, which waits for an inode the kernel has locked for a request nobody will answer any
    // more: then the caller must keep the session and context alive (the process is about to exit).
    bool stop(std::chrono::milliseconds patience);

  private:
    void start_watcher();
    void notify_loop();
    void apply(const fs::BackingChange& change);
    // Invalidates what the kernel caches of an inode; false if the kernel does not know the node.
    bool invalidate_inode(uint64_t node_id, fs::BackingChange::Kind kind);

    MountContext& ctx_;
    std::thread watcher_;
    std::thread notifier_;
    std::atomic<bool> notifier_finished_{false};
    bool warned_overflow_ = false;
};

// Drops the kernel's cached attributes and pages of `node_id` from the calling thread, before replying to
// the request in progress: only for requests during which the kernel holds no lock of that inode and no
// lock of its pages (an ioctl does not; a WRITE may hold a page lock, so appends post instead).
void invalidate_now(fuse_session* se, uint64_t node_id);

}  // namespace fastfs::fuse
