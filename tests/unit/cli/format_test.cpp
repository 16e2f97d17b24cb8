#include <gtest/gtest.h>

#include <cstddef>
#include <string>

#include "fastfs/cli/copy_command.hpp"
#include "fastfs/cli/format.hpp"
#include "fastfs/cli/tree_command.hpp"

namespace fastfs::cli {
namespace {

TEST(FormatTest, HumanBytes) {
    EXPECT_EQ(human_bytes(0), "0 B");
    EXPECT_EQ(human_bytes(1023), "1023 B");
    EXPECT_EQ(human_bytes(1536), "1.5 KiB");
    EXPECT_EQ(human_bytes(uint64_t(1) << 30), "1.0 GiB");
    EXPECT_EQ(human_bytes(UINT64_MAX), "16.0 EiB");
}

TEST(FormatTest, HumanDuration) {
    EXPECT_EQ(human_duration(std::chrono::milliseconds(250)), "0.25 s");
    EXPECT_EQ(human_duration(std::chrono::seconds(125)), "2 min 5 s");
}

TEST(FormatTest, StatsTextShowsRawAndHumanBytes) {
    fastfs_stats stats{};
    stats.version = FASTFS_STATS_VERSION;
    stats.copy_bytes_reflinked = uint64_t(3) << 20;
    stats.copy_requests = 7;
    std::string text = format_stats_text(stats);
    EXPECT_NE(text.find("copy_bytes_reflinked: 3145728 (3.0 MiB)\n"), std::string::npos) << text;
    EXPECT_NE(text.find("copy_requests: 7\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("reserved"), std::string::npos);
}

TEST(FormatTest, StatsJsonIsOneObjectWithNumbers) {
    fastfs_stats stats{};
    stats.version = FASTFS_STATS_VERSION;
    stats.fd_cache_hits = 42;
    std::string json = format_stats_json(stats);
    EXPECT_EQ(json.front(), '{');
    EXPECT_EQ(json.substr(json.size() - 2), "}\n");
    EXPECT_NE(json.find("\"fd_cache_hits\": 42"), std::string::npos) << json;
    EXPECT_NE(json.find("\"version\": 1"), std::string::npos) << json;
}

// The ABI of FASTFS_IOC_GET_STATS: a client built against an older header must keep reading the counters it
// knows at the same offsets, and the struct must keep its size (the command number encodes it).
TEST(FormatTest, StatsAbiKeepsItsSizeAndOrder) {
    EXPECT_EQ(sizeof(fastfs_stats), 368u);
    EXPECT_EQ(offsetof(fastfs_stats, uptime_seconds), 8u);
    EXPECT_EQ(offsetof(fastfs_stats, copy_requests), 16u);
    EXPECT_EQ(offsetof(fastfs_stats, ioctl_refused), 8u + 8u * 24u);
    EXPECT_EQ(offsetof(fastfs_stats, fd_cache_misses), 8u + 8u * 28u);
    EXPECT_EQ(offsetof(fastfs_stats, lseek_writebacks), 8u + 8u * 29u);
    EXPECT_GE(sizeof(fastfs_stats::reserved) / sizeof(__u64), 1u)
        << "no reserved slot left: bump the version";
    // The text lists every counter once, in ABI order.
    fastfs_stats stats{};
    std::string text = format_stats_text(stats);
    EXPECT_LT(text.find("uptime_seconds:"), text.find("copy_requests:"));
    EXPECT_LT(text.find("fd_cache_misses:"), text.find("lseek_writebacks:"));
    EXPECT_NE(text.find("removed_inodes_held: 0\n"), std::string::npos) << text;
}

TEST(FormatTest, CopySummaryIsOneLineWithEveryKindOfByte) {
    copy::FileCopyReport report;
    report.destination = "/data/dst";
    report.bytes = uint64_t(64) << 20;
    report.copy.bytes_reflinked = uint64_t(1) << 20;
    report.copy.bytes_copy_file_range = uint64_t(1) << 20;
    report.copy.bytes_hole = uint64_t(62) << 20;
    std::string line = copy_summary(report, 0.05);
    EXPECT_EQ(line,
              "copied 64.0 MiB to /data/dst in 0.05 s: 1.0 MiB reflinked, 1.0 MiB copied, 62.0 MiB holes");
    report.owner_preserved = false;
    EXPECT_TRUE(copy_summary(report, 0.05).ends_with("; owner not preserved"));
}

TEST(FormatTest, TreeSummaryNamesWhatWasMadeOnOneLine) {
    copy::TreeCounts counts{.files = 1041,
                            .directories = 24,
                            .symlinks = 1,
                            .bytes = uint64_t(5) << 30,
                            .bytes_shared = uint64_t(1) << 30,
                            .bytes_holes = uint64_t(4) << 30};
    EXPECT_EQ(tree_summary(copy::TreeMode::kClone, counts, "pods/p1", 0.41),
              "cloned 1041 files (5.0 GiB) to pods/p1 in 0.41 s: 1.0 GiB shared, 0 B copied, 4.0 GiB holes "
              "kept; 24 directories, 1 symlink");
    counts = {.files = 1, .directories = 1, .specials = 1, .hard_links = 2};
    EXPECT_EQ(
        tree_summary(copy::TreeMode::kAuto, counts, "d", 0.01),
        "copied 1 file (0 B) to d in 0.01 s: 0 B shared, 0 B copied, 0 B holes kept; 1 directory, 2 hard "
        "links, 1 special file");
}

TEST(FormatTest, ReflinkModeWords) {
    EXPECT_EQ(parse_reflink_mode("always").value(), copy::ReflinkMode::kAlways);
    EXPECT_EQ(parse_reflink_mode("never").value(), copy::ReflinkMode::kNever);
    EXPECT_EQ(parse_reflink_mode("auto").value(), copy::ReflinkMode::kAuto);
    EXPECT_FALSE(parse_reflink_mode("sometimes"));
}

}  // namespace
}  // namespace fastfs::cli
