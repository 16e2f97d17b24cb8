// Keeps the kernel's caches true to the backing filesystems: runs the backing watcher (src/fs) on its own
// thread and turns each change made behind fastfs's back into a FUSE notification, so that the kernel may
// cache names and attributes for long (docs/consistency.md).
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
    // Starts watching the backing root's filesystem unless the options say not to, and logs why not when
    // it cannot. Construct after daemonizing: the watcher recognises fastfs's own changes by its pid.
    explicit KernelCacheKeeper(MountContext& ctx);
    ~KernelCacheKeeper();
    KernelCacheKeeper(const KernelCacheKeeper&) = delete;
    KernelCacheKeeper& operator=(const KernelCacheKeeper&) = delete;

    // Asks the thread to stop and waits up to `patience` for it. False if it is still inside a
    // notification, which waits for an inode the kernel has locked for a request nobody will answer any
    // more: then the caller must keep the session and context alive (the process is about to exit).
    bool stop(std::chrono::milliseconds patience);

  private:
    void apply(const fs::BackingChange& change);

    MountContext& ctx_;
    std::thread thread_;
    std::atomic<bool> finished_{false};
    bool warned_overflow_ = false;
};

// Drops the kernel's cached data and attributes of `node_id`: for a change fastfs makes that the kernel
// did not ask for as such (a clone into an open file).
void invalidate_cached_contents(fuse_session* se, uint64_t node_id);

}  // namespace fastfs::fuse
