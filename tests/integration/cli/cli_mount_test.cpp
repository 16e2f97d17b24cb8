// Mounting with the built binary: option placement, mount(8)/systemd options, daemonizing, and the
// states a mountpoint can be in (already mounted, stale after a crash). Needs a working FUSE session.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "cli_support.hpp"
#include "gtest_support.hpp"

namespace fastfs::test::cli {
namespace {

class CliMountTest : public BackingAndMountpoint {
  protected:
    CliMountTest() : BackingAndMountpoint("fastfs-cli-mount") {}
    void SetUp() override {
        BackingAndMountpoint::SetUp();
        write_file(backing_ / "hello.txt", "hello from the backing tree\n");
    }

    // Skips outside CI (fails in CI) when the session cannot mount at all here.
    bool session_works() {
        std::string why;
        auto probe = FastfsMount::start(backing_, {}, &why);
        probe_failure_ = why;
        return probe.has_value();
    }

    std::string probe_failure_;
};

TEST_F(CliMountTest, DaemonizesOnlyAfterTheMountExists) {
    FASTFS_REQUIRE(session_works(), probe_failure_);
    DaemonMount mount(mountpoint_);
    // The command returns once mounted, so the listing right after it must see the backing files.
    auto r = mount.start(b() + " " + m() + " && ls " + m());
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("hello.txt"), std::string::npos) << r.output;
    ASSERT_TRUE(is_mounted(mountpoint_, "fuse.fastfs"));
    ASSERT_GT(mount.pid(), 0) << "no fastfs daemon found for " << mountpoint_;
    // Detached from the terminal and from the caller's output.
    std::error_code ec;
    EXPECT_EQ(fs::read_symlink("/proc/" + std::to_string(mount.pid()) + "/fd/1", ec), "/dev/null");
    EXPECT_EQ(read_file(mountpoint_ / "hello.txt"), "hello from the backing tree\n");
    // Unmounting ends the daemon.
    EXPECT_TRUE(mount.stop()) << "daemon did not exit after fusermount3 -u";
    EXPECT_FALSE(is_mounted(mountpoint_));
}

TEST_F(CliMountTest, MountAndSystemdOptionsAreAccepted) {
    FASTFS_REQUIRE(session_works(), probe_failure_);
    DaemonMount mount(mountpoint_);
    auto r = mount.start(
        "-o defaults,noauto,nofail,_netdev,x-systemd.requires-mounts-for=/x,comment=foo,rw,noatime " + b() +
        " " + m());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ASSERT_TRUE(is_mounted(mountpoint_, "fuse.fastfs"));
    std::string options = mount_options_of(mountpoint_);
    EXPECT_NE(options.find("noatime"), std::string::npos) << options;
    EXPECT_TRUE(options.starts_with("rw")) << options;
}

TEST_F(CliMountTest, OptionsBeforeBetweenAndAfterPositionals) {
    FASTFS_REQUIRE(session_works(), probe_failure_);
    DaemonMount mount(mountpoint_);
    auto r = mount.start("-o nosuid " + b() + " -o nodev " + m() + " -o noexec,ro");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ASSERT_TRUE(is_mounted(mountpoint_, "fuse.fastfs"));
    std::string options = mount_options_of(mountpoint_);
    for (const char* flag : {"ro", "nosuid", "nodev", "noexec"})
        EXPECT_NE(("," + options + ",").find(std::string(",") + flag + ","), std::string::npos)
            << flag << " missing from " << options;
}

TEST_F(CliMountTest, FsnameDefaultsToTheCanonicalBackingPath) {
    FASTFS_REQUIRE(session_works(), probe_failure_);
    fs::create_directory_symlink(backing_, scratch_.path() / "via-link");
    DaemonMount mount(mountpoint_);
    auto r = mount.start(quote((scratch_.path() / "via-link").string()) + " " + m());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto source = run("findmnt -n -o SOURCE,FSTYPE " + m());
    EXPECT_NE(source.output.find(fs::canonical(backing_).string()), std::string::npos) << source.output;
    EXPECT_NE(source.output.find("fuse.fastfs"), std::string::npos) << source.output;
}

TEST_F(CliMountTest, FailedMountExitsNonZeroWithoutADaemon) {
    FASTFS_REQUIRE(session_works(), probe_failure_);
    // Root without CAP_SYS_ADMIN passes every check fastfs can make beforehand, then the kernel refuses.
    DaemonMount mount(mountpoint_);
    auto r = mount.start_command("setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin " +
                                 quote(fastfs_binary()) + " " + b() + " " + m());
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("fastfs: "), std::string::npos) << r.output;
    EXPECT_FALSE(is_mounted(mountpoint_));
    EXPECT_EQ(mount.pid(), -1) << "a daemon was left behind";
}

