// State shared by the handlers of one mount. Reached from a request with fuse_req_userdata().
#pragma once

#include <fcntl.h>
#include <fuse_lowlevel.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "fastfs/copy/engine.hpp"
#include "fastfs/copy/tree_copy.hpp"
#include "fastfs/fs/backing_watcher.hpp"
#include "fastfs/fs/descriptor_budget.hpp"
#include "fastfs/fs/node_table.hpp"
#include "fastfs/fuse/clone_tokens.hpp"
#include "fastfs/fuse/mount_config.hpp"
#include "fastfs/fuse/passthrough_files.hpp"
#include "fastfs/fuse/slow_requests.hpp"
#include "fastfs/stats/counters.hpp"
#include "fastfs/sys/credentials.hpp"

namespace fastfs::fuse {

// Directory entries read from the backing directory but not yet handed to the kernel.
struct DirStream {
    std::vector<char> buffer;  // raw getdents64 records
    size_t pos = 0;            // next unread record in buffer
    size_t len = 0;            // bytes of buffer filled
    off_t offset = 0;          // directory offset of the next record (what the kernel calls `off`)
};

// Counts an open file among its inode's writers (fs::Node::writers) for as long as it lives.
class WriterMark {
  public:
    WriterMark() = default;
    explicit WriterMark(fs::Node* node) : node_(node) { node_->writers.fetch_add(1); }
    WriterMark(WriterMark&& other) noexcept : node_(std::exchange(other.node_, nullptr)) {}
    WriterMark& operator=(WriterMark&&) = delete;
    ~WriterMark() {
        if (node_ != nullptr) node_->writers.fetch_sub(1);
    }

  private:
    fs::Node* node_ = nullptr;
};

// One open file or directory of the kernel's (fi->fh points to it).
struct OpenFile {
    // `backing`: the backing descriptor, kept for the open's life; a passthrough open (the kernel holds the
    // backing file, which `backing_id` names) keeps one only when it can spare it (file_ops.cpp,
    // keep_for_requests), else it is empty. `backing_flags`: what `fd` was (or would be)
    // opened with. `writer`: counts it among the node's writers (see fs::Node::writers).
    OpenFile(sys::UniqueFd backing, int open_flags, int backing_open_flags, fs::Node* of, bool writer,
             fs::DescriptorBudget::Hold counted, std::unique_ptr<DirStream> stream = nullptr)
        : fd(std::move(backing)),
          flags(open_flags),
          backing_flags(backing_open_flags),
          node(of),
          dir(std::move(stream)),
          writer_mark(writer ? WriterMark(of) : WriterMark()),
          descriptor(std::move(counted)) {}

    sys::UniqueFd fd;
    int flags;          // the open flags the kernel sent (O_ACCMODE tells read/write access)
    int backing_flags;  // the flags of the backing open (O_APPEND kept: positioned writes must say so)
    fs::Node* node;
    std::unique_ptr<DirStream> dir;  // directories only
    int32_t backing_id = 0;          // a passthrough open's backing file (0: none)
    // For an O_TMPFILE open: the directory it was made in. Making it needed write access to that directory
    // through the caller's view of the mount (a read-only bind refuses it), which is what requests that
    // write into a directory they cannot otherwise prove (tree copies) rely on. The kernel holds this node
    // while the file is open: the file's dentry sits under it.
    fs::Node* made_in = nullptr;
    // The inode was append-only (chattr +a) at open: every write appends (file_ops.cpp, append_only).
    bool appends_only = false;
    // Who opened it, for a writable open in the page-cache mode: the kernel writes dirty pages back through
    // one of an inode's writable opens, from its own context, without saying whose pages they are
    // (act_as_writer in src/fuse/handlers.hpp).
    std::optional<sys::Identity> opener;
    const WriterMark writer_mark;
    const fs::DescriptorBudget::Hold descriptor;  // counts `fd` against its opener's share
};

// The files and directories the kernel has open (their fi->fh). Owning them here, rather than only through
// fi->fh, closes those still open when the connection ends without RELEASE (unmount or SIGTERM with files
// open): the kernel never releases them then.
class OpenFiles {
  public:
    // Takes ownership and returns the value for fi->fh.
    uint64_t add(std::shared_ptr<OpenFile> file);
    void remove(uint64_t fh);
    // The open file `fh`, while the kernel has it open (nullptr after its release).
    std::shared_ptr<OpenFile> find(uint64_t fh);

  private:
    std::mutex mutex_;  // guards files_
    std::unordered_map<uint64_t, std::shared_ptr<OpenFile>> files_;
};

// Tree copies in progress (FASTFS_IOC_TREE_COPY), by the token they were started with, so that their caller
// can ask how far they got from a second thread (FASTFS_IOC_TREE_PROGRESS). A tree copy occupies a worker
// thread for its whole length: a user may run kMaxPerUser at a time, all users together half the threads.
class TreeJobs {
  public:
    static constexpr size_t kMaxPerUser = 4;

    struct Progress {
        copy::TreeCounts done;
        copy::TreeCounts total;
    };

