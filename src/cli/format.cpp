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

// Every counter of the ABI's list, in its order (reserved[] is not shown).
constexpr bool kIsBytes_BYTES = true;
constexpr bool kIsBytes_COUNT = false;
constexpr std::array kStatsFields = {
#define FASTFS_STATS_ROW(name, unit, source) StatsField{#name, &fastfs_stats::name, kIsBytes_##unit},
    FASTFS_STATS_COUNTERS(FASTFS_STATS_ROW)
#undef FASTFS_STATS_ROW
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
