// copy_range follows copy_file_range(2): exact byte counts, EOF clamping, destination growth, the
// bytes around the copied range untouched, and errors for bad requests.
#include <fcntl.h>

#include <limits>

#include "copy_test_support.hpp"

namespace fastfs::copy::testing {
namespace {

struct RangeCase {
    const char* name;
    size_t src_size;
    size_t dst_size;  // the destination is prefilled with other data of this size
    uint64_t off_in;
    uint64_t off_out;
    uint64_t len;
    bool reflinkable;  // same remainder mod 4 KiB and at least one whole block: expect shared bytes
};

constexpr uint64_t kHuge = std::numeric_limits<uint64_t>::max() / 4;

const RangeCase kCases[] = {
    {"aligned whole file", 1 * MiB, 0, 0, 0, 1 * MiB, true},
    {"same remainder, head and tail unaligned, into the middle", MiB + 100, 2 * MiB, 100, 4096 + 100,
     512 * KiB + 77, true},
    {"different remainders", MiB, 2 * MiB, 100, 200, 300000, false},
    {"aligned start, unaligned length, into the middle", MiB, MiB, 0, 0, 12345, true},
    {"to EOF with a partial block, ending inside destination data", MiB + 1234, 4 * MiB, 4096, 8192, kHuge,
     true},
    {"to EOF with a partial block, past the destination's end", MiB + 1234, 10000, 4096, 4096, kHuge, true},
    {"to EOF with a partial block, unaligned start", MiB + 1234, 3 * MiB, 5000, 904, kHuge, true},
    {"extends a short destination", 300 * KiB, 5000, 0, MiB, kHuge, true},
    {"far past the destination's end leaves a zero gap", 64 * KiB, 4096, 0, 8 * MiB, 64 * KiB, true},
    {"less than one block", 64 * KiB, 64 * KiB, 10, 10, 100, false},
    {"len past EOF is clamped", 100 * KiB, 0, 48 * KiB, 0, 10 * MiB, true},
};

using CopyRangeTest = OnEachFilesystem;

TEST_P(CopyRangeTest, CopiesExactlyTheRangeAndNothingElse) {
    int index = 0;
    for (const RangeCase& c : kCases) {
        SCOPED_TRACE(c.name);
        std::string src_data = random_bytes(c.src_size, 1000 + index);
        std::string dst_data = random_bytes(c.dst_size, 2000 + index);
        auto src = open_file(path("src" + std::to_string(index)));
        auto dst = open_file(path("dst" + std::to_string(index)));
        ++index;
        write_at(src.get(), 0, src_data);
        write_at(dst.get(), 0, dst_data);

        CopyReport report;
        auto copied =
            copy_range(src.get(), off_t(c.off_in), dst.get(), off_t(c.off_out), c.len, caps_, report);
        ASSERT_TRUE(copied.has_value()) << std::strerror(copied.error());
        uint64_t want = std::min<uint64_t>(c.len, c.src_size - c.off_in);
        EXPECT_EQ(*copied, want);
        EXPECT_EQ(report_total(report), *copied);
        EXPECT_TRUE(same_bytes(read_all(dst.get()),
                               expected_after_copy(dst_data, src_data, c.off_in, c.off_out, want)));
        EXPECT_TRUE(same_bytes(read_all(src.get()), src_data)) << "the source changed";
        if (shares_blocks(type()) && c.reflinkable) {
            EXPECT_GT(report.bytes_reflinked, 0u);
        } else if (!shares_blocks(type())) {
            EXPECT_EQ(report.bytes_reflinked, 0u);
        }
    }
}

TEST_P(CopyRangeTest, NothingAtOrPastEndOfFile) {
    auto src = open_file(path("src"));
    auto dst = open_file(path("dst"));
    write_at(src.get(), 0, random_bytes(10000, 1));
    CopyReport report;
    for (off_t off_in : {off_t(10000), off_t(10001), off_t(1) << 40}) {
        auto copied = copy_range(src.get(), off_in, dst.get(), 0, 4096, caps_, report);
        ASSERT_TRUE(copied.has_value());
        EXPECT_EQ(*copied, 0u);
    }
    auto nothing = copy_range(src.get(), 0, dst.get(), 0, 0, caps_, report);
    ASSERT_TRUE(nothing.has_value());
    EXPECT_EQ(*nothing, 0u);
    EXPECT_EQ(size_of(dst.get()), 0) << "a zero-byte copy must not grow the destination";
}

TEST_P(CopyRangeTest, OverlappingRangesOfOneFileAreInvalid) {
    std::string data = random_bytes(64 * KiB, 7);
    auto file = open_file(path("file"));
    write_at(file.get(), 0, data);
    auto same_file = open_file(path("file"), O_RDWR);  // another description of the same inode
    CopyReport report;

    auto forward = copy_range(file.get(), 0, file.get(), 4096, 8192, caps_, report);
    ASSERT_FALSE(forward.has_value());
    EXPECT_EQ(forward.error(), EINVAL);
    auto backward = copy_range(file.get(), 8192, same_file.get(), 4096, 8192, caps_, report);
    ASSERT_FALSE(backward.has_value());
    EXPECT_EQ(backward.error(), EINVAL);
    EXPECT_TRUE(same_bytes(read_all(file.get()), data));

    // Adjacent, not overlapping: allowed, and exact.
    auto adjacent = copy_range(file.get(), 0, same_file.get(), 8192, 8192, caps_, report);
    ASSERT_TRUE(adjacent.has_value()) << std::strerror(adjacent.error());
    EXPECT_EQ(*adjacent, 8192u);
    EXPECT_TRUE(same_bytes(read_all(file.get()), expected_after_copy(data, data, 0, 8192, 8192)));
}

TEST_P(CopyRangeTest, RefusesWrongDescriptors) {
    auto src = open_file(path("src"));
    write_at(src.get(), 0, "some data");
    auto read_only = open_file(path("ro"), O_RDONLY | O_CREAT);
    auto append = open_file(path("append"), O_WRONLY | O_CREAT | O_APPEND);
    auto write_only_src = open_file(path("src"), O_WRONLY);
    auto dir = open_file(fs_->path(), O_RDONLY | O_DIRECTORY);
    CopyReport report;

    auto to_read_only = copy_range(src.get(), 0, read_only.get(), 0, 9, caps_, report);
    EXPECT_EQ(error_of(to_read_only), EBADF);
    auto to_append = copy_range(src.get(), 0, append.get(), 0, 9, caps_, report);
    EXPECT_EQ(error_of(to_append), EBADF);
    auto from_write_only = copy_range(write_only_src.get(), 0, read_only.get(), 0, 9, caps_, report);
    EXPECT_EQ(error_of(from_write_only), EBADF);
    auto from_dir = copy_range(dir.get(), 0, src.get(), 0, 9, caps_, report);
    EXPECT_EQ(error_of(from_dir), EISDIR);
    auto negative = copy_range(src.get(), -1, src.get(), 100, 9, caps_, report);
    EXPECT_EQ(error_of(negative), EINVAL);
}

TEST_P(CopyRangeTest, CopiesAcrossFilesystems) {
    std::string why;
    auto other = LoopFilesystem::create(FsType::tmpfs, 256 * MiB, &why);
    FASTFS_REQUIRE(other, why);
    std::string data = random_bytes(3 * MiB + 17, 11);
    auto src = open_file(other->path() / "src");
    write_at(src.get(), 0, data);
    ASSERT_TRUE(sys::truncate_fd(src.get(), off_t(8 * MiB)).has_value());  // a trailing hole
    data.resize(8 * MiB, '\0');
    auto dst = open_file(path("dst"));

    CopyReport report;
    auto copied = copy_range(src.get(), 0, dst.get(), 0, kHuge, caps_, report);
    ASSERT_TRUE(copied.has_value()) << std::strerror(copied.error());
    EXPECT_EQ(*copied, data.size());
    EXPECT_TRUE(same_bytes(read_all(dst.get()), data));
    EXPECT_EQ(report.bytes_reflinked, 0u);
    EXPECT_TRUE(report.fallbacks & kCrossFilesystem);
    EXPECT_EQ(report_total(report), *copied);
    EXPECT_GE(report.bytes_hole, 4 * MiB);
    EXPECT_LT(fastfs::test::allocated_bytes(path("dst")), 6 * MiB) << "the trailing hole was written";
    auto st_src = sys::stat_fd(src.get());
    auto st_dst = sys::stat_fd(dst.get());
    EXPECT_TRUE(caps_.refused(st_src->st_dev, st_dst->st_dev, CapabilityCache::kReflink));
}

FASTFS_ON_EACH_FILESYSTEM(CopyRangeTest);

}  // namespace
}  // namespace fastfs::copy::testing
