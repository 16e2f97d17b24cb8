// Bad input to the built binary: each case is one line starting "fastfs: " and a non-zero exit, and
// none needs a working mount.
#include <sys/stat.h>
#include <unistd.h>

#include "cli_support.hpp"
#include "gtest_support.hpp"

namespace fastfs::test::cli {
namespace {

class CliErrorsTest : public BackingAndMountpoint {
  protected:
    CliErrorsTest() : BackingAndMountpoint("fastfs-cli") {}
    void SetUp() override {
        BackingAndMountpoint::SetUp();
        write_file(scratch_.path() / "plain-file", "x");
    }
};

TEST_F(CliErrorsTest, MissingArgumentsAreUsageErrors) {
    for (const std::string& args : std::vector<std::string>{"", "-f", "-o ro", backing_.string()}) {
        auto r = run_fastfs(args);
        EXPECT_ONE_LINE_ERROR(r);
        EXPECT_EQ(r.exit_code, 2) << args;
        EXPECT_NE(r.output.find("missing"), std::string::npos) << r.output;
    }
}

TEST_F(CliErrorsTest, ExtraArgumentIsAUsageError) {
    auto r = run_fastfs(b() + " " + m() + " extra");
    EXPECT_ONE_LINE_ERROR(r);
    EXPECT_EQ(r.exit_code, 2);
}

TEST_F(CliErrorsTest, UnknownOptionFails) {
    auto r = run_fastfs("-o ro,foo " + b() + " " + m());
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.output, "fastfs: unknown option 'foo'\n");
    auto after = run_fastfs(b() + " " + m() + " -o nosuid -o bar");
    EXPECT_EQ(after.exit_code, 2);
    EXPECT_EQ(after.output, "fastfs: unknown option 'bar'\n");
}

TEST_F(CliErrorsTest, UnknownFlagAndBadLogLevelFail) {
    for (const std::string& args :
         {"--frobnicate " + b() + " " + m(), "--log-level loud " + b() + " " + m(),
          "-o log_level=loud " + b() + " " + m(), "-o entry_timeout=-1 " + b() + " " + m()}) {
        auto r = run_fastfs(args);
        EXPECT_ONE_LINE_ERROR(r);
        EXPECT_EQ(r.exit_code, 2) << args;
    }
}

TEST_F(CliErrorsTest, BackingMissingOrNotADirectory) {
    auto missing = run_fastfs(quote((scratch_.path() / "nope").string()) + " " + m());
    EXPECT_ONE_LINE_ERROR(missing);
    EXPECT_NE(missing.output.find("No such file or directory"), std::string::npos) << missing.output;
    auto file = run_fastfs(quote((scratch_.path() / "plain-file").string()) + " " + m());
    EXPECT_ONE_LINE_ERROR(file);
    EXPECT_NE(file.output.find("Not a directory"), std::string::npos) << file.output;
}

TEST_F(CliErrorsTest, MountpointMissingOrNotADirectory) {
    auto missing = run_fastfs(b() + " " + quote((scratch_.path() / "nope").string()));
    EXPECT_ONE_LINE_ERROR(missing);
    EXPECT_NE(missing.output.find("mountpoint"), std::string::npos) << missing.output;
    EXPECT_NE(missing.output.find("No such file or directory"), std::string::npos) << missing.output;
    auto file = run_fastfs(b() + " " + quote((scratch_.path() / "plain-file").string()));
    EXPECT_ONE_LINE_ERROR(file);
    EXPECT_NE(file.output.find("Not a directory"), std::string::npos) << file.output;
}

TEST_F(CliErrorsTest, MountpointEqualToBackingIsRefused) {
    auto r = run_fastfs(b() + " " + quote((backing_ / ".").string()));
    EXPECT_ONE_LINE_ERROR(r);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.output.find("backing directory itself"), std::string::npos) << r.output;
}

TEST_F(CliErrorsTest, MountpointInsideBackingIsRefusedEvenThroughASymlink) {
    fs::create_directories(backing_ / "a" / "b");
    fs::create_directory_symlink(backing_ / "a", scratch_.path() / "link");
    for (const auto& inside : {backing_ / "a" / "b", scratch_.path() / "link" / "b"}) {
        auto r = run_fastfs(b() + " " + quote(inside.string()));
        EXPECT_ONE_LINE_ERROR(r);
        EXPECT_EQ(r.exit_code, 2);
        EXPECT_NE(r.output.find("inside the backing directory"), std::string::npos) << r.output;
    }
}

TEST_F(CliErrorsTest, MountpointInsideBackingIsRefusedThroughABindMount) {
    fs::create_directories(backing_ / "sub");
    fs::path alias = scratch_.path() / "alias";
    fs::create_directory(alias);
    BindMount bind(backing_, alias);
    FASTFS_REQUIRE(bind.ok(), "bind mount not permitted");
    auto r = run_fastfs(b() + " " + quote((alias / "sub").string()));
    EXPECT_ONE_LINE_ERROR(r);
    EXPECT_NE(r.output.find("inside the backing directory"), std::string::npos) << r.output;
}