    // A running job; it is forgotten when this goes away.
    class Slot {
      public:
        Slot(TreeJobs* jobs, uint64_t id) : jobs_(jobs), id_(id) {}
        Slot(Slot&& other) noexcept : jobs_(std::exchange(other.jobs_, nullptr)), id_(other.id_) {}
        Slot& operator=(Slot&&) = delete;
        ~Slot();
        void update(const copy::TreeCounts& done, const copy::TreeCounts& total);
        Progress progress() const;

      private:
        TreeJobs* jobs_;
        uint64_t id_;
    };

    // Registers job `id` of `uid`; EBUSY beyond the user's or everyone's share (`max_total`), EEXIST if
    // `id` runs already.
    sys::Result<Slot> start(uint64_t id, uid_t uid, size_t max_total);
    // How far job `id` of `uid` got; nullopt if no such job runs (finished, or another user's).
    std::optional<Progress> progress(uint64_t id, uid_t uid);

  private:
    struct Job {
        uid_t uid;
        Progress progress;
    };
    mutable std::mutex mutex_;  // guards jobs_
    std::unordered_map<uint64_t, Job> jobs_;
};

// Changes the kernel must be told about, waiting for the notifier thread (src/fuse/kernel_cache.cpp). A
// FUSE notification can wait for an inode or page lock that a request in progress holds, so handler threads
// never send one themselves: they post it here, as does the backing watcher.
class PendingNotifications {
  public:
    void post(fs::BackingChange change);
    // The next change, waiting for one; nullopt once closed.
    std::optional<fs::BackingChange> next();
    void close();

  private:
    std::mutex mutex_;  // guards queue_ and closed_
    std::condition_variable ready_;
    std::deque<fs::BackingChange> queue_;
    bool closed_ = false;
};

// The identities of the processes that send requests (sys::identity_of_process), read from /proc at most
// once a second per process: a change of a running process's groups or capabilities shows within a second.
class CallerIdentities {
  public:
    sys::Identity of(const fuse_ctx& caller);

  private:
    struct Key {
        pid_t pid;
        uid_t uid;
        gid_t gid;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        size_t operator()(const Key& k) const noexcept {
            return std::hash<uint64_t>()(uint64_t(k.pid) << 32 ^ uint64_t(k.uid) << 16 ^ uint64_t(k.gid));
        }
    };
    struct Known {
        sys::Identity identity;
        std::chrono::steady_clock::time_point expires;
    };
    std::mutex mutex_;  // guards known_
    std::unordered_map<Key, Known, KeyHash> known_;
};

// Gives memory back to the system once the kernel has forgotten many nodes. The allocator keeps what freed
// nodes used for reuse, so a daemon that once knew 500,000 inodes would hold their memory (some 40 MB of the
// 66 MB they cost; the node table's index arrays go back by themselves) for good after the kernel let them
// go (memory pressure, drop_caches, a tree unmounted or removed). After a forget, each time the table has
// shrunk by kShrink nodes since the last trim (or since its largest size seen at a forget), malloc_trim
// returns the free memory: a few milliseconds per 4,096 nodes forgotten. Lock-free: forgets come on any
// worker thread.
class MemoryReturn {
  public:
    static constexpr size_t kShrink = 4096;
    void after_forgets(size_t nodes_now);

  private:
    std::atomic<size_t> reference_{0};  // the table's size at the last trim, or larger seen since
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

// Half of the worker threads at most may be busy with tree copies, so lookups, reads and the interrupts
// that stop a copy always find a thread (on /dev/fuse: libfuse's workers; over io_uring: SlowRequests).
inline size_t max_tree_copies(const MountConfig& config) {
    return std::max<size_t>(1, config.worker_threads() / 2);
}

struct MountContext {
    MountConfig config;
    std::unique_ptr<fs::NodeTable> nodes;
    // Descriptors of open files and directories, shared fairly among users (fs/descriptor_budget.hpp).
    std::unique_ptr<fs::DescriptorBudget> descriptors;
    std::unique_ptr<fs::BackingWatcher> watcher;  // null when not watching (option, no CAP_SYS_ADMIN)
    fuse_session* session = nullptr;
    stats::MountCounters counters;
    copy::CapabilityCache copy_caps;
    CloneTokens clone_tokens;
    TreeJobs tree_jobs;
    OpenFiles open_files;
    PendingNotifications notifications;
    CallerIdentities callers;
    PassthroughFiles passthrough_files;
    MemoryReturn memory;
    bool passthrough = false;     // negotiated at INIT: regular files open in passthrough mode where they can
    bool io_uring_asked = false;  // chosen before mounting (io_uring_choice.hpp)
    bool io_uring = false;        // negotiated at INIT: requests come over io_uring queues
    // Why a feature is off ("" when on), for `fastfs status`: set once, at INIT or when watching starts.
    std::string passthrough_note, io_uring_note, watch_note;
    std::chrono::system_clock::time_point started = std::chrono::system_clock::now();
    bool thread_umask = false;  // FUSE_CAP_DONT_MASK negotiated and threads can hold a private umask
    // Last: its threads run handlers that use everything above, so it is destroyed (joined) first.
    SlowRequests slow_requests;

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
