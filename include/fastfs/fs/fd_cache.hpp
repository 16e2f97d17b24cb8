// A bounded least-recently-used cache of O_PATH descriptors, keyed by node.
//
// Why: the kernel may know millions of inodes, the process may hold 20,000 descriptors. Nodes keep a file
// handle (name_to_handle_at) instead of a descriptor; reopening one costs an open_by_handle_at, so the
// descriptors of recently used nodes are kept here, at most `capacity` of them.
//
// A lookup hands out a shared reference: evicting an entry never closes a descriptor that a request is
// still using; the descriptor closes when its last user lets go.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "fastfs/sys/unique_fd.hpp"

namespace fastfs::fs {

using SharedFd = std::shared_ptr<const sys::UniqueFd>;

class FdCache {
  public:
    explicit FdCache(size_t capacity);

    SharedFd find(uint64_t key);
    // Inserts (or replaces) the descriptor for `key`, evicting the least recently used beyond capacity.
    void insert(uint64_t key, SharedFd fd);
    void erase(uint64_t key);

    size_t size() const;
    size_t capacity() const { return capacity_; }
    uint64_t hits() const;
    uint64_t misses() const;

  private:
    struct Entry {
        uint64_t key;
        SharedFd fd;
    };
    const size_t capacity_;
    mutable std::mutex mutex_;
    std::list<Entry> lru_;  // front: most recently used
    std::unordered_map<uint64_t, std::list<Entry>::iterator> index_;
    uint64_t hits_ = 0;
    uint64_t misses_ = 0;
};

}  // namespace fastfs::fs
