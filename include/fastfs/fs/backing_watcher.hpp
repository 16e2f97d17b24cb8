// The backing watcher: changes made to the backing filesystems behind fastfs's back, per node the kernel
// knows, so that the FUSE layer can invalidate the kernel's caches of them.
//
// That is what lets the kernel cache names and attributes for long by default (docs/consistency.md):
// without it, a change made directly in the backing directory would stay invisible through the mount for
// as long as the cache timeouts.
//
// fanotify with FAN_MARK_FILESYSTEM sees every change on a superblock, made through any mount and in any
// namespace. With FAN_REPORT_DFID_NAME | FAN_REPORT_FID, events name inodes by the same file handles the
// node table keeps, so mapping an event to a node is a hash lookup and no system call. Events caused by
// this process are skipped: the kernel already knows what it asked fastfs to do.
//
// Needs CAP_SYS_ADMIN. A filesystem that cannot be watched (a btrfs subvolume other than the top one, a
// network or FUSE filesystem whose changes need not pass through this kernel, a mount without file
// handles) is reported as unwatched, and the FUSE layer keeps the short timeouts for it.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "fastfs/fs/node_table.hpp"
#include "fastfs/sys/result.hpp"
#include "fastfs/sys/unique_fd.hpp"

namespace fastfs::fs {

struct BackingChange {
    enum class Kind {
        contents,    // the data of an inode changed (so did its size or times)
        attributes,  // its mode, owner, times or link count changed
        entry,       // the name `name` in directory `node_id` was created, removed or renamed
        overflow,    // events were lost; nothing is known about what changed
    };
    Kind kind;
    // entry: the directory. contents, attributes: the changed inode's node, 0 if the kernel does not know
    // it, or not yet: a lookup or listing may be installing it with attributes read before the change.
    uint64_t node_id = 0;
    // contents, attributes: the directory the inode was changed through (0 if unknown) and its name there,
    // and the inode's handle, to find its node again once such a lookup has finished.
    uint64_t parent_id = 0;
    std::string name;
    HandleKey object{};
};

class BackingWatcher {
  public:
    // A fanotify group. EPERM without CAP_SYS_ADMIN; EINVAL on kernels without FID reports.
    static sys::Result<std::unique_ptr<BackingWatcher>> create(const NodeTable& nodes);

    // Whether changes on filesystem `dev` are watched, or nullopt if it was not tried yet.
    std::optional<bool> watching(dev_t dev) const;
    // Tries once to watch filesystem `dev` through `dir_fd`, a directory on it; returns watching(dev).
    bool watch(dev_t dev, int dir_fd);

    // Reads events until stop() and calls `sink` for each change of a node the kernel knows. Called on
    // the watcher's own thread; `sink` may block (a FUSE notification waits for the inode's lock).
    void run(const std::function<void(const BackingChange&)>& sink);
    void stop();

  private:
    BackingWatcher(const NodeTable& nodes, sys::UniqueFd fanotify, sys::UniqueFd wakeup);
    // Parses one buffer of events and hands the changes to `sink`.
    void dispatch(const char* events, size_t length, const std::function<void(const BackingChange&)>& sink);
    std::optional<dev_t> device_of(uint64_t fsid) const;

    const NodeTable& nodes_;
    sys::UniqueFd fanotify_;
    sys::UniqueFd wakeup_;  // an eventfd: stop() makes run() return
    std::atomic<bool> stopping_{false};
    pid_t own_pid_;

    mutable std::shared_mutex mutex_;          // guards the two maps
    std::unordered_map<dev_t, bool> watched_;  // every device tried: whether it is watched
    std::unordered_map<uint64_t, dev_t> device_by_fsid_;
};

}  // namespace fastfs::fs
