// HANDLE_KILLPRIV_V2, negotiated at INIT (operations.cpp) wherever the kernel offers it.
//
// Without it the kernel asks the daemon for "security.capability" before every write(2) (a second round
// trip per write) because the FUSE superblock lacks SB_NOSEC. With it, the kernel sets SB_NOSEC and leaves
// clearing set-user-ID/set-group-ID bits to the daemon, which fastfs does with the kernel's own rule
// (drop_privileges_after_modification). The backing filesystem still removes security.capability on writes
// and truncates, as it does for any writer.
#pragma once

#include <fuse_lowlevel.h>

#include "fastfs/fuse/mount_context.hpp"

namespace fastfs::fuse {

// After a caller modified an open file's data or size: clears set-user-ID, and set-group-ID when
// group-executable, as the kernel does for a writer without CAP_FSETID. Only needed when the kernel left
// it to us (killpriv_v2); callers with uid 0 keep the bits, as root keeps them natively.
void drop_privileges_after_modification(fuse_req_t req, int fd);

}  // namespace fastfs::fuse
