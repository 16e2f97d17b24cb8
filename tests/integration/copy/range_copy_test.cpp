// os.copy_file_range through the mount with offsets and lengths that are not block-aligned, over
// destinations that already hold data: every result is compared with the bytes the test builds itself.
#include "copy_support.hpp"

namespace fastfs::test::copy_it {
namespace {

constexpr uint64_t kKiB = 1ull << 10;
constexpr uint64_t kMiB = 1ull << 20;

// The source: data, a hole, data, a hole, a short data tail (3 MiB + 5 bytes in all).
struct SourceFile {
    std::string bytes;  // what reading it returns, holes as zeros
};

SourceFile make_source(const fs::path& path) {
    SourceFile source{std::string(3 * kMiB + 5, '\0')};
    auto put = [&](uint64_t offset, std::string data) {
        write_at(path, offset, data);
        source.bytes.replace(offset, data.size(), data);
    };
    put(0, pattern_bytes(64 * kKiB + 100, 11));
    put(kMiB + 4096 - 7, pattern_bytes(200 * kKiB, 12));
    put(3 * kMiB, pattern_bytes(5, 13));
    return source;
}

// What copy_file_range must leave in the destination, like the syscall: never past the source's EOF,
// a destination gap before off_out reads as zeros.
std::string expected_after_copy(const std::string& source, std::string destination, const CopyRange& range,
                                uint64_t* copied) {
    uint64_t available = range.off_in < source.size() ? source.size() - range.off_in : 0;
    *copied = std::min<uint64_t>(uint64_t(range.length), available);
    if (*copied == 0) return destination;
    if (destination.size() < range.off_out + *copied) destination.resize(range.off_out + *copied, '\0');
    destination.replace(range.off_out, *copied, source, range.off_in, *copied);
    return destination;
}

class RangeCopy : public ::testing::TestWithParam<FsType> {
  protected:
    // Copies `range` of a fresh source into a fresh destination that holds `destination_size` bytes of data,
    // and checks the reply and the destination through the mount and on the backing.
    void copy_and_check(const std::string& name, uint64_t destination_size, CopyRange range) {
        auto& env = shared_mount(GetParam());
        FASTFS_REQUIRE(env.ready(), env.why);
        auto dir = make_case(env, name);
        auto source = make_source(dir.via_mount / "src");
        const std::string old_destination = pattern_bytes(destination_size, 21);
        write_at(dir.via_mount / "dst", 0, old_destination);
        uint64_t expected_count = 0;
        const std::string expected =
            expected_after_copy(source.bytes, old_destination, range, &expected_count);

        // Read and stat the destination first, so stale cached pages or a stale cached size would show.
        ASSERT_EQ(read_file(dir.via_mount / "dst").size(), destination_size);
        range.loop = false;  // one call: its count is the reply of the FUSE request(s) for this range
        auto py = python_copy(dir.via_mount / "src", dir.via_mount / "dst", range);
        ASSERT_TRUE(py.ok) << py.output;
        EXPECT_EQ(py.copied, expected_count);
        EXPECT_EQ(apparent_size(dir.via_mount / "dst"), expected.size()) << "size seen through the mount";
        EXPECT_TRUE(same_bytes(read_file(dir.via_mount / "dst"), expected)) << "through the mount";
        EXPECT_TRUE(same_bytes(read_file(dir.on_backing / "dst"), expected)) << "on the backing";
        EXPECT_TRUE(same_bytes(read_file(dir.via_mount / "src"), source.bytes)) << "the source changed";
    }
};

// Aligned, the whole source over a longer dense destination: the source's holes must read as zeros.
TEST_P(RangeCopy, HolesOverwriteDestinationData) {
    copy_and_check("holes-over-data", 4 * kMiB, {.off_in = 0, .off_out = 0, .length = 3 * kMiB + 5});
}

// Only a hole of the source, aligned, into the middle of dense data.
TEST_P(RangeCopy, PureHoleIntoData) {
    copy_and_check("pure-hole", 4 * kMiB,
                   {.off_in = 128 * kKiB, .off_out = 256 * kKiB, .length = 512 * kKiB});
}

TEST_P(RangeCopy, UnalignedIntoTheMiddle) {
    copy_and_check("unaligned-middle", 4 * kMiB, {.off_in = 1000, .off_out = 3001, .length = 2 * kMiB + 777});
}

// Same misalignment on both sides (source and destination offsets differ by whole blocks).
TEST_P(RangeCopy, EquallyMisalignedOffsets) {
    copy_and_check("equal-misalign", 4 * kMiB,
                   {.off_in = 4096 + 100, .off_out = 3 * 4096 + 100, .length = 2 * kMiB});
}

TEST_P(RangeCopy, ExtendsTheDestination) {
    copy_and_check("extend", 100 * kKiB,
                   {.off_in = 3 * 4096 + 1, .off_out = 100 * kKiB - 10, .length = kMiB + kMiB / 2});
}

TEST_P(RangeCopy, PastTheDestinationsEndLeavesZeros) {
    copy_and_check("gap", 10 * kKiB, {.off_in = 64 * kKiB, .off_out = kMiB + 3, .length = 200 * kKiB});
}

TEST_P(RangeCopy, StopsAtTheSourcesEnd) {
    copy_and_check("short", 4 * kMiB,
                   {.off_in = 3 * kMiB + 5 - 1000, .off_out = 77, .length = int64_t(kMiB)});
}

TEST_P(RangeCopy, AtTheSourcesEndCopiesNothing) {
    copy_and_check("at-eof", 64 * kKiB, {.off_in = 3 * kMiB + 5, .off_out = 0, .length = 4096});
}

// Within one file, ranges that do not overlap (XFS/btrfs: a clone inside the file).
TEST_P(RangeCopy, WithinOneFile) {
    auto& env = shared_mount(GetParam());
    FASTFS_REQUIRE(env.ready(), env.why);
    auto dir = make_case(env, "same-file");
    auto source = make_source(dir.via_mount / "f");
    const CopyRange range{.off_in = 4096, .off_out = 3 * kMiB + 4096, .length = int64_t(kMiB + 4096 + 33)};
    uint64_t expected_count = 0;
    const std::string expected = expected_after_copy(source.bytes, source.bytes, range, &expected_count);
    auto py = python_copy(dir.via_mount / "f", dir.via_mount / "f", range);
    ASSERT_TRUE(py.ok) << py.output;
    EXPECT_EQ(py.copied, expected_count);
    EXPECT_TRUE(same_bytes(read_file(dir.via_mount / "f"), expected));
    EXPECT_TRUE(same_bytes(read_file(dir.on_backing / "f"), expected));
    auto overlapping = python_copy(dir.via_mount / "f", dir.via_mount / "f",
                                   {.off_in = 0, .off_out = 4096, .length = int64_t(kMiB)});
    EXPECT_EQ(overlapping.error_name, "EINVAL") << overlapping.output;
}

INSTANTIATE_TEST_SUITE_P(Ranges, RangeCopy, ::testing::Values(FsType::xfs, FsType::ext4, FsType::btrfs),
                         fs_type_name);

}  // namespace
}  // namespace fastfs::test::copy_it
