// copy_file: the bytes (sparse), mode, owner, times and xattrs/ACLs, the directory target, progress,
// reflink modes, and an untouched destination with no leftovers when anything fails.
#include "fastfs/copy/file_copy.hpp"

#include <sys/stat.h>
#include <sys/xattr.h>

#include <vector>

#include "copy_test_support.hpp"

namespace fastfs::copy::testing {
namespace {

using FileCopyTest = OnEachFilesystem;

std::string xattr_of(const fs::path& path, const char* name) {
    char value[4096];
    ssize_t n = ::getxattr(path.c_str(), name, value, sizeof value);
    return n < 0 ? std::string("<errno ") + std::to_string(errno) + ">" : std::string(value, size_t(n));
}

std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().filename() != "lost+found") names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

struct stat stat_empty() {
    struct stat st {};
    return st;
}

struct stat stat_of(const fs::path& path) {
    auto st = sys::stat_at(AT_FDCWD, path.c_str());
    EXPECT_TRUE(st.has_value()) << path;
    return st.value_or(stat_empty());
}

// A sparse source with data, a mode, an owner, old nanosecond times, a user xattr and an ACL.
std::string make_source(const fs::path& path) {
    std::string data(6 * MiB, '\0');
    std::string a = random_bytes(MiB + 3, 81), b = random_bytes(100, 82);
    data.replace(0, a.size(), a);
    data.replace(5 * MiB, b.size(), b);
    {
        auto fd = open_file(path);
        write_at(fd.get(), 0, a);
        write_at(fd.get(), off_t(5 * MiB), b);
        EXPECT_TRUE(sys::truncate_fd(fd.get(), off_t(data.size())).has_value());
    }
    EXPECT_EQ(::chown(path.c_str(), 1234, 5678), 0);
    EXPECT_EQ(::chmod(path.c_str(), 02751), 0);
    EXPECT_EQ(::setxattr(path.c_str(), "user.fastfs", "kept", 4, 0), 0) << std::strerror(errno);
    auto acl = fastfs::test::run("setfacl -m u:4321:r-x '" + path.string() + "'");
    EXPECT_EQ(acl.exit_code, 0) << acl.output;
    const struct timespec times[2] = {{1000000000, 123456789}, {1200000000, 987654321}};
    EXPECT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
    return data;
}

TEST_P(FileCopyTest, CopiesBytesAndMetadataIntoADirectory) {
    std::string data = make_source(path("source.bin"));
    fs::create_directory(path("into"));
    std::vector<std::pair<uint64_t, uint64_t>> calls;
    FileCopyOptions options;
    options.chunk_bytes = 1 * MiB;
    options.progress = [&](uint64_t done, uint64_t total) { calls.emplace_back(done, total); };

    auto report = copy::copy_file(path("source.bin"), path("into"), options);
    ASSERT_TRUE(report.has_value()) << std::strerror(report.error());
    const fs::path copy = path("into") / "source.bin";
    EXPECT_EQ(report->destination, copy);
    EXPECT_EQ(report->bytes, data.size());
    struct stat src = stat_of(path("source.bin")), dst = stat_of(copy);
    EXPECT_EQ(dst.st_mode, src.st_mode);
    EXPECT_EQ(dst.st_uid, 1234u);
    EXPECT_EQ(dst.st_gid, 5678u);
    EXPECT_TRUE(report->owner_preserved);
    EXPECT_EQ(dst.st_mtim.tv_sec, src.st_mtim.tv_sec);
    EXPECT_EQ(dst.st_mtim.tv_nsec, 987654321);
    // The times the source had before the copy read it (relatime may have moved its atime since).
    EXPECT_EQ(dst.st_atim.tv_sec, 1000000000);
    EXPECT_EQ(dst.st_atim.tv_nsec, 123456789);
    EXPECT_EQ(xattr_of(copy, "user.fastfs"), "kept");
    EXPECT_EQ(xattr_of(copy, "system.posix_acl_access"),
              xattr_of(path("source.bin"), "system.posix_acl_access"));
    EXPECT_TRUE(report->skipped_xattrs.empty());
    // Read only now: reading updates the atime (relatime, as atime < mtime).
    EXPECT_TRUE(same_bytes(fastfs::test::read_file(copy), data));
    EXPECT_LT(fastfs::test::allocated_bytes(copy), 3 * MiB) << "the hole was filled";

    ASSERT_FALSE(calls.empty());
    EXPECT_GE(calls.size(), 6u);
    for (size_t i = 1; i < calls.size(); ++i)
        EXPECT_GT(calls[i].first, calls[i - 1].first);
    EXPECT_EQ(calls.back(), std::make_pair(uint64_t(data.size()), uint64_t(data.size())));
    EXPECT_EQ(names_in(path("into")), std::vector<std::string>{"source.bin"}) << "a temporary file was left";
}

TEST_P(FileCopyTest, ReplacesAnExistingFileAtomically) {
    std::string data = random_bytes(300 * KiB, 83);
    fastfs::test::write_file(path("src"), data);
    fastfs::test::write_file(path("dst"), "old contents");
    ino_t old_inode = stat_of(path("dst")).st_ino;
    auto report = copy::copy_file(path("src"), path("dst"), FileCopyOptions{.preserve = false});
    ASSERT_TRUE(report.has_value()) << std::strerror(report.error());
    EXPECT_TRUE(same_bytes(fastfs::test::read_file(path("dst")), data));
    EXPECT_NE(stat_of(path("dst")).st_ino, old_inode) << "written in place instead of renamed";
    EXPECT_EQ(names_in(fs_->path()), (std::vector<std::string>{"dst", "src"}));
}

TEST_P(FileCopyTest, ReflinkModes) {
    std::string data = random_bytes(4 * MiB, 84);
    fastfs::test::write_file(path("src"), data);

    auto never = copy::copy_file(path("src"), path("never"), FileCopyOptions{.reflink = ReflinkMode::kNever});
    ASSERT_TRUE(never.has_value()) << std::strerror(never.error());
    EXPECT_EQ(never->copy.bytes_reflinked, 0u);
    EXPECT_EQ(fastfs::test::shared_extent_count(path("never")), 0);

    fastfs::test::write_file(path("always"), "untouched");
    auto always =
        copy::copy_file(path("src"), path("always"), FileCopyOptions{.reflink = ReflinkMode::kAlways});
    if (shares_blocks(type())) {
        ASSERT_TRUE(always.has_value()) << std::strerror(always.error());
        EXPECT_TRUE(same_bytes(fastfs::test::read_file(path("always")), data));
        EXPECT_GT(fastfs::test::shared_extent_count(path("always")), 0);
    } else {
        ASSERT_FALSE(always.has_value());
        EXPECT_EQ(always.error(), EOPNOTSUPP);
        EXPECT_EQ(fastfs::test::read_file(path("always")), "untouched");
    }
    EXPECT_EQ(names_in(fs_->path()), (std::vector<std::string>{"always", "never", "src"}));
}

TEST_P(FileCopyTest, RefusesWhatIsNotARegularFileCopy) {
    fastfs::test::write_file(path("file"), "x");
    fs::create_directory(path("dir"));
    fs::create_directory(path("dir") / "file");  // the would-be target inside dir is a directory
    EXPECT_EQ(error_of(copy::copy_file(path("missing"), path("out"))), ENOENT);
    EXPECT_EQ(error_of(copy::copy_file(path("dir"), path("out"))), EISDIR);
    EXPECT_EQ(error_of(copy::copy_file(path("file"), path("file"))), EINVAL);
    EXPECT_EQ(error_of(copy::copy_file(path("file"), path("dir"))), EISDIR);
    EXPECT_EQ(error_of(copy::copy_file(path("file"), path("no-such-dir") / "out")), ENOENT);
    EXPECT_EQ(error_of(copy::copy_file("/dev/null", path("out"))), EINVAL);
    EXPECT_EQ(names_in(fs_->path()), (std::vector<std::string>{"dir", "file"}));
}

FASTFS_ON_EACH_FILESYSTEM(FileCopyTest);

TEST(FileCopyFailure, OutOfSpaceLeavesDestinationUntouched) {
    std::string why;
    auto source_fs = LoopFilesystem::create(FsType::tmpfs, 256 * MiB, &why);
    FASTFS_REQUIRE(source_fs, why);
    auto small = LoopFilesystem::create(FsType::ext4, 64 * MiB, &why);
    FASTFS_REQUIRE(small, why);
    fastfs::test::write_file(source_fs->path() / "big", random_bytes(96 * MiB, 85));
    fastfs::test::write_file(small->path() / "dst", "precious");
    ASSERT_EQ(::setxattr((small->path() / "dst").c_str(), "user.mark", "1", 1, 0), 0);

    auto report = copy::copy_file(source_fs->path() / "big", small->path() / "dst");
    ASSERT_FALSE(report.has_value());
    EXPECT_EQ(report.error(), ENOSPC);
    EXPECT_EQ(fastfs::test::read_file(small->path() / "dst"), "precious");
    EXPECT_EQ(xattr_of(small->path() / "dst", "user.mark"), "1");
    EXPECT_EQ(names_in(small->path()), std::vector<std::string>{"dst"}) << "a temporary file was left";
    // The space of the abandoned copy is given back.
    struct statvfs sv {};
    ASSERT_EQ(::statvfs(small->path().c_str(), &sv), 0);
    EXPECT_GT(uint64_t(sv.f_bavail) * sv.f_frsize, 40 * MiB);
}

}  // namespace
}  // namespace fastfs::copy::testing
