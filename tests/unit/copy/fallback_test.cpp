// The slower paths, forced by marking faster methods refused in the capability cache (every filesystem
// here supports them all): splice, pread/pwrite, and zeros written where punching is refused.
#include <fcntl.h>

#include "copy_test_support.hpp"

namespace fastfs::copy::testing {
namespace {

using FallbackTest = OnEachFilesystem;

struct Forced {
    const char* name;
    uint32_t refused;           // CapabilityCache::Method bits marked before the copy
    uint32_t expected_reasons;  // FallbackReason bits the report must carry
};

const Forced kForced[] = {
    {"splice", CapabilityCache::kReflink | CapabilityCache::kCopyFileRange, kNoCopyFileRange},
    {"read/write", CapabilityCache::kReflink | CapabilityCache::kCopyFileRange | CapabilityCache::kSplice,
     kNoCopyFileRange | kNoSplice},
    {"zeros instead of punching", CapabilityCache::kReflink | CapabilityCache::kPunch, kNoPunchHole},
};

TEST_P(FallbackTest, SlowerPathsAreExactAndKeepHoles) {
    int index = 0;
    for (const Forced& forced : kForced) {
        SCOPED_TRACE(forced.name);
        std::string tag = std::to_string(index++);
        // Source: 3 MiB + 5, data at [0, 1M+7) and [2M, end), a hole between.
        std::string src_data(3 * MiB + 5, '\0');
        std::string a = random_bytes(MiB + 7, 91), b = random_bytes(MiB + 5, 92);
        src_data.replace(0, a.size(), a);
        src_data.replace(2 * MiB, b.size(), b);
        auto src = open_file(path("src" + tag));
        write_at(src.get(), 0, a);
        write_at(src.get(), off_t(2 * MiB), b);
        // Destination: 4 MiB of data that the hole must clear.
        std::string dst_data = random_bytes(4 * MiB, 93);
        auto dst = open_file(path("dst" + tag));
        write_at(dst.get(), 0, dst_data);

        CapabilityCache caps;
        auto st_src = sys::stat_fd(src.get());
        auto st_dst = sys::stat_fd(dst.get());
        for (uint32_t bit : {CapabilityCache::kReflink, CapabilityCache::kCopyFileRange,
                             CapabilityCache::kSplice, CapabilityCache::kPunch}) {
            if (forced.refused & bit)
                caps.mark_refused(st_src->st_dev, st_dst->st_dev, CapabilityCache::Method(bit));
        }
        CopyReport report;
        auto copied = copy_range(src.get(), 0, dst.get(), 0, src_data.size(), caps, report);
        ASSERT_TRUE(copied.has_value()) << std::strerror(copied.error());
        EXPECT_EQ(*copied, src_data.size());
        EXPECT_EQ(report_total(report), *copied);
        EXPECT_EQ(report.fallbacks & forced.expected_reasons, forced.expected_reasons);
        EXPECT_EQ(report.bytes_reflinked, 0u);
        // Extents are whole blocks: the data block holding byte 1M+6 ends the first extent at 1M+4K.
        const uint64_t hole = MiB - 4096;
        EXPECT_EQ(report.bytes_hole, hole);
        if (forced.refused & CapabilityCache::kSplice) {
            EXPECT_EQ(report.bytes_read_write, src_data.size() - hole);
        } else if (forced.refused & CapabilityCache::kCopyFileRange) {
            EXPECT_EQ(report.bytes_splice, src_data.size() - hole);
        }
        if (forced.refused & CapabilityCache::kPunch) {
            EXPECT_EQ(report.holes_punched, 0u);
        } else {
            EXPECT_EQ(report.holes_punched, 1u);
            EXPECT_TRUE(is_hole(dst.get(), off_t(MiB + 4096), off_t(MiB - 8192)));
        }
        EXPECT_TRUE(same_bytes(read_all(dst.get()), expected_after_copy(dst_data, src_data, 0, 0, *copied)));
        EXPECT_TRUE(same_bytes(read_all(src.get()), src_data));
    }
}

FASTFS_ON_EACH_FILESYSTEM(FallbackTest);

}  // namespace
}  // namespace fastfs::copy::testing
