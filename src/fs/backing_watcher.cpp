#include "fastfs/fs/backing_watcher.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "fastfs/sys/syscalls.hpp"

namespace fastfs::fs {
namespace {

constexpr uint64_t kEntryEvents = FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO;
constexpr uint64_t kWatchedEvents = kEntryEvents | FAN_MODIFY | FAN_ATTRIB | FAN_ONDIR;

// After each batch the reader pauses this long: events of a burst (fastfs's own, mostly) then arrive in
// a few large reads instead of one wake-up each, and repeated events on one inode merge in the queue. It
// bounds how late an outside change is seen.
constexpr auto kBatchPause = std::chrono::milliseconds(2);

constexpr long kBcachefsMagic = 0xca451a4e;  // not in every <linux/magic.h>

// fanotify reports the filesystem's statfs f_fsid: the same two ints, named differently by the kernel's
// and glibc's headers.
uint64_t fsid_key(int first, int second) {
    return uint64_t(uint32_t(first)) << 32 | uint32_t(second);
}
uint64_t fsid_key(const __kernel_fsid_t& fsid) {
    return fsid_key(fsid.val[0], fsid.val[1]);
}
uint64_t fsid_key(const fsid_t& fsid) {
    return fsid_key(fsid.__val[0], fsid.__val[1]);
}

template <typename T>
T read_struct(const char* at) {
    T value;
    std::memcpy(&value, at, sizeof(value));  // event records are not aligned for every type
    return value;
}

// One fid record of an event: which filesystem, which handle (as the node table stores it), and the
// name that follows it in a DFID_NAME record.
struct FidRecord {
    uint64_t fsid;
    std::string handle;
    std::string name;
};

std::optional<FidRecord> parse_fid(const char* record, size_t length, bool with_name) {
    constexpr size_t kFixed = sizeof(fanotify_event_info_header) + sizeof(__kernel_fsid_t);
    if (length < kFixed + sizeof(struct file_handle)) return std::nullopt;
    const char* handle = record + kFixed;
    auto header = read_struct<struct file_handle>(handle);
    size_t handle_size = sizeof(struct file_handle) + header.handle_bytes;
    if (kFixed + handle_size > length) return std::nullopt;
    FidRecord fid{fsid_key(read_struct<__kernel_fsid_t>(record + sizeof(fanotify_event_info_header))),
                  std::string(handle, handle_size),
                  {}};
    if (with_name)
        fid.name.assign(handle + handle_size, strnlen(handle + handle_size, length - kFixed - handle_size));
    return fid;
}

bool is_local_filesystem_type(long f_type) {
    // Filesystems whose every change passes through this kernel's VFS, so fanotify sees it.
    switch (f_type) {
        case XFS_SUPER_MAGIC:
        case EXT4_SUPER_MAGIC:  // also ext2 and ext3
        case BTRFS_SUPER_MAGIC:
        case TMPFS_MAGIC:
        case F2FS_SUPER_MAGIC:
        case kBcachefsMagic:
            return true;
        default:
            return false;
    }
}

}  // namespace

sys::Result<std::unique_ptr<BackingWatcher>> BackingWatcher::create(const NodeTable& nodes) {
    // An unlimited queue: a lost event would leave the kernel trusting a stale cache until the timeout.
    int fan = ::fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME | FAN_REPORT_FID | FAN_UNLIMITED_QUEUE |
                                  FAN_CLOEXEC | FAN_NONBLOCK,
                              O_RDONLY | O_LARGEFILE);
    if (fan < 0) return sys::fail_errno();
    sys::UniqueFd fanotify(fan);
    int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake < 0) return sys::fail_errno();
    return std::unique_ptr<BackingWatcher>(
        new BackingWatcher(nodes, std::move(fanotify), sys::UniqueFd(wake)));
}

BackingWatcher::BackingWatcher(const NodeTable& nodes, sys::UniqueFd fanotify, sys::UniqueFd wakeup)
    : nodes_(nodes), fanotify_(std::move(fanotify)), wakeup_(std::move(wakeup)), own_pid_(::getpid()) {}

std::optional<bool> BackingWatcher::watching(dev_t dev) const {
    std::shared_lock lock(mutex_);
    auto it = watched_.find(dev);
    if (it == watched_.end()) return std::nullopt;
    return it->second;
}

