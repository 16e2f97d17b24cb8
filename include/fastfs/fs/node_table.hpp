// The node table: what the kernel calls a node id, mapped to a backing inode.
//
// A node remembers its inode by a file handle (name_to_handle_at), not by an open descriptor: the kernel
// may know millions of inodes and the process may hold 20,000 descriptors. A bounded FdCache keeps O_PATH
// descriptors of recently used nodes; a miss reopens the inode with open_by_handle_at.
//
// Filesystems that cannot encode handles (or a daemon without CAP_DAC_READ_SEARCH) fall back to pinning one
// O_PATH descriptor per node, like libfuse's passthrough examples; that mode is bounded by RLIMIT_NOFILE and
// is logged as such at mount time.
//
// Identity rule. A node is one backing inode, named by (filesystem, file handle). The handle carries the
// inode's generation, so an inode number that the backing filesystem recycles (XFS and ext4 reuse a freed
// number at once) comes back with a different handle and gets a NEW node, while the kernel may still hold
// the old one (a forget not yet sent, a removed directory still someone's working directory). The FUSE
// node id is the Node's address (the root is FUSE_ROOT_ID) and each node gets a generation from a
// per-mount counter: an address is reused only after the kernel forgot it, and then with a higher
// generation, so the pair (node id, generation) never names two inodes over the life of the mount, which
// is what the kernel and libfuse require. Pinned nodes hold their inode open, so its number cannot be
// recycled while the node lives: for them (filesystem, inode number) is the identity.
//
// A node lives while the kernel holds lookups on it (nlookup > 0); forget() drops them. When the last name
// of an inode is removed through the mount while the kernel still holds its node, the table keeps an O_PATH
// descriptor of it until the kernel forgets the node (bounded), so fstat on a descriptor of an unlinked file
// or stat(".") in a removed working directory keep working, as they do natively.
//
// Memory. A node is one allocation (Node::make: some 80 bytes for an XFS or ext4 inode) and three slots
// of 8 bytes in the indexes, which read the keys from the nodes (PointerSet): about 135-160 bytes of daemon
// memory per node the kernel holds, given back as it forgets them (docs/architecture.md has the numbers).
//
// Rights. The table works with the daemon's own rights (opening inodes by handle needs CAP_DAC_READ_SEARCH):
// every call that reaches the backing first makes the thread act as the daemon again (sys/credentials.hpp),
// which costs nothing when it already does.
//
// Locking. mutex_ guards the indexes, every node's nlookup, the removed-inode pins, the per-filesystem
// descriptors and device numbers; it is never held across a system call (but for memory: an index's array
// is mapped and unmapped as it doubles or halves). FdCache has its own mutex, which is never taken while
// mutex_ is held. Descriptors are closed after both are released.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <atomic>
#include <bit>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "fastfs/fs/fd_cache.hpp"
#include "fastfs/fs/pointer_set.hpp"
#include "fastfs/sys/result.hpp"
#include "fastfs/sys/unique_fd.hpp"

namespace fastfs::fs {

struct InodeKey {
    dev_t dev;
    ino_t ino;
    bool operator==(const InodeKey&) const = default;
};

// A file handle on one backing filesystem, as fanotify names inodes (src/fs/backing_watcher.cpp); the
// watcher finds nodes by it.
struct HandleKey {
    dev_t dev;
    std::string handle;  // a struct file_handle as bytes, as Node::handle()
    bool operator==(const HandleKey&) const = default;
};

// One backing inode the kernel holds. A single allocation: the fields (48 bytes), then the pin if any, then
// the handle's bytes (16 to 20 for XFS and ext4), so 80 bytes with the allocator's own.
class Node {
  public:
    // Destroys a node made by make().
    struct Delete {
        void operator()(Node* node) const noexcept;
    };
    using Ptr = std::unique_ptr<Node, Delete>;

