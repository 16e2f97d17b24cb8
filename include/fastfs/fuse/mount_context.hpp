// State shared by the handlers of one mount. Reached from a request with fuse_req_userdata().
#pragma once

#include <fuse_lowlevel.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "fastfs/copy/engine.hpp"
#include "fastfs/fs/backing_watcher.hpp"
#include "fastfs/fs/node_table.hpp"
#include "fastfs/fuse/mount_config.hpp"
#include "fastfs/stats/counters.hpp"

namespace fastfs::fuse {

// Directory entries read from the backing directory but not yet handed to the kernel.
struct DirStream {
    std::vector<char> buffer;  // raw getdents64 records
    size_t pos = 0;            // next unread record in buffer
    size_t len = 0;            // bytes of buffer filled
    off_t offset = 0;          // directory offset of the next record (what the kernel calls `off`)
};

// One open file or directory of the kernel's (fi->fh points to it).
struct OpenFile {
    sys::UniqueFd fd;
    int flags;  // the open flags the kernel sent (O_ACCMODE tells read/write access)
    fs::Node* node;
    std::unique_ptr<DirStream> dir;  // directories only
};

// The files and directories the kernel has open (their fi->fh). Owning them here, rather than only through
// fi->fh, closes those still open when the connection ends without RELEASE (unmount or SIGTERM with files
// open): the kernel never releases them then.
class OpenFiles {
  public:
    // Takes ownership and returns the value for fi->fh.
    uint64_t add(std::unique_ptr<OpenFile> file);
    void remove(uint64_t fh);

  private:
    std::mutex mutex_;
    std::unordered_map<uint64_t, std::unique_ptr<OpenFile>> files_;
};

// Tokens handed out by FASTFS_IOC_CLONE_SOURCE, redeemed by FASTFS_IOC_CLONE_INTO. A token names an open
// source file of one caller for a short time; it cannot be guessed and is used once.
class CloneTokens {
  public:
    struct Source {
        fs::SharedFd fd;  // a private read descriptor of the source
        uid_t uid;
        std::chrono::steady_clock::time_point expires;
    };
    uint64_t issue(fs::SharedFd fd, uid_t uid);
    // The source for `token`, if it exists, has not expired and was issued to `uid`. Consumes it.
    std::shared_ptr<Source> redeem(uint64_t token, uid_t uid);

  private:
    std::mutex mutex_;
    std::unordered_map<uint64_t, std::shared_ptr<Source>> tokens_;
};

// Largest read or write the kernel sends. One page below 1 MiB so that a request or reply (data plus
// header) fits the 1 MiB pipe an unprivileged pipe-max-size allows: then libfuse can splice instead of
// copying. Set both at INIT (max_write, max_read) and as the max_read mount option, which must agree.
inline constexpr unsigned kMaxRequestBytes = 1024 * 1024 - 4096;

// How long the kernel may trust what one reply tells it (docs/consistency.md).
struct CacheTimeouts {
    double entry;
    double attr;
    double negative;  // 0: "no such name" is not cached
};

// Where the backing filesystem is watched, fs::BackingWatcher invalidates the kernel's caches as outside
// changes happen, and the timeout only bounds what fanotify cannot report (writes through a shared
// mapping of a backing file, events lost). Elsewhere, an outside change is seen within a second.
inline constexpr CacheTimeouts kWatchedTimeouts{60.0, 60.0, 60.0};
inline constexpr CacheTimeouts kUnwatchedTimeouts{1.0, 1.0, 0.0};

struct MountContext {
    MountConfig config;
    std::unique_ptr<fs::NodeTable> nodes;
    std::unique_ptr<fs::BackingWatcher> watcher;  // null when not watching (option, no CAP_SYS_ADMIN)
    fuse_session* session = nullptr;
    stats::MountCounters counters;
    copy::CapabilityCache copy_caps;
    CloneTokens clone_tokens;
    OpenFiles open_files;
    bool thread_umask = false;  // FUSE_CAP_DONT_MASK negotiated and threads can hold a private umask
    // HANDLE_KILLPRIV_V2 negotiated at INIT: the kernel left clearing suid/sgid to us (kernel_features.hpp)
    std::atomic<bool> killpriv_v2{false};

    // The timeouts for a reply about an inode on backing filesystem `dev`: the options' if given, else
    // long if `dev` is watched. The first reply about a new filesystem starts watching it.
    CacheTimeouts timeouts_for(dev_t dev);
};

inline MountContext& context(fuse_req_t req) {
    return *static_cast<MountContext*>(fuse_req_userdata(req));
}
inline OpenFile& open_file(const fuse_file_info* fi) {
    return *reinterpret_cast<OpenFile*>(fi->fh);
}

// The operation table, one handler per FUSE opcode (src/fuse/*_ops.cpp).
const fuse_lowlevel_ops& operations();

}  // namespace fastfs::fuse
