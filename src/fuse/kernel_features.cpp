#include "kernel_features.hpp"

#include <sys/stat.h>

#include "fastfs/sys/syscalls.hpp"

namespace fastfs::fuse {

void clear_set_id_bits(int fd) {
    auto st = sys::stat_fd(fd);
    if (!st || !S_ISREG(st->st_mode)) return;
    mode_t mode = st->st_mode & 07777;
    mode_t kept = mode & ~S_ISUID;
    if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) kept &= ~S_ISGID;
    if (kept != mode) ::fchmod(fd, kept);
}

}  // namespace fastfs::fuse
