// File attribute flags through the mount with the real tools: chattr/lsattr (FS_IOC_GETFLAGS/SETFLAGS) and
// xfs_io (FS_IOC_FSGETXATTR/FSSETXATTR) act on the backing file, as seen from the backing itself.
#include "copy_support.hpp"

namespace fastfs::test::copy_it {
namespace {

// The attribute letters of lsattr's first column ("---------------C------ path").
std::string lsattr_flags(const fs::path& path) {
    auto r = run("lsattr " + quote(path.string()));
    if (r.exit_code != 0) return "lsattr failed: " + r.output;
    return r.output.substr(0, r.output.find(' '));
}

// btrfs: No_COW must be set while a file is empty; a copy-heavy user does this for VM images.
TEST(FileFlags, ChattrNoCowOnANewEmptyBtrfsFile) {
    auto& env = shared_mount(FsType::btrfs);
    FASTFS_REQUIRE(env.ready(), env.why);
    auto dir = make_case(env, "nocow");
    write_at(dir.via_mount / "image", 0, "");
    auto set = run("chattr +C " + quote((dir.via_mount / "image").string()));
    ASSERT_EQ(set.exit_code, 0) << set.output;
    EXPECT_NE(lsattr_flags(dir.on_backing / "image").find('C'), std::string::npos)
        << lsattr_flags(dir.on_backing / "image");
    EXPECT_NE(lsattr_flags(dir.via_mount / "image").find('C'), std::string::npos)
        << lsattr_flags(dir.via_mount / "image");
    auto clear = run("chattr -C " + quote((dir.via_mount / "image").string()));
    ASSERT_EQ(clear.exit_code, 0) << clear.output;
    EXPECT_EQ(lsattr_flags(dir.on_backing / "image").find('C'), std::string::npos);
}

// The backing's refusal reaches the caller instead of a silent success.
TEST(FileFlags, UnsupportedFlagIsRefusedLikeOnTheBacking) {
    auto& env = shared_mount(FsType::xfs);
    FASTFS_REQUIRE(env.ready(), env.why);
    auto dir = make_case(env, "refused");
    write_at(dir.via_mount / "f", 0, "x");
    write_at(dir.on_backing / "g", 0, "x");
    auto native = run("chattr +C " + quote((dir.on_backing / "g").string()));
    auto via = run("chattr +C " + quote((dir.via_mount / "f").string()));
    EXPECT_EQ(via.exit_code != 0, native.exit_code != 0)
        << "native: " << native.output << "via: " << via.output;
    EXPECT_EQ(lsattr_flags(dir.on_backing / "f"), lsattr_flags(dir.on_backing / "g"));
}

TEST(FileFlags, XfsIoProjectIdAndNodumpThroughTheMount) {
    auto& env = shared_mount(FsType::xfs);
    FASTFS_REQUIRE(env.ready(), env.why);
    auto dir = make_case(env, "fsxattr");
    write_at(dir.via_mount / "f", 0, "data");
    auto chproj = run("xfs_io -c 'chproj 4242' " + quote((dir.via_mount / "f").string()));
    ASSERT_EQ(chproj.exit_code, 0) << chproj.output;
    auto native = run("xfs_io -r -c lsproj " + quote((dir.on_backing / "f").string()));
    EXPECT_NE(native.output.find("4242"), std::string::npos) << native.output;
    auto via = run("xfs_io -r -c lsproj " + quote((dir.via_mount / "f").string()));
    EXPECT_NE(via.output.find("4242"), std::string::npos) << via.output;

    auto nodump = run("chattr +d " + quote((dir.via_mount / "f").string()));
    ASSERT_EQ(nodump.exit_code, 0) << nodump.output;
    EXPECT_NE(lsattr_flags(dir.on_backing / "f").find('d'), std::string::npos);
    EXPECT_EQ(lsattr_flags(dir.via_mount / "f"), lsattr_flags(dir.on_backing / "f"));
}

}  // namespace
}  // namespace fastfs::test::copy_it
