// Placeholder until the engine lands: every method refuses.
#include "fastfs/copy/engine.hpp"

namespace fastfs::copy {

CopyReport& CopyReport::operator+=(const CopyReport& o) {
    bytes_reflinked += o.bytes_reflinked;
    bytes_copy_file_range += o.bytes_copy_file_range;
    bytes_splice += o.bytes_splice;
    bytes_read_write += o.bytes_read_write;
    bytes_hole += o.bytes_hole;
    holes_punched += o.holes_punched;
    fallbacks |= o.fallbacks;
    return *this;
}

bool CapabilityCache::refused(dev_t, dev_t, Method) const { return false; }
void CapabilityCache::mark_refused(dev_t, dev_t, Method) {}

sys::Result<uint64_t> copy_range(int, off_t, int, off_t, uint64_t, CapabilityCache&, CopyReport&, const CopyOptions&) {
    return sys::fail(ENOSYS);
}
sys::Result<void> clone_whole_file(int, int) { return sys::fail(ENOSYS); }
sys::Result<void> clone_exact_range(int, off_t, int, off_t, uint64_t) { return sys::fail(ENOSYS); }

}  // namespace fastfs::copy
