#include "fastfs/fs/node_table.hpp"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "fastfs/sys/syscalls.hpp"

namespace fastfs::fs {

namespace {

// Room for any handle the kernel encodes (MAX_HANDLE_SZ bytes of f_handle).
constexpr size_t kMaxHandleBytes = 128;

struct alignas(struct file_handle) HandleBuffer {
    unsigned char bytes[sizeof(struct file_handle) + kMaxHandleBytes];
    struct file_handle* get() {
        return reinterpret_cast<struct file_handle*>(bytes);
    }
};

SharedFd share(sys::UniqueFd fd) {
    return std::make_shared<const sys::UniqueFd>(std::move(fd));
}

int stale_as_missing(int error) {
    return error == ESTALE ? ENOENT : error;
}

}  // namespace

NodeTable::NodeTable(sys::UniqueFd root_fd, struct stat root_stat, size_t fd_cache_capacity)
    : root_dev_(root_stat.st_dev), fd_cache_(fd_cache_capacity) {
    root_fd_ = share(std::move(root_fd));
    auto root = std::make_unique<Node>();
    root->key = {root_stat.st_dev, root_stat.st_ino};
    root->type = S_IFDIR;
    root->pinned = root_fd_;  // the root is always reachable without a handle
    root->nlookup = 1;
    root_ = root.get();
    nodes_.emplace(root->key, std::move(root));
}

sys::Result<std::unique_ptr<NodeTable>> NodeTable::open(const std::string& backing_root,
                                                        size_t fd_cache_capacity) {
    auto fd = sys::open_at(AT_FDCWD, backing_root.c_str(), O_PATH | O_DIRECTORY);
    if (!fd) return sys::fail(fd.error());
    auto st = sys::stat_fd(fd->get());
    if (!st) return sys::fail(st.error());
    // open_by_handle_at refuses O_PATH descriptors as its mount argument: keep a real open of the root.
    auto mount_fd = sys::open_at(fd->get(), ".", O_RDONLY | O_DIRECTORY);
    if (!mount_fd) return sys::fail(mount_fd.error());
    std::unique_ptr<NodeTable> table(new NodeTable(std::move(*fd), *st, fd_cache_capacity));
    table->mount_fds_.emplace(st->st_dev, std::move(*mount_fd));

    // Handles need the filesystem to encode them and CAP_DAC_READ_SEARCH to open them: try both once.
    auto handle = table->encode_handle(table->root_fd_->get(), "", AT_EMPTY_PATH);
    if (handle) {
        Node probe;
        probe.key = table->root_->key;
        probe.handle = *handle;
        table->handles_supported_ = bool(table->open_by_handle(probe, O_PATH));
        // The root stays pinned, but events about it name it by handle.
        table->by_handle_.emplace(HandleKey{st->st_dev, std::move(*handle)}, table->root_);
    } else {
        table->handles_supported_ = false;
    }
    return table;
}

Node& NodeTable::node(uint64_t node_id) {
    if (node_id == kRootNodeId) return *root_;
    return *reinterpret_cast<Node*>(node_id);
}

uint64_t NodeTable::node_id(const Node& node) const {
    if (&node == root_) return kRootNodeId;
    return reinterpret_cast<uint64_t>(&node);
}

sys::Result<std::string> NodeTable::encode_handle(int fd, const char* name, int flags) {
    HandleBuffer buffer;
    buffer.get()->handle_bytes = kMaxHandleBytes;
    int mount_id = 0;
    if (::name_to_handle_at(fd, name, buffer.get(), &mount_id, flags) != 0) return sys::fail_errno();
    return std::string(reinterpret_cast<const char*>(buffer.bytes),
                       sizeof(struct file_handle) + buffer.get()->handle_bytes);
}

int NodeTable::mount_fd_for(dev_t dev) {
    std::lock_guard lock(mutex_);
    auto it = mount_fds_.find(dev);
    return it == mount_fds_.end() ? -1 : it->second.get();
}

void NodeTable::remember_mount_fd(dev_t dev, int fd) {
    // Only directories are passed in: a new filesystem is entered through its root. The open happens
    // outside the lock; a racing thread's copy simply loses.
    if (mount_fd_for(dev) >= 0) return;
    // A real (not O_PATH) open: open_by_handle_at refuses O_PATH descriptors as its mount argument.
    auto dir = sys::open_at(fd, ".", O_RDONLY | O_DIRECTORY);
    if (!dir) return;
    std::lock_guard lock(mutex_);
    mount_fds_.try_emplace(dev, std::move(*dir));
}

sys::Result<sys::UniqueFd> NodeTable::open_by_handle(const Node& node, int flags) {
    std::string handle;
    {
        std::lock_guard lock(mutex_);
        handle = node.handle;
    }
    int mount_fd = mount_fd_for(node.key.dev);
    if (handle.empty() || mount_fd < 0) return sys::fail(ESTALE);
    HandleBuffer buffer;
    std::memcpy(buffer.bytes, handle.data(), std::min(handle.size(), sizeof(buffer.bytes)));
    int fd = sys::retry_eintr([&] { return ::open_by_handle_at(mount_fd, buffer.get(), flags | O_CLOEXEC); });
    if (fd < 0) return sys::fail_errno();
    return sys::UniqueFd(fd);
}

sys::Result<SharedFd> NodeTable::path_fd(Node& node) {
    if (node.pinned) return node.pinned;
    uint64_t id = node_id(node);
    if (auto cached = fd_cache_.find(id)) return cached;
    auto fd = open_by_handle(node, O_PATH);
    if (!fd) return sys::fail(stale_as_missing(fd.error()));
    auto shared = share(std::move(*fd));
    fd_cache_.insert(id, shared);
    return shared;
}

sys::Result<sys::UniqueFd> NodeTable::open_fd(Node& node, int flags) {
    flags &= ~(O_CREAT | O_EXCL | O_NOCTTY);
    if (!node.pinned) {
        auto fd = open_by_handle(node, flags);
        if (!fd) return sys::fail(stale_as_missing(fd.error()));
        return fd;
    }
    return sys::reopen(node.pinned->get(), flags);
}

sys::Result<Entry> NodeTable::lookup(Node& parent, const char* name) {
    auto parent_fd = path_fd(parent);
    if (!parent_fd) return sys::fail(parent_fd.error());
    auto found = lookup_without_open((*parent_fd)->get(), name);
    if (found || found.error() != EAGAIN) return found;
    auto fd = sys::open_at((*parent_fd)->get(), name, O_PATH | O_NOFOLLOW);
    if (!fd) return sys::fail(fd.error());
    auto st = sys::stat_fd(fd->get());
    if (!st) return sys::fail(st.error());
    int raw = fd->get();
    return register_node(raw, *st, share(std::move(*fd)));
}

sys::Result<Entry> NodeTable::lookup_without_open(int dir_fd, const char* name) {
    if (!handles_supported_) return sys::fail(EAGAIN);
    auto before = sys::stat_at(dir_fd, name, AT_SYMLINK_NOFOLLOW);
    if (!before) return sys::fail(before.error());
    if (mount_fd_for(before->st_dev) < 0) return sys::fail(EAGAIN);  // a new filesystem: remember it first
    auto handle = encode_handle(dir_fd, name, 0);
    if (!handle) return sys::fail(EAGAIN);
    // The handle and the attributes must describe the same inode: a rename between the calls would pair
    // one inode's number with another's handle. The same inode before and after rules that out.
    auto after = sys::stat_at(dir_fd, name, AT_SYMLINK_NOFOLLOW);
    if (!after) return sys::fail(after.error());
    if (after->st_dev != before->st_dev || after->st_ino != before->st_ino) return sys::fail(EAGAIN);
    return Entry{attach(*after, std::move(handle), nullptr), *after};
}

sys::Result<Entry> NodeTable::adopt(int fd) {
    auto st = sys::stat_fd(fd);
    if (!st) return sys::fail(st.error());
    if (handles_supported_) return register_node(fd, *st, nullptr);  // the handle comes from `fd` itself
    auto path = sys::reopen(fd, O_PATH);  // pinned mode needs a descriptor of its own
    if (!path) return sys::fail(path.error());
    int raw = path->get();
    return register_node(raw, *st, share(std::move(*path)));
}

sys::Result<Entry> NodeTable::register_node(int fd, const struct stat& st, SharedFd shared) {
    sys::Result<std::string> handle =
        handles_supported_ ? encode_handle(fd, "", AT_EMPTY_PATH) : sys::fail(EOPNOTSUPP);
    if (!handle && !shared) {
        // This filesystem (e.g. one mounted inside the backing tree) cannot encode handles: pin the node.
        auto path = sys::reopen(fd, O_PATH);
        if (!path) return sys::fail(path.error());
        shared = share(std::move(*path));
    }
    if (S_ISDIR(st.st_mode)) remember_mount_fd(st.st_dev, fd);
    Node* node = attach(st, std::move(handle), shared);
    if (!node->pinned && shared) fd_cache_.insert(node_id(*node), std::move(shared));
    return Entry{node, st};
}

Node* NodeTable::attach(const struct stat& st, sys::Result<std::string> handle, const SharedFd& pin) {
    InodeKey key{st.st_dev, st.st_ino};
    std::lock_guard lock(mutex_);
    auto [it, inserted] = nodes_.try_emplace(key, nullptr);
    if (inserted) {
        it->second = std::make_unique<Node>();
        it->second->key = key;
    }
    Node* node = it->second.get();
    node->type = st.st_mode & S_IFMT;
    if (handle) {
        // A different handle for the same (dev, ino) means the number was reused by a new inode.
        if (node->handle != *handle) {
            std::string old = std::exchange(node->handle, std::move(*handle));
            index_handle(*node, old);
        }
    } else if (!node->pinned && node != root_) {
        node->pinned = pin;
    }
    ++node->nlookup;
    return node;
}

void NodeTable::forget(Node& node, uint64_t count) {
    if (&node == root_) return;
    uint64_t id = node_id(node);
    std::unique_ptr<Node> removed;
    {
        std::lock_guard lock(mutex_);
        node.nlookup -= std::min(count, node.nlookup);
        if (node.nlookup > 0) return;
        auto it = nodes_.find(node.key);
        if (it == nodes_.end() || it->second.get() != &node) return;
        unindex_handle(node);
        removed = std::move(it->second);
        nodes_.erase(it);
    }
    fd_cache_.erase(id);
}

void NodeTable::index_handle(Node& node, const std::string& old_handle) {
    if (!old_handle.empty()) {
        auto it = by_handle_.find(HandleKey{node.key.dev, old_handle});
        if (it != by_handle_.end() && it->second == &node) by_handle_.erase(it);
    }
    by_handle_.insert_or_assign(HandleKey{node.key.dev, node.handle}, &node);
}

void NodeTable::unindex_handle(const Node& node) {
    if (node.handle.empty()) return;
    auto it = by_handle_.find(HandleKey{node.key.dev, node.handle});
    if (it != by_handle_.end() && it->second == &node) by_handle_.erase(it);
}

std::optional<uint64_t> NodeTable::find_by_handle(const HandleKey& key) const {
    std::lock_guard lock(mutex_);
    auto it = by_handle_.find(key);
    if (it == by_handle_.end()) return std::nullopt;
    return node_id(*it->second);
}

void NodeTable::drop_cached_fd(const InodeKey& key) {
    Node* node = nullptr;
    {
        std::lock_guard lock(mutex_);
        auto it = nodes_.find(key);
        if (it != nodes_.end()) node = it->second.get();
    }
    if (node != nullptr && node != root_) fd_cache_.erase(node_id(*node));
}

ino_t NodeTable::visible_ino(const struct stat& st) const {
    if (st.st_dev == root_dev_) return st.st_ino;
    // Inodes of another backing filesystem (a mount inside the backing tree) get the device folded into the
    // top bits, so that (st_dev, st_ino) stays unique inside the one FUSE filesystem.
    uint64_t dev_bits = (uint64_t(major(st.st_dev)) * 131 + minor(st.st_dev)) & 0xFF;
    return ino_t(uint64_t(st.st_ino) ^ ((dev_bits + 1) << 56));
}

struct stat NodeTable::visible(struct stat st) const {
    st.st_ino = visible_ino(st);
    return st;
}

size_t NodeTable::node_count() const {
    std::lock_guard lock(mutex_);
    return nodes_.size();
}

}  // namespace fastfs::fs
