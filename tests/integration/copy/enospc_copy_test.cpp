// A copy that runs out of space part-way, through the mount, on a small XFS without reflink (so the copy
// really allocates): the caller sees ENOSPC or a short count, the bytes it was told were copied are
// right, the source is untouched and the mount keeps serving.
#include "copy_support.hpp"
#include "image_filesystem.hpp"

namespace fastfs::test::copy_it {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

TEST(EnospcCopy, CopyFileRangeFailsPartWayAndTheSourceIsUnchanged) {
    ScratchDir scratch("fastfs-copyint-enospc");
    std::string why;
    auto small =
        ImageFilesystem::create("mkfs.xfs -q -f -m reflink=0", 300 * kMiB, scratch.path() / "xfs", &why);
    FASTFS_REQUIRE(small, why);
    auto mount = FastfsMount::start(small->path(), {}, &why);
    FASTFS_REQUIRE(mount, why);
    auto dir = make_case(*mount, small->path(), "enospc");

    const uint64_t size = 200 * kMiB;
    auto fill = run("head -c " + std::to_string(size) + " /dev/urandom > " +
                    quote((dir.on_backing / "src").string()) + " && sync");
    ASSERT_EQ(fill.exit_code, 0) << fill.output;
    const std::string checksum_before = sha256_of(dir.on_backing / "src");
    auto errors_before = stats_counter(dir.mount_root, "copy_errors");
    ASSERT_TRUE(errors_before);

    auto py = python_copy(dir.via_mount / "src", dir.via_mount / "dst", {.loop = true});
    EXPECT_TRUE(!py.ok || py.copied < size) << "200 MiB more cannot fit: " << py.output;
    if (!py.ok) {
        EXPECT_EQ(py.error_name, "ENOSPC") << py.output;
    }
    std::cout << "[ info ] copy into a full XFS: " << py.output << "[ info ] destination size "
              << apparent_size(dir.via_mount / "dst") << ", allocated "
              << allocated_bytes(dir.on_backing / "dst") << "\n";

    EXPECT_EQ(sha256_of(dir.on_backing / "src"), checksum_before) << "the source changed on the backing";
    EXPECT_EQ(sha256_of(dir.via_mount / "src"), checksum_before) << "the source reads differently";
    // What the caller was told is copied must be there, byte for byte.
    auto source_prefix = read_at(dir.via_mount / "src", 0, py.copied);
    EXPECT_TRUE(same_bytes(read_at(dir.via_mount / "dst", 0, py.copied), source_prefix));
    // The mount still serves: stats answer, and freeing the space lets a small copy through.
    auto errors_after = stats_counter(dir.mount_root, "copy_errors");
    ASSERT_TRUE(errors_after) << "the mount stopped answering";
    if (!py.ok) {
        EXPECT_GT(*errors_after, *errors_before);
    }
    std::error_code ec;
    fs::remove(dir.via_mount / "dst", ec);
    EXPECT_FALSE(ec) << ec.message();
    auto small_copy = python_copy(dir.via_mount / "src", dir.via_mount / "again",
                                  {.off_in = 0, .off_out = 0, .length = int64_t(kMiB), .loop = true});
    EXPECT_TRUE(small_copy.ok) << small_copy.output;
    EXPECT_EQ(small_copy.copied, kMiB);
}

}  // namespace
}  // namespace fastfs::test::copy_it
