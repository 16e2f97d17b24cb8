// Acting as the caller for the duration of one request, on this thread only.
//
// fastfs usually runs as root for many users. Inodes a user creates must belong to that user, and a
// setgid directory's group rule must apply, so creation calls run with the caller's fsuid/fsgid. The
// kernel has already applied the caller's umask unless we asked it not to (FUSE_CAP_DONT_MASK); then the
// thread's own umask is set to the caller's (threads unshare their fs struct for that), so the backing
// filesystem combines umask and default ACLs exactly as for a native call.
#pragma once

#include <sys/types.h>

namespace fastfs::sys {

class CallerCredentials {
  public:
    // Switches fsuid/fsgid (when running as root) and the thread umask. `umask_bits` < 0: leave umask alone.
    CallerCredentials(uid_t uid, gid_t gid, int umask_bits = -1);
    CallerCredentials(const CallerCredentials&) = delete;
    CallerCredentials& operator=(const CallerCredentials&) = delete;
    ~CallerCredentials();

    // False when the thread could not get a private umask (then the caller's umask must be applied by hand).
    static bool thread_umask_supported();

  private:
    bool switched_ids_ = false;
    int saved_umask_ = -1;
};

}  // namespace fastfs::sys
