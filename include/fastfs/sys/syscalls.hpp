// Thin wrappers over the system calls fastfs makes: each returns Result<T> (value or positive errno),
// retries EINTR where the call is restartable, and adds no policy. Policy lives in the callers.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "fastfs/sys/result.hpp"
#include "fastfs/sys/unique_fd.hpp"

namespace fastfs::sys {

// Opening
Result<UniqueFd> open_at(int dir_fd, const char* path, int flags, mode_t mode = 0);
Result<UniqueFd> reopen(int fd, int flags);  // opens "/proc/self/fd/N" with new flags (works for O_PATH fds)
Result<UniqueFd> dup_fd(int fd);
// openat2 confined to `dir_fd`'s subtree: no "..", no symlink (not even the last component), no /proc magic
// link may take the walk anywhere else (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS).
// ELOOP for a symlink, EXDEV for an escape. Paths longer than PATH_MAX are ENAMETOOLONG, as for openat.
Result<UniqueFd> open_beneath(int dir_fd, const char* path, int flags, mode_t mode = 0);

// Metadata
Result<struct stat> stat_at(int dir_fd, const char* path, int flags = AT_SYMLINK_NOFOLLOW);
Result<struct stat> stat_fd(int fd);
Result<struct statvfs> statvfs_fd(int fd);
// The inode's append-only and immutable attributes (chattr +a, +i), from statx: false where the filesystem
// does not report them.
struct InodeGuards {
    bool append_only = false;
    bool immutable = false;
};
Result<InodeGuards> inode_guards(int fd);

// Data
// Repeat pread/pwrite until `len` bytes moved. Short at EOF, or when an error follows some progress: the
// next call, from where this one stopped, reports that error.
Result<size_t> pread_full(int fd, void* buf, size_t len, off_t off);
Result<size_t> pwrite_full(int fd, const void* buf, size_t len, off_t off);
Result<off_t> seek(int fd, off_t off, int whence);
// One pwritev2 of `data`: at `off` even on an O_APPEND descriptor (RWF_NOAPPEND), or with `at_end` at the
// file's end whatever its open flags (RWF_APPEND), as one atomic append. Short only on error after progress.
Result<size_t> write_at(int fd, std::span<const char> data, off_t off);
Result<size_t> write_at_end(int fd, std::span<const char> data);
// Whether this kernel positions writes on O_APPEND descriptors (RWF_NOAPPEND, Linux 6.9). Probed once.
bool positioned_writes_on_append_fds();
Result<void> truncate_fd(int fd, off_t size);
Result<void> allocate(int fd, int mode, off_t off, off_t len);
Result<void> sync_fd(int fd, bool data_only);

// Clone primitives, one attempt each (callers choose fallbacks).
Result<void> clone_range(int fd_in, off_t off_in, int fd_out, off_t off_out, uint64_t len);  // FICLONERANGE
Result<void> clone_file(int fd_in, int fd_out);                                              // FICLONE

// Path of an open descriptor in /proc, for calls that do not accept O_PATH descriptors.
std::string proc_fd_path(int fd);

// Descriptor count and limits of this process (for diagnostics and bounded caches).
size_t open_fd_limit();
// Raises the soft RLIMIT_NOFILE to the hard one; returns (old soft, new soft).
Result<std::pair<size_t, size_t>> raise_open_fd_limit();

}  // namespace fastfs::sys
