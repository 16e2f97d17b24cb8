#include "fastfs/fs/node_table.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <utility>

#include "fastfs/sys/credentials.hpp"
#include "fastfs/sys/pseudo_filesystem.hpp"
#include "fastfs/sys/syscalls.hpp"

namespace fastfs::fs {

namespace {

// Room for any handle the kernel encodes (MAX_HANDLE_SZ bytes of f_handle).
constexpr size_t kMaxHandleBytes = 128;
static_assert(sizeof(struct file_handle) + kMaxHandleBytes <= UINT8_MAX,
              "Node::handle_size_ holds a handle's size");
static_assert(alignof(SharedFd) <= alignof(Node) && sizeof(Node) % alignof(SharedFd) == 0,
              "a Node's pin is right after it");

// visible_ino(): the top 8 bits of an inode number carry the index of the filesystem it lives on.
constexpr unsigned kDeviceIndexShift = 56;
constexpr uint64_t kMaxDeviceIndex = 255;

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

sys::Result<std::string> encode(int fd, const char* name, int flags) {
    HandleBuffer buffer;
    buffer.get()->handle_bytes = kMaxHandleBytes;
    int mount_id = 0;
    if (::name_to_handle_at(fd, name, buffer.get(), &mount_id, flags) != 0) return sys::fail_errno();
    return std::string(reinterpret_cast<const char*>(buffer.bytes),
                       sizeof(struct file_handle) + buffer.get()->handle_bytes);
}

sys::Result<sys::UniqueFd> open_handle(int mount_fd, std::string_view handle, int flags) {
    if (handle.empty() || mount_fd < 0) return sys::fail(ESTALE);
    HandleBuffer buffer;
    std::memcpy(buffer.bytes, handle.data(), std::min(handle.size(), sizeof(buffer.bytes)));
    int fd = sys::retry_eintr([&] { return ::open_by_handle_at(mount_fd, buffer.get(), flags | O_CLOEXEC); });
    if (fd < 0) return sys::fail_errno();
    return sys::UniqueFd(fd);
}

}  // namespace

Node::Ptr Node::make(InodeKey inode, mode_t file_type, uint64_t node_generation,
                     std::string_view handle_bytes, SharedFd pin_fd) {
    size_t pin_size = pin_fd ? sizeof(SharedFd) : 0;
    size_t handle_size = std::min(handle_bytes.size(), sizeof(struct file_handle) + kMaxHandleBytes);
    void* memory = ::operator new(sizeof(Node) + pin_size + handle_size);
    Ptr node(new (memory) Node(inode, file_type, node_generation, uint8_t(handle_size), pin_fd != nullptr));
    if (pin_fd) new (node->tail()) SharedFd(std::move(pin_fd));
    if (handle_size > 0) std::memcpy(node->tail() + pin_size, handle_bytes.data(), handle_size);
    return node;
}

Node::~Node() {
    if (pinned_) std::destroy_at(std::launder(reinterpret_cast<SharedFd*>(tail())));
}

void Node::Delete::operator()(Node* node) const noexcept {
    node->~Node();
    ::operator delete(node);
}

std::string_view Node::handle() const {
    return {reinterpret_cast<const char*>(tail()) + (pinned_ ? sizeof(SharedFd) : 0), handle_size_};
}

const SharedFd* Node::pin() const {
    return pinned_ ? std::launder(reinterpret_cast<const SharedFd*>(tail())) : nullptr;
}

NodeTable::NodeTable(sys::UniqueFd root_fd, struct stat root_stat, size_t fd_cache_capacity,
                     size_t removed_pin_capacity)
    : removed_pin_capacity_(removed_pin_capacity), root_dev_(root_stat.st_dev), fd_cache_(fd_cache_capacity) {
    // The root is always reachable without a handle; its handle (if any) only names it in watcher events.
    auto handle = encode(root_fd.get(), "", AT_EMPTY_PATH);
    root_ = Node::make(InodeKey{root_stat.st_dev, root_stat.st_ino}, S_IFDIR, 0,
                       handle ? std::string_view(*handle) : std::string_view(), share(std::move(root_fd)));
    root_->nlookup = 1;
    if (!root_->handle().empty()) by_handle_.insert_or_replace(root_.get());
}

NodeTable::~NodeTable() {
    nodes_.for_each([](Node* node) { Node::Delete()(node); });
}

sys::Result<std::unique_ptr<NodeTable>> NodeTable::open(const std::string& backing_root,
                                                        size_t fd_cache_capacity,
                                                        size_t removed_pin_capacity) {
    auto fd = sys::open_at(AT_FDCWD, backing_root.c_str(), O_PATH | O_DIRECTORY);
    if (!fd) return sys::fail(fd.error());
    auto st = sys::stat_fd(fd->get());
    if (!st) return sys::fail(st.error());
    // open_by_handle_at refuses O_PATH descriptors as its mount argument: keep a real open of the root.
    auto mount_fd = sys::open_at(fd->get(), ".", O_RDONLY | O_DIRECTORY);
    if (!mount_fd) return sys::fail(mount_fd.error());
    std::unique_ptr<NodeTable> table(
        new NodeTable(std::move(*fd), *st, fd_cache_capacity, removed_pin_capacity));
    // Handles need the filesystem to encode them and CAP_DAC_READ_SEARCH to open them: try both once.
    table->handles_supported_ =
        !table->root_->handle().empty() && open_handle(mount_fd->get(), table->root_->handle(), O_PATH);
    table->mount_fds_.emplace(st->st_dev, std::move(*mount_fd));
    return table;
}

Node& NodeTable::node(uint64_t node_id) {
    if (node_id == kRootNodeId) return *root_;
    return *reinterpret_cast<Node*>(node_id);
}

uint64_t NodeTable::node_id(const Node& node) const {
    if (&node == root_.get()) return kRootNodeId;
    return reinterpret_cast<uint64_t>(&node);
}

sys::Result<std::string> NodeTable::encode_handle(int fd, const char* name, int flags) {
    return encode(fd, name, flags);
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
    return open_handle(mount_fd_for(node.key.dev), node.handle(), flags);
}

SharedFd NodeTable::removed_pin(const Node& node) const {
    std::lock_guard lock(mutex_);
    auto it = removed_pins_.find(node_id(node));
    return it == removed_pins_.end() ? nullptr : it->second;
}

sys::Result<SharedFd> NodeTable::path_fd(Node& node) {
    if (const SharedFd* pin = node.pin()) return *pin;
    uint64_t id = node_id(node);
    if (auto cached = fd_cache_.find(id)) return cached;
    sys::act_as_daemon();
    auto fd = open_by_handle(node, O_PATH);
    if (!fd) {
        // A removed inode that the kernel still holds: the handle may not resolve any more.
        if (auto removed = removed_pin(node)) return removed;
        return sys::fail(stale_as_missing(fd.error()));
    }
    auto shared = share(std::move(*fd));
    fd_cache_.insert(id, shared);
    return shared;
}

sys::Result<sys::UniqueFd> NodeTable::open_fd(Node& node, int flags) {
    flags &= ~(O_CREAT | O_EXCL | O_NOCTTY);
    sys::act_as_daemon();
    if (const SharedFd* pin = node.pin()) return sys::reopen((*pin)->get(), flags);
    auto fd = open_by_handle(node, flags);
    if (fd) return fd;
    if (auto removed = removed_pin(node)) return sys::reopen(removed->get(), flags);
    return sys::fail(stale_as_missing(fd.error()));
}

sys::Result<Entry> NodeTable::lookup(Node& parent, const char* name) {
    sys::act_as_daemon();
    auto parent_fd = path_fd(parent);
    if (!parent_fd) return sys::fail(parent_fd.error());
    auto found = lookup_without_open((*parent_fd)->get(), name);
    if (found || found.error() != EAGAIN) return found;
    auto fd = sys::open_at((*parent_fd)->get(), name, O_PATH | O_NOFOLLOW);
    if (!fd) return sys::fail(fd.error());
    auto st = sys::stat_fd(fd->get());
    if (!st) return sys::fail(st.error());
    if (st->st_dev != parent.key.dev && mount_fd_for(st->st_dev) < 0 && is_pseudo_filesystem(fd->get()))
        return sys::fail(EACCES);
    int raw = fd->get();
    return register_node(raw, *st, share(std::move(*fd)));
}

// A pseudo filesystem mounted inside the backing tree (proc, sysfs, devtmpfs...: sys/pseudo_filesystem.hpp)
// is not served: its files are the kernel's interfaces, which the daemon would read and write with its own
// rights for every user (another user's /proc/PID/environ passes the daemon's ptrace check). Asked once per
// crossing into a filesystem not seen before; a real one is remembered by register_node.
bool NodeTable::is_pseudo_filesystem(int fd) {
    auto pseudo = sys::pseudo_filesystem_of(sys::proc_fd_path(fd));
    if (!pseudo || !*pseudo) return false;
    spdlog::debug("not serving {}, a {} filesystem inside the backing tree", sys::proc_fd_path(fd), **pseudo);
    return true;
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
    sys::act_as_daemon();
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
    if (!node->pin() && shared) fd_cache_.insert(node_id(*node), std::move(shared));
    return Entry{node, st};
}

Node* NodeTable::attach(const struct stat& st, sys::Result<std::string> handle, const SharedFd& pin) {
    InodeKey key{st.st_dev, st.st_ino};
    std::lock_guard lock(mutex_);
    // No handle this time: a pinned node of this number is this inode (its pin keeps the number from
    // being recycled). A node with a handle may be a recycled number's: not knowable, so use it as fastfs
    // always has for filesystems that sometimes fail to encode.
    Node* node = handle ? by_handle_.find({key.dev, *handle}) : by_inode_.find(key);
    if (node == nullptr) {
        Node::Ptr created =
            Node::make(key, mode_t(st.st_mode & S_IFMT), next_generation_++,
                       handle ? std::string_view(*handle) : std::string_view(), handle ? nullptr : pin);
        node = created.get();
        nodes_.insert_or_replace(node);
        created.release();  // owned by nodes_ now
        if (!node->handle().empty()) by_handle_.insert_or_replace(node);
        by_inode_.insert_or_replace(node);  // the newest inode of this number
    }
    ++node->nlookup;
    return node;
}

void NodeTable::forget(Node& node, uint64_t count) {
    if (&node == root_.get()) return;
    uint64_t id = node_id(node);
    Node::Ptr removed;  // freed, and its descriptors closed, after the lock is released
    SharedFd pin;
    {
        std::lock_guard lock(mutex_);
        node.nlookup -= std::min(count, node.nlookup);
        if (node.nlookup > 0) return;
        if (!nodes_.erase(&node)) return;
        removed.reset(&node);
        // Out of every index before it is freed: the indexes read the nodes they hold.
        if (!node.handle().empty()) by_handle_.erase(&node);
        by_inode_.erase(&node);  // unless a newer inode of its number took its place
        if (auto p = removed_pins_.find(id); p != removed_pins_.end()) {
            pin = std::move(p->second);
            removed_pins_.erase(p);
        }
    }
    fd_cache_.erase(id);
}

std::optional<RemovalPin> NodeTable::prepare_removal(const struct stat& victim) {
    if (!S_ISDIR(victim.st_mode) && victim.st_nlink > 1) return std::nullopt;  // other names keep it
    Node* node = nullptr;
    {
        std::lock_guard lock(mutex_);
        node = by_inode_.find(InodeKey{victim.st_dev, victim.st_ino});
        if (node == nullptr || node == root_.get()) return std::nullopt;
        ++node->nlookup;  // held across the open below, whatever the kernel forgets meanwhile
    }
    // The newest node of this number: if its handle still opens, it is the live inode being removed (two
    // live inodes never share a number).
    auto fd = path_fd(*node);
    std::optional<RemovalPin> pin;
    if (fd) pin = RemovalPin{node_id(*node), node->generation, std::move(*fd)};
    forget(*node, 1);
    return pin;
}

void NodeTable::keep_removed(RemovalPin pin) {
    fd_cache_.erase(pin.node_id);  // the pin holds the inode now; the cache must not outlive it
    std::lock_guard lock(mutex_);
    // Only while the node lives (a forget may have raced the removal) and within the bound: beyond it, a
    // removed inode is freed at once, as before, and the kernel's references to it see ENOENT.
    const Node* node = nodes_.find(reinterpret_cast<const Node*>(pin.node_id));  // not read unless found
    if (node == nullptr || node->generation != pin.generation) return;
    if (removed_pins_.size() >= removed_pin_capacity_) return;
    removed_pins_.insert_or_assign(pin.node_id, std::move(pin.fd));
}

std::optional<uint64_t> NodeTable::find_by_handle(const HandleKey& key) const {
    std::lock_guard lock(mutex_);
    const Node* node = by_handle_.find({key.dev, key.handle});
    if (node == nullptr) return std::nullopt;
    return node_id(*node);
}

uint64_t NodeTable::device_index(dev_t dev) const {
    auto [it, inserted] = device_indexes_.try_emplace(dev, device_indexes_.size() + 1);
    if (inserted && it->second > kMaxDeviceIndex) {
        it->second = kMaxDeviceIndex;
        spdlog::warn("more than {} filesystems inside the backing tree: inode numbers may repeat",
                     kMaxDeviceIndex);
    }
    return it->second;
}

ino_t NodeTable::visible_ino(dev_t dev, ino_t ino) const {
    if (dev == root_dev_) return ino;
    std::lock_guard lock(mutex_);
    return ino_t(uint64_t(ino) ^ (device_index(dev) << kDeviceIndexShift));
}

struct stat NodeTable::visible(struct stat st) const {
    st.st_ino = visible_ino(st.st_dev, st.st_ino);
    return st;
}

size_t NodeTable::node_count() const {
    std::lock_guard lock(mutex_);
    return nodes_.size() + 1;  // and the root
}

size_t NodeTable::removed_pin_count() const {
    std::lock_guard lock(mutex_);
    return removed_pins_.size();
}

}  // namespace fastfs::fs
