#include "fastfs/stats/counters.hpp"

namespace fastfs::stats {

void MountCounters::record_copy(const copy::CopyReport& report) {
    bytes_reflinked.add(report.bytes_reflinked);
    bytes_copy_file_range.add(report.bytes_copy_file_range);
    bytes_splice.add(report.bytes_splice);
    bytes_read_write.add(report.bytes_read_write);
    bytes_hole.add(report.bytes_hole);
    holes_punched.add(report.holes_punched);
    auto count_if = [&](uint32_t bit, Counter& counter) {
        if (report.fallbacks & bit) counter.add();
    };
    count_if(copy::kNoReflinkSupport, fallback_no_reflink);
    count_if(copy::kCrossFilesystem, fallback_cross_fs);
    count_if(copy::kUnaligned, fallback_unaligned);
    count_if(copy::kNoCopyFileRange, fallback_no_copy_file_range);
    count_if(copy::kNoSplice, fallback_no_splice);
    count_if(copy::kNoPunchHole, fallback_no_punch);
}

fastfs_stats MountCounters::snapshot() const {
    fastfs_stats s{};
    s.version = FASTFS_STATS_VERSION;
    s.size = sizeof(fastfs_stats);
    s.uptime_seconds = uint64_t(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count());
    s.copy_requests = copy_requests.get();
    s.copy_bytes_requested = copy_bytes_requested.get();
    s.copy_bytes_done = copy_bytes_done.get();
    s.copy_bytes_reflinked = bytes_reflinked.get();
    s.copy_bytes_copy_file_range = bytes_copy_file_range.get();
    s.copy_bytes_splice = bytes_splice.get();
    s.copy_bytes_read_write = bytes_read_write.get();
    s.copy_bytes_hole = bytes_hole.get();
    s.copy_holes_punched = holes_punched.get();
    s.copy_errors = copy_errors.get();
    s.fallback_no_reflink = fallback_no_reflink.get();
    s.fallback_cross_fs = fallback_cross_fs.get();
    s.fallback_unaligned = fallback_unaligned.get();
    s.fallback_no_copy_file_range = fallback_no_copy_file_range.get();
    s.fallback_no_splice = fallback_no_splice.get();
    s.fallback_no_punch = fallback_no_punch.get();
    s.clone_requests = clone_requests.get();
    s.clone_failures = clone_failures.get();
    s.read_requests = read_requests.get();
    s.read_bytes = read_bytes.get();
    s.write_requests = write_requests.get();
    s.write_bytes = write_bytes.get();
    s.lseek_requests = lseek_requests.get();
    s.ioctl_refused = ioctl_refused.get();
    return s;
}

}  // namespace fastfs::stats