    // `handle_bytes`: a struct file_handle as bytes (at most its header and MAX_HANDLE_SZ bytes), or empty;
    // `pin_fd`: a descriptor that holds the inode, or null.
    static Ptr make(InodeKey inode, mode_t file_type, uint64_t node_generation, std::string_view handle_bytes,
                    SharedFd pin_fd);

    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    // Immutable once published in the table: read without any lock (also the handle and the pin).
    const InodeKey key;
    const uint64_t generation;  // with the node id, unique over the mount's life (the identity rule)
    const mode_t type;          // S_IFMT bits: lets handlers pick the right way to open

    // Open files of this inode with write access (src/fuse): only while there is one can the kernel hold
    // dirty pages of it. Changed and read without the lock.
    std::atomic<uint32_t> writers{0};
    uint64_t nlookup = 0;  // guarded by NodeTable::mutex_

    // A struct file_handle as bytes; empty when pinned (but for the root, which has both).
    std::string_view handle() const;
    // The O_PATH descriptor that holds the inode, or null: set only when the filesystem cannot encode
    // handles (and for the root).
    const SharedFd* pin() const;

  private:
    Node(InodeKey inode, mode_t file_type, uint64_t node_generation, uint8_t handle_size,
         bool pinned) noexcept
        : key(inode),
          generation(node_generation),
          type(file_type),
          handle_size_(handle_size),
          pinned_(pinned) {}
    ~Node();
    // Where the pin (if any) and then the handle are: right after the Node.
    const unsigned char* tail() const { return reinterpret_cast<const unsigned char*>(this) + sizeof(Node); }
    unsigned char* tail() { return reinterpret_cast<unsigned char*>(this) + sizeof(Node); }

    const uint8_t handle_size_;
    const bool pinned_;
};

// Keys of the table's indexes (PointerSet), read from the nodes themselves.
struct NodeByAddress {
    using Key = const Node*;
    static Key key(const Node& node) { return &node; }
    static uint64_t hash(Key key) { return reinterpret_cast<uintptr_t>(key); }
};

struct NodeByHandle {
    struct Key {
        dev_t dev;
        std::string_view handle;
        bool operator==(const Key&) const = default;
    };
    static Key key(const Node& node) { return {node.key.dev, node.handle()}; }
    static uint64_t hash(const Key& key) {
        return std::hash<std::string_view>()(key.handle) ^ std::rotl(uint64_t(key.dev), 32);
    }
};

struct NodeByInode {
    using Key = InodeKey;
    static Key key(const Node& node) { return node.key; }
    static uint64_t hash(const Key& key) { return uint64_t(key.ino) ^ std::rotl(uint64_t(key.dev), 32); }
};

// What a lookup (or create) found: the node and the backing inode's attributes.
struct Entry {
    Node* node;
    struct stat attr;
};

// An inode whose last name is about to be removed, with a descriptor that keeps it reachable: see
// NodeTable::prepare_removal().
struct RemovalPin {
    uint64_t node_id = 0;
    uint64_t generation = 0;  // the node id alone may name a newer node by then
    SharedFd fd;
};

class NodeTable {
  public:
    // The root's node id: the kernel's FUSE_ROOT_ID, fixed by the protocol (checked in src/fuse).
    static constexpr uint64_t kRootNodeId = 1;

    // Opens the backing root. Fails with the errno of the open (ENOENT, ENOTDIR, EACCES...).
    // `removed_pin_capacity` bounds the descriptors kept for removed inodes the kernel still holds.
    static sys::Result<std::unique_ptr<NodeTable>> open(const std::string& backing_root,
                                                        size_t fd_cache_capacity,
                                                        size_t removed_pin_capacity);
    ~NodeTable();
    NodeTable(const NodeTable&) = delete;
    NodeTable& operator=(const NodeTable&) = delete;

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

    // Removing the last name of an inode (unlink, rmdir, rename over it) frees it natively only when the
    // last reference goes, and a reference the kernel holds (an O_PATH descriptor, a working directory) is
    // one. Call before the removal with the victim's attributes: if `victim` is its inode's last name and
    // the kernel holds its node, returns a descriptor of it. After the removal succeeded, hand it to
    // keep_removed(); the table then holds it until the kernel forgets the node, and the space is freed
    // when the kernel lets go, as natively.
    std::optional<RemovalPin> prepare_removal(const struct stat& victim);
    void keep_removed(RemovalPin pin);

