// The tools on real filesystems: `fastfs stats` on a live mount, `fastfs clone` that shares blocks or
// fails without copying, `fastfs copy` with its summary.
#include <sys/stat.h>

#include "cli_support.hpp"
#include "gtest_support.hpp"

namespace fastfs::test::cli {
namespace {

constexpr uint64_t kFsBytes = uint64_t(512) << 20;

std::string pattern_data(size_t bytes) {
    std::string data(bytes, '\0');
    for (size_t i = 0; i < bytes; ++i)
        data[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
    return data;
}

size_t entries_in(const fs::path& dir) {
    return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TEST(CliToolsTest, StatsOnAMountPrintsCountersAndJson) {
    ScratchDir backing("fastfs-cli-stats");
    std::string why;
    auto mount = FastfsMount::start(backing.path(), {}, &why);
    FASTFS_REQUIRE(mount, why);
    auto text = run_fastfs("stats " + quote(mount->path().string()));
    ASSERT_EQ(text.exit_code, 0) << text.output;
    EXPECT_NE(text.output.find("version: 1\n"), std::string::npos) << text.output;
    EXPECT_NE(text.output.find("copy_bytes_reflinked: "), std::string::npos) << text.output;
    auto json = run_fastfs("stats --json " + quote(mount->path().string()));
    ASSERT_EQ(json.exit_code, 0) << json.output;
    EXPECT_TRUE(json.output.starts_with("{")) << json.output;
    EXPECT_NE(json.output.find("\"clone_requests\": "), std::string::npos) << json.output;
}

// `fastfs status` says what the mount is and why a feature is off, for root and the mount's owner.
TEST(CliToolsTest, StatusSaysHowTheMountRuns) {
    ScratchDir backing("fastfs-cli-status");
    std::string why;
    auto mount = FastfsMount::start(backing.path(),
                                    {"-o", "allow_other,passthrough=off,no_io_uring,entry_timeout=5"}, &why);
    FASTFS_REQUIRE(mount, why);
    std::string mnt = quote(mount->path().string());
    auto text = run_fastfs("status " + mnt);
    ASSERT_EQ(text.exit_code, 0) << text.output;
    auto has = [&](const std::string& line) {
        EXPECT_NE(text.output.find(line + "\n"), std::string::npos) << line << " in:\n" << text.output;
    };
    has("backing:         " + fs::canonical(backing.path()).string());
    std::string pid = ", pid " + std::to_string(mount->pid()) + "\n";
    EXPECT_NE(text.output.find("fastfs:          " FASTFS_VERSION " (libfuse 3."), std::string::npos)
        << text.output;
    EXPECT_NE(text.output.find(pid), std::string::npos) << text.output;
    has("allow_other:     yes");
    has("passthrough:     off (passthrough=off)");
    has("io_uring:        off (-o no_io_uring)");
    has("timeouts:        entry 5 s, attr 60 s, negative 60 s");
    has("log:             stderr");  // FastfsMount runs it in the foreground

    auto json = run_fastfs("status --json " + mnt);
    ASSERT_EQ(json.exit_code, 0) << json.output;
    EXPECT_NE(json.output.find("\"why_off\": \"passthrough=off\""), std::string::npos) << json.output;
    EXPECT_NE(json.output.find("\"entry_timeout_s\": 5.0"), std::string::npos) << json.output;

    // Private scratch directories: uid 1000 must reach the mount to be refused by fastfs.
    fs::permissions(mount->path().parent_path(), fs::perms(0755));
    fs::permissions(backing.path(), fs::perms(0755));
    auto user = run("setpriv --reuid=1000 --regid=1000 --clear-groups " + quote(fastfs_binary()) +
                    " status " + mnt + " 2>&1");
    EXPECT_EQ(user.exit_code, 1) << user.output;
    EXPECT_EQ(user.output, "fastfs: cannot read the status of " + mount->path().string() +
                               ": it is for root and the user who mounted it\n");
    auto elsewhere = run_fastfs("status " + quote(backing.path().string()));
    EXPECT_EQ(elsewhere.exit_code, 1) << elsewhere.output;
    EXPECT_NE(elsewhere.output.find("is not inside a fastfs mount"), std::string::npos) << elsewhere.output;
}

TEST(CliToolsTest, CloneInsideAnXfsMountSharesBlocks) {
    std::string why;
    auto xfs = LoopFilesystem::create(FsType::xfs, kFsBytes, &why);
    FASTFS_REQUIRE(xfs, why);
    auto mount = FastfsMount::start(xfs->path(), {}, &why);
    FASTFS_REQUIRE(mount, why);
    std::string data = pattern_data(4 << 20);
    write_file(mount->path() / "src", data);
    ASSERT_EQ(::chmod((mount->path() / "src").c_str(), 0640), 0);

    auto r = run_fastfs("clone " + quote((mount->path() / "src").string()) + " " +
                        quote((mount->path() / "dst").string()));
    ASSERT_EQ(r.exit_code, 0) << r.output << mount->log();
    EXPECT_EQ(r.output, "");
    EXPECT_EQ(read_file(mount->path() / "dst"), data);
    EXPECT_GT(shared_extent_count(xfs->path() / "dst"), 0) << "dst does not share blocks with src";
    struct stat st {};
    ASSERT_EQ(::stat((mount->path() / "dst").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_EQ(entries_in(mount->path()), 2u) << "a temporary file was left behind";
}

TEST(CliToolsTest, CloneInsideAnExt4MountFailsWithoutCopying) {
    std::string why;
    auto ext4 = LoopFilesystem::create(FsType::ext4, kFsBytes, &why);
    FASTFS_REQUIRE(ext4, why);
    auto mount = FastfsMount::start(ext4->path(), {}, &why);
    FASTFS_REQUIRE(mount, why);
    write_file(mount->path() / "src", pattern_data(1 << 20));
    size_t before = entries_in(mount->path());
    auto r = run_fastfs("clone " + quote((mount->path() / "src").string()) + " " +
                        quote((mount->path() / "dst").string()));
    EXPECT_ONE_LINE_ERROR(r);
    EXPECT_NE(r.output.find("cannot share blocks"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(mount->path() / "dst"));
    EXPECT_EQ(entries_in(mount->path()), before) << "a temporary file was left behind";
}

TEST(CliToolsTest, CloneOutsideFastfsOnXfsSharesBlocks) {
    std::string why;
    auto xfs = LoopFilesystem::create(FsType::xfs, kFsBytes, &why);
    FASTFS_REQUIRE(xfs, why);
    std::string data = pattern_data(1 << 20);
    write_file(xfs->path() / "src", data);
    fs::create_directory(xfs->path() / "into");
    // DST naming a directory clones into it under the source's name, like cp.
    auto r = run_fastfs("clone " + quote((xfs->path() / "src").string()) + " " +
                        quote((xfs->path() / "into").string()));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(read_file(xfs->path() / "into" / "src"), data);
    EXPECT_GT(shared_extent_count(xfs->path() / "into" / "src"), 0);
}

TEST(CliToolsTest, CloneBetweenAMountAndTheOutsideIsRefused) {
    std::string why;
    auto xfs = LoopFilesystem::create(FsType::xfs, kFsBytes, &why);
    FASTFS_REQUIRE(xfs, why);
    fs::create_directory(xfs->path() / "exported");
    auto mount = FastfsMount::start(xfs->path() / "exported", {}, &why);
    FASTFS_REQUIRE(mount, why);
    write_file(xfs->path() / "outside", pattern_data(65536));
    auto r = run_fastfs("clone " + quote((xfs->path() / "outside").string()) + " " +
                        quote((mount->path() / "dst").string()));
    EXPECT_ONE_LINE_ERROR(r);
    EXPECT_NE(r.output.find("not inside a fastfs mount"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(mount->path() / "dst"));
}

TEST(CliToolsTest, CopyPrintsASummaryAndKeepsHoles) {
    std::string why;
    auto ext4 = LoopFilesystem::create(FsType::ext4, kFsBytes, &why);
    FASTFS_REQUIRE(ext4, why);
    fs::path src = ext4->path() / "sparse";
    // 64 MiB with 1 MiB of data at the start and at the end.
    std::string chunk = pattern_data(1 << 20);
    ASSERT_EQ(run("dd if=/dev/urandom of=" + quote(src.string()) +
                  " bs=1M count=1 status=none && dd if=/dev/urandom of=" + quote(src.string()) +
                  " bs=1M count=1 seek=63 conv=notrunc status=none")
                  .exit_code,
              0);
    auto r = run_fastfs("copy " + quote(src.string()) + " " + quote((ext4->path() / "copy").string()));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_NE(r.output.find("64.0 MiB"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("hole"), std::string::npos) << r.output;
    EXPECT_EQ(run("cmp " + quote(src.string()) + " " + quote((ext4->path() / "copy").string())).exit_code, 0);
    EXPECT_LT(allocated_bytes(ext4->path() / "copy"), uint64_t(8) << 20) << "holes were filled";
}

// Inside the mount the copy goes out as copy_file_range and the daemon turns it into a reflink, so
// the blocks end up shared even though this process only saw a copy_file_range.
TEST(CliToolsTest, CopyInsideAnXfsMountSharesBlocks) {
    std::string why;
    auto xfs = LoopFilesystem::create(FsType::xfs, kFsBytes, &why);
    FASTFS_REQUIRE(xfs, why);
    auto mount = FastfsMount::start(xfs->path(), {}, &why);
    FASTFS_REQUIRE(mount, why);
    std::string data = pattern_data(8 << 20);
    write_file(mount->path() / "src", data);
    auto r = run_fastfs("copy " + quote((mount->path() / "src").string()) + " " +
                        quote((mount->path() / "dst").string()));
    ASSERT_EQ(r.exit_code, 0) << r.output << mount->log();
    EXPECT_NE(r.output.find("copied 8.0 MiB"), std::string::npos) << r.output;
    EXPECT_EQ(read_file(mount->path() / "dst"), data);
    EXPECT_GT(shared_extent_count(xfs->path() / "dst"), 0);
    // --reflink=always is a clone, which inside a mount has to ask the daemon.
    auto always = run_fastfs("copy --reflink=always " + quote((mount->path() / "src").string()) + " " +
                             quote((mount->path() / "dst2").string()));
    ASSERT_EQ(always.exit_code, 0) << always.output << mount->log();
    EXPECT_GT(shared_extent_count(xfs->path() / "dst2"), 0);
}

TEST(CliToolsTest, CopyOfAMissingSourceFails) {
    ScratchDir dir("fastfs-cli-copy");
    auto r = run_fastfs("copy " + quote((dir.path() / "nope").string()) + " " +
                        quote((dir.path() / "dst").string()));
    EXPECT_ONE_LINE_ERROR(r);
    EXPECT_FALSE(fs::exists(dir.path() / "dst"));
}

}  // namespace
}  // namespace fastfs::test::cli
