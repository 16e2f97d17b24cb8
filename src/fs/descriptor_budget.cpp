#include "fastfs/fs/descriptor_budget.hpp"

#include <utility>

namespace fastfs::fs {

DescriptorBudget::DescriptorBudget(size_t capacity) : capacity_(capacity) {}

DescriptorBudget::Hold::Hold(Hold&& other) noexcept
    : budget_(std::exchange(other.budget_, nullptr)), uid_(other.uid_) {}

DescriptorBudget::Hold& DescriptorBudget::Hold::operator=(Hold&& other) noexcept {
    if (this != &other) {
        if (budget_ != nullptr) budget_->release(uid_);
        budget_ = std::exchange(other.budget_, nullptr);
        uid_ = other.uid_;
    }
    return *this;
}

DescriptorBudget::Hold::~Hold() {
    if (budget_ != nullptr) budget_->release(uid_);
}

std::optional<DescriptorBudget::Hold> DescriptorBudget::acquire(uid_t uid) {
    // At most half of what is free plus what this user holds: after the user's next descriptor, at least as
    // many stay free as the user holds.
    return acquire_within(uid, 2, true);
}

std::optional<DescriptorBudget::Hold> DescriptorBudget::acquire_spare(uid_t uid) {
    return acquire_within(uid, 4, false);
}

std::optional<DescriptorBudget::Hold> DescriptorBudget::acquire_within(uid_t uid, size_t parts,
                                                                       bool counted) {
    std::lock_guard lock(mutex_);
    size_t mine = held_by_[uid];
    size_t free = capacity_ - held_;
    if (free == 0 || parts * (mine + 1) > free + mine) {
        refused_ += counted;
        if (mine == 0) held_by_.erase(uid);
        return std::nullopt;
    }
    ++held_by_[uid];
    ++held_;
    return Hold(this, uid);
}

void DescriptorBudget::release(uid_t uid) {
    std::lock_guard lock(mutex_);
    auto it = held_by_.find(uid);
    if (it == held_by_.end()) return;
    if (--it->second == 0) held_by_.erase(it);
    --held_;
}

size_t DescriptorBudget::held() const {
    std::lock_guard lock(mutex_);
    return held_;
}

size_t DescriptorBudget::held_by(uid_t uid) const {
    std::lock_guard lock(mutex_);
    auto it = held_by_.find(uid);
    return it == held_by_.end() ? 0 : it->second;
}

uint64_t DescriptorBudget::refused() const {
    std::lock_guard lock(mutex_);
    return refused_;
}

}  // namespace fastfs::fs
