// Acting as the caller, on this thread only.
//
// fastfs usually runs as root for many users (allow_other). Anything it does as root it does with root's
// rights, so every backing call that the backing filesystem must judge by the caller's rights runs with the
// caller's: filesystem uid and gid (new inodes belong to the caller, setgid directories apply, a write by a
// non-owner clears set-user-ID bits as natively), supplementary groups (a directory writable through a
// secondary group), and no capability the caller lacks (a user must not write into the blocks ext4 reserves
// for root, pass quota limits, set trusted.* attributes, set immutable flags, or see trusted.* names).
//
// Credentials are per thread in Linux (at the system-call level; glibc's setgroups() is process-wide, so
// the raw system calls are used). Switching costs a credential commit per call (about 2.5 us each here,
// 4 to 8 of them per switch), so a thread keeps an identity until asked for another: a stream of requests
// from one caller on one thread switches once. Code that needs the daemon's own rights (opening inodes by
// handle needs CAP_DAC_READ_SEARCH) asks for them with act_as_daemon(); that is cheap when already so.
//
// The umask is separate: creation calls set the caller's umask on the thread for their own duration
// (CallerUmask), when the kernel left applying it to fastfs (FUSE_CAP_DONT_MASK).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace fastfs::sys {

// What the backing filesystem judges an operation by.
struct Identity {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;  // supplementary, sorted
    uint64_t capabilities = 0;  // effective capabilities, bit n = capability n (CAP_CHOWN = bit 0, ...)
    bool operator==(const Identity&) const = default;
};

// The identity of the process (thread) `tid` that sent a request with filesystem ids `uid` and `gid`:
// supplementary groups and effective capabilities from /proc/<tid>/status; capabilities count only if it
// lives in this process's user namespace (a container's root has none on the host). If /proc does not
// know `tid` (it exited, or lives in a pid namespace this one cannot see): no supplementary groups, and
// the daemon's capabilities for uid 0 (the kernel's own requests; page write-back is not judged by this
// but by the file's opener, act_as_writer in src/fuse/handlers.hpp), none otherwise.
// Makes the calling thread act as the daemon (it reads other users' /proc entries).
Identity identity_of_process(pid_t tid, uid_t uid, gid_t gid);

// Whether thread `tid` has a signal pending that it neither blocks nor ignores, or is gone: when the thread
// waits for a FUSE request, what makes the kernel send FUSE_INTERRUPT for it (a SIGKILL included). Reads
// /proc/<tid>/status with the thread's present rights, which it leaves as they are (a copy running as its
// caller asks).
bool signal_to_take(pid_t tid);

// Whether this process's capabilities count on the host: it lives in the initial user namespace. Root of
// a user namespace has capabilities only over what that namespace owns, not over the host's files, nor
// for FUSE passthrough's backing-file registration.
bool in_initial_user_namespace();
// Whether the process holds capability `cap` (CAP_SYS_ADMIN, ...) and it counts on the host.
bool host_capable(int cap);

// This process's own identity: its uid/gid/groups and every capability it may use (its permitted set).
const Identity& daemon_identity();

// Makes this thread act as `who` for backing calls, keeping it so until another call. Capabilities beyond
// the daemon's permitted set are ignored. Never fails for identities the daemon may take (it runs as root
// or as the mount's owner, whose own identity is the only one it is asked for then).
void act_as(const Identity& who);
void act_as_daemon();
// Whether this thread currently acts with the daemon's own identity.
bool acting_as_daemon();

// Sets the thread's umask to `umask_bits` for the lifetime of the object (if >= 0 and threads can hold a
// private umask), then restores it.
class CallerUmask {
  public:
    explicit CallerUmask(int umask_bits);
    CallerUmask(const CallerUmask&) = delete;
    CallerUmask& operator=(const CallerUmask&) = delete;
    ~CallerUmask();

    // False when the thread could not get a private umask (then the caller's umask must be applied by hand).
    static bool thread_umask_supported();

  private:
    int saved_umask_ = -1;
};

}  // namespace fastfs::sys
