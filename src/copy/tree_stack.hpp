// Private to the tree copy: directory listings, paths confined to a tree, the stack of directories being
// copied with a bounded number of open descriptors, and the hidden tree that is renamed into place or
// removed.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "fastfs/sys/result.hpp"
#include "fastfs/sys/unique_fd.hpp"

namespace fastfs::copy::detail {

struct DirEntry {
    std::string name;
    unsigned char type;  // DT_* from getdents (DT_UNKNOWN on filesystems that do not say)
    ino_t ino;
};

// Every entry of the directory open as `fd` but "." and "..", in inode order (which many filesystems read
// fastest). Reads from the descriptor's current position: give it a fresh descriptor.
sys::Result<std::vector<DirEntry>> read_listing(int fd);

// Opens `path` ("a/b/c": names read from directories, joined by '/') beneath `root` with sys::open_beneath,
// in pieces when it is longer than PATH_MAX. "" opens `root` itself again.
sys::Result<sys::UniqueFd> open_path_beneath(int root, std::string_view path, int flags);

// The directories from the tree's top directory down to the one being worked on (the working frame), each
// with its source and destination descriptors. Only the tree's top and the kOpenLevels deepest frames keep
// them open: when the work comes back up to a frame whose descriptors were closed, they are opened again by
// path from the tree's top (and must still name the same directories, else ESTALE). So descriptors stay
// bounded on any depth. Without a destination (measuring), frames have only a source.
class DirectoryStack {
  public:
    static constexpr size_t kOpenLevels = 6;

    struct Frame {
        std::string name;     // in the parent frame; "" for the top
        struct stat source {  // taken when opened, before listing (its times are the ones to keep)
        };
        dev_t dst_dev = 0;
        ino_t dst_ino = 0;
        sys::UniqueFd src, dst;  // closed while far below the stack's top
        std::vector<DirEntry> entries;
        size_t next = 0;  // the next entry to copy
    };

    // The top of the tree: its source (stat'ed) and, unless measuring, its destination.
    static sys::Result<DirectoryStack> open_top(sys::UniqueFd src, sys::UniqueFd dst);
    DirectoryStack(DirectoryStack&&) noexcept = default;
    DirectoryStack& operator=(DirectoryStack&&) = delete;

    // Lists `src` and makes it the working frame (named `name` in the current one).
    sys::Result<void> push(std::string name, sys::UniqueFd src, const struct stat& source, sys::UniqueFd dst);
    void pop();
    bool empty() const { return frames_.empty(); }
    Frame& top() { return frames_.back(); }
    const Frame& root() const { return frames_.front(); }
    // Opens the working frame's descriptors again if they were closed while its children were worked on.
    sys::Result<void> reopen_top();
    // The working directory relative to the top, with `entry` appended when given ("a/b/entry").
    std::string path_of(std::string_view entry = {}) const;

  private:
    DirectoryStack() = default;
    void close_far_frames();
    sys::Result<sys::UniqueFd> reopen(int root, std::string_view path, dev_t dev, ino_t ino) const;

    std::vector<Frame> frames_;
    bool has_destination_ = false;
};

// A directory being built under a hidden name (".fastfs-tree-XXXXXX") in `parent`, renamed to its final
// name by commit(). Dropped before that, it is removed with everything in it.
class PendingTree {
  public:
    static sys::Result<PendingTree> create(int parent);
    PendingTree(PendingTree&& other) noexcept;
    PendingTree& operator=(PendingTree&&) = delete;
    ~PendingTree();

    // A descriptor of the hidden directory (O_RDONLY), for the stack to take.
    sys::Result<sys::UniqueFd> open() const;
    // Renames it to `name`, which must not exist (RENAME_NOREPLACE: EEXIST).
    sys::Result<void> commit(std::string_view name);

  private:
    PendingTree(int parent, std::string temp_name) : parent_(parent), temp_name_(std::move(temp_name)) {}
    int parent_ = -1;
    std::string temp_name_;  // empty once committed or moved from
};

// Removes the directory `name` in `parent` and everything below it, holding a few descriptors whatever its
// depth. Makes each directory writable first (a copied read-only directory must still be emptied).
sys::Result<void> remove_tree(int parent, std::string_view name);

}  // namespace fastfs::copy::detail
