// Private to src/fuse: the handler functions registered in operations.cpp, and small reply helpers.
// Each handler resolves nodes and descriptors, makes the backing call, and replies: one pass down,
// one reply up. Errors are positive errno values passed to fuse_reply_err.
#pragma once

#include <fuse_lowlevel.h>

#include <optional>
#include <utility>

#include "fastfs/fuse/mount_context.hpp"
#include "fastfs/sys/credentials.hpp"

namespace fastfs::fuse {

// Replies
// The kernel's view of a looked-up or created node: its id, attributes and this mount's timeouts.
fuse_entry_param entry_param(fuse_req_t req, const fs::Entry& entry);
void reply_entry(fuse_req_t req, const fs::Entry& entry);
void reply_attr(fuse_req_t req, const struct stat& st);
inline void reply_error(fuse_req_t req, int error) {
    fuse_reply_err(req, error);
}
// An ioctl's answer of `size` bytes; EINVAL when the caller's buffer (`out_bufsz`) is smaller.
inline void reply_ioctl_out(fuse_req_t req, const void* data, size_t size, size_t out_bufsz) {
    if (out_bufsz < size) return reply_error(req, EINVAL);
    fuse_reply_ioctl(req, 0, data, size);
}

// Makes this thread act as the request's caller (uid, gid, groups, capabilities) for the backing calls that
// follow (sys/credentials.hpp), for every backing call the backing filesystem must judge by the caller's
// rights: creating and removing names, writes, size and attribute changes, copies and clones into files,
// xattrs, inode flags. The node table takes the daemon's rights back for its own calls. When the returned
// scope ends the thread acts as the daemon again: libfuse starts new worker threads from worker threads,
// which inherit the credentials of the moment (one made while acting as a user could not open /dev/fuse).
class CallerScope {
  public:
    CallerScope() = default;
    CallerScope(CallerScope&& other) noexcept : active_(std::exchange(other.active_, false)) {}
    CallerScope& operator=(CallerScope&&) = delete;
    ~CallerScope() {
        if (active_) sys::act_as_daemon();
    }

  private:
    friend CallerScope act_as_identity(const sys::Identity& who);
    explicit CallerScope(bool active) : active_(active) {}
    bool active_ = false;
};
[[nodiscard]] CallerScope act_as_identity(const sys::Identity& who);
[[nodiscard]] CallerScope act_as_caller(fuse_req_t req);

// Whether `req` comes from the kernel's page write-back (dirty pages of writeback_cache, or of shared
// writable mappings in the page-cache mode) rather than from a process: libfuse marks those writes
// (fi->writepage); any request the kernel sends without credentials carries uid, gid and pid 0.
bool from_page_writeback(fuse_req_t req, const fuse_file_info* fi);
// act_as_caller for a request on the open file `file`, except for page write-back: that carries uid 0,
// which act_as_caller would take for root with the daemon's capabilities (a user's writes would use ext4's
// reserved blocks and pass quotas). It runs as the file's opener instead: the kernel writes an inode's
// pages back through one of its writable opens, so the opener is a user who could write them; without a
// known opener, as nobody without any capability.
[[nodiscard]] CallerScope act_as_writer(fuse_req_t req, const OpenFile& file, const fuse_file_info* fi);

// A backing descriptor for an open file or directory of the request's caller, counted against the caller's
// share of the daemon's descriptors; nullopt (answer EMFILE) beyond it. Logs the first refusal per minute.
std::optional<fs::DescriptorBudget::Hold> count_descriptor(fuse_req_t req);
// A descriptor of an open file's backing file for one request: the open's own; for a passthrough open
// (which keeps none: the kernel holds the backing file) a read-only one opened for the request, or for a
// request that writes, the inode's write descriptor (PassthroughFiles::write_fd).
enum class Access { read, write };
class RequestFd {
  public:
    explicit RequestFd(int borrowed) : fd_(borrowed) {}
    explicit RequestFd(fs::SharedFd held) : held_(std::move(held)), fd_(held_->get()) {}
    int get() const { return fd_; }

  private:
    fs::SharedFd held_;
    int fd_;
};
sys::Result<RequestFd> request_fd(fuse_req_t req, const OpenFile& file, Access access);

// The caller's umask when the kernel left applying it to us (FUSE_CAP_DONT_MASK), else -1.
int caller_umask(fuse_req_t req);

// The fastfs ioctls that ops::ioctl (ioctl_allowlist.cpp) lets through.
// stats_export.cpp: FASTFS_IOC_GET_STATS.
void export_stats(fuse_req_t req, size_t out_bufsz);
// stats_export.cpp: FASTFS_IOC_GET_STATUS.
void export_status(fuse_req_t req, size_t out_bufsz);
// clone_ops.cpp: FASTFS_IOC_CLONE_SOURCE (on the source) and FASTFS_IOC_CLONE_INTO (on the destination).
void clone_source(fuse_req_t req, fuse_file_info* fi, size_t out_bufsz);
void clone_into(fuse_req_t req, OpenFile& destination, const void* in_buf, size_t in_bufsz);
// tree_ops.cpp: FASTFS_IOC_TREE_COPY (on the directory to hold the new tree) and FASTFS_IOC_TREE_PROGRESS.
void tree_copy(fuse_req_t req, fuse_file_info* fi, const void* in_buf, size_t in_bufsz, size_t out_bufsz);
void tree_progress(fuse_req_t req, const void* in_buf, size_t in_bufsz, size_t out_bufsz);

namespace ops {
// node_ops.cpp
void lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
void forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data* forgets);
void getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi);
void readlink(fuse_req_t req, fuse_ino_t ino);
void mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev);
void mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode);
void symlink(fuse_req_t req, const char* link, fuse_ino_t parent, const char* name);
void link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname);
void unlink(fuse_req_t req, fuse_ino_t parent, const char* name);
void rmdir(fuse_req_t req, fuse_ino_t parent, const char* name);
void rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent, const char* newname,
            unsigned int flags);
void statfs(fuse_req_t req, fuse_ino_t ino);
void access(fuse_req_t req, fuse_ino_t ino, int mask);

// file_ops.cpp
void open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi);
void tmpfile(fuse_req_t req, fuse_ino_t parent, mode_t mode, fuse_file_info* fi);
void read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi);
void write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec* in_buf, off_t off, fuse_file_info* fi);
void release(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void fsync(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi);
void fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length, fuse_file_info* fi);
void lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, fuse_file_info* fi);

// dir_ops.cpp
void opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi);
void readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi);
void releasedir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi);

// xattr_ops.cpp
void setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size, int flags);
void getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size);
void listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void removexattr(fuse_req_t req, fuse_ino_t ino, const char* name);

// copy_ops.cpp
void copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in, fuse_file_info* fi_in,
                     fuse_ino_t ino_out, off_t off_out, fuse_file_info* fi_out, size_t len, int flags);
// ioctl_allowlist.cpp
void ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void* arg, fuse_file_info* fi, unsigned flags,
           const void* in_buf, size_t in_bufsz, size_t out_bufsz);
}  // namespace ops

// slow_ops.cpp: the same handlers, served aside over io_uring (slow_requests.hpp).
namespace aside {
void copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in, fuse_file_info* fi_in,
                     fuse_ino_t ino_out, off_t off_out, fuse_file_info* fi_out, size_t len, int flags);
void ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void* arg, fuse_file_info* fi, unsigned flags,
           const void* in_buf, size_t in_bufsz, size_t out_bufsz);
void fsync(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi);
void fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi);
void fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length, fuse_file_info* fi);
void lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, fuse_file_info* fi);
}  // namespace aside

}  // namespace fastfs::fuse
