#include "fastfs/sys/credentials.hpp"

#include <sched.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fastfs::sys {

namespace {

// Each worker thread gets its own fs struct once, so that umask() affects only that thread.
bool ensure_private_umask() {
    thread_local int state = 0;  // 0 unknown, 1 private, -1 impossible
    if (state == 0) state = (::unshare(CLONE_FS) == 0) ? 1 : -1;
    return state == 1;
}

}  // namespace

bool CallerCredentials::thread_umask_supported() {
    return ensure_private_umask();
}

CallerCredentials::CallerCredentials(uid_t uid, gid_t gid, int umask_bits) {
    if (::geteuid() == 0 && (uid != 0 || gid != 0)) {
        // setfsgid first: once fsuid is unprivileged we could not change the group any more.
        ::setfsgid(gid);
        ::setfsuid(uid);
        switched_ids_ = true;
    }
    if (umask_bits >= 0 && ensure_private_umask()) saved_umask_ = int(::umask(mode_t(umask_bits)));
}

CallerCredentials::~CallerCredentials() {
    if (saved_umask_ >= 0) ::umask(mode_t(saved_umask_));
    if (switched_ids_) {
        ::setfsuid(0);
        ::setfsgid(0);
    }
}

}  // namespace fastfs::sys