// proc, sysfs, devpts: a FUSE mount of one would hand its users what the daemon reads and writes there, as
// root. Refused before anything is mounted, also for a directory below the filesystem's root.
TEST_F(CliErrorsTest, PseudoFilesystemBackingIsRefused) {
    std::vector<std::pair<std::string, std::string>> cases = {{"/proc", "proc"},
                                                              {"/proc/sys", "proc"},
                                                              {"/sys", "sysfs"},
                                                              {"/sys/kernel", "sysfs"},
                                                              {"/dev/pts", "devpts"}};
    if (is_mounted("/dev", "devtmpfs")) cases.emplace_back("/dev", "devtmpfs");
    for (const auto& [backing, type] : cases) {
        auto r = run_fastfs(backing + " " + m());
        EXPECT_ONE_LINE_ERROR(r);
        EXPECT_EQ(r.exit_code, 2) << backing;
        EXPECT_EQ(r.output, "fastfs: backing directory " + backing + " is on " + type +
                                ", a pseudo filesystem: fastfs serves files of a real filesystem\n");
        EXPECT_FALSE(is_mounted(mountpoint_));
    }
}

// devtmpfs reports tmpfs's f_type: it is known by its mount, which also covers a directory below /dev that
// is no mount of its own. A devtmpfs mounted in a private mount namespace, so that the test needs no
// particular /dev (a container's is a tmpfs) and makes nothing in the real one.
TEST_F(CliErrorsTest, DevtmpfsBackingIsRefused) {
    fs::path dev = scratch_.path() / "dev";
    fs::create_directory(dev);
    auto in_devtmpfs = [&](const std::string& command) {
        return run("unshare --mount --propagation private sh -c 'mount -t devtmpfs none " +
                   quote(dev.string()) + " && " + command + "'");
    };
    // Some directory of devtmpfs itself (pts, net, cpu...: there is one devtmpfs, whose nodes the kernel
    // makes).
    auto listed =
        in_devtmpfs("find " + quote(dev.string()) + " -mindepth 1 -maxdepth 1 -type d -print -quit");
    FASTFS_REQUIRE(listed.exit_code == 0, "cannot mount devtmpfs in a mount namespace: " + listed.output);
    std::vector<std::string> backings = {dev.string()};
    if (!listed.output.empty()) backings.push_back(listed.output.substr(0, listed.output.find('\n')));
    for (const auto& backing : backings) {
        auto r = in_devtmpfs("exec " + quote(fastfs_binary()) + " " + quote(backing) + " " + m());
        EXPECT_ONE_LINE_ERROR(r);
        EXPECT_EQ(r.exit_code, 2);
        EXPECT_EQ(r.output,
                  "fastfs: backing directory " + backing +
                      " is on devtmpfs, a pseudo filesystem: fastfs serves files of a real filesystem\n");
    }
    EXPECT_FALSE(is_mounted(mountpoint_));
}

TEST_F(CliErrorsTest, MissingDevFuseIsExplained) {
    // A private mount namespace with an empty /dev: the real kernel answers ENOENT for /dev/fuse.
    auto r = run("unshare --mount --propagation private sh -c 'mount -t tmpfs none /dev && exec " +
                 quote(fastfs_binary()) + " " + b() + " " + m() + "'");
    FASTFS_REQUIRE(
        r.output.find("unshare:") == std::string::npos && r.output.find("mount:") == std::string::npos,
        "cannot make a mount namespace: " + r.output);
    EXPECT_ONE_LINE_ERROR(r);
    EXPECT_EQ(
        r.output,
        "fastfs: /dev/fuse: No such file or directory (load the fuse module or pass --device /dev/fuse to "
        "the container)\n");
    EXPECT_FALSE(is_mounted(mountpoint_));
}

TEST_F(CliErrorsTest, UnopenableDevFuseIsExplained) {
    // A /dev/fuse node on a nodev filesystem: the real kernel refuses to open it (EACCES), as a container
    // without the device in its cgroup would (EPERM).
    auto r =
        run("unshare --mount --propagation private sh -c 'mount -t tmpfs -o nodev none /dev && "
            "mknod /dev/fuse c 10 229 && exec " +
            quote(fastfs_binary()) + " " + b() + " " + m() + "'");
    FASTFS_REQUIRE(
        r.output.find("unshare:") == std::string::npos && r.output.find("mknod:") == std::string::npos,
        "cannot make a mount namespace: " + r.output);
    EXPECT_ONE_LINE_ERROR(r);
    EXPECT_TRUE(r.output.starts_with("fastfs: /dev/fuse: Permission denied (")) << r.output;
    EXPECT_FALSE(is_mounted(mountpoint_));
}

// Runs the binary as user nobody.
CommandResult run_as_nobody(const std::string& args) {
    return run("setpriv --reuid=65534 --regid=65534 --clear-groups " + quote(fastfs_binary()) + " " + args);
}

TEST_F(CliErrorsTest, UnreadableBackingIsPermissionDenied) {
    FASTFS_REQUIRE(::geteuid() == 0, "needs root to switch to nobody");
    fs::permissions(scratch_.path(), fs::perms(0755));
    fs::permissions(backing_, fs::perms(0700));
    auto r = run_as_nobody(b() + " " + m());
    EXPECT_ONE_LINE_ERROR(r);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("Permission denied"), std::string::npos) << r.output;
}

