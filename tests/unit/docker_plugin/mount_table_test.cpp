#include "fastfs/docker_plugin/mount_table.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace fastfs::docker_plugin {
namespace {

TEST(MountTable, ParsesFieldsAndDecodesEscapes) {
    std::istringstream in(
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
        "41 22 7:2 /models /srv/my\\040data rw - xfs /dev/loop2 rw,attr2\n"
        "garbage\n"
        "57 41 0:52 / /run/x rw,nosuid master:3 - fuse.fastfs /srv rw,user_id=0\n");
    auto table = parse_mountinfo(in);
    ASSERT_EQ(table.size(), 3u);
    EXPECT_EQ(table[1].id, 41u);
    EXPECT_EQ(table[1].device, "7:2");
    EXPECT_EQ(table[1].root, "/models");
    EXPECT_EQ(table[1].mount_point, "/srv/my data");
    EXPECT_EQ(table[1].fstype, "xfs");
    EXPECT_EQ(table[2].fstype, "fuse.fastfs");  // optional fields before " - " are skipped
    EXPECT_EQ(table[2].source, "/srv");
}

TEST(MountTable, TopmostMountWins) {
    std::istringstream in(
        "30 1 0:40 / /mnt rw - tmpfs tmpfs rw\n"
        "31 30 0:41 / /mnt rw - fuse.fastfs /x rw\n");
    auto table = parse_mountinfo(in);
    auto top = mount_at(table, "/mnt");
    ASSERT_TRUE(top);
    EXPECT_EQ(top->id, 31u);
    EXPECT_FALSE(mount_at(table, "/other"));
}

TEST(MountTable, WithinComparesWholeComponents) {
    EXPECT_TRUE(is_within("/run/p/fs/1", "/run/p"));
    EXPECT_TRUE(is_within("/run/p", "/run/p"));
    EXPECT_TRUE(is_within("/run/p/", "/run/p"));
    EXPECT_FALSE(is_within("/run/plugin", "/run/p"));
    EXPECT_FALSE(is_within("/run", "/run/p"));
    EXPECT_TRUE(is_within("/anything", "/"));
}

TEST(MountTable, MountOfFindsThisProcesssRoot) {
    auto root = mount_of("/");
    ASSERT_TRUE(root) << root.error();
    EXPECT_EQ(root->mount_point, "/");
}

}  // namespace
}  // namespace fastfs::docker_plugin
