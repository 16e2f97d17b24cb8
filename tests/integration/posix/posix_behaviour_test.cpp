// Passthrough properties that are not a matter of one call's result: inode identity, freeing space of
// unlinked files, file attribute flags (lsattr/chattr), and the bounded descriptor use of the node table.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "parity_env.hpp"

namespace fastfs::test {
namespace {

uint64_t free_bytes(const fs::path& path) {
    struct statvfs sv {};
    ::statvfs(path.c_str(), &sv);
    return uint64_t(sv.f_bavail) * sv.f_frsize;
}

size_t open_fds_of(pid_t pid) {
    size_t count = 0;
    for ([[maybe_unused]] auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
        ++count;
    return count;
}

class PosixBehaviour : public ::testing::TestWithParam<FsType> {};

TEST_P(PosixBehaviour, InodeNumbersAreTheBackingsAndStable) {
    auto& env = shared_mount(GetParam());
    FASTFS_REQUIRE(env.ready(), env.why);
    auto dirs = make_case_dirs(env, "ino");
    write_file(dirs.via_mount / "f", "x");
    struct stat via {
    }, native{};
    ASSERT_EQ(::stat((dirs.via_mount / "f").c_str(), &via), 0);
    ASSERT_EQ(::stat((env.backing->path() / dirs.via_mount.filename() / "f").c_str(), &native), 0);
    EXPECT_EQ(via.st_ino, native.st_ino);
    ASSERT_EQ(::rename((dirs.via_mount / "f").c_str(), (dirs.via_mount / "g").c_str()), 0);
    struct stat renamed {};
    ASSERT_EQ(::stat((dirs.via_mount / "g").c_str(), &renamed), 0);
    EXPECT_EQ(renamed.st_ino, native.st_ino);
}

TEST_P(PosixBehaviour, SpaceOfUnlinkedFileIsFreedWhenLastHandleCloses) {
    auto& env = shared_mount(GetParam());
    FASTFS_REQUIRE(env.ready(), env.why);
    auto dirs = make_case_dirs(env, "free");
    const uint64_t size = 200ull << 20;
    fs::path file = dirs.via_mount / "big";
    ASSERT_EQ(
        run("dd if=/dev/zero of=" + file.string() + " bs=1M count=200 conv=fsync status=none").exit_code, 0);
    // Look the file up and open it, so the node table certainly caches a descriptor for it.
    int fd = ::open(file.c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    uint64_t before_unlink = free_bytes(env.backing->path());
    ASSERT_EQ(::unlink(file.c_str()), 0);
    char byte;
    EXPECT_EQ(::pread(fd, &byte, 1, off_t(size - 1)), 1) << "an unlinked open file stays readable";
    ::close(fd);
    // sync: btrfs returns freed extents to statfs only when its transaction commits.
    bool freed = wait_until(
        [&] {
            ::sync();
            return free_bytes(env.backing->path()) >= before_unlink + size * 9 / 10;
        },
        std::chrono::seconds(5));
    EXPECT_TRUE(freed) << "free before unlink " << before_unlink << ", now "
                       << free_bytes(env.backing->path());
}

TEST_P(PosixBehaviour, LsattrAndChattrWork) {
    auto& env = shared_mount(GetParam());
    FASTFS_REQUIRE(env.ready(), env.why);
    auto dirs = make_case_dirs(env, "attr");
    write_file(dirs.via_mount / "f", "x");
    auto set = run("chattr +A " + (dirs.via_mount / "f").string());
    EXPECT_EQ(set.exit_code, 0) << set.output;
    auto native = run("lsattr " + (env.backing->path() / dirs.via_mount.filename() / "f").string());
    auto via = run("lsattr " + (dirs.via_mount / "f").string());
    EXPECT_EQ(via.exit_code, 0) << via.output;
    EXPECT_NE(native.output.find('A'), std::string::npos) << native.output;
    EXPECT_EQ(via.output.substr(0, via.output.find(' ')), native.output.substr(0, native.output.find(' ')));
    // fsxattr (project id) round-trips on XFS and ext4 too; and an unknown ioctl is refused.
    auto unknown = run("python3 -c \"import fcntl,os; fd=os.open('" + (dirs.via_mount / "f").string() +
                       "', os.O_RDONLY); fcntl.ioctl(fd, 0x40086602 + 0x100, b'\\0'*8)\"");
    EXPECT_NE(unknown.exit_code, 0);
}

TEST_P(PosixBehaviour, DescriptorsStayBoundedOverManyFiles) {
    auto& env = shared_mount(GetParam());
    FASTFS_REQUIRE(env.ready(), env.why);
    auto dirs = make_case_dirs(env, "many");
    // More files than the descriptor cache holds (RLIMIT_NOFILE / 4): each is looked up and stat'ed.
    const int files = 12000;
    auto made =
        run("cd " + dirs.via_mount.string() + " && seq 1 " + std::to_string(files) + " | xargs touch");
    ASSERT_EQ(made.exit_code, 0) << made.output;
    auto listed = run("find " + dirs.via_mount.string() + " -type f | wc -l");
    EXPECT_EQ(std::stoi(listed.output), files);
    size_t fds = open_fds_of(env.mount->pid());
    EXPECT_LT(fds, 5000u + 64u) << "the node table must not hold a descriptor per inode";
}

INSTANTIATE_TEST_SUITE_P(Filesystems, PosixBehaviour,
                         ::testing::Values(FsType::xfs, FsType::ext4, FsType::btrfs),
                         [](const auto& param_info) { return std::string(to_string(param_info.param)); });

}  // namespace
}  // namespace fastfs::test

namespace fastfs::test {
namespace {

// With HANDLE_KILLPRIV_V2 the kernel leaves clearing set-user-ID/set-group-ID to fastfs: a writer without
// CAP_FSETID must see the same mode afterwards as on the backing filesystem, and root must keep the bits.
class PrivilegeDrop : public ::testing::TestWithParam<FsType> {};

std::string mode_after(const fs::path& file, const std::string& as_user, const std::string& python_op) {
    ::chown(file.c_str(), 1000, 1000);
    ::chmod(file.c_str(), 06775);
    std::string who = as_user.empty() ? "" : "setpriv --reuid=1000 --regid=1000 --clear-groups ";
    auto r = run(who + "/usr/bin/python3 -c \"import os; p='" + file.string() + "'; " + python_op + "\"");
    struct stat st {};
    ::stat(file.c_str(), &st);
    return std::to_string(r.exit_code) + " " + std::to_string(st.st_mode & 07777);
}

TEST_P(PrivilegeDrop, WritesAndTruncatesClearSuidSgidAsNatively) {
    auto& env = shared_mount(GetParam(), {"-o", "allow_other"});
    FASTFS_REQUIRE(env.ready(), env.why);
    auto dirs = make_case_dirs(env, "killpriv");
    // uid 1000 must be able to reach both directories (scratch parents are made 0700).
    for (const fs::path& dir : {env.backing->path().parent_path(), env.mount->path().parent_path()})
        ::chmod(dir.c_str(), 0755);
    const std::vector<std::pair<std::string, std::string>> ops = {
        {"write", "fd=os.open(p, os.O_WRONLY); os.write(fd, b'x'); os.close(fd)"},
        {"truncate", "os.truncate(p, 1)"},
        {"open O_TRUNC", "os.close(os.open(p, os.O_WRONLY | os.O_TRUNC))"},
        {"fallocate", "fd=os.open(p, os.O_WRONLY); os.posix_fallocate(fd, 0, 8192); os.close(fd)"},
    };
    for (const auto& [name, op] : ops) {
        for (const std::string user : {"1000", ""}) {
            write_file(dirs.native / "f", "data");
            write_file(dirs.via_mount / "f", "data");
            std::string native = mode_after(dirs.native / "f", user, op);
            std::string via = mode_after(dirs.via_mount / "f", user, op);
            EXPECT_EQ(native, via) << name << " as " << (user.empty() ? "root" : "uid " + user);
            if (!user.empty()) {
                EXPECT_EQ(native, "0 " + std::to_string(0775)) << "native baseline for " << name;
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Filesystems, PrivilegeDrop, ::testing::Values(FsType::xfs, FsType::ext4),
                         [](const auto& param_info) { return std::string(to_string(param_info.param)); });

}  // namespace
}  // namespace fastfs::test
