// On filesystems that share blocks (XFS reflink=1, btrfs), a copy made inside the mount by an ordinary
// client must become a reflink on the backing: cp (coreutils: FICLONE fails on FUSE, then
// copy_file_range) and a plain os.copy_file_range loop.
#include "copy_support.hpp"

namespace fastfs::test::copy_it {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

class ReflinkCopy : public ::testing::TestWithParam<FsType> {};

TEST_P(ReflinkCopy, CpAndCopyFileRangeShareExtentsWithTheSource) {
    auto& env = shared_mount(GetParam());
    FASTFS_REQUIRE(env.ready(), env.why);
    auto dir = make_case(env, "reflink");
    // A tail that is not block-aligned: the clone must reach the source's EOF, not stop a block short.
    const std::string data = pattern_bytes(8 * kMiB + 12345, 1);
    write_at(dir.via_mount / "src", 0, data);
    auto reflinked_before = stats_counter(dir.mount_root, "copy_bytes_reflinked");
    ASSERT_TRUE(reflinked_before) << fastfs_tool("stats " + dir.mount_root.string() + " --json").output;

    auto cp = run("cp " + quote((dir.via_mount / "src").string()) + " " +
                  quote((dir.via_mount / "by-cp").string()));
    ASSERT_EQ(cp.exit_code, 0) << cp.output;
    auto py = python_copy(dir.via_mount / "src", dir.via_mount / "by-python", {.loop = true});
    ASSERT_TRUE(py.ok) << py.output;
    EXPECT_EQ(py.copied, data.size());

    for (const char* name : {"by-cp", "by-python"}) {
        SCOPED_TRACE(name);
        EXPECT_TRUE(same_bytes(read_file(dir.via_mount / name), data));
        EXPECT_TRUE(same_bytes(read_file(dir.on_backing / name), data));
        EXPECT_GT(shared_extent_count(dir.on_backing / name), 0) << "the copy does not share extents";
    }
    EXPECT_GT(shared_extent_count(dir.on_backing / "src"), 0);
    auto reflinked_after = stats_counter(dir.mount_root, "copy_bytes_reflinked");
    ASSERT_TRUE(reflinked_after);
    EXPECT_GE(*reflinked_after - *reflinked_before, 2 * (data.size() / 4096) * 4096)
        << "copy_bytes_reflinked did not grow by the two copies";
}

TEST_P(ReflinkCopy, WritingTheCopyLeavesTheSourceAlone) {
    auto& env = shared_mount(GetParam());
    FASTFS_REQUIRE(env.ready(), env.why);
    auto dir = make_case(env, "cow");
    const std::string data = pattern_bytes(2 * kMiB, 2);
    write_at(dir.via_mount / "src", 0, data);
    auto cp =
        run("cp " + quote((dir.via_mount / "src").string()) + " " + quote((dir.via_mount / "dst").string()));
    ASSERT_EQ(cp.exit_code, 0) << cp.output;
    const std::string patch = pattern_bytes(10000, 3);
    write_at(dir.via_mount / "dst", 4096 * 3 + 17, patch);

    EXPECT_TRUE(same_bytes(read_file(dir.via_mount / "src"), data));
    EXPECT_TRUE(same_bytes(read_file(dir.on_backing / "src"), data));
    std::string expected = data;
    expected.replace(4096 * 3 + 17, patch.size(), patch);
    EXPECT_TRUE(same_bytes(read_file(dir.via_mount / "dst"), expected));
}

INSTANTIATE_TEST_SUITE_P(Reflink, ReflinkCopy, ::testing::Values(FsType::xfs, FsType::btrfs), fs_type_name);

}  // namespace
}  // namespace fastfs::test::copy_it
