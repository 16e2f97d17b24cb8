// Per-mount registries: open files owned on the kernel's behalf, tree copies in progress, caller identities,
// pending notifications.
#include <algorithm>

#include "fastfs/fuse/mount_context.hpp"

#include <malloc.h>

namespace fastfs::fuse {

namespace {
constexpr auto kCallerIdentityLifetime = std::chrono::seconds(1);
constexpr size_t kCallerIdentitiesKept = 4096;  // beyond that, expired entries are dropped
}  // namespace

sys::Identity CallerIdentities::of(const fuse_ctx& caller) {
    Key key{caller.pid, caller.uid, caller.gid};
    auto now = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(mutex_);
        if (auto it = known_.find(key); it != known_.end() && it->second.expires > now)
            return it->second.identity;
    }
    sys::Identity identity =
        sys::identity_of_process(caller.pid, caller.uid, caller.gid);  // outside the lock
    std::lock_guard lock(mutex_);
    if (known_.size() >= kCallerIdentitiesKept)
        std::erase_if(known_, [&](const auto& e) { return e.second.expires <= now; });
    known_.insert_or_assign(key, Known{identity, now + kCallerIdentityLifetime});
    return identity;
}

uint64_t OpenFiles::add(std::shared_ptr<OpenFile> file) {
    auto fh = reinterpret_cast<uint64_t>(file.get());
    std::lock_guard lock(mutex_);
    files_.emplace(fh, std::move(file));
    return fh;
}

void OpenFiles::remove(uint64_t fh) {
    std::shared_ptr<OpenFile> closing;  // closed after the lock is released (if no clone holds it)
    std::lock_guard lock(mutex_);
    if (auto it = files_.find(fh); it != files_.end()) {
        closing = std::move(it->second);
        files_.erase(it);
    }
}

std::shared_ptr<OpenFile> OpenFiles::find(uint64_t fh) {
    std::lock_guard lock(mutex_);
    auto it = files_.find(fh);
    return it == files_.end() ? nullptr : it->second;
}

TreeJobs::Slot::~Slot() {
    if (jobs_ == nullptr) return;
    std::lock_guard lock(jobs_->mutex_);
    jobs_->jobs_.erase(id_);
}

void TreeJobs::Slot::update(const copy::TreeCounts& done, const copy::TreeCounts& total) {
    std::lock_guard lock(jobs_->mutex_);
    if (auto it = jobs_->jobs_.find(id_); it != jobs_->jobs_.end()) it->second.progress = {done, total};
}

TreeJobs::Progress TreeJobs::Slot::progress() const {
    std::lock_guard lock(jobs_->mutex_);
    auto it = jobs_->jobs_.find(id_);
    return it == jobs_->jobs_.end() ? Progress{} : it->second.progress;
}

sys::Result<TreeJobs::Slot> TreeJobs::start(uint64_t id, uid_t uid, size_t max_total) {
    std::lock_guard lock(mutex_);
    if (jobs_.contains(id)) return sys::fail(EEXIST);
    auto mine =
        std::count_if(jobs_.begin(), jobs_.end(), [&](const auto& job) { return job.second.uid == uid; });
    if (jobs_.size() >= max_total || size_t(mine) >= kMaxPerUser) return sys::fail(EBUSY);
    jobs_.emplace(id, Job{uid, {}});
    return Slot(this, id);
}

std::optional<TreeJobs::Progress> TreeJobs::progress(uint64_t id, uid_t uid) {
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second.uid != uid) return std::nullopt;
    return it->second.progress;
}

void PendingNotifications::post(fs::BackingChange change) {
    {
        std::lock_guard lock(mutex_);
        if (closed_) return;
        queue_.push_back(std::move(change));
    }
    ready_.notify_one();
}

std::optional<fs::BackingChange> PendingNotifications::next() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return closed_ || !queue_.empty(); });
    if (closed_) return std::nullopt;
    fs::BackingChange change = std::move(queue_.front());
    queue_.pop_front();
    return change;
}

void PendingNotifications::close() {
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        queue_.clear();
    }
    ready_.notify_all();
}

CacheTimeouts MountContext::timeouts_for(dev_t dev) {
    bool watched = false;
    if (watcher) {
        auto known = watcher->watching(dev);
        watched = known ? *known : watcher->watch(dev, nodes->mount_fd_for(dev));
    }
    const CacheTimeouts& fallback = watched ? kWatchedTimeouts : kUnwatchedTimeouts;
    return {config.entry_timeout.value_or(fallback.entry), config.attr_timeout.value_or(fallback.attr),
            config.negative_timeout.value_or(fallback.negative)};
}

void MemoryReturn::after_forgets(size_t nodes_now) {
    size_t reference = reference_.load(std::memory_order_relaxed);
    if (nodes_now > reference) {
        reference_.compare_exchange_strong(reference, nodes_now, std::memory_order_relaxed);
        return;
    }
    // One thread trims per kShrink forgotten nodes; the others go on.
    if (reference - nodes_now < kShrink ||
        !reference_.compare_exchange_strong(reference, nodes_now, std::memory_order_relaxed))
        return;
    ::malloc_trim(0);
}

}  // namespace fastfs::fuse
