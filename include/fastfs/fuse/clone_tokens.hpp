// The one-time tokens of `fastfs clone` inside a mount (src/fuse/clone_ops.cpp).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "fastfs/sys/result.hpp"

namespace fastfs::fuse {

struct OpenFile;  // mount_context.hpp

// Tokens handed out by FASTFS_IOC_CLONE_SOURCE, redeemed by FASTFS_IOC_CLONE_INTO. A token names an open
// source file of one caller for a short time; it cannot be guessed and is used once. It holds no
// descriptor: once the caller closes the source, the token is worthless. A user may hold a few at a time.
class CloneTokens {
  public:
    static constexpr size_t kMaxPerUser = 16;
    // A new token for `source` issued to `uid`; EMFILE when `uid` already holds kMaxPerUser live tokens.
    sys::Result<uint64_t> issue(const std::shared_ptr<OpenFile>& source, uid_t uid);
    // The source for `token`, if it exists, has not expired, was issued to `uid` and is still open.
    // Consumes the token.
    std::shared_ptr<OpenFile> redeem(uint64_t token, uid_t uid);

  private:
    struct Source {
        std::weak_ptr<OpenFile> file;
        uid_t uid;
        std::chrono::steady_clock::time_point expires;
    };
    void drop_expired(std::chrono::steady_clock::time_point now);  // mutex_ held

    std::mutex mutex_;  // guards tokens_
    std::unordered_map<uint64_t, Source> tokens_;
};

}  // namespace fastfs::fuse
