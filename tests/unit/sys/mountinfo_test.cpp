#include "fastfs/sys/mountinfo.hpp"

#include <gtest/gtest.h>

namespace fastfs::sys {
namespace {

TEST(Mountinfo, ParsesALineAndDecodesItsPaths) {
    auto line = parse_mountinfo_line(
        "41 22 7:2 /my\\134models /srv/my\\040data rw shared:4 master:3 - xfs /dev/loop\\0402 rw,attr2");
    ASSERT_TRUE(line);
    EXPECT_EQ(line->id, 41u);
    EXPECT_EQ(line->device, "7:2");
    EXPECT_EQ(line->root, "/my\\models");
    EXPECT_EQ(line->mount_point, "/srv/my data");
    EXPECT_EQ(line->fstype, "xfs");  // after the optional fields and the " - " separator
    EXPECT_EQ(line->source, "/dev/loop 2");
}

TEST(Mountinfo, RefusesLinesThatDoNotParse) {
    EXPECT_FALSE(parse_mountinfo_line(""));
    EXPECT_FALSE(parse_mountinfo_line("garbage"));
    EXPECT_FALSE(parse_mountinfo_line("22 1 8:1 / / rw,relatime shared:1"));  // no " - "
    EXPECT_FALSE(parse_mountinfo_line("22 1 8:1 / / rw - ext4"));             // no source
}

TEST(Mountinfo, MountOfRootIsFound) {
    auto root = mount_of("/");
    ASSERT_TRUE(root) << root.error();
    EXPECT_EQ(root->mount_point, "/");
    EXPECT_FALSE(mount_of("/no/such/path"));
}

}  // namespace
}  // namespace fastfs::sys
