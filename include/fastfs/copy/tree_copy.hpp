// Whole-tree copy for `fastfs clone -r` and `fastfs copy -r`, run by the daemon for a request inside a mount
// and by the command itself outside one. It knows nothing of FUSE: the caller's rights are whatever the
// calling thread has, interruption is a callback, progress another.
//
// What it makes is what `cp -a` makes for the same user: directories, regular files (a reflink, or the
// engine's extent-aware copy that keeps holes), symlinks as symlinks, hard links within the tree as hard
// links, fifos, sockets and device nodes, with modes, nanosecond times, owner and group where the caller may
// set them, and extended attributes (so POSIX ACLs) of files and directories.
//
// Safety. Everything is reached from the two directory descriptors by single names read from the source
// directories (never "..", never a symlink followed: openat2 with RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS and
// RESOLVE_NO_MAGICLINKS, O_NOFOLLOW), so a copy cannot leave the source tree or write outside the new one.
// All or nothing: the tree is built under a hidden name (".fastfs-tree-XXXXXX") beside the destination and
// renamed to it with RENAME_NOREPLACE once complete; on any failure or cancellation the hidden tree is
// removed. Descriptors are bounded (kMaxDescriptors) whatever the depth: only the top of the stack of
// directories keeps its descriptors open; deeper trees reopen ancestors by path from the top directory.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <expected>
#include <functional>
#include <string>
#include <string_view>

#include "fastfs/copy/engine.hpp"

namespace fastfs::copy {

enum class TreeMode {
    kClone,      // every regular file shares all its blocks with the source (FICLONE), or the copy fails
    kAuto,       // a reflink where the filesystems allow, the extent-aware copy elsewhere
    kNoReflink,  // new blocks for every file
};

struct TreeCounts {
    uint64_t files = 0;        // regular files made (hard links not counted)
    uint64_t directories = 0;  // including the top directory
    uint64_t symlinks = 0;
    uint64_t specials = 0;  // fifos, sockets, device nodes
    uint64_t hard_links = 0;
    uint64_t bytes = 0;         // apparent size of the regular files made
    uint64_t bytes_shared = 0;  // reflinked
    uint64_t bytes_copied = 0;  // written anew
    uint64_t bytes_holes = 0;   // holes kept

    uint64_t entries() const { return files + directories + symlinks + specials + hard_links; }
};

struct TreeCopyOptions {
    TreeMode mode = TreeMode::kAuto;
    // Walk the source once first, counting, so progress can show totals. Costs a listing of every
    // directory and a stat of every entry.
    bool measure_first = false;
    // Asked before every entry and between chunks of large files; true stops the copy (EINTR).
    std::function<bool()> cancelled = {};
    // After every entry and chunk: what is done, and the totals (zeros unless measured).
    std::function<void(const TreeCounts& done, const TreeCounts& total)> progress = {};
    // Which copy methods the kernel refused per filesystem pair; a private one when null.
    CapabilityCache* caps = nullptr;
};

struct TreeCopyError {
    int error = 0;     // errno; EINTR when cancelled
    std::string path;  // the entry that failed, relative to the source ("" for the top or the final rename)
};

// The most descriptors copy_tree holds at once, besides the two it is given.
inline constexpr size_t kTreeCopyMaxDescriptors = 24;

// Copies the directory `src_dir` (an open directory, reopened for reading as the calling thread) to a new
// directory `name` in `dst_parent`. `name` is one path component and must not exist (EEXIST). The copy
// belongs to the calling thread's fsuid/fsgid; what it may not do (read a file, set an owner, make a device
// node) fails as it would natively, with the errno of the call (owners and security.* attributes that may
// not be set are left, as cp -a leaves them).
// Errors besides the calls' own: EINVAL for a bad `name` or a destination inside the source, ESTALE when a
// directory was replaced during the copy, EINTR when cancelled.
std::expected<TreeCounts, TreeCopyError> copy_tree(int src_dir, int dst_parent, std::string_view name,
                                                   const TreeCopyOptions& options = {});

// Whether `name` can name a new tree: one component, not "." or "..", at most NAME_MAX bytes.
bool valid_tree_name(std::string_view name);

}  // namespace fastfs::copy
