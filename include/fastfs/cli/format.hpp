// Output formats shared by the subcommands: human-readable sizes and durations, the stats table.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "fastfs/ioctl_abi.h"

namespace fastfs::cli {

// 1536 -> "1.5 KiB"; below 1 KiB the exact count: "512 B".
std::string human_bytes(uint64_t bytes);

// 0.25 s -> "0.25 s"; 125 s -> "2 min 5 s".
std::string human_duration(std::chrono::duration<double> elapsed);

// "name: value" per counter, byte counters with a human-readable size alongside the raw number.
std::string format_stats_text(const fastfs_stats& stats);

// One JSON object with every counter as a number, keys named like the struct fields.
std::string format_stats_json(const fastfs_stats& stats);

// `fastfs status`: "name: value" lines, or one JSON object; `read_only` as the mountpoint's statvfs says.
std::string format_status_text(const fastfs_status& status, bool read_only);
std::string format_status_json(const fastfs_status& status, bool read_only);

}  // namespace fastfs::cli