    // The inode number shown to the kernel for inode `ino` of backing filesystem `dev`: the backing's own
    // number on the root's filesystem; on every other filesystem mounted inside the backing tree, the same
    // number with that filesystem's index (1, 2, ... in order of discovery) in the top 8 bits, so numbers
    // stay unique inside the one FUSE filesystem as long as the backing's stay below 2^56 (true of every
    // Linux filesystem's allocation) and there are fewer than 256 such filesystems.
    ino_t visible_ino(dev_t dev, ino_t ino) const;
    // Rewrites st_ino for the kernel.
    struct stat visible(struct stat st) const;

    // The node id of the inode with file handle `handle` on filesystem `dev`, if the kernel knows it
    // (the root included). Makes no system call: the backing watcher calls it for every event.
    std::optional<uint64_t> find_by_handle(const HandleKey& key) const;
    // A real (not O_PATH) descriptor of a directory on filesystem `dev`, or -1 before the first lookup
    // on it. Owned by the table; the mount argument of open_by_handle_at, and what the watcher marks.
    int mount_fd_for(dev_t dev);

    size_t node_count() const;
    size_t removed_pin_count() const;
    const FdCache& fd_cache() const { return fd_cache_; }
    bool uses_handles() const { return handles_supported_; }

  private:
    NodeTable(sys::UniqueFd root_fd, struct stat root_stat, size_t fd_cache_capacity,
              size_t removed_pin_capacity);
    // Finds or creates the node of `st`, identified through `fd`; `cache_fd` (an O_PATH descriptor of the
    // same inode, may be null) goes to the fd cache, or pins the node when handles are not available.
    sys::Result<Entry> register_node(int fd, const struct stat& st, SharedFd cache_fd);
    // name_to_handle_at(fd, name, flags): "" with AT_EMPTY_PATH for the descriptor's own inode.
    sys::Result<std::string> encode_handle(int fd, const char* name, int flags);
    // Looks `name` up without opening it (stat, handle, stat again): no descriptor to open, close and cache
    // per name, which listing or stat'ing thousands of files does not need. EAGAIN: use the opening path
    // (no handles here, a filesystem not seen before, or the name changed meanwhile).
    sys::Result<Entry> lookup_without_open(int dir_fd, const char* name);
    // Finds the node of the inode (its handle, else the pin) or publishes a new one, under mutex_, and
    // takes one lookup reference. Makes no system call.
    Node* attach(const struct stat& st, sys::Result<std::string> handle, const SharedFd& pin);
    sys::Result<sys::UniqueFd> open_by_handle(const Node& node, int flags);
    // Whether `fd` is on a pseudo filesystem, which is not served (node_table.cpp says why).
    static bool is_pseudo_filesystem(int fd);
    // The descriptor kept for a removed inode of `node`, if any.
    SharedFd removed_pin(const Node& node) const;
    void remember_mount_fd(dev_t dev, int fd);
    uint64_t device_index(dev_t dev) const;  // mutex_ held

    mutable std::mutex mutex_;
    // Every node but the root, owned here (deleted by forget() or ~NodeTable), by address: the node id.
    PointerSet<Node, NodeByAddress> nodes_;
    // Identity indexes (the identity rule above): the node of each handle (the root's included), and the
    // newest node of each inode number, which is the node of a pinned inode.
    PointerSet<Node, NodeByHandle> by_handle_;
    PointerSet<Node, NodeByInode> by_inode_;
    std::unordered_map<uint64_t, SharedFd> removed_pins_;  // by node id; see prepare_removal()
    const size_t removed_pin_capacity_;
    uint64_t next_generation_ = 1;
    std::unordered_map<dev_t, sys::UniqueFd> mount_fds_;  // one real directory open per backing filesystem
    mutable std::unordered_map<dev_t, uint64_t> device_indexes_;  // see visible_ino()
    Node::Ptr root_;
    dev_t root_dev_;
    bool handles_supported_ = true;
    FdCache fd_cache_;
};

}  // namespace fastfs::fs
