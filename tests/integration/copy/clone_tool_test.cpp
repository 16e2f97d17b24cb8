// `fastfs clone SRC DST` inside the mount: shares all blocks where the backing can (XFS, btrfs), and where
// it cannot (ext4, tmpfs) fails cleanly: a clear message, a non-zero exit, no DST, no temporary file.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <cerrno>
#include <cstring>

#include "copy_support.hpp"

namespace fastfs::test::copy_it {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

std::vector<std::string> names_in(const fs::path& directory) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(directory))
        names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

CommandResult clone_inside(const CaseDir& dir) {
    return fastfs_tool("clone " + quote((dir.via_mount / "src").string()) + " " +
                       quote((dir.via_mount / "dst").string()));
}

class CloneSucceeds : public ::testing::TestWithParam<FsType> {};

TEST_P(CloneSucceeds, DestinationSharesAllBlocks) {
    auto& env = shared_mount(GetParam());
    FASTFS_REQUIRE(env.ready(), env.why);
    auto dir = make_case(env, "clone");
    const std::string data = pattern_bytes(3 * kMiB + 333, 31);
    write_at(dir.via_mount / "src", 0, data);
    auto clones_before = stats_counter(dir.mount_root, "clone_requests");

    auto clone = clone_inside(dir);
    ASSERT_EQ(clone.exit_code, 0) << clone.output;
    EXPECT_TRUE(same_bytes(read_file(dir.via_mount / "dst"), data));
    EXPECT_TRUE(same_bytes(read_file(dir.on_backing / "dst"), data));
    EXPECT_GT(shared_extent_count(dir.on_backing / "dst"), 0);
    EXPECT_EQ(names_in(dir.via_mount), (std::vector<std::string>{"dst", "src"}))
        << "a temporary file is left";
    auto clones_after = stats_counter(dir.mount_root, "clone_requests");
    ASSERT_TRUE(clones_before && clones_after);
    EXPECT_GT(*clones_after, *clones_before);
}

class CloneRefused : public ::testing::TestWithParam<FsType> {};

TEST_P(CloneRefused, FailsClearlyAndLeavesNothing) {
    auto& env = shared_mount(GetParam());
    FASTFS_REQUIRE(env.ready(), env.why);
    auto dir = make_case(env, "noclone");
    const std::string data = pattern_bytes(kMiB, 32);
    write_at(dir.via_mount / "src", 0, data);

    auto clone = clone_inside(dir);
    EXPECT_NE(clone.exit_code, 0) << clone.output;
    EXPECT_NE(clone.output.find("cannot clone"), std::string::npos) << clone.output;
    EXPECT_NE(clone.output.find("share blocks"), std::string::npos)
        << "the message should say the filesystem cannot share blocks: " << clone.output;
    EXPECT_EQ(clone.output.find('\n'), clone.output.size() - 1) << "one line expected: " << clone.output;
    EXPECT_EQ(names_in(dir.via_mount), std::vector<std::string>{"src"});
    EXPECT_EQ(names_in(dir.on_backing), std::vector<std::string>{"src"});
    EXPECT_TRUE(same_bytes(read_file(dir.via_mount / "src"), data));
}

// A clone lands as `fastfs copy` lands a copy: with the source's owner, xattrs, mode and times.
TEST_P(CloneSucceeds, DestinationKeepsOwnerXattrsModeAndTimes) {
    auto& env = shared_mount(GetParam());
    FASTFS_REQUIRE(env.ready(), env.why);
    auto dir = make_case(env, "clone-meta");
    const fs::path src = dir.via_mount / "src";
    write_at(src, 0, pattern_bytes(kMiB, 33));
    ASSERT_EQ(::setxattr(src.c_str(), "user.origin", "model-cache", 11, 0), 0) << std::strerror(errno);
    ASSERT_EQ(::chown(src.c_str(), 1234, 5678), 0) << std::strerror(errno);
    ASSERT_EQ(::chmod(src.c_str(), 0640), 0);
    const struct timespec times[2] = {{1'500'000'000, 123'456'789}, {1'400'000'000, 987'654'321}};
    ASSERT_EQ(::utimensat(AT_FDCWD, src.c_str(), times, 0), 0);

    auto clone = clone_inside(dir);
    ASSERT_EQ(clone.exit_code, 0) << clone.output;
    struct stat st {};
    ASSERT_EQ(::stat((dir.on_backing / "dst").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 1234u);
    EXPECT_EQ(st.st_gid, 5678u);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_EQ(st.st_mtim.tv_sec, 1'400'000'000);
    EXPECT_EQ(st.st_mtim.tv_nsec, 987'654'321);
    char value[32] = {};
    EXPECT_EQ(::getxattr((dir.on_backing / "dst").c_str(), "user.origin", value, sizeof(value)), 11);
    EXPECT_EQ(std::string(value), "model-cache");
}

INSTANTIATE_TEST_SUITE_P(Clone, CloneSucceeds, ::testing::Values(FsType::xfs, FsType::btrfs), fs_type_name);
INSTANTIATE_TEST_SUITE_P(Clone, CloneRefused, ::testing::Values(FsType::ext4, FsType::tmpfs), fs_type_name);

}  // namespace
}  // namespace fastfs::test::copy_it
