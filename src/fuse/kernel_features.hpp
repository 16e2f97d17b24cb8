// Kernel FUSE features that libfuse 3.14 cannot negotiate, requested by amending the INIT reply.
//
// HANDLE_KILLPRIV_V2: without it the kernel asks the daemon for "security.capability" before every
// write(2) (a second round trip per write) because the FUSE superblock lacks SB_NOSEC. With it, the
// kernel sets SB_NOSEC and leaves clearing set-user-ID/set-group-ID bits to the daemon; libfuse 3.14
// drops the per-request "kill" flags, so fastfs applies the kernel's own rule itself
// (drop_privileges_after_modification). The backing filesystem still removes security.capability on
// writes and truncates, as it does for any writer.
#pragma once

#include <fuse_lowlevel.h>

#include "fastfs/fuse/mount_context.hpp"

namespace fastfs::fuse {

// Routes the session's /dev/fuse I/O through wrappers that add HANDLE_KILLPRIV_V2 to the INIT reply
// (plain read/writev/splice otherwise). Call after fuse_session_mount(), before serving.
bool request_killpriv_v2(fuse_session* se);

// After a caller modified an open file's data or size: clears set-user-ID, and set-group-ID when
// group-executable, as the kernel does for a writer without CAP_FSETID. Only needed when the kernel left
// it to us (killpriv_v2); callers with uid 0 keep the bits, as root keeps them natively.
void drop_privileges_after_modification(fuse_req_t req, int fd);

}  // namespace fastfs::fuse
