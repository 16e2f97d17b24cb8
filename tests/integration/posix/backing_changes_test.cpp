// Changes made directly in the backing directory, by another process, while the kernel caches names,
// attributes, data and listings of the mount for long: the backing watcher must make them visible through
// the mount at once (docs/consistency.md). The control case shows the same caches hiding the changes when
// nothing invalidates them, so the watched cases cannot pass by accident.
#include <sys/stat.h>

#include <set>

#include <thread>

#include "fixtures.hpp"
#include "gtest_support.hpp"

namespace fastfs::test {
namespace {

using namespace std::chrono_literals;

// Long enough that only an invalidation, never a timeout, can explain a change showing up in time.
constexpr auto kSeenAtOnce = 2s;

struct Setup {
    std::optional<LoopFilesystem> backing_fs;
    fs::path backing;
    std::optional<FastfsMount> mount;
    std::string why;
};

Setup mount_over(FsType type, const std::vector<std::string>& args, const std::string& subvolume = "") {
    Setup s;
    auto made_fs = LoopFilesystem::create(type, 512ull << 20, &s.why);
    if (!made_fs) return s;
    s.backing_fs.emplace(std::move(*made_fs));
    s.backing = s.backing_fs->path();
    if (!subvolume.empty()) {
        auto made = run("btrfs subvolume create " + (s.backing / subvolume).string());
        if (made.exit_code != 0) {
            s.why = "btrfs subvolume create: " + made.output;
            return s;
        }
        s.backing /= subvolume;
    }
    write_file(s.backing / "file", "before\n");
    fs::create_directory(s.backing / "dir");
    if (auto started = FastfsMount::start(s.backing, args, &s.why)) s.mount.emplace(std::move(*started));
    return s;
}

// Another process, as the watcher skips fastfs's own changes.
void outside(const std::string& command) {
    auto result = run(command);
    ASSERT_EQ(result.exit_code, 0) << command << ": " << result.output;
}

mode_t mode_of(const fs::path& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

std::set<std::string> names_in(const fs::path& dir) {
    std::set<std::string> names;
    for (auto& e : fs::directory_iterator(dir))
        names.insert(e.path().filename());
    return names;
}

// Fills every cache the kernel has for the tree: data, attributes, the listing, a missing name.
void warm_caches(const fs::path& mnt) {
    EXPECT_EQ(read_file(mnt / "file"), "before\n");
    EXPECT_EQ(mode_of(mnt / "file"), 0644u);
    EXPECT_TRUE(names_in(mnt / "dir").empty());
    EXPECT_FALSE(fs::exists(mnt / "dir" / "new"));
}

class BackingChanges : public ::testing::TestWithParam<FsType> {};

TEST_P(BackingChanges, OutsideChangesShowAtOnceThoughTheKernelCachesForLong) {
    auto s = mount_over(GetParam(), {});
    FASTFS_REQUIRE(s.mount, s.why);
    const fs::path mnt = s.mount->path();
    const std::string b = s.backing.string();
    warm_caches(mnt);

    outside("printf 'after, and longer\\n' > " + b + "/file");
    EXPECT_TRUE(wait_until([&] { return read_file(mnt / "file") == "after, and longer\n"; }, kSeenAtOnce))
        << "data and size: " << read_file(mnt / "file");

    outside("chmod 600 " + b + "/file");
    EXPECT_TRUE(wait_until([&] { return mode_of(mnt / "file") == 0600u; }, kSeenAtOnce)) << "mode";

    outside("touch " + b + "/dir/new");
    EXPECT_TRUE(wait_until([&] { return fs::exists(mnt / "dir" / "new"); }, kSeenAtOnce)) << "created name";
    EXPECT_TRUE(
        wait_until([&] { return names_in(mnt / "dir") == std::set<std::string>{"new"}; }, kSeenAtOnce))
        << "listing after create";

    outside("mv " + b + "/dir/new " + b + "/dir/renamed");
    EXPECT_TRUE(wait_until(
        [&] { return !fs::exists(mnt / "dir" / "new") && fs::exists(mnt / "dir" / "renamed"); }, kSeenAtOnce))
        << "rename";

    outside("rm " + b + "/dir/renamed");
    EXPECT_TRUE(wait_until(
        [&] { return !fs::exists(mnt / "dir" / "renamed") && names_in(mnt / "dir").empty(); }, kSeenAtOnce))
        << "unlink";

    outside("mkdir " + b + "/dir/sub && echo x > " + b + "/dir/sub/inner");
    EXPECT_TRUE(wait_until([&] { return read_file(mnt / "dir" / "sub" / "inner") == "x\n"; }, kSeenAtOnce))
        << "new directory and file";

    // Changes through the mount still behave: the watcher skips them, the kernel knows them already.
    write_file(mnt / "dir" / "through", "mount\n");
    EXPECT_EQ(read_file(s.backing / "dir" / "through"), "mount\n");
    EXPECT_EQ(names_in(mnt / "dir"), (std::set<std::string>{"sub", "through"}));
    EXPECT_EQ(s.mount->stop(), 0) << s.mount->log();
}

INSTANTIATE_TEST_SUITE_P(Filesystems, BackingChanges,
                         ::testing::Values(FsType::xfs, FsType::ext4, FsType::btrfs, FsType::tmpfs),
                         [](const ::testing::TestParamInfo<FsType>& param_info) {
                             return std::string(to_string(param_info.param));
                         });

// The premise of the test above: with the same long timeouts and no watcher, the kernel keeps serving
// what it cached.
TEST(BackingChangesControl, LongTimeoutsWithoutTheWatcherHideOutsideChanges) {
    auto s = mount_over(FsType::xfs, {"-o", "no_watch_backing,attr_timeout=60,entry_timeout=60"});
    FASTFS_REQUIRE(s.mount, s.why);
    const fs::path mnt = s.mount->path();
    warm_caches(mnt);
    outside("chmod 600 " + s.backing.string() + "/file");
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(mode_of(mnt / "file"), 0644u) << "the cached attributes should still be served";
    EXPECT_EQ(s.mount->stop(), 0) << s.mount->log();
}

// A btrfs subvolume other than the top one cannot be watched (fanotify refuses filesystem marks there):
// fastfs keeps the short timeouts for it, and says so.
TEST(BackingChangesUnwatched, BtrfsSubvolumeKeepsShortTimeouts) {
    auto s = mount_over(FsType::btrfs, {}, "subvolume");
    FASTFS_REQUIRE(s.mount, s.why);
    const fs::path mnt = s.mount->path();
    warm_caches(mnt);
    outside("chmod 600 " + s.backing.string() + "/file && touch " + s.backing.string() + "/dir/new");
    EXPECT_TRUE(wait_until([&] { return mode_of(mnt / "file") == 0600u; }, 3s)) << "within the 1 s timeout";
    EXPECT_TRUE(wait_until([&] { return fs::exists(mnt / "dir" / "new"); }, 3s)) << "no negative caching";
    EXPECT_NE(s.mount->log().find("cannot be watched"), std::string::npos) << s.mount->log();
    EXPECT_EQ(s.mount->stop(), 0) << s.mount->log();
}

}  // namespace
}  // namespace fastfs::test
