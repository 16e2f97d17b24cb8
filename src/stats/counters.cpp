#include "fastfs/stats/counters.hpp"

namespace fastfs::stats {

void MountCounters::record_copy(const copy::CopyReport& report) {
    copy_bytes_reflinked.add(report.bytes_reflinked);
    copy_bytes_copy_file_range.add(report.bytes_copy_file_range);
    copy_bytes_splice.add(report.bytes_splice);
    copy_bytes_read_write.add(report.bytes_read_write);
    copy_bytes_hole.add(report.bytes_hole);
    copy_holes_punched.add(report.holes_punched);
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
#define FASTFS_SNAPSHOT_COUNTER(name) s.name = name.get();
#define FASTFS_SNAPSHOT_GAUGE(name)
#define FASTFS_SNAPSHOT(name, unit, source) FASTFS_SNAPSHOT_##source(name)
    FASTFS_STATS_COUNTERS(FASTFS_SNAPSHOT)
#undef FASTFS_SNAPSHOT
#undef FASTFS_SNAPSHOT_GAUGE
#undef FASTFS_SNAPSHOT_COUNTER
    s.uptime_seconds = uint64_t(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count());
    return s;
}

}  // namespace fastfs::stats
