// copy_tree without FUSE: what a tree copy keeps, that it holds few descriptors on any depth, and that a
// failure or a cancellation leaves nothing beside the destination's parent's own entries. The same code runs
// in the daemon (tests/tools/treetest.py covers it through a mount, against cp -a).
#include "fastfs/copy/tree_copy.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <map>
#include <vector>

#include "copy_test_support.hpp"

namespace fastfs::copy::testing {
namespace {

// What a tree looks like, as a map from relative path to a description of the entry: type, mode, owner,
// mtime, size, link count, symlink target, contents' first bytes, user xattr.
using TreeImage = std::map<std::string, std::string>;

std::string describe(int dir, const std::string& name, const struct stat& st) {
    std::string text = std::to_string(st.st_mode) + " " + std::to_string(st.st_uid) + ":" +
                       std::to_string(st.st_gid) + " " + std::to_string(st.st_mtim.tv_sec) + "." +
                       std::to_string(st.st_mtim.tv_nsec) + " nlink " + std::to_string(st.st_nlink);
    if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = ::readlinkat(dir, name.c_str(), target, sizeof target);
        text += " -> " + std::string(target, size_t(std::max<ssize_t>(n, 0)));
    }
    if (S_ISREG(st.st_mode)) {
        auto fd = sys::open_at(dir, name.c_str(), O_RDONLY);
        text += " size " + std::to_string(st.st_size);
        if (fd) text += " data " + std::to_string(std::hash<std::string>()(read_all(fd->get())));
        char value[256];
        ssize_t n = fd ? ::fgetxattr(fd->get(), "user.tag", value, sizeof value) : -1;
        if (n >= 0) text += " tag " + std::string(value, size_t(n));
    }
    return text;
}

// Walks by descriptors, so paths longer than PATH_MAX work too.
void image_of(int dir, const std::string& prefix, TreeImage& image) {
    auto listing = sys::dup_fd(dir);
    DIR* stream = ::fdopendir(listing->release());
    ASSERT_NE(stream, nullptr);
    std::vector<std::string> names;
    while (auto* entry = ::readdir(stream)) {
        std::string name = entry->d_name;
        if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(stream);
    for (const auto& name : names) {
        auto st = sys::stat_at(dir, name.c_str());
        ASSERT_TRUE(st.has_value());
        image[prefix + name] = describe(dir, name, *st);
        if (S_ISDIR(st->st_mode)) {
            auto child = sys::open_at(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
            ASSERT_TRUE(child.has_value());
            image_of(child->get(), prefix + name + "/", image);
        }
    }
}

TreeImage image_of(const fs::path& top) {
    TreeImage image;
    auto fd = sys::open_at(AT_FDCWD, top.c_str(), O_RDONLY | O_DIRECTORY);
    EXPECT_TRUE(fd.has_value()) << top;
    if (fd) image_of(fd->get(), "", image);
    return image;
}

std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().filename() != "lost+found") names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

void set_times(const fs::path& path, time_t seconds, long nanoseconds) {
    const struct timespec times[2] = {{seconds, nanoseconds}, {seconds, nanoseconds}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

// A tree with one of everything copy_tree handles.
void make_tree(const fs::path& top) {
    fs::create_directories(top / "a" / "b");
    fs::create_directory(top / "empty-dir");
    fastfs::test::write_file(top / "a" / "dense", random_bytes(300 * KiB + 7, 1));
    fastfs::test::write_file(top / "a" / "b" / "empty", "");
    {
        auto fd = open_file(top / "sparse");
        write_at(fd.get(), off_t(8 * MiB), random_bytes(64 * KiB, 2));
        ASSERT_TRUE(sys::truncate_fd(fd.get(), off_t(32 * MiB)).has_value());
    }
    ASSERT_EQ(::setxattr((top / "a" / "dense").c_str(), "user.tag", "kept", 4, 0), 0);
    ASSERT_EQ(::link((top / "a" / "dense").c_str(), (top / "a" / "b" / "second-name").c_str()), 0);
    fs::create_symlink("../dense", top / "a" / "b" / "relative");
    fs::create_symlink("/etc/passwd", top / "absolute");
    fs::create_symlink("nowhere", top / "dangling");
    ASSERT_EQ(::mkfifo((top / "a" / "fifo").c_str(), 0640), 0);
    ASSERT_EQ(::chmod((top / "a" / "b").c_str(), 0555), 0);  // read-only: still copied into, then set
    ASSERT_EQ(::chown((top / "sparse").c_str(), 1234, 5678), 0);
    for (const char* name : {"a/dense", "sparse", "a/fifo", "absolute", "a/b", "a", "empty-dir", ""})
        set_times(top / name, 1200000000, 987654321);
}

sys::UniqueFd open_dir(const fs::path& path) {
    auto fd = sys::open_at(AT_FDCWD, path.c_str(), O_RDONLY | O_DIRECTORY);
    EXPECT_TRUE(fd.has_value()) << path;
    return fd ? std::move(*fd) : sys::UniqueFd();
}

class TreeCopyTest : public OnEachFilesystem {};

TEST_P(TreeCopyTest, KeepsWhatCpKeeps) {
    make_tree(path("src"));
    auto src = open_dir(path("src")), parent = open_dir(fs_->path());
    TreeCopyOptions options{.mode = TreeMode::kAuto, .measure_first = true};
    TreeCounts last_total;
    uint64_t calls = 0;
    options.progress = [&](const TreeCounts&, const TreeCounts& total) {
        last_total = total;
        ++calls;
    };
    auto copied = copy_tree(src.get(), parent.get(), "dst", options);
    ASSERT_TRUE(copied.has_value()) << std::strerror(copied.error().error) << " at " << copied.error().path;
    EXPECT_EQ(image_of(path("dst")), image_of(path("src")));
    EXPECT_EQ(copied->files, 3u);
    EXPECT_EQ(copied->hard_links, 1u);
    EXPECT_EQ(copied->directories, 4u);
    EXPECT_EQ(copied->symlinks, 3u);
    EXPECT_EQ(copied->specials, 1u);
    EXPECT_EQ(copied->bytes, 300 * KiB + 7 + 32 * MiB);
    EXPECT_GE(copied->bytes_holes, 24 * MiB) << "holes not kept";
    EXPECT_EQ(last_total.files, 3u);
    EXPECT_EQ(last_total.bytes, copied->bytes);
    EXPECT_GT(calls, 10u);
    EXPECT_LT(fastfs::test::allocated_bytes(path("dst") / "sparse"), 4 * MiB);
    if (shares_blocks(type())) {
        EXPECT_EQ(copied->bytes_copied, 0u);
        EXPECT_GT(fastfs::test::shared_extent_count(path("dst") / "a" / "dense"), 0);
    }
    EXPECT_EQ(names_in(fs_->path()), (std::vector<std::string>{"dst", "src"}));
}

TEST_P(TreeCopyTest, CloneModeSharesOrLeavesNothing) {
    make_tree(path("src"));
    auto src = open_dir(path("src")), parent = open_dir(fs_->path());
    auto cloned = copy_tree(src.get(), parent.get(), "dst", {.mode = TreeMode::kClone});
    if (shares_blocks(type())) {
        ASSERT_TRUE(cloned.has_value())
            << std::strerror(cloned.error().error) << " at " << cloned.error().path;
        EXPECT_EQ(cloned->bytes_copied, 0u);
        EXPECT_EQ(image_of(path("dst")), image_of(path("src")));
        EXPECT_EQ(names_in(fs_->path()), (std::vector<std::string>{"dst", "src"}));
    } else {
        ASSERT_FALSE(cloned.has_value());
        EXPECT_EQ(cloned.error().error, EOPNOTSUPP);
        EXPECT_FALSE(cloned.error().path.empty());
        EXPECT_EQ(names_in(fs_->path()), std::vector<std::string>{"src"}) << "a partial tree was left";
    }
}

TEST_P(TreeCopyTest, CancelledPartWayLeavesNothing) {
    fs::create_directories(path("src"));
    for (int i = 0; i < 40; ++i) {
        std::string name = "f";  // appended: GCC 12 -O3 warns falsely on "f" + to_string (bug 105329)
        name += std::to_string(i);
        fastfs::test::write_file(path("src") / name, random_bytes(4 * KiB, uint64_t(i)));
    }
    auto src = open_dir(path("src")), parent = open_dir(fs_->path());
    int asked = 0;
    TreeCopyOptions options{.cancelled = [&] { return ++asked > 20; }};
    auto copied = copy_tree(src.get(), parent.get(), "dst", options);
    ASSERT_FALSE(copied.has_value());
    EXPECT_EQ(copied.error().error, EINTR);
    EXPECT_EQ(names_in(fs_->path()), std::vector<std::string>{"src"});
}

TEST_P(TreeCopyTest, RefusesBadDestinations) {
    make_tree(path("src"));
    fs::create_directory(path("exists"));
    auto src = open_dir(path("src")), parent = open_dir(fs_->path()), inside = open_dir(path("src") / "a");
    EXPECT_EQ(copy_tree(src.get(), parent.get(), "exists").error().error, EEXIST);
    EXPECT_EQ(copy_tree(src.get(), parent.get(), "a/b").error().error, EINVAL);
    EXPECT_EQ(copy_tree(src.get(), parent.get(), "..").error().error, EINVAL);
    auto into_itself = copy_tree(src.get(), inside.get(), "copy");
    ASSERT_FALSE(into_itself.has_value());
    EXPECT_EQ(into_itself.error().error, EINVAL);
    EXPECT_EQ(names_in(path("src") / "a"), (std::vector<std::string>{"b", "dense", "fifo"}));
    EXPECT_EQ(names_in(fs_->path()), (std::vector<std::string>{"exists", "src"}));
}

INSTANTIATE_TEST_SUITE_P(Fs, TreeCopyTest, ::testing::Values(FsType::xfs, FsType::ext4), fs_name);

// Holds RLIMIT_NOFILE at `limit` for its lifetime.
class DescriptorLimit {
  public:
    explicit DescriptorLimit(rlim_t limit) {
        ::getrlimit(RLIMIT_NOFILE, &saved_);
        struct rlimit tight = saved_;
        tight.rlim_cur = limit;
        ::setrlimit(RLIMIT_NOFILE, &tight);
    }
    ~DescriptorLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }

  private:
    struct rlimit saved_ {};
};

int highest_open_fd() {
    int highest = 0;
    for (const auto& entry : fs::directory_iterator("/proc/self/fd"))
        highest = std::max(highest, std::stoi(entry.path().filename().string()));
    return highest;
}

// 60 levels of 120-byte names: paths of 7 KiB, beyond PATH_MAX, with files, a hard link across 50 levels
// and a symlink at the bottom, copied with no more than kTreeCopyMaxDescriptors descriptors to spare.
TEST(TreeCopyDeep, BoundedDescriptorsOnAnyDepth) {
    std::string why;
    auto xfs = LoopFilesystem::create(FsType::xfs, GiB, &why);
    FASTFS_REQUIRE(xfs, why);
    fs::create_directory(xfs->path() / "src");
    auto top = open_dir(xfs->path() / "src");
    auto parent = open_dir(xfs->path());
    const std::string long_name(120, 'd');
    sys::UniqueFd dir = *sys::dup_fd(top.get());
    for (int level = 0; level < 60; ++level) {
        std::string file = "file" + std::to_string(level);
        auto fd = sys::open_at(dir.get(), file.c_str(), O_CREAT | O_WRONLY, 0644);
        ASSERT_TRUE(fd.has_value());
        write_at(fd->get(), 0, random_bytes(5000, uint64_t(level)));
        if (level == 55) {
            ASSERT_EQ(::linkat(top.get(), "file0", dir.get(), "link-to-top", 0), 0);
        }
        ASSERT_EQ(::mkdirat(dir.get(), long_name.c_str(), 0755), 0);
        dir = *sys::open_at(dir.get(), long_name.c_str(), O_RDONLY | O_DIRECTORY);
    }
    ASSERT_EQ(::symlinkat("../../x", dir.get(), "bottom-link"), 0);
    dir.reset();

    std::expected<TreeCounts, TreeCopyError> copied;
    {
        DescriptorLimit limit(rlim_t(highest_open_fd()) + 1 + kTreeCopyMaxDescriptors);
        copied = copy_tree(top.get(), parent.get(), "dst", {.mode = TreeMode::kClone});
    }
    ASSERT_TRUE(copied.has_value()) << std::strerror(copied.error().error) << " at "
                                    << copied.error().path.substr(0, 200);
    EXPECT_EQ(copied->directories, 61u);
    EXPECT_EQ(copied->files, 60u);
    EXPECT_EQ(copied->hard_links, 1u);
    EXPECT_EQ(image_of(xfs->path() / "dst"), image_of(xfs->path() / "src"));
}

}  // namespace
}  // namespace fastfs::copy::testing
