// Big and sparse files: offsets past 4 GiB, an 8 GiB file with a few MiB of data, and running out of
// space part-way.
#include <fcntl.h>

#include <functional>
#include <vector>

#include "copy_test_support.hpp"

namespace fastfs::copy::testing {
namespace {

struct Piece {
    uint64_t offset;
    std::string data;
};

// Data pieces at scattered offsets, some straddling the 4 GiB line, one ending the file unaligned.
std::vector<Piece> scattered_pieces(uint64_t file_size, uint64_t seed) {
    const uint64_t offsets[] = {0, 1 * GiB + 4097, 4 * GiB - 100, 4 * GiB + 2 * MiB + 12345,
                                file_size - 1 * MiB - 333};
    std::vector<Piece> pieces;
    for (uint64_t off : offsets) {
        if (off + 1 * MiB > file_size) continue;
        pieces.push_back({off, random_bytes(1 * MiB, seed++)});
    }
    pieces.push_back({file_size - 333, random_bytes(333, seed)});
    return pieces;
}

// Reads back every piece, and a few places between them that must be zero.
void expect_pieces(int fd, const std::vector<Piece>& pieces, uint64_t off_delta) {
    for (const Piece& p : pieces) {
        EXPECT_TRUE(same_bytes(read_at(fd, off_t(p.offset + off_delta), p.data.size()), p.data))
            << "piece at " << p.offset;
    }
    for (uint64_t zero_at : {uint64_t(512 * MiB), 3 * GiB, 4 * GiB + 64 * MiB}) {
        EXPECT_TRUE(
            same_bytes(read_at(fd, off_t(zero_at + off_delta), 64 * KiB), std::string(64 * KiB, '\0')))
            << zero_at;
    }
}

class BigFileTest : public OnEachFilesystem {
  protected:
    uint64_t image_bytes() const override { return 8 * GiB; }
};

TEST_P(BigFileTest, FilePastFourGiBCopiesCorrectly) {
    const uint64_t file_size = 5 * GiB + 777;
    auto src = open_file(path("src"));
    // tmpfs would really allocate the memory; elsewhere this makes unwritten extents.
    if (type() != FsType::tmpfs) {
        ASSERT_TRUE(sys::allocate(src.get(), 0, 0, off_t(file_size)).has_value());
    } else {
        ASSERT_TRUE(sys::truncate_fd(src.get(), off_t(file_size)).has_value());
    }
    auto pieces = scattered_pieces(file_size, 100);
    for (const Piece& p : pieces)
        write_at(src.get(), off_t(p.offset), p.data);

    for (bool allow_reflink : {true, false}) {
        SCOPED_TRACE(allow_reflink ? "reflink allowed" : "reflink not allowed");
        auto dst = open_file(path(allow_reflink ? "dst-r" : "dst-n"));
        CopyReport report;
        uint64_t done = 0;
        // In FUSE-sized requests (the kernel caps one at 4 GiB), so offsets cross the 32-bit line.
        while (done < file_size) {
            auto copied = copy_range(src.get(), off_t(done), dst.get(), off_t(done), 2 * GiB - 4096, caps_,
                                     report, CopyOptions{.allow_reflink = allow_reflink});
            ASSERT_TRUE(copied.has_value()) << std::strerror(copied.error());
            ASSERT_GT(*copied, 0u);
            done += *copied;
        }
        EXPECT_EQ(done, file_size);
        EXPECT_EQ(size_of(dst.get()), off_t(file_size));
        EXPECT_EQ(report_total(report), file_size);
        expect_pieces(dst.get(), pieces, 0);
        if (allow_reflink && shares_blocks(type())) {
            EXPECT_GT(report.bytes_reflinked, 0u);
        }
    }

    // And once more from an offset past 4 GiB to an unaligned spot at the start of another file.
    auto low = open_file(path("low"));
    CopyReport report;
    auto copied =
        copy_range(src.get(), off_t(4 * GiB + 2 * MiB + 12345), low.get(), 7, 1 * MiB, caps_, report);
    ASSERT_TRUE(copied.has_value()) << std::strerror(copied.error());
    EXPECT_EQ(*copied, 1 * MiB);
    EXPECT_TRUE(same_bytes(read_at(low.get(), 7, MiB), pieces[3].data));
}

TEST_P(BigFileTest, SparseEightGiBFileKeepsItsAllocation) {
    const uint64_t file_size = 8 * GiB;
    auto src = open_file(path("src"));
    ASSERT_TRUE(sys::truncate_fd(src.get(), off_t(file_size)).has_value());
    auto pieces = scattered_pieces(file_size, 200);
    for (const Piece& p : pieces)
        write_at(src.get(), off_t(p.offset), p.data);
    ASSERT_TRUE(sys::sync_fd(src.get(), false).has_value());
    uint64_t src_allocated = fastfs::test::allocated_bytes(path("src"));

    auto dst = open_file(path("dst"));
    CopyReport report;
    auto copied =
        copy_range(src.get(), 0, dst.get(), 0, file_size, caps_, report, CopyOptions{.allow_reflink = false});
    ASSERT_TRUE(copied.has_value()) << std::strerror(copied.error());
    EXPECT_EQ(*copied, file_size);
    ASSERT_TRUE(sys::sync_fd(dst.get(), false).has_value());
    uint64_t dst_allocated = fastfs::test::allocated_bytes(path("dst"));
    EXPECT_GE(dst_allocated, 5 * MiB);
    EXPECT_LE(dst_allocated, src_allocated + 1 * MiB) << "holes were filled";
    EXPECT_GE(report.bytes_hole, file_size - 8 * MiB);
    EXPECT_EQ(report_total(report), file_size);
    expect_pieces(dst.get(), pieces, 0);
}

FASTFS_ON_EACH_FILESYSTEM(BigFileTest);

size_t content_hash(int fd) {
    return std::hash<std::string>{}(read_all(fd));
}

// Copies until the destination is full: a partial count first, then ENOSPC; the copied prefix is exact
// and the source untouched.
void copy_until_full(int src, int dst, uint64_t src_size, const CopyOptions& options) {
    CapabilityCache caps;
    size_t src_hash = content_hash(src);
    std::string src_data = read_all(src);
    uint64_t done = 0;
    int error = 0;
    while (done < src_size) {
        CopyReport report;
        auto copied = copy_range(src, off_t(done), dst, off_t(done), src_size - done, caps, report, options);
        if (!copied) {
            error = copied.error();
            break;
        }
        ASSERT_GT(*copied, 0u);
        EXPECT_EQ(report_total(report), *copied);
        done += *copied;
    }
    EXPECT_EQ(error, ENOSPC);
    EXPECT_LT(done, src_size);
    EXPECT_GE(size_of(dst), off_t(done));
    EXPECT_TRUE(same_bytes(read_at(dst, 0, done), src_data.substr(0, done))) << "the copied prefix is wrong";
    EXPECT_EQ(content_hash(src), src_hash) << "the source changed";
}

TEST(CopyOutOfSpace, SmallExt4FromTmpfs) {
    std::string why;
    auto source_fs = LoopFilesystem::create(FsType::tmpfs, 256 * MiB, &why);
    FASTFS_REQUIRE(source_fs, why);
    auto small = LoopFilesystem::create(FsType::ext4, 64 * MiB, &why);
    FASTFS_REQUIRE(small, why);
    const uint64_t size = 96 * MiB;
    auto src = open_file(source_fs->path() / "src");
    write_at(src.get(), 0, random_bytes(size, 51));
    auto dst = open_file(small->path() / "dst");
    copy_until_full(src.get(), dst.get(), size, CopyOptions{});
}

TEST(CopyOutOfSpace, XfsWithinOneFilesystemWithoutReflink) {
    std::string why;
    auto xfs = LoopFilesystem::create(FsType::xfs, 300 * MiB, &why);
    FASTFS_REQUIRE(xfs, why);
    const uint64_t size = 160 * MiB;
    auto src = open_file(xfs->path() / "src");
    write_at(src.get(), 0, random_bytes(size, 52));
    ASSERT_TRUE(sys::sync_fd(src.get(), false).has_value());
    auto dst = open_file(xfs->path() / "dst");
    copy_until_full(src.get(), dst.get(), size, CopyOptions{.allow_reflink = false});
}

}  // namespace
}  // namespace fastfs::copy::testing
