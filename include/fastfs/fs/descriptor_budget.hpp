// The daemon's descriptors as a resource shared fairly by every user of the mount.
//
// Every file or directory open through the mount holds one backing descriptor in this process (unless the
// kernel holds the backing file itself: FUSE passthrough), and the process may hold RLIMIT_NOFILE of them.
// Natively each process has its own limit; through the mount, one user holding thousands of open files
// would leave every other user with EMFILE on every open, and lookups without the descriptors they need.
// So open files draw on a budget that excludes what lookups, the descriptor cache and the daemon itself
// need, and no user may take more than half of what is free (counting what they hold): whoever came first,
// what is left is always enough for others to open files too.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace fastfs::fs {

class DescriptorBudget {
  public:
    // `capacity`: how many descriptors the open files and directories of all users may hold together.
    explicit DescriptorBudget(size_t capacity);

    // One descriptor counted against a user while it lives.
    class Hold {
      public:
        Hold() = default;
        Hold(Hold&& other) noexcept;
        Hold& operator=(Hold&& other) noexcept;
        Hold(const Hold&) = delete;
        ~Hold();

      private:
        friend class DescriptorBudget;
        Hold(DescriptorBudget* budget, uid_t uid) : budget_(budget), uid_(uid) {}
        DescriptorBudget* budget_ = nullptr;
        uid_t uid_ = 0;
    };

    // A descriptor for `uid`, or nullopt if that would take it past its share (the caller answers EMFILE).
    std::optional<Hold> acquire(uid_t uid);
    // A descriptor that only saves work (the daemon could do without it), so it takes less: only while the
    // user would hold at most a quarter of what is free, leaving the rest of its share to opens that need
    // one.
    std::optional<Hold> acquire_spare(uid_t uid);

    size_t capacity() const { return capacity_; }
    size_t held() const;
    size_t held_by(uid_t uid) const;
    uint64_t refused() const;

  private:
    // Grants while (mine + 1) * `parts` <= free + mine; `counted`: a refusal is an EMFILE (refused()).
    std::optional<Hold> acquire_within(uid_t uid, size_t parts, bool counted);
    void release(uid_t uid);

    const size_t capacity_;
    mutable std::mutex mutex_;  // guards the three below
    std::unordered_map<uid_t, size_t> held_by_;
    size_t held_ = 0;
    uint64_t refused_ = 0;
};

}  // namespace fastfs::fs
