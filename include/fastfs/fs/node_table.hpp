// The node table: what the kernel calls a node id, mapped to a backing inode.
//
// A node is keyed by the backing (st_dev, st_ino) — hard links are one node — and remembers the inode by
// a file handle (name_to_handle_at), not by an open descriptor: the kernel may know millions of inodes and
// the process may hold 20,000 descriptors. A bounded FdCache keeps O_PATH descriptors of recently used
// nodes; a miss reopens the inode with open_by_handle_at.
//
// Filesystems that cannot encode handles (or a daemon without CAP_DAC_READ_SEARCH) fall back to pinning one
// O_PATH descriptor per node, like libfuse's passthrough examples; that mode is bounded by RLIMIT_NOFILE and
// is logged as such at mount time.
//
// The FUSE node id is the Node's address (the root is FUSE_ROOT_ID). A node lives while the kernel holds
// lookups on it (nlookup > 0); forget() drops them.
//
// Lock order: NodeTable::mutex_ is taken alone and never held across a system call; FdCache has its own
// mutex, never taken while holding NodeTable::mutex_ except in forget() (table -> cache).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "fastfs/fs/fd_cache.hpp"
#include "fastfs/sys/result.hpp"
#include "fastfs/sys/unique_fd.hpp"

namespace fastfs::fs {

struct InodeKey {
    dev_t dev;
    ino_t ino;
    bool operator==(const InodeKey&) const = default;
};

// A file handle on one backing filesystem: how fanotify names inodes (src/fs/backing_watcher.cpp).
struct HandleKey {
    dev_t dev;
    std::string handle;  // a struct file_handle as bytes, as Node::handle
    bool operator==(const HandleKey&) const = default;
};

struct HandleKeyHash {
    size_t operator()(const HandleKey& key) const noexcept {
        return std::hash<std::string>()(key.handle) ^ std::hash<uint64_t>()(uint64_t(key.dev));
    }
};

struct InodeKeyHash {
    size_t operator()(const InodeKey& key) const noexcept {
        return std::hash<uint64_t>()(uint64_t(key.ino) * 0x9E3779B97F4A7C15ull ^ uint64_t(key.dev));
    }
};

class Node {
  public:
    InodeKey key;
    mode_t type;           // S_IFMT bits: lets handlers pick the right way to open
    std::string handle;    // a struct file_handle as bytes; empty when pinned
    SharedFd pinned;       // set only when the filesystem cannot encode handles
    uint64_t nlookup = 0;  // guarded by NodeTable::mutex_
};

// What a lookup (or create) found: the node and the backing inode's attributes.
struct Entry {
    Node* node;
    struct stat attr;
};

class NodeTable {
  public:
    // The root's node id: the kernel's FUSE_ROOT_ID, fixed by the protocol (checked in src/fuse).
    static constexpr uint64_t kRootNodeId = 1;

    // Opens the backing root. Fails with the errno of the open (ENOENT, ENOTDIR, EACCES...).
    static sys::Result<std::unique_ptr<NodeTable>> open(const std::string& backing_root,
                                                        size_t fd_cache_capacity);

    Node& root() { return *root_; }
    // Node for a FUSE node id (FUSE_ROOT_ID or a pointer handed out by lookup).
    Node& node(uint64_t node_id);
    uint64_t node_id(const Node& node) const;

    // An O_PATH descriptor to the node's inode (from the cache, or reopened from its handle).
    // ESTALE from the backing (the inode is gone) is reported as ENOENT.
    sys::Result<SharedFd> path_fd(Node& node);
    // A real descriptor opened with `flags` (no O_CREAT): from the handle directly, or via /proc.
    sys::Result<sys::UniqueFd> open_fd(Node& node, int flags);

    // Looks `name` up in `parent` and takes one lookup reference on the resulting node.
    sys::Result<Entry> lookup(Node& parent, const char* name);
    // Registers an inode the caller just created or opened (descriptor `fd`, any open mode) and takes
    // one lookup reference on it.
    sys::Result<Entry> adopt(int fd);
    // Drops `count` lookup references; a node with none left is removed.
    void forget(Node& node, uint64_t count);

    // Closes the cached descriptor of the inode `key`, if any: called after an unlink or rename that
    // removed the last name of an inode, so that its space is freed as soon as the last open file closes.
    void drop_cached_fd(const InodeKey& key);

    // The inode number shown to the kernel: the backing's, made unique across backing filesystems.
    ino_t visible_ino(const struct stat& st) const;
    // Rewrites st_ino for the kernel.
    struct stat visible(struct stat st) const;

    // The node id of the inode with file handle `handle` on filesystem `dev`, if the kernel knows it
    // (the root included). Makes no system call: the backing watcher calls it for every event.
    std::optional<uint64_t> find_by_handle(const HandleKey& key) const;
    // A real (not O_PATH) descriptor of a directory on filesystem `dev`, or -1 before the first lookup
    // on it. Owned by the table; the mount argument of open_by_handle_at, and what the watcher marks.
    int mount_fd_for(dev_t dev);

    size_t node_count() const;
    const FdCache& fd_cache() const { return fd_cache_; }
    bool uses_handles() const { return handles_supported_; }

  private:
    NodeTable(sys::UniqueFd root_fd, struct stat root_stat, size_t fd_cache_capacity);
    // Finds or creates the node of `st`, identified through `fd`; `cache_fd` (an O_PATH descriptor of the
    // same inode, may be null) goes to the fd cache, or pins the node when handles are not available.
    sys::Result<Entry> register_node(int fd, const struct stat& st, SharedFd cache_fd);
    // name_to_handle_at(fd, name, flags): "" with AT_EMPTY_PATH for the descriptor's own inode.
    sys::Result<std::string> encode_handle(int fd, const char* name, int flags);
    // Looks `name` up without opening it (stat, handle, stat again): no descriptor to open, close and cache
    // per name, which listing or stat'ing thousands of files does not need. EAGAIN: use the opening path
    // (no handles here, a filesystem not seen before, or the name changed meanwhile).
    sys::Result<Entry> lookup_without_open(int dir_fd, const char* name);
    // Finds or creates the node of `st` under mutex_ and takes one lookup reference. Without a handle the
    // node is pinned by `pin`. Makes no system call.
    Node* attach(const struct stat& st, sys::Result<std::string> handle, const SharedFd& pin);
    sys::Result<sys::UniqueFd> open_by_handle(const Node& node, int flags);
    void remember_mount_fd(dev_t dev, int fd);

    // Indexes `node` by its handle (replacing `old_handle`'s entry); mutex_ held.
    void index_handle(Node& node, const std::string& old_handle);
    void unindex_handle(const Node& node);

    mutable std::mutex mutex_;  // guards nodes_, by_handle_, nlookup of every node, mount_fds_
    std::unordered_map<InodeKey, std::unique_ptr<Node>, InodeKeyHash> nodes_;
    std::unordered_map<HandleKey, Node*, HandleKeyHash> by_handle_;
    std::unordered_map<dev_t, sys::UniqueFd> mount_fds_;  // one O_PATH dir per backing filesystem
    Node* root_ = nullptr;
    SharedFd root_fd_;
    dev_t root_dev_;
    bool handles_supported_ = true;
    FdCache fd_cache_;
};

}  // namespace fastfs::fs
