#include "fastfs/sys/syscalls.hpp"

#include <linux/fs.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

namespace fastfs::sys {

Result<UniqueFd> open_at(int dir_fd, const char* path, int flags, mode_t mode) {
    int fd = retry_eintr([&] { return ::openat(dir_fd, path, flags | O_CLOEXEC, mode); });
    if (fd < 0) return fail_errno();
    return UniqueFd(fd);
}

Result<UniqueFd> open_beneath(int dir_fd, const char* path, int flags, mode_t mode) {
    struct open_how how {};
    how.flags = uint64_t(flags | O_CLOEXEC);
    // The kernel refuses a mode without O_CREAT/O_TMPFILE.
    if (flags & (O_CREAT | __O_TMPFILE)) how.mode = mode;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long fd = retry_eintr([&] { return ::syscall(SYS_openat2, dir_fd, path, &how, sizeof how); });
    if (fd < 0) return fail_errno();
    return UniqueFd(int(fd));
}

std::string proc_fd_path(int fd) {
    return "/proc/self/fd/" + std::to_string(fd);
}

Result<UniqueFd> reopen(int fd, int flags) {
    // O_NOFOLLOW would refuse the magic link itself; the kernel resolves it to the open file.
    return open_at(AT_FDCWD, proc_fd_path(fd).c_str(), flags & ~O_NOFOLLOW);
}

Result<UniqueFd> dup_fd(int fd) {
    int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) return fail_errno();
    return UniqueFd(copy);
}

Result<struct stat> stat_at(int dir_fd, const char* path, int flags) {
    struct stat st {};
    if (::fstatat(dir_fd, path, &st, flags) != 0) return fail_errno();
    return st;
}

Result<struct stat> stat_fd(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return fail_errno();
    return st;
}

Result<struct statvfs> statvfs_fd(int fd) {
    struct statvfs sv {};
    if (::fstatvfs(fd, &sv) != 0) return fail_errno();
    return sv;
}

Result<InodeGuards> inode_guards(int fd) {
    struct statx stx {};
    // No field is asked for: stx_attributes comes with every statx, and DONT_SYNC keeps it local.
    if (::statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, 0, &stx) != 0) return fail_errno();
    auto has = [&](uint64_t attribute) {
        return (stx.stx_attributes_mask & stx.stx_attributes & attribute) != 0;
    };
    return InodeGuards{has(STATX_ATTR_APPEND), has(STATX_ATTR_IMMUTABLE)};
}

namespace {

// Repeats a positional transfer until `len` bytes moved, EOF (0), or an error after some progress.
template <typename Transfer>
Result<size_t> transfer_full(size_t len, off_t off, Transfer&& transfer) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = retry_eintr([&] { return transfer(done, len - done, off + off_t(done)); });
        if (n < 0) {
            if (done > 0) break;
            return fail_errno();
        }
        if (n == 0) break;
        done += size_t(n);
    }
    return done;
}

}  // namespace

Result<size_t> pread_full(int fd, void* buf, size_t len, off_t off) {
    auto* bytes = static_cast<char*>(buf);
    return transfer_full(len, off,
                         [&](size_t done, size_t n, off_t at) { return ::pread(fd, bytes + done, n, at); });
}

Result<size_t> pwrite_full(int fd, const void* buf, size_t len, off_t off) {
    const auto* bytes = static_cast<const char*>(buf);
    return transfer_full(len, off,
                         [&](size_t done, size_t n, off_t at) { return ::pwrite(fd, bytes + done, n, at); });
}

Result<off_t> seek(int fd, off_t off, int whence) {
    off_t pos = ::lseek(fd, off, whence);
    if (pos < 0) return fail_errno();
    return pos;
}

namespace {

// Not in every installed header yet (uapi linux/fs.h; RWF_NOAPPEND is Linux 6.9).
constexpr int kRwfAppend = 0x00000010;
constexpr int kRwfNoAppend = 0x00000020;

Result<size_t> pwrite_flags(int fd, std::span<const char> data, off_t off, int rwf) {
    struct iovec iov {
        const_cast<char*>(data.data()), data.size()
    };
    ssize_t n = retry_eintr([&] { return ::pwritev2(fd, &iov, 1, off, rwf); });
    if (n < 0) return fail_errno();
    return size_t(n);
}

}  // namespace

Result<size_t> write_at(int fd, std::span<const char> data, off_t off) {
    return pwrite_flags(fd, data, off, kRwfNoAppend);
}

Result<size_t> write_at_end(int fd, std::span<const char> data) {
    return pwrite_flags(fd, data, -1, kRwfAppend);
}

bool positioned_writes_on_append_fds() {
    static const bool supported = [] {
        int fd = ::memfd_create("fastfs-probe", MFD_CLOEXEC);
        if (fd < 0) return false;
        UniqueFd probe(fd);
        char byte = 0;
        return bool(write_at(probe.get(), std::span<const char>(&byte, 1), 0));
    }();
    return supported;
}

Result<void> truncate_fd(int fd, off_t size) {
    if (retry_eintr([&] { return ::ftruncate(fd, size); }) != 0) return fail_errno();
    return {};
}

Result<void> allocate(int fd, int mode, off_t off, off_t len) {
    if (retry_eintr([&] { return ::fallocate(fd, mode, off, len); }) != 0) return fail_errno();
    return {};
}

Result<void> sync_fd(int fd, bool data_only) {
    int rc = data_only ? ::fdatasync(fd) : ::fsync(fd);
    if (rc != 0) return fail_errno();
    return {};
}

Result<void> clone_range(int fd_in, off_t off_in, int fd_out, off_t off_out, uint64_t len) {
    struct file_clone_range range {};
    range.src_fd = fd_in;
    range.src_offset = uint64_t(off_in);
    range.src_length = len;
    range.dest_offset = uint64_t(off_out);
    if (retry_eintr([&] { return ::ioctl(fd_out, FICLONERANGE, &range); }) != 0) return fail_errno();
    return {};
}

Result<void> clone_file(int fd_in, int fd_out) {
    if (retry_eintr([&] { return ::ioctl(fd_out, FICLONE, fd_in); }) != 0) return fail_errno();
    return {};
}

size_t open_fd_limit() {
    struct rlimit lim {};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return 1024;
    return size_t(lim.rlim_cur);
}

}  // namespace fastfs::sys

namespace fastfs::sys {

Result<std::pair<size_t, size_t>> raise_open_fd_limit() {
    struct rlimit lim {};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return fail_errno();
    size_t before = size_t(lim.rlim_cur);
    if (lim.rlim_cur == lim.rlim_max) return std::pair{before, before};
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) return fail_errno();
    return std::pair{before, size_t(lim.rlim_max)};
}

}  // namespace fastfs::sys
