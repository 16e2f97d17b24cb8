#include "fastfs/copy/engine.hpp"

namespace fastfs::copy {

CopyReport& CopyReport::operator+=(const CopyReport& other) {
    bytes_reflinked += other.bytes_reflinked;
    bytes_copy_file_range += other.bytes_copy_file_range;
    bytes_splice += other.bytes_splice;
    bytes_read_write += other.bytes_read_write;
    bytes_hole += other.bytes_hole;
    holes_punched += other.holes_punched;
    fallbacks |= other.fallbacks;
    return *this;
}

bool CapabilityCache::refused(dev_t src, dev_t dst, Method method) const {
    std::lock_guard lock(mutex_);
    auto it = refused_.find({src, dst});
    return it != refused_.end() && (it->second & method) != 0;
}

void CapabilityCache::mark_refused(dev_t src, dev_t dst, Method method) {
    std::lock_guard lock(mutex_);
    refused_[{src, dst}] |= method;
}

}  // namespace fastfs::copy