bool BackingWatcher::watch(dev_t dev, int dir_fd) {
    if (auto known = watching(dev)) return *known;
    if (dir_fd < 0) return false;  // not known yet: try again on a later call
    struct statfs fs {};
    bool watched = ::fstatfs(dir_fd, &fs) == 0 && is_local_filesystem_type(long(fs.f_type)) &&
                   ::fanotify_mark(fanotify_.get(), FAN_MARK_ADD | FAN_MARK_FILESYSTEM, kWatchedEvents,
                                   dir_fd, ".") == 0;
    std::unique_lock lock(mutex_);
    auto [it, inserted] = watched_.try_emplace(dev, watched);
    if (inserted && watched) device_by_fsid_.emplace(fsid_key(fs.f_fsid), dev);
    return it->second;
}

std::optional<dev_t> BackingWatcher::device_of(uint64_t fsid) const {
    std::shared_lock lock(mutex_);
    auto it = device_by_fsid_.find(fsid);
    if (it == device_by_fsid_.end()) return std::nullopt;
    return it->second;
}

void BackingWatcher::stop() {
    stopping_ = true;
    uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(wakeup_.get(), &one, sizeof(one));
}

void BackingWatcher::run(const std::function<void(const BackingChange&)>& sink) {
    alignas(fanotify_event_metadata) std::array<char, 64 * 1024> buffer;
    while (!stopping_) {
        std::array<pollfd, 2> fds{{{fanotify_.get(), POLLIN, 0}, {wakeup_.get(), POLLIN, 0}}};
        if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return;
        for (;;) {
            ssize_t n = ::read(fanotify_.get(), buffer.data(), buffer.size());
            if (n <= 0) break;  // EAGAIN: drained
            dispatch(buffer.data(), size_t(n), sink);
        }
        std::this_thread::sleep_for(kBatchPause);
    }
}

void BackingWatcher::dispatch(const char* events, size_t length,
                              const std::function<void(const BackingChange&)>& sink) {
    size_t offset = 0;
    while (offset + sizeof(fanotify_event_metadata) <= length) {
        auto meta = read_struct<fanotify_event_metadata>(events + offset);
        if (meta.event_len < sizeof(meta) || offset + meta.event_len > length) return;
        const char* event = events + offset;
        offset += meta.event_len;
        if (meta.vers != FANOTIFY_METADATA_VERSION) continue;
        if (meta.mask & FAN_Q_OVERFLOW) {
            sink(BackingChange{BackingChange::Kind::overflow, 0, 0, {}, {}});
            continue;
        }
        if (meta.pid == own_pid_) continue;

        std::optional<FidRecord> directory, object;
        for (size_t at = meta.metadata_len; at + sizeof(fanotify_event_info_header) <= meta.event_len;) {
            auto info = read_struct<fanotify_event_info_header>(event + at);
            if (info.len == 0 || at + info.len > meta.event_len) break;
            if (info.info_type == FAN_EVENT_INFO_TYPE_DFID_NAME)
                directory = parse_fid(event + at, info.len, true);
            else if (info.info_type == FAN_EVENT_INFO_TYPE_FID)
                object = parse_fid(event + at, info.len, false);
            at += info.len;
        }
        auto node_of = [&](const FidRecord& fid) -> std::optional<uint64_t> {
            auto dev = device_of(fid.fsid);
            if (!dev) return std::nullopt;
            return nodes_.find_by_handle(HandleKey{*dev, fid.handle});
        };
        if ((meta.mask & kEntryEvents) && directory && directory->name != ".") {
            if (auto dir = node_of(*directory))
                sink(BackingChange{BackingChange::Kind::entry, *dir, 0, std::move(directory->name), {}});
        }
        if (!(meta.mask & (FAN_MODIFY | FAN_ATTRIB))) continue;
        auto kind =
            (meta.mask & FAN_MODIFY) ? BackingChange::Kind::contents : BackingChange::Kind::attributes;
        if (!object && directory && directory->name == ".") {
            // A directory's own change (chmod, chown, utimes, xattrs, ACLs of the directory): fanotify names
            // it by a directory record with the name "." and no object record.
            if (auto dir = node_of(*directory)) sink(BackingChange{kind, *dir, 0, {}, {}});
            continue;
        }
        if (!object) continue;
        auto dev = device_of(object->fsid);
        if (!dev) continue;
        BackingChange change{
            kind, node_of(*object).value_or(0), 0, {}, HandleKey{*dev, std::move(object->handle)}};
        if (directory && directory->name != ".") {
            change.parent_id = node_of(*directory).value_or(0);
            change.name = std::move(directory->name);
        }
        // Neither known: the kernel holds nothing this change could make stale.
        if (change.node_id != 0 || change.parent_id != 0) sink(change);
    }
}

}  // namespace fastfs::fs
