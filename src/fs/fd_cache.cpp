#include "fastfs/fs/fd_cache.hpp"

#include <vector>

namespace fastfs::fs {

FdCache::FdCache(size_t capacity) : capacity_(capacity > 0 ? capacity : 1) {}

SharedFd FdCache::find(uint64_t key) {
    std::lock_guard lock(mutex_);
    auto it = index_.find(key);
    if (it == index_.end()) {
        ++misses_;
        return nullptr;
    }
    ++hits_;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->fd;
}

void FdCache::insert(uint64_t key, SharedFd fd) {
    std::vector<SharedFd> evicted;  // closed after the lock is released
    {
        std::lock_guard lock(mutex_);
        if (auto it = index_.find(key); it != index_.end()) {
            evicted.push_back(std::move(it->second->fd));
            it->second->fd = std::move(fd);
            lru_.splice(lru_.begin(), lru_, it->second);
            return;
        }
        lru_.push_front(Entry{key, std::move(fd)});
        index_.emplace(key, lru_.begin());
        while (lru_.size() > capacity_) {
            evicted.push_back(std::move(lru_.back().fd));
            index_.erase(lru_.back().key);
            lru_.pop_back();
        }
    }
}

void FdCache::erase(uint64_t key) {
    SharedFd evicted;
    std::lock_guard lock(mutex_);
    auto it = index_.find(key);
    if (it == index_.end()) return;
    evicted = std::move(it->second->fd);
    lru_.erase(it->second);
    index_.erase(it);
}

size_t FdCache::size() const {
    std::lock_guard lock(mutex_);
    return lru_.size();
}

uint64_t FdCache::hits() const {
    std::lock_guard lock(mutex_);
    return hits_;
}

uint64_t FdCache::misses() const {
    std::lock_guard lock(mutex_);
    return misses_;
}

}  // namespace fastfs::fs