TEST_F(CliMountTest, AlreadyMountedIsRefused) {
    std::string why;
    auto first = FastfsMount::start(backing_, {}, &why);
    FASTFS_REQUIRE(first, why);
    fs::path other_backing = scratch_.path() / "other";
    fs::create_directory(other_backing);
    auto r = run_fastfs(quote(other_backing.string()) + " " + quote(first->path().string()));
    EXPECT_ONE_LINE_ERROR(r);
    EXPECT_NE(r.output.find("already mounted"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("umount " + first->path().string()), std::string::npos) << r.output;
}

// mount(8), fstab and systemd bring a crashed mount back by running fastfs again: its dead mount is
// detached with one note line, and the new daemon serves.
TEST_F(CliMountTest, DeadMountOfItsOwnIsMountedAgain) {
    std::string why;
    auto crashed = FastfsMount::start(backing_, {}, &why);
    FASTFS_REQUIRE(crashed, why);
    fs::path mnt = crashed->path();
    ASSERT_EQ(::kill(crashed->pid(), SIGKILL), 0);
    struct stat st {};
    ASSERT_TRUE(wait_until(
        [&] { return ::stat(mnt.c_str(), &st) != 0 && (errno == ENOTCONN || errno == ECONNABORTED); }));

    auto r = run_fastfs(b() + " " + quote(mnt.string()));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output, "fastfs: note: the fastfs daemon of " + mnt.string() +
                            " had died (its mount no longer answers); detached that mount, mounting again\n");
    EXPECT_EQ(::stat(mnt.c_str(), &st), 0) << std::strerror(errno);
    EXPECT_TRUE(is_mounted(mnt));
    EXPECT_EQ(run("umount " + quote(mnt.string())).exit_code, 0);
}

// A dead FUSE mount of another type is not fastfs's to take away: it is explained, and left.
TEST_F(CliMountTest, DeadMountOfAnotherTypeIsExplained) {
    fs::path mnt = scratch_.path() / "other-type";
    fs::create_directory(mnt);
    auto other = run_fastfs(b() + " " + quote(mnt.string()) + " -o subtype=other");
    FASTFS_REQUIRE(other.exit_code == 0, "fastfs -o subtype=other did not mount: " + other.output);
    // Anchored: the shell running pkill has the pattern in its own command line.
    EXPECT_EQ(
        run("pkill -KILL -f " + quote("^[^ ]*fastfs .* " + mnt.string() + " -o subtype=other$")).exit_code,
        0);
    struct stat st {};
    ASSERT_TRUE(wait_until(
        [&] { return ::stat(mnt.c_str(), &st) != 0 && (errno == ENOTCONN || errno == ECONNABORTED); }));

    auto r = run_fastfs(b() + " " + quote(mnt.string()));
    EXPECT_ONE_LINE_ERROR(r);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.output, "fastfs: " + mnt.string() +
                            " is a stale FUSE mount (its daemon died); run `fusermount3 -u " + mnt.string() +
                            "` (or `umount -l " + mnt.string() + "`) and mount again\n");
    EXPECT_EQ(run("umount -l " + quote(mnt.string())).exit_code, 0);
}

}  // namespace
}  // namespace fastfs::test::cli
