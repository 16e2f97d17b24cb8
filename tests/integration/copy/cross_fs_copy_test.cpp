// One fastfs mount over a tree that holds two filesystems: an ext4 mounted on a directory of the backing
// XFS. A copy between them inside the fastfs mount is one FUSE mount to the kernel, so it reaches fastfs,
// whose backing copy gets EXDEV: fastfs must finish the copy itself and the user never sees EXDEV.
#include "copy_support.hpp"
#include "image_filesystem.hpp"

namespace fastfs::test::copy_it {
namespace {

constexpr uint64_t kKiB = 1ull << 10;
constexpr uint64_t kMiB = 1ull << 20;

struct TwoFilesystems {
    std::optional<LoopFilesystem> xfs;
    std::unique_ptr<ImageFilesystem> ext4;  // mounted at xfs/ext4-side
    std::optional<FastfsMount> mount;       // declared last: unmounted first, so ext4 is no longer busy
    std::string why;
};

// The ext4 is mounted before fastfs starts, so fastfs only ever sees the tree with both in it.
void set_up(TwoFilesystems& two) {
    if (auto xfs = LoopFilesystem::create(FsType::xfs, 1ull << 30, &two.why))
        two.xfs.emplace(std::move(*xfs));
    if (!two.xfs) return;
    two.ext4 = ImageFilesystem::create("mkfs.ext4 -q -F -E lazy_itable_init=1,lazy_journal_init=1",
                                       128 * kMiB, two.xfs->path() / "ext4-side", &two.why);
    if (!two.ext4) return;
    if (auto mount = FastfsMount::start(two.xfs->path(), {}, &two.why)) two.mount.emplace(std::move(*mount));
}

TEST(CrossFilesystemCopy, CpAndCopyFileRangeBetweenTheTwoBackingFilesystems) {
    TwoFilesystems two;
    set_up(two);
    FASTFS_REQUIRE(two.mount, two.why);
    const fs::path xfs_side = two.mount->path();
    const fs::path ext4_side = two.mount->path() / "ext4-side";
    ASSERT_TRUE(is_mounted(two.xfs->path() / "ext4-side", "ext4"));

    // Data, a hole, data, an unaligned tail.
    std::string data(5 * kMiB + 999, '\0');
    auto put = [&](const fs::path& file, uint64_t offset, const std::string& bytes) {
        write_at(file, offset, bytes);
        data.replace(offset, bytes.size(), bytes);
    };
    put(xfs_side / "src", 0, pattern_bytes(kMiB + 17, 41));
    put(xfs_side / "src", 3 * kMiB, pattern_bytes(2 * kMiB + 999, 42));
    auto cross_before = stats_counter(xfs_side, "fallback_cross_fs");
    ASSERT_TRUE(cross_before);

    auto cp = run("cp " + quote((xfs_side / "src").string()) + " " + quote((ext4_side / "by-cp").string()));
    ASSERT_EQ(cp.exit_code, 0) << cp.output;
    auto py = python_copy(xfs_side / "src", ext4_side / "by-python", {.loop = true});
    ASSERT_TRUE(py.ok) << "EXDEV must not reach the caller: " << py.output;
    EXPECT_EQ(py.copied, data.size());
    // And back, from ext4 to XFS, at unaligned offsets.
    auto back = python_copy(ext4_side / "by-python", xfs_side / "back",
                            {.off_in = 100 * kKiB + 1, .off_out = 3, .length = int64_t(4 * kMiB)});
    ASSERT_TRUE(back.ok) << back.output;
    EXPECT_EQ(back.copied, 4 * kMiB);

    EXPECT_TRUE(same_bytes(read_file(ext4_side / "by-cp"), data));
    EXPECT_TRUE(same_bytes(read_file(ext4_side / "by-python"), data));
    EXPECT_TRUE(same_bytes(read_file(two.ext4->path() / "by-cp"), data)) << "on the backing ext4";
    EXPECT_TRUE(same_bytes(read_file(two.ext4->path() / "by-python"), data)) << "on the backing ext4";
    std::string expected_back = std::string(3, '\0') + data.substr(100 * kKiB + 1, 4 * kMiB);
    EXPECT_TRUE(same_bytes(read_file(xfs_side / "back"), expected_back));
    EXPECT_TRUE(same_bytes(read_file(two.xfs->path() / "back"), expected_back));

    auto cross_after = stats_counter(xfs_side, "fallback_cross_fs");
    ASSERT_TRUE(cross_after);
    EXPECT_GT(*cross_after, *cross_before) << "the copies were not counted as cross-filesystem";
}

}  // namespace
}  // namespace fastfs::test::copy_it
