// FUSE passthrough (kernel 6.9+, libfuse 3.17+): the kernel reads, writes and maps a regular file itself, on
// its backing file, and the daemon sees none of that traffic. fastfs registers an inode's backing file on
// its first open (FUSE_DEV_IOC_BACKING_OPEN) and answers every open of it with that backing id; the kernel
// opens a backing file of its own per FUSE open, with that open's flags, so the descriptor fastfs used to
// register is closed at once: passthrough opens hold no descriptor in this process.
//
// Kernel rules this follows: one backing file per inode, and while an inode has one every open of it must
// be a passthrough open; while it is open in the page-cache mode (its registration failed), no open of it may
// be passthrough. So the state is per inode, under one mutex (held across the registration ioctl, which is
// quick, so that two opens of one inode never register twice).
//
// Credentials. The kernel does every read and write of a backing file with the credentials the daemon's
// thread had when it registered it, shared by all openers of the inode. On a mount only its owner reaches
// (no allow_other) those are the daemon's own, root's: native for the only caller. On a shared mount
// (allow_other) they are an unprivileged identity (nobody, no capability but the CAP_SYS_ADMIN the
// registration needs): no user's write gets root's exemptions (reserved blocks, quotas), and every write
// clears set-user-ID bits, as it does natively for a writer without CAP_FSETID. For a privileged caller
// (CAP_FSETID) opening a set-user-ID or set-group-ID file for writing on a shared mount, fastfs prefers the
// page-cache mode, where writes run as the caller and keep the bits as natively; if the inode is already
// open in passthrough mode it cannot, and such a write clears them (docs/security.md).
#pragma once

#include <fuse_lowlevel.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "fastfs/fs/descriptor_budget.hpp"
#include "fastfs/fs/fd_cache.hpp"
#include "fastfs/sys/result.hpp"

#include "fastfs/sys/credentials.hpp"

namespace fastfs::fuse {

class PassthroughFiles {
  public:
    enum class Mode { passthrough, cached_inode_open, cached_by_choice, refused };
    struct Decision {
        Mode mode;
        int32_t backing_id = 0;  // > 0 with Mode::passthrough
        int error = 0;           // with Mode::refused: why the kernel refused the registration
    };

    // How this open of `node_id` goes; `fd` is a descriptor of its backing file, registered as
    // `registration` on the inode's first open. `prefer_cached`: use the page-cache mode unless the inode
    // already has a backing file. Every open must be matched by one release() with the decision's backing id.
    Decision open(fuse_req_t req, uint64_t node_id, int fd, const sys::Identity& registration,
                  bool prefer_cached, bool writable);
    void release(fuse_req_t req, uint64_t node_id, int32_t backing_id, bool writable);

    // A descriptor that can write the inode `node_id`, for a request on one of its passthrough opens that
    // writes through the daemon (fallocate, truncate, a copy or clone into it). Closing such a descriptor
    // makes XFS drop what it preallocated past the end of file, which natively happens at the writer's last
    // close: so it is opened (by `open`) on the first such request and kept, counted as `counted`, while the
    // inode has writable passthrough opens. Without a count (the caller's share is used up) it is not kept.
    sys::Result<fs::SharedFd> write_fd(uint64_t node_id, std::optional<fs::DescriptorBudget::Hold> counted,
                                       const std::function<sys::Result<sys::UniqueFd>()>& open);
    // The registration identity of a mount other users reach (allow_other).
    static const sys::Identity& shared_mount_identity();
    size_t backing_files() const;

  private:
    struct Inode {
        int32_t backing_id = 0;
        uint32_t passthrough_opens = 0;
        uint32_t writable_opens = 0;  // of the passthrough ones
        uint32_t cached_opens = 0;
        fs::SharedFd write_fd;  // see write_fd()
        std::optional<fs::DescriptorBudget::Hold> write_fd_counted;
    };
    mutable std::mutex mutex_;  // guards inodes_; held across the registration ioctl
    std::unordered_map<uint64_t, Inode> inodes_;
};

}  // namespace fastfs::fuse
