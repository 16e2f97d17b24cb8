#include "kernel_features.hpp"

#include <sys/stat.h>

#include <cerrno>

#include "fastfs/sys/syscalls.hpp"

namespace fastfs::fuse {

void drop_privileges_after_modification(fuse_req_t req, int fd) {
    if (!context(req).killpriv_v2 || fuse_req_ctx(req)->uid == 0) return;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
    mode_t mode = st.st_mode & 07777;
    mode_t kept = mode & ~S_ISUID;
    if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) kept &= ~S_ISGID;
    if (kept == mode) return;
    // The descriptor may be O_PATH (a truncate by path): fchmod refuses those, the /proc link does not.
    if (::fchmod(fd, kept) != 0 && errno == EBADF) ::chmod(sys::proc_fd_path(fd).c_str(), kept);
}

}  // namespace fastfs::fuse
