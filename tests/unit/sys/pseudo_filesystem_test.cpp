#include "fastfs/sys/pseudo_filesystem.hpp"

#include <gtest/gtest.h>
#include <linux/magic.h>

namespace fastfs::sys {
namespace {

TEST(PseudoFilesystem, KnownByItsFType) {
    EXPECT_EQ(pseudo_filesystem_name(PROC_SUPER_MAGIC, ""), "proc");
    EXPECT_EQ(pseudo_filesystem_name(SYSFS_MAGIC, "sysfs"), "sysfs");
    EXPECT_EQ(pseudo_filesystem_name(DEVPTS_SUPER_MAGIC, ""), "devpts");
    EXPECT_EQ(pseudo_filesystem_name(CGROUP2_SUPER_MAGIC, ""), "cgroup2");
    EXPECT_EQ(pseudo_filesystem_name(CGROUP_SUPER_MAGIC, ""), "cgroup");
    EXPECT_EQ(pseudo_filesystem_name(TRACEFS_MAGIC, ""), "tracefs");
    EXPECT_EQ(pseudo_filesystem_name(BPF_FS_MAGIC, ""), "bpf");
    // f_type decides even when the mount's type says otherwise (or /proc is not there to say anything).
    EXPECT_EQ(pseudo_filesystem_name(PROC_SUPER_MAGIC, "ext4"), "proc");
}

TEST(PseudoFilesystem, KnownByItsMountTypeWhereFTypeCannotTell) {
    // devtmpfs reports tmpfs's f_type; configfs, fusectl and mqueue have none in <linux/magic.h>.
    EXPECT_EQ(pseudo_filesystem_name(TMPFS_MAGIC, "devtmpfs"), "devtmpfs");
    EXPECT_EQ(pseudo_filesystem_name(0x62656570, "configfs"), "configfs");
    EXPECT_EQ(pseudo_filesystem_name(0x65735543, "fusectl"), "fusectl");
    EXPECT_EQ(pseudo_filesystem_name(0x19800202, "mqueue"), "mqueue");
}

TEST(PseudoFilesystem, FilesystemsHoldingDataAreNotPseudo) {
    EXPECT_FALSE(pseudo_filesystem_name(TMPFS_MAGIC, "tmpfs"));  // /dev/shm, a container's /dev
    EXPECT_FALSE(pseudo_filesystem_name(TMPFS_MAGIC, ""));       // no mountinfo: only f_type decides
    EXPECT_FALSE(pseudo_filesystem_name(XFS_SUPER_MAGIC, "xfs"));
    EXPECT_FALSE(pseudo_filesystem_name(EXT4_SUPER_MAGIC, "ext4"));
    EXPECT_FALSE(pseudo_filesystem_name(BTRFS_SUPER_MAGIC, "btrfs"));
    EXPECT_FALSE(pseudo_filesystem_name(OVERLAYFS_SUPER_MAGIC, "overlay"));
    EXPECT_FALSE(pseudo_filesystem_name(RAMFS_MAGIC, "ramfs"));
    EXPECT_FALSE(pseudo_filesystem_name(HUGETLBFS_MAGIC, "hugetlbfs"));
    EXPECT_FALSE(pseudo_filesystem_name(AUTOFS_SUPER_MAGIC, "autofs"));
    EXPECT_FALSE(pseudo_filesystem_name(FUSE_SUPER_MAGIC, "fuse.sshfs"));
}

TEST(PseudoFilesystem, ProcIsProc) {
    auto proc = pseudo_filesystem_of("/proc/self");
    ASSERT_TRUE(proc) << proc.error();
    EXPECT_EQ(*proc, "proc");
    EXPECT_FALSE(pseudo_filesystem_of("/no/such/dir"));
}

TEST(PseudoFilesystem, RefusalIsOneLine) {
    EXPECT_EQ(pseudo_filesystem_refusal("backing /proc", "proc"),
              "backing /proc is on proc, a pseudo filesystem: fastfs serves files of a real filesystem");
}

}  // namespace
}  // namespace fastfs::sys
