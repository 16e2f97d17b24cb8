// Block sharing on XFS/btrfs, its absence elsewhere, and the clone-only calls.
#include <fcntl.h>

#include "copy_test_support.hpp"

namespace fastfs::copy::testing {
namespace {

using ReflinkTest = OnEachFilesystem;

TEST_P(ReflinkTest, CopySharesExtentsWhereTheFilesystemCan) {
    std::string data = random_bytes(8 * MiB + 123, 61);  // a partial last block, copied to EOF
    auto src = open_file(path("src"));
    write_at(src.get(), 0, data);
    ASSERT_TRUE(sys::sync_fd(src.get(), false).has_value());
    auto dst = open_file(path("dst"));

    CopyReport report;
    auto copied = copy_range(src.get(), 0, dst.get(), 0, data.size(), caps_, report);
    ASSERT_TRUE(copied.has_value()) << std::strerror(copied.error());
    EXPECT_EQ(*copied, data.size());
    EXPECT_TRUE(same_bytes(read_all(dst.get()), data));
    EXPECT_EQ(report_total(report), *copied);
    auto st = sys::stat_fd(dst.get());
    if (shares_blocks(type())) {
        EXPECT_EQ(report.bytes_reflinked, data.size());
        EXPECT_EQ(report.fallbacks, 0u);
        EXPECT_GT(fastfs::test::shared_extent_count(path("dst")), 0);
        EXPECT_FALSE(caps_.refused(st->st_dev, st->st_dev, CapabilityCache::kReflink));
    } else {
        EXPECT_EQ(report.bytes_reflinked, 0u);
        EXPECT_TRUE(report.fallbacks & kNoReflinkSupport);
        EXPECT_TRUE(caps_.refused(st->st_dev, st->st_dev, CapabilityCache::kReflink));
        EXPECT_EQ(fastfs::test::shared_extent_count(path("dst")), 0);
    }
}

TEST_P(ReflinkTest, UnalignedHeadAndTailAroundASharedMiddleAreExact) {
    std::string src_data = random_bytes(4 * MiB, 62);
    std::string dst_data = random_bytes(6 * MiB, 63);
    auto src = open_file(path("src"));
    auto dst = open_file(path("dst"));
    write_at(src.get(), 0, src_data);
    write_at(dst.get(), 0, dst_data);
    ASSERT_TRUE(sys::sync_fd(src.get(), false).has_value());
    ASSERT_TRUE(sys::sync_fd(dst.get(), false).has_value());

    const uint64_t off_in = 4096 + 1, off_out = 3 * 4096 + 1, len = 2 * MiB + 4096 * 5 + 10;
    CopyReport report;
    auto copied = copy_range(src.get(), off_t(off_in), dst.get(), off_t(off_out), len, caps_, report);
    ASSERT_TRUE(copied.has_value()) << std::strerror(copied.error());
    EXPECT_EQ(*copied, len);
    EXPECT_TRUE(
        same_bytes(read_all(dst.get()), expected_after_copy(dst_data, src_data, off_in, off_out, len)));
    if (shares_blocks(type())) {
        EXPECT_EQ(report.bytes_reflinked, len - (4096 - 1) - 11);
        EXPECT_GT(fastfs::test::shared_extent_count(path("dst")), 0);
    }
}

TEST_P(ReflinkTest, NoSharingWhenNotAllowed) {
    std::string data = random_bytes(4 * MiB, 64);
    auto src = open_file(path("src"));
    write_at(src.get(), 0, data);
    ASSERT_TRUE(sys::sync_fd(src.get(), false).has_value());
    auto dst = open_file(path("dst"));
    CopyReport report;
    auto copied = copy_range(src.get(), 0, dst.get(), 0, data.size(), caps_, report,
                             CopyOptions{.allow_reflink = false});
    ASSERT_TRUE(copied.has_value()) << std::strerror(copied.error());
    EXPECT_TRUE(same_bytes(read_all(dst.get()), data));
    ASSERT_TRUE(sys::sync_fd(dst.get(), false).has_value());
    EXPECT_EQ(report.bytes_reflinked, 0u);
    EXPECT_EQ(report.bytes_copy_file_range, 0u) << "copy_file_range would clone on XFS/btrfs";
    EXPECT_EQ(report.bytes_splice + report.bytes_read_write, data.size());
    EXPECT_EQ(fastfs::test::shared_extent_count(path("dst")), 0);
}

TEST_P(ReflinkTest, ExtentCopyFallsBackWhenCopyFileRangeIsOff) {
    std::string data = random_bytes(3 * MiB + 5, 65);
    auto src = open_file(path("src"));
    write_at(src.get(), 0, data);
    auto dst = open_file(path("dst"));
    CopyReport report;
    // Different remainders: no reflink, so the extent copy runs with copy_file_range when allowed.
    auto copied = copy_range(src.get(), 1, dst.get(), 2, data.size(), caps_, report);
    ASSERT_TRUE(copied.has_value()) << std::strerror(copied.error());
    EXPECT_EQ(*copied, data.size() - 1);
    EXPECT_TRUE(report.fallbacks & kUnaligned);
    EXPECT_EQ(report.bytes_copy_file_range, *copied);
    EXPECT_TRUE(same_bytes(read_at(dst.get(), 2, *copied), data.substr(1)));
}

TEST_P(ReflinkTest, CloneWholeFileSharesOrFailsWithoutCopying) {
    std::string data = random_bytes(2 * MiB + 99, 66);
    auto src = open_file(path("src"));
    write_at(src.get(), 0, data);
    auto dst = open_file(path("dst"));
    auto cloned = clone_whole_file(src.get(), dst.get());
    if (shares_blocks(type())) {
        ASSERT_TRUE(cloned.has_value()) << std::strerror(cloned.error());
        EXPECT_TRUE(same_bytes(read_all(dst.get()), data));
        EXPECT_GT(fastfs::test::shared_extent_count(path("dst")), 0);
    } else {
        ASSERT_FALSE(cloned.has_value());
        EXPECT_TRUE(cloned.error() == EOPNOTSUPP || cloned.error() == EXDEV) << std::strerror(cloned.error());
        EXPECT_EQ(size_of(dst.get()), 0) << "a failed clone must not copy";
    }
}

TEST_P(ReflinkTest, CloneAcrossFilesystemsIsExdev) {
    std::string why;
    auto other = LoopFilesystem::create(FsType::tmpfs, 64 * MiB, &why);
    FASTFS_REQUIRE(other, why);
    auto src = open_file(other->path() / "src");
    write_at(src.get(), 0, random_bytes(64 * KiB, 67));
    auto dst = open_file(path("dst"));
    auto cloned = clone_whole_file(src.get(), dst.get());
    ASSERT_FALSE(cloned.has_value());
    EXPECT_EQ(cloned.error(), EXDEV);
    EXPECT_EQ(size_of(dst.get()), 0);
}

TEST_P(ReflinkTest, CloneExactRangeNeedsAlignmentAndSupport) {
    std::string data = random_bytes(1 * MiB, 68);
    auto src = open_file(path("src"));
    write_at(src.get(), 0, data);
    auto dst = open_file(path("dst"));
    auto aligned = clone_exact_range(src.get(), 64 * KiB, dst.get(), 0, 0);  // 0: to the source's EOF
    if (!shares_blocks(type())) {
        ASSERT_FALSE(aligned.has_value());
        EXPECT_EQ(aligned.error(), EOPNOTSUPP);
        EXPECT_EQ(size_of(dst.get()), 0) << "a failed clone must not copy";
        return;
    }
    ASSERT_TRUE(aligned.has_value()) << std::strerror(aligned.error());
    EXPECT_TRUE(same_bytes(read_all(dst.get()), data.substr(64 * KiB)));
    auto unaligned = clone_exact_range(src.get(), 100, dst.get(), 100, 64 * KiB);
    ASSERT_FALSE(unaligned.has_value());
    EXPECT_EQ(unaligned.error(), EINVAL);
    EXPECT_TRUE(same_bytes(read_all(dst.get()), data.substr(64 * KiB))) << "a refused clone changed the file";
}

FASTFS_ON_EACH_FILESYSTEM(ReflinkTest);

}  // namespace
}  // namespace fastfs::copy::testing
