// HANDLE_KILLPRIV_V2, negotiated at INIT (operations.cpp) wherever the kernel offers it.
//
// Without it the kernel asks the daemon for "security.capability" before every write(2) (a second round
// trip per write) because the FUSE superblock lacks SB_NOSEC. With it, the kernel sets SB_NOSEC and leaves
// clearing set-user-ID/set-group-ID bits to the daemon, telling it per request whether the caller lacks
// CAP_FSETID (fi->kill_suidgid). Writes, truncates, fallocate, copies and clones run on the backing as the
// caller, so the backing filesystem clears the bits itself, as natively. The one modification made with
// the daemon's rights is an open with O_TRUNC (the inode is reopened by handle): clear_set_id_bits.
#pragma once

namespace fastfs::fuse {

// Clears set-user-ID, and set-group-ID when group-executable, as the kernel does for a writer without
// CAP_FSETID. `fd` is an open descriptor of a regular file.
void clear_set_id_bits(int fd);

}  // namespace fastfs::fuse
