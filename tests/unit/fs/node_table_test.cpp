// The node table on real filesystems: the identity rule under inode-number reuse, removed inodes the
// kernel still holds, inode numbers across filesystems. Needs root (open_by_handle_at needs
// CAP_DAC_READ_SEARCH) and loop devices for the XFS and ext4 images, which recycle inode numbers at once.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <memory>

#include "fastfs/fs/node_table.hpp"
#include "gtest_support.hpp"

namespace fastfs::fs {
namespace {

using test::FsType;
using test::LoopFilesystem;

class NodeTableTest : public ::testing::TestWithParam<FsType> {
  protected:
    void SetUp() override {
        std::string why;
        backing_.emplace(LoopFilesystem::create(GetParam(), 512ull << 20, &why));
        FASTFS_REQUIRE(*backing_, why);
        auto table = NodeTable::open((*backing_)->path().string(), 64, 2);
        ASSERT_TRUE(table) << std::strerror(table.error());
        table_ = std::move(*table);
        FASTFS_REQUIRE(table_->uses_handles(), "no file handles (not root?)");
    }

    std::filesystem::path at(const std::string& name) const { return (*backing_)->path() / name; }
    static void make_file(const std::filesystem::path& path) { std::ofstream(path) << "data"; }
    static ino_t inode_of(const std::filesystem::path& path) {
        struct stat st {};
        EXPECT_EQ(::lstat(path.c_str(), &st), 0);
        return st.st_ino;
    }

    Entry lookup(const std::string& name) {
        auto entry = table_->lookup(table_->root(), name.c_str());
        EXPECT_TRUE(entry) << name << ": " << std::strerror(entry ? 0 : entry.error());
        return entry ? *entry : Entry{};
    }

    std::optional<std::optional<LoopFilesystem>>
        backing_;  // optional twice: LoopFilesystem is not assignable
    std::unique_ptr<NodeTable> table_;
};

TEST_P(NodeTableTest, OneInodeIsOneNode) {
    make_file(at("a"));
    Entry first = lookup("a");
    Entry again = lookup("a");
    ASSERT_EQ(::link(at("a").c_str(), at("hardlink").c_str()), 0);
    Entry linked = lookup("hardlink");
    EXPECT_EQ(first.node, again.node);
    EXPECT_EQ(first.node, linked.node);
    EXPECT_EQ(first.node->nlookup, 3u);
    EXPECT_NE(first.node->generation, 0u);
}

TEST_P(NodeTableTest, RecycledInodeNumberGetsANewNodeAndGeneration) {
    make_file(at("old"));
    Entry old = lookup("old");  // the kernel holds it from now on
    ino_t number = old.attr.st_ino;
    ASSERT_EQ(::unlink(at("old").c_str()), 0);
    // ext4 gives the freed number to the next new file; XFS once the other free slots of the inode chunk
    // are used (about a hundred creations).
    std::string reused;
    for (int i = 0; i < 2000 && reused.empty(); ++i) {
        std::string name = "new" + std::to_string(i);
        make_file(at(name));
        if (inode_of(at(name)) == number) reused = name;
    }
    FASTFS_REQUIRE(!reused.empty(), "the filesystem did not recycle inode " + std::to_string(number));
    Entry fresh = lookup(reused);
    EXPECT_EQ(fresh.node->key, old.node->key);  // the same (dev, ino)...
    EXPECT_NE(fresh.node, old.node);            // ...is another inode: another node id
    EXPECT_GT(fresh.node->generation, old.node->generation);
    EXPECT_NE(fresh.node->handle(), old.node->handle());
    EXPECT_EQ(table_->find_by_handle({fresh.node->key.dev, std::string(fresh.node->handle())}),
              table_->node_id(*fresh.node));
    EXPECT_EQ(table_->find_by_handle({old.node->key.dev, std::string(old.node->handle())}),
              table_->node_id(*old.node));
    // Forgetting the old node leaves the new one alone, and the new one keeps being found.
    size_t nodes = table_->node_count();
    table_->forget(*old.node, 1);
    EXPECT_EQ(table_->node_count(), nodes - 1);
    EXPECT_EQ(lookup(reused).node, fresh.node);
}

TEST_P(NodeTableTest, RemovedInodeTheKernelHoldsStaysReachableUntilForgotten) {
    make_file(at("victim"));
    Entry held = lookup("victim");
    struct stat st {};
    ASSERT_EQ(::lstat(at("victim").c_str(), &st), 0);
    auto pin = table_->prepare_removal(st);
    ASSERT_TRUE(pin);
    ASSERT_EQ(::unlink(at("victim").c_str()), 0);
    table_->keep_removed(std::move(*pin));
    EXPECT_EQ(table_->removed_pin_count(), 1u);

    auto fd = table_->path_fd(*held.node);
    ASSERT_TRUE(fd) << std::strerror(fd.error());
    struct stat after {};
    ASSERT_EQ(::fstat((*fd)->get(), &after), 0);
    EXPECT_EQ(after.st_nlink, 0u);
    auto reopened = table_->open_fd(*held.node, O_RDONLY);
    ASSERT_TRUE(reopened) << std::strerror(reopened.error());
    char buf[4];
    EXPECT_EQ(::pread(reopened->get(), buf, sizeof(buf), 0), 4);

    fd->reset();
    table_->forget(*held.node, 1);
    EXPECT_EQ(table_->removed_pin_count(), 0u);
}

TEST_P(NodeTableTest, RemovedInodesKeptAreBounded) {
    for (int i = 0; i < 3; ++i) {
        std::string name = "r";  // appended: GCC 12 -O3 warns falsely on "r" + to_string (bug 105329)
        name += std::to_string(i);
        make_file(at(name));
        lookup(name);
        struct stat st {};
        ASSERT_EQ(::lstat(at(name).c_str(), &st), 0);
        auto pin = table_->prepare_removal(st);
        ASSERT_TRUE(pin);
        ASSERT_EQ(::unlink(at(name).c_str()), 0);
        table_->keep_removed(std::move(*pin));
    }
    EXPECT_EQ(table_->removed_pin_count(), 2u);  // the capacity this table was opened with
}

TEST_P(NodeTableTest, NoPinForANameThatIsNotTheLast) {
    make_file(at("one"));
    ASSERT_EQ(::link(at("one").c_str(), at("two").c_str()), 0);
    lookup("one");
    struct stat st {};
    ASSERT_EQ(::lstat(at("one").c_str(), &st), 0);
    EXPECT_FALSE(table_->prepare_removal(st));
}

TEST_P(NodeTableTest, InodeNumbersOfInnerFilesystemsCarryTheirIndex) {
    struct stat root {};
    ASSERT_EQ(::stat((*backing_)->path().c_str(), &root), 0);
    EXPECT_EQ(table_->visible_ino(root.st_dev, 1234), 1234u);
    dev_t inner_a = root.st_dev + 1000, inner_b = root.st_dev + 2000;
    ino_t a = table_->visible_ino(inner_a, 1234);
    ino_t b = table_->visible_ino(inner_b, 1234);
    EXPECT_EQ(a, (ino_t(1) << 56) ^ 1234);
    EXPECT_EQ(b, (ino_t(2) << 56) ^ 1234);
    EXPECT_EQ(table_->visible_ino(inner_a, 1234), a);  // stable
}

INSTANTIATE_TEST_SUITE_P(ReusingFs, NodeTableTest, ::testing::Values(FsType::xfs, FsType::ext4),
                         [](const auto& param_info) {
                             return std::string(test::to_string(param_info.param));
                         });

}  // namespace
}  // namespace fastfs::fs
