#include "fastfs/cli/format.hpp"

#include <spdlog/fmt/fmt.h>
#include <array>
#include <cmath>
#include <string_view>

namespace fastfs::cli {
namespace {

struct StatsField {
    std::string_view name;
    __u64 fastfs_stats::*member;
    bool is_bytes;
};

// Order as in the ABI struct; reserved[] is not shown.
constexpr std::array kStatsFields = {
    StatsField{"uptime_seconds", &fastfs_stats::uptime_seconds, false},
    StatsField{"copy_requests", &fastfs_stats::copy_requests, false},
    StatsField{"copy_bytes_requested", &fastfs_stats::copy_bytes_requested, true},
    StatsField{"copy_bytes_done", &fastfs_stats::copy_bytes_done, true},
    StatsField{"copy_bytes_reflinked", &fastfs_stats::copy_bytes_reflinked, true},
    StatsField{"copy_bytes_copy_file_range", &fastfs_stats::copy_bytes_copy_file_range, true},
    StatsField{"copy_bytes_splice", &fastfs_stats::copy_bytes_splice, true},
    StatsField{"copy_bytes_read_write", &fastfs_stats::copy_bytes_read_write, true},
    StatsField{"copy_bytes_hole", &fastfs_stats::copy_bytes_hole, true},
    StatsField{"copy_holes_punched", &fastfs_stats::copy_holes_punched, false},
    StatsField{"copy_errors", &fastfs_stats::copy_errors, false},
    StatsField{"fallback_no_reflink", &fastfs_stats::fallback_no_reflink, false},
    StatsField{"fallback_cross_fs", &fastfs_stats::fallback_cross_fs, false},
    StatsField{"fallback_unaligned", &fastfs_stats::fallback_unaligned, false},
    StatsField{"fallback_no_copy_file_range", &fastfs_stats::fallback_no_copy_file_range, false},
    StatsField{"fallback_no_splice", &fastfs_stats::fallback_no_splice, false},
    StatsField{"fallback_no_punch", &fastfs_stats::fallback_no_punch, false},
    StatsField{"clone_requests", &fastfs_stats::clone_requests, false},
    StatsField{"clone_failures", &fastfs_stats::clone_failures, false},
    StatsField{"read_requests", &fastfs_stats::read_requests, false},
    StatsField{"read_bytes", &fastfs_stats::read_bytes, true},
    StatsField{"write_requests", &fastfs_stats::write_requests, false},
    StatsField{"write_bytes", &fastfs_stats::write_bytes, true},
    StatsField{"lseek_requests", &fastfs_stats::lseek_requests, false},
    StatsField{"ioctl_refused", &fastfs_stats::ioctl_refused, false},
    StatsField{"nodes", &fastfs_stats::nodes, false},
    StatsField{"cached_fds", &fastfs_stats::cached_fds, false},
    StatsField{"fd_cache_hits", &fastfs_stats::fd_cache_hits, false},
    StatsField{"fd_cache_misses", &fastfs_stats::fd_cache_misses, false},
};

}  // namespace

std::string human_bytes(uint64_t bytes) {
    constexpr std::array<std::string_view, 6> kUnits = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) return fmt::format("{} B", bytes);
    double value = static_cast<double>(bytes) / 1024.0;
    size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < kUnits.size()) {
        value /= 1024.0;
        ++unit;
    }
    return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string human_duration(std::chrono::duration<double> elapsed) {
    double seconds = elapsed.count();
    if (seconds < 60.0) return fmt::format("{:.2f} s", seconds);
    auto whole = static_cast<uint64_t>(std::llround(seconds));
    return fmt::format("{} min {} s", whole / 60, whole % 60);
}

std::string format_stats_text(const fastfs_stats& stats) {
    std::string out = fmt::format("version: {}\n", stats.version);
    for (const auto& field : kStatsFields) {
        uint64_t value = stats.*field.member;
        if (field.is_bytes)
            out += fmt::format("{}: {} ({})\n", field.name, value, human_bytes(value));
        else
            out += fmt::format("{}: {}\n", field.name, value);
    }
    return out;
}

std::string format_stats_json(const fastfs_stats& stats) {
    std::string out = fmt::format("{{\n  \"version\": {}", stats.version);
    for (const auto& field : kStatsFields)
        out += fmt::format(",\n  \"{}\": {}", field.name, stats.*field.member);
    out += "\n}\n";
    return out;
}

}  // namespace fastfs::cli
