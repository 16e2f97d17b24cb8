#include "fastfs/fuse/clone_tokens.hpp"

#include <algorithm>
#include <random>

namespace fastfs::fuse {

namespace {
constexpr auto kCloneTokenLifetime = std::chrono::seconds(30);
}  // namespace

void CloneTokens::drop_expired(std::chrono::steady_clock::time_point now) {
    std::erase_if(tokens_,
                  [&](const auto& item) { return item.second.expires < now || item.second.file.expired(); });
}

sys::Result<uint64_t> CloneTokens::issue(const std::shared_ptr<OpenFile>& source, uid_t uid) {
    thread_local std::mt19937_64 random{std::random_device{}()};
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    drop_expired(now);
    auto held = std::count_if(tokens_.begin(), tokens_.end(),
                              [&](const auto& item) { return item.second.uid == uid; });
    if (size_t(held) >= kMaxPerUser) return sys::fail(EMFILE);
    uint64_t token;
    do
        token = random();
    while (token == 0 || tokens_.contains(token));
    tokens_.emplace(token, Source{source, uid, now + kCloneTokenLifetime});
    return token;
}

std::shared_ptr<OpenFile> CloneTokens::redeem(uint64_t token, uid_t uid) {
    std::lock_guard lock(mutex_);
    auto it = tokens_.find(token);
    if (it == tokens_.end()) return nullptr;
    if (it->second.uid != uid) return nullptr;  // another user's token: leave it for its owner
    Source source = std::move(it->second);
    tokens_.erase(it);
    if (source.expires < std::chrono::steady_clock::now()) return nullptr;
    return source.file.lock();
}

}  // namespace fastfs::fuse
