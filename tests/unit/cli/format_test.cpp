#include <gtest/gtest.h>

#include <string>

#include "fastfs/cli/format.hpp"

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

}  // namespace
}  // namespace fastfs::cli