TEST_F(CliErrorsTest, NonRootNeedsWriteAccessToTheMountpoint) {
    FASTFS_REQUIRE(::geteuid() == 0, "needs root to switch to nobody");
    fs::permissions(scratch_.path(), fs::perms(0755));
    fs::permissions(backing_, fs::perms(0755));
    fs::permissions(mountpoint_, fs::perms(0755));  // owned by root: nobody cannot write
    auto r = run_as_nobody(b() + " " + m());
    EXPECT_ONE_LINE_ERROR(r);
    EXPECT_NE(r.output.find("Permission denied"), std::string::npos) << r.output;
    EXPECT_FALSE(is_mounted(mountpoint_));
}

TEST_F(CliErrorsTest, NonRootWithoutSetuidFusermountIsExplained) {
    FASTFS_REQUIRE(::geteuid() == 0, "needs root to switch to nobody");
    fs::permissions(scratch_.path(), fs::perms(0755));
    fs::permissions(backing_, fs::perms(0755));
    ASSERT_EQ(::chown(mountpoint_.c_str(), 65534, 65534), 0);
    // In a private mount namespace, a plain (not setuid) copy hides the real fusermount3.
    fs::path plain = scratch_.path() / "fusermount3";
    fs::copy_file("/usr/bin/fusermount3", plain);
    fs::permissions(plain, fs::perms(0755));
    auto r =
        run("unshare --mount --propagation private sh -c 'for d in /usr/bin /bin /usr/local/bin; do "
            "[ -e $d/fusermount3 ] && mount --bind " +
            quote(plain.string()) +
            " $d/fusermount3; done; "
            "exec setpriv --reuid=65534 --regid=65534 --clear-groups " +
            quote(fastfs_binary()) + " " + b() + " " + m() + "'");
    FASTFS_REQUIRE(r.output.find("unshare:") == std::string::npos,
                   "cannot make a mount namespace: " + r.output);
    EXPECT_ONE_LINE_ERROR(r);
    EXPECT_NE(r.output.find("fusermount3"), std::string::npos) << r.output;
    EXPECT_FALSE(is_mounted(mountpoint_));
}

TEST_F(CliErrorsTest, StatsOnAPlainDirectoryFailsClearly) {
    auto r = run_fastfs("stats " + b());
    EXPECT_ONE_LINE_ERROR(r);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("not inside a fastfs mount"), std::string::npos) << r.output;
    auto missing = run_fastfs("stats " + quote((scratch_.path() / "nope").string()));
    EXPECT_ONE_LINE_ERROR(missing);
    auto no_arg = run_fastfs("stats");
    EXPECT_ONE_LINE_ERROR(no_arg);
    EXPECT_EQ(no_arg.exit_code, 2);
}

TEST_F(CliErrorsTest, CloneOutsideFastfsNeverCopies) {
    // tmpfs cannot share blocks: the clone must fail, leaving no destination and no temporary file.
    auto tmpfs = LoopFilesystem::create(FsType::tmpfs, 16 << 20);
    FASTFS_REQUIRE(tmpfs, "cannot mount tmpfs");
    write_file(tmpfs->path() / "src", std::string(8192, 'a'));
    auto r = run_fastfs("clone " + quote((tmpfs->path() / "src").string()) + " " +
                        quote((tmpfs->path() / "dst").string()));
    EXPECT_ONE_LINE_ERROR(r);
    EXPECT_NE(r.output.find("cannot share blocks"), std::string::npos) << r.output;
    EXPECT_EQ(std::distance(fs::directory_iterator(tmpfs->path()), fs::directory_iterator()), 1);
}

TEST_F(CliErrorsTest, CloneOfAMissingSourceFails) {
    auto r = run_fastfs("clone " + quote((scratch_.path() / "nope").string()) + " " + m());
    EXPECT_ONE_LINE_ERROR(r);
    auto args = run_fastfs("clone onlyone");
    EXPECT_ONE_LINE_ERROR(args);
    EXPECT_EQ(args.exit_code, 2);
}

TEST_F(CliErrorsTest, VersionAndHelp) {
    auto version = run_fastfs("--version");
    EXPECT_EQ(version.exit_code, 0);
    EXPECT_TRUE(version.output.starts_with("fastfs ")) << version.output;
    EXPECT_NE(version.output.find("(libfuse 3."), std::string::npos) << version.output;
    auto help = run_fastfs("--help");
    EXPECT_EQ(help.exit_code, 0);
    for (const char* option :
         {"allow_other", "no_default_permissions", "fsname=", "subtype=", "entry_timeout=", "writeback_cache",
          "max_threads=", "fd_cache=", "no_splice", "log_level=", "nolazytime", "x-*", "--log-level",
          "-f,--foreground", "-d,--debug", "stats", "clone", "copy"})
        EXPECT_NE(help.output.find(option), std::string::npos) << option;
}

}  // namespace
}  // namespace fastfs::test::cli
