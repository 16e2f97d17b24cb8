// Source holes stay holes: punched where the destination had data, never written past its end, and the
// destination still grows to the full copied length.
#include <fcntl.h>

#include "copy_test_support.hpp"

namespace fastfs::copy::testing {
namespace {

using HolesTest = OnEachFilesystem;

// A 2 MiB source: data [0, 256K) and [1M, 1.25M), holes elsewhere (including its tail).
std::string make_sparse_source(int fd) {
    std::string model(2 * MiB, '\0');
    std::string first = random_bytes(256 * KiB, 21), second = random_bytes(256 * KiB, 22);
    model.replace(0, first.size(), first);
    model.replace(MiB, second.size(), second);
    write_at(fd, 0, first);
    write_at(fd, off_t(MiB), second);
    EXPECT_TRUE(sys::truncate_fd(fd, off_t(2 * MiB)).has_value());
    EXPECT_TRUE(sys::sync_fd(fd, false).has_value());
    return model;
}

TEST_P(HolesTest, HolesOverDestinationDataReadZeroAndAreDeallocated) {
    for (bool allow_reflink : {true, false}) {
        SCOPED_TRACE(allow_reflink ? "reflink allowed" : "reflink not allowed");
        std::string tag = allow_reflink ? "r" : "n";
        auto src = open_file(path("src" + tag));
        std::string src_data = make_sparse_source(src.get());
        auto dst = open_file(path("dst" + tag));
        std::string dst_data(3 * MiB, '\xab');
        write_at(dst.get(), 0, dst_data);
        ASSERT_TRUE(sys::sync_fd(dst.get(), false).has_value());

        CopyReport report;
        CopyOptions options{.allow_reflink = allow_reflink};
        auto copied = copy_range(src.get(), 0, dst.get(), 0, 2 * MiB, caps_, report, options);
        ASSERT_TRUE(copied.has_value()) << std::strerror(copied.error());
        EXPECT_EQ(*copied, 2 * MiB);
        EXPECT_EQ(report_total(report), *copied);
        EXPECT_TRUE(same_bytes(read_all(dst.get()), expected_after_copy(dst_data, src_data, 0, 0, 2 * MiB)));
        EXPECT_TRUE(is_hole(dst.get(), off_t(256 * KiB), off_t(768 * KiB)))
            << "destination data was not punched";
        EXPECT_TRUE(is_hole(dst.get(), off_t(MiB + 256 * KiB), off_t(768 * KiB)));
        EXPECT_LE(fastfs::test::allocated_bytes(path("dst" + tag)), 1 * MiB + 512 * KiB);
        if (!(allow_reflink && shares_blocks(type()))) {
            EXPECT_EQ(report.bytes_hole, 2 * MiB - 512 * KiB);
            EXPECT_GE(report.holes_punched, 2u);
            EXPECT_EQ(report.bytes_reflinked, 0u);
        }
    }
}

TEST_P(HolesTest, TrailingHoleExtendsTheDestinationWithoutWriting) {
    auto src = open_file(path("src"));
    std::string head = random_bytes(100 * KiB, 31);
    write_at(src.get(), 0, head);
    ASSERT_TRUE(sys::truncate_fd(src.get(), off_t(64 * MiB)).has_value());
    auto dst = open_file(path("dst"));
    write_at(dst.get(), 0, "x");

    CopyReport report;
    auto copied = copy_range(src.get(), 0, dst.get(), off_t(4 * KiB), 64 * MiB, caps_, report,
                             CopyOptions{.allow_reflink = false});
    ASSERT_TRUE(copied.has_value()) << std::strerror(copied.error());
    EXPECT_EQ(*copied, 64 * MiB);
    EXPECT_EQ(size_of(dst.get()), off_t(4 * KiB + 64 * MiB));
    EXPECT_TRUE(same_bytes(read_at(dst.get(), off_t(4 * KiB), head.size()), head));
    EXPECT_TRUE(same_bytes(read_at(dst.get(), off_t(64 * MiB), 4 * KiB), std::string(4 * KiB, '\0')));
    EXPECT_TRUE(same_bytes(read_at(dst.get(), 1, 4 * KiB - 1), std::string(4 * KiB - 1, '\0')));
    EXPECT_TRUE(is_hole(dst.get(), off_t(1 * MiB), off_t(63 * MiB)));
    EXPECT_GE(report.bytes_hole, 63 * MiB);
    EXPECT_EQ(report_total(report), *copied);
}

TEST_P(HolesTest, SourceThatIsOneHoleCopiesAsHole) {
    auto src = open_file(path("src"));
    ASSERT_TRUE(sys::truncate_fd(src.get(), off_t(16 * MiB)).has_value());
    auto dst = open_file(path("dst"));
    std::string dst_data = random_bytes(1 * MiB, 41);
    write_at(dst.get(), 0, dst_data);

    CopyReport report;
    auto copied = copy_range(src.get(), off_t(4 * KiB), dst.get(), off_t(12 * KiB), 32 * MiB, caps_, report,
                             CopyOptions{.allow_reflink = false});
    ASSERT_TRUE(copied.has_value()) << std::strerror(copied.error());
    EXPECT_EQ(*copied, 16 * MiB - 4 * KiB);
    EXPECT_EQ(report.bytes_hole, *copied);
    std::string expected = dst_data.substr(0, 12 * KiB);
    expected.resize(12 * KiB + *copied, '\0');
    EXPECT_TRUE(same_bytes(read_all(dst.get()), expected));
}

FASTFS_ON_EACH_FILESYSTEM(HolesTest);

}  // namespace
}  // namespace fastfs::copy::testing
