#include "fastfs/fuse/passthrough_files.hpp"

#include <linux/capability.h>

#include <cerrno>

#include "fastfs/sys/credentials.hpp"

namespace fastfs::fuse {
const sys::Identity& PassthroughFiles::shared_mount_identity() {
    static const sys::Identity nobody{65534, 65534, {}, uint64_t(1) << CAP_SYS_ADMIN};
    return nobody;
}

PassthroughFiles::Decision PassthroughFiles::open(fuse_req_t req, uint64_t node_id, int fd,
                                                  const sys::Identity& registration, bool prefer_cached,
                                                  bool writable) {
    std::lock_guard lock(mutex_);
    Inode& inode = inodes_[node_id];
    if (inode.cached_opens > 0) {
        ++inode.cached_opens;
        return {Mode::cached_inode_open};
    }
    if (prefer_cached && inode.backing_id == 0) {
        ++inode.cached_opens;
        return {Mode::cached_by_choice};
    }
    if (inode.backing_id == 0) {
        sys::act_as(registration);
        int id = fuse_passthrough_open(req, fd);
        int error = errno;
        sys::act_as_daemon();  // closing a backing id needs CAP_SYS_ADMIN; new workers inherit this state
        if (id <= 0) {
            ++inode.cached_opens;
            return {Mode::refused, 0, error};
        }
        inode.backing_id = id;
    }
    ++inode.passthrough_opens;
    inode.writable_opens += writable;
    return {Mode::passthrough, inode.backing_id};
}

void PassthroughFiles::release(fuse_req_t req, uint64_t node_id, int32_t backing_id, bool writable) {
    fs::SharedFd closing;  // closed after the lock is released
    std::lock_guard lock(mutex_);
    auto it = inodes_.find(node_id);
    if (it == inodes_.end()) return;
    Inode& inode = it->second;
    if (backing_id > 0 && inode.passthrough_opens > 0) {
        if (writable && inode.writable_opens > 0 && --inode.writable_opens == 0) {
            closing = std::move(inode.write_fd);
            inode.write_fd_counted.reset();
        }
        if (--inode.passthrough_opens == 0) {
            fuse_passthrough_close(req, inode.backing_id);
            inode.backing_id = 0;
        }
    } else if (backing_id == 0 && inode.cached_opens > 0) {
        --inode.cached_opens;
    }
    if (inode.passthrough_opens == 0 && inode.cached_opens == 0) inodes_.erase(it);
}

sys::Result<fs::SharedFd> PassthroughFiles::write_fd(
    uint64_t node_id, std::optional<fs::DescriptorBudget::Hold> counted,
    const std::function<sys::Result<sys::UniqueFd>()>& open) {
    {
        std::lock_guard lock(mutex_);
        auto it = inodes_.find(node_id);
        if (it != inodes_.end() && it->second.write_fd) return it->second.write_fd;
    }
    auto fd = open();  // outside the lock: it is a system call
    if (!fd) return sys::fail(fd.error());
    auto shared = std::make_shared<const sys::UniqueFd>(std::move(*fd));
    if (!counted) return shared;
    std::lock_guard lock(mutex_);
    auto it = inodes_.find(node_id);
    if (it == inodes_.end() || it->second.writable_opens == 0) return shared;
    if (it->second.write_fd) return it->second.write_fd;  // another request won the race
    it->second.write_fd = shared;
    it->second.write_fd_counted = std::move(counted);
    return shared;
}

size_t PassthroughFiles::backing_files() const {
    std::lock_guard lock(mutex_);
    size_t count = 0;
    for (const auto& [id, inode] : inodes_)
        count += inode.backing_id > 0;
    return count;
}

}  // namespace fastfs::fuse
