#include "fastfs/cli/format.hpp"

#include <spdlog/fmt/fmt.h>
#include <time.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <ctime>
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

namespace {

std::string on_off(const fastfs_status& status, uint32_t flag, const char* note) {
    if (status.flags & flag) return "on";
    return note[0] != '\0' ? fmt::format("off ({})", note) : "off";
}

std::string since(uint64_t started) {
    std::time_t when = std::time_t(started);
    std::tm utc{};
    ::gmtime_r(&when, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    auto now = uint64_t(std::time(nullptr));
    uint64_t up = now > started ? now - started : 0;
    return fmt::format("{} h {} min {} s (since {})", up / 3600, up / 60 % 60, up % 60, text);
}

std::string seconds(uint64_t ms) {
    return fmt::format("{:g} s", double(ms) / 1000.0);
}

}  // namespace

std::string format_status_text(const fastfs_status& s, bool read_only) {
    std::string out;
    auto line = [&](std::string_view name, const std::string& value) {
        out += fmt::format("{:<16} {}\n", std::string(name) + ":", value);
    };
    line("backing", s.backing);
    line("fastfs", fmt::format("{} (libfuse {}), pid {}", s.fastfs_version, s.libfuse_version, s.pid));
    line("up", since(s.started));
    line("read-only", read_only ? "yes" : "no");
    line("allow_other", (s.flags & FASTFS_STATUS_ALLOW_OTHER) ? "yes" : "no");
    line("permissions", (s.flags & FASTFS_STATUS_DEFAULT_PERMISSIONS)
                            ? "checked by the kernel (default_permissions)"
                            : "not checked by the kernel");
    line("passthrough", on_off(s, FASTFS_STATUS_PASSTHROUGH, s.passthrough_note));
    line("io_uring", on_off(s, FASTFS_STATUS_IO_URING, s.io_uring_note));
    line("watching", on_off(s, FASTFS_STATUS_WATCHING, s.watch_note));
    line("writeback_cache", (s.flags & FASTFS_STATUS_WRITEBACK_CACHE) ? "on" : "off");
    line("timeouts", fmt::format("entry {}, attr {}, negative {}", seconds(s.entry_timeout_ms),
                                 seconds(s.attr_timeout_ms), seconds(s.negative_timeout_ms)));
    line("threads", fmt::format("at most {}", s.max_threads));
    line("log", s.log_destination);
    return out;
}

std::string format_status_json(const fastfs_status& s, bool read_only) {
    auto feature = [&](uint32_t flag, const char* note) {
        return nlohmann::json{{"on", (s.flags & flag) != 0}, {"why_off", note}};
    };
    nlohmann::json out = {
        {"version", s.version},
        {"backing", s.backing},
        {"fastfs_version", s.fastfs_version},
        {"libfuse_version", s.libfuse_version},
        {"pid", s.pid},
        {"started", s.started},
        {"read_only", read_only},
        {"allow_other", (s.flags & FASTFS_STATUS_ALLOW_OTHER) != 0},
        {"default_permissions", (s.flags & FASTFS_STATUS_DEFAULT_PERMISSIONS) != 0},
        {"passthrough", feature(FASTFS_STATUS_PASSTHROUGH, s.passthrough_note)},
        {"io_uring", feature(FASTFS_STATUS_IO_URING, s.io_uring_note)},
        {"watching", feature(FASTFS_STATUS_WATCHING, s.watch_note)},
        {"writeback_cache", (s.flags & FASTFS_STATUS_WRITEBACK_CACHE) != 0},
        {"entry_timeout_s", double(s.entry_timeout_ms) / 1000.0},
        {"attr_timeout_s", double(s.attr_timeout_ms) / 1000.0},
        {"negative_timeout_s", double(s.negative_timeout_ms) / 1000.0},
        {"max_threads", s.max_threads},
        {"log", s.log_destination},
    };
    return out.dump(2) + "\n";
}

}  // namespace fastfs::cli
