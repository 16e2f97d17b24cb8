// POSIX parity: every operation gives the same results and errno through fastfs as on the backing
// filesystem. Each case runs one syscall script twice — in a directory reached through the mount and in a
// sibling directory on the backing filesystem itself — and the two transcripts must be identical.
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <iostream>
#include <sstream>
#include <vector>

#include "parity_env.hpp"

namespace fastfs::test {
namespace {

// Records each step as "name=result" or "name=-1(ERRNO)".
class Transcript {
  public:
    explicit Transcript(fs::path dir) : dir_(std::move(dir)) {}
    std::string at(const std::string& name) const { return (dir_ / name).string(); }
    const fs::path& dir() const { return dir_; }

    long step(const std::string& what, long rc) {
        out_ << what << "=" << rc;
        if (rc < 0) out_ << "(" << strerrorname_np(errno) << ")";
        out_ << "\n";
        return rc;
    }
    void note(const std::string& what, const std::string& value) { out_ << what << ": " << value << "\n"; }
    // The attributes a passthrough must show as they are (not inode numbers or atime).
    void stat_of(const std::string& label, const std::string& name, bool follow = false) {
        struct stat st {};
        int rc = follow ? ::stat(at(name).c_str(), &st) : ::lstat(at(name).c_str(), &st);
        if (step("stat " + label, rc) != 0) return;
        std::ostringstream s;
        s << std::oct << st.st_mode << std::dec << " nlink=" << st.st_nlink << " uid=" << st.st_uid
          << " gid=" << st.st_gid << " size=" << st.st_size << " blocks=" << st.st_blocks
          << " rdev=" << major(st.st_rdev) << ":" << minor(st.st_rdev);
        note("attr " + label, s.str());
    }
    void content_of(const std::string& name) { note("content " + name, read_file(at(name))); }
    std::string str() const { return out_.str(); }

  private:
    fs::path dir_;
    std::ostringstream out_;
};

using Script = std::function<void(Transcript&)>;

struct ParityCase {
    const char* name;
    Script script;
};

std::string write_all(int fd, const std::string& data, off_t off) {
    return std::to_string(::pwrite(fd, data.data(), data.size(), off));
}

std::string read_at(int fd, size_t len, off_t off) {
    std::string buf(len, '\0');
    ssize_t n = ::pread(fd, buf.data(), len, off);
    if (n < 0) return "-1(" + std::string(strerrorname_np(errno)) + ")";
    buf.resize(size_t(n));
    return buf;
}

const std::vector<ParityCase>& cases() {
    static const std::vector<ParityCase> all = {
        {"create_exclusive_write_read",
         [](Transcript& t) {
             int fd = int(t.step("open excl", ::open(t.at("f").c_str(), O_CREAT | O_EXCL | O_RDWR, 0640)));
             t.step("open excl again", ::open(t.at("f").c_str(), O_CREAT | O_EXCL | O_RDWR, 0640));
             t.note("pwrite", write_all(fd, "hello world", 0));
             t.note("pread", read_at(fd, 5, 6));
             t.note("pread past eof", read_at(fd, 5, 100));
             t.step("fsync", ::fsync(fd));
             t.step("fdatasync", ::fdatasync(fd));
             t.step("close", ::close(fd));
             t.stat_of("f", "f");
             t.step("open missing", ::open(t.at("missing").c_str(), O_RDONLY));
             t.step("open dir for write", ::open(t.dir().c_str(), O_WRONLY));
             t.step("open file as dir", ::open(t.at("f").c_str(), O_RDONLY | O_DIRECTORY));
         }},
        {"truncate_and_append",
         [](Transcript& t) {
             write_file(t.at("f"), "0123456789");
             int fd = ::open(t.at("f").c_str(), O_WRONLY | O_TRUNC);
             t.stat_of("after O_TRUNC", "f");
             ::close(fd);
             fd = ::open(t.at("f").c_str(), O_WRONLY | O_APPEND);
             t.step("append", ::write(fd, "ab", 2));
             t.step("append", ::write(fd, "cd", 2));
             ::close(fd);
             t.content_of("f");
         }},
        {"setattr_by_path",
         [](Transcript& t) {
             write_file(t.at("f"), "data");
             t.step("chmod", ::chmod(t.at("f").c_str(), 04751));
             t.stat_of("after chmod", "f");
             t.step("chown", ::chown(t.at("f").c_str(), 1000, 1001));
             t.stat_of("after chown", "f");
             t.step("truncate grow", ::truncate(t.at("f").c_str(), 100000));
             t.step("truncate shrink", ::truncate(t.at("f").c_str(), 2));
             t.stat_of("after truncate", "f");
             struct timespec times[2] = {{1000000000, 123456789}, {1200000000, 987654321}};
             t.step("utimensat", ::utimensat(AT_FDCWD, t.at("f").c_str(), times, 0));
             struct stat st {};
             ::stat(t.at("f").c_str(), &st);
             t.note("times", std::to_string(st.st_atim.tv_sec) + "." + std::to_string(st.st_atim.tv_nsec) +
                                 " " + std::to_string(st.st_mtim.tv_sec) + "." +
                                 std::to_string(st.st_mtim.tv_nsec));
             struct timespec omit_now[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
             t.step("utimensat omit/now", ::utimensat(AT_FDCWD, t.at("f").c_str(), omit_now, 0));
             ::stat(t.at("f").c_str(), &st);
             t.note("atime kept", std::to_string(st.st_atim.tv_sec == 1000000000));
             t.note("mtime now", std::to_string(st.st_mtim.tv_sec > 1700000000));
             t.step("chmod missing", ::chmod(t.at("missing").c_str(), 0600));
             t.step("truncate dir", ::truncate(t.dir().c_str(), 0));
         }},
        {"setattr_by_handle",
         [](Transcript& t) {
             int fd = ::open(t.at("f").c_str(), O_CREAT | O_RDWR, 0600);
             t.step("fchmod", ::fchmod(fd, 0640));
             t.step("fchown", ::fchown(fd, 1002, 1003));
             t.step("ftruncate", ::ftruncate(fd, 12345));
             struct timespec times[2] = {{1100000000, 5}, {1300000000, 7}};
             t.step("futimens", ::futimens(fd, times));
             struct stat st {};
             t.step("fstat", ::fstat(fd, &st));
             t.note("fstat", std::to_string(st.st_size) + " " + std::to_string(st.st_mode) + " " +
                                 std::to_string(st.st_mtim.tv_sec) + "." +
                                 std::to_string(st.st_mtim.tv_nsec));
             ::close(fd);
             fd = ::open(t.at("f").c_str(), O_RDONLY);
             t.step("ftruncate read-only", ::ftruncate(fd, 0));
             ::close(fd);
         }},
        {"symlink_readlink",
         [](Transcript& t) {
             t.step("symlink", ::symlink("target/of/link", t.at("l").c_str()));
             t.step("symlink again", ::symlink("x", t.at("l").c_str()));
             char buf[256] = {};
             t.step("readlink", ::readlink(t.at("l").c_str(), buf, sizeof(buf)));
             t.note("target", buf);
             t.stat_of("l", "l");
             t.step("readlink of file", (write_file(t.at("f"), "x"), ::readlink(t.at("f").c_str(), buf, 10)));
             t.step("stat dangling", ::access(t.at("l").c_str(), F_OK));
             t.step("lchown", ::lchown(t.at("l").c_str(), 1000, 1000));
             t.stat_of("l after lchown", "l");
         }},
        {"mknod_kinds",
         [](Transcript& t) {
             t.step("mknod reg", ::mknod(t.at("reg").c_str(), S_IFREG | 0644, 0));
             t.step("mkfifo", ::mkfifo(t.at("fifo").c_str(), 0600));
             t.step("mknod sock", ::mknod(t.at("sock").c_str(), S_IFSOCK | 0755, 0));
             t.step("mknod chr", ::mknod(t.at("chr").c_str(), S_IFCHR | 0600, makedev(1, 3)));
             t.step("mknod blk", ::mknod(t.at("blk").c_str(), S_IFBLK | 0600, makedev(7, 99)));
             t.step("mknod exists", ::mknod(t.at("reg").c_str(), S_IFREG | 0644, 0));
             for (const char* n : {"reg", "fifo", "sock", "chr", "blk"})
                 t.stat_of(n, n);
         }},
        {"mkdir_rmdir_unlink",
         [](Transcript& t) {
             t.step("mkdir", ::mkdir(t.at("d").c_str(), 0750));
             t.step("mkdir again", ::mkdir(t.at("d").c_str(), 0750));
             write_file(t.at("d/f"), "x");
             t.step("rmdir non-empty", ::rmdir(t.at("d").c_str()));
             t.step("rmdir file", ::rmdir(t.at("d/f").c_str()));
             t.step("unlink dir", ::unlink(t.at("d").c_str()));
             t.step("unlink", ::unlink(t.at("d/f").c_str()));
             t.step("unlink again", ::unlink(t.at("d/f").c_str()));
             t.stat_of("d", "d");
             t.step("rmdir", ::rmdir(t.at("d").c_str()));
             t.step("stat removed", ::access(t.at("d").c_str(), F_OK));
             t.step("mkdir in missing", ::mkdir(t.at("no/d").c_str(), 0755));
         }},
        {"rename_flags",
         [](Transcript& t) {
             write_file(t.at("a"), "AAA");
             write_file(t.at("b"), "BB");
             ::mkdir(t.at("d").c_str(), 0755);
             ::mkdir(t.at("full").c_str(), 0755);
             write_file(t.at("full/x"), "x");
             t.step("noreplace onto existing",
                    ::renameat2(AT_FDCWD, t.at("a").c_str(), AT_FDCWD, t.at("b").c_str(), RENAME_NOREPLACE));
             t.step("exchange",
                    ::renameat2(AT_FDCWD, t.at("a").c_str(), AT_FDCWD, t.at("b").c_str(), RENAME_EXCHANGE));
             t.content_of("a");
             t.content_of("b");
             t.step("exchange with missing",
                    ::renameat2(AT_FDCWD, t.at("a").c_str(), AT_FDCWD, t.at("zz").c_str(), RENAME_EXCHANGE));
             t.step("rename over file", ::rename(t.at("a").c_str(), t.at("b").c_str()));
             t.content_of("b");
             t.step("rename file over dir", ::rename(t.at("b").c_str(), t.at("d").c_str()));
             t.step("rename dir over non-empty dir", ::rename(t.at("d").c_str(), t.at("full").c_str()));
             t.step("rename dir into itself", ::rename(t.at("d").c_str(), t.at("d/sub").c_str()));
             t.step("rename dir", ::rename(t.at("d").c_str(), t.at("e").c_str()));
             t.step("noreplace to new", ::renameat2(AT_FDCWD, t.at("b").c_str(), AT_FDCWD,
                                                    t.at("e/b").c_str(), RENAME_NOREPLACE));
             t.content_of("e/b");
             t.step("rename missing", ::rename(t.at("missing").c_str(), t.at("x").c_str()));
         }},
        {"hard_links",
         [](Transcript& t) {
             write_file(t.at("f"), "linked");
             t.step("link", ::link(t.at("f").c_str(), t.at("g").c_str()));
             t.step("link exists", ::link(t.at("f").c_str(), t.at("g").c_str()));
             ::mkdir(t.at("d").c_str(), 0755);
             t.step("link dir", ::link(t.at("d").c_str(), t.at("d2").c_str()));
             struct stat a {
             }, b{};
             ::stat(t.at("f").c_str(), &a);
             ::stat(t.at("g").c_str(), &b);
             t.note("same inode", std::to_string(a.st_ino == b.st_ino));
             t.stat_of("g", "g");
             write_file(t.at("g"), "changed through g");
             t.content_of("f");
             t.step("unlink f", ::unlink(t.at("f").c_str()));
             t.stat_of("g after unlink", "g");
         }},
        {"readdir_names",
         [](Transcript& t) {
             for (int i = 0; i < 300; ++i)
                 write_file(t.at("file-" + std::to_string(i)), "");
             ::mkdir(t.at("sub").c_str(), 0755);
             ::symlink("x", t.at("link").c_str());
             std::vector<std::string> names;
             DIR* d = ::opendir(t.dir().c_str());
             while (auto* e = ::readdir(d))
                 names.push_back(std::string(e->d_name) + "/" + std::to_string(e->d_type));
             ::closedir(d);
             std::sort(names.begin(), names.end());
             std::string listing;
             for (auto& n : names)
                 listing += n + " ";
             t.note("entries", listing);
             t.step("opendir file", ::opendir(t.at("link").c_str()) ? 0 : -1);
         }},
        {"unlinked_but_open",
         [](Transcript& t) {
             int fd = ::open(t.at("f").c_str(), O_CREAT | O_RDWR, 0600);
             t.note("write", write_all(fd, "before", 0));
             t.step("unlink", ::unlink(t.at("f").c_str()));
             t.note("write after unlink", write_all(fd, "AFTER", 6));
             t.note("read after unlink", read_at(fd, 11, 0));
             struct stat st {};
             t.step("fstat", ::fstat(fd, &st));
             t.note("nlink size", std::to_string(st.st_nlink) + " " + std::to_string(st.st_size));
             t.step("ftruncate", ::ftruncate(fd, 3));
             t.note("read", read_at(fd, 11, 0));
             t.step("close", ::close(fd));
             t.step("stat gone", ::access(t.at("f").c_str(), F_OK));
         }},
        {"fallocate_modes",
         [](Transcript& t) {
             int fd = ::open(t.at("f").c_str(), O_CREAT | O_RDWR, 0600);
             std::string mib(1 << 20, 'x');
             for (int i = 0; i < 4; ++i)
                 write_all(fd, mib, off_t(i) << 20);
             ::fsync(fd);
             t.step("keep size", ::fallocate(fd, FALLOC_FL_KEEP_SIZE, 4 << 20, 1 << 20));
             t.stat_of("after keep-size", "f");
             t.step("punch", ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 1 << 20, 1 << 20));
             t.stat_of("after punch", "f");
             t.step("zero range", ::fallocate(fd, FALLOC_FL_ZERO_RANGE, 3 << 20, 4096));
             t.step("extend", ::fallocate(fd, 0, 5 << 20, 1 << 20));
             t.stat_of("after extend", "f");
             t.step("punch without keep-size", ::fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096));
             t.note("punched reads zero",
                    std::to_string(read_at(fd, 8, (1 << 20) + 100) == std::string(8, '\0')));
             t.note("zeroed reads zero", std::to_string(read_at(fd, 8, 3 << 20) == std::string(8, '\0')));
             ::close(fd);
         }},
        {"seek_data_hole",
         [](Transcript& t) {
             int fd = ::open(t.at("f").c_str(), O_CREAT | O_RDWR, 0600);
             std::string block(64 * 1024, 'd');
             write_all(fd, block, 1 << 20);
             write_all(fd, block, 8 << 20);
             ::ftruncate(fd, 16 << 20);
             ::fsync(fd);
             for (off_t off :
                  {off_t(0), off_t(1 << 20), off_t((1 << 20) + 70000), off_t(9 << 20), off_t(16 << 20)}) {
                 t.step("SEEK_DATA " + std::to_string(off), ::lseek(fd, off, SEEK_DATA));
                 t.step("SEEK_HOLE " + std::to_string(off), ::lseek(fd, off, SEEK_HOLE));
             }
             t.stat_of("sparse", "f");
             ::close(fd);
         }},
        {"xattrs",
         [](Transcript& t) {
             write_file(t.at("f"), "x");
             const char* p = nullptr;
             std::string path = t.at("f");
             p = path.c_str();
             t.step("set", ::setxattr(p, "user.alpha", "one", 3, 0));
             t.step("set create existing", ::setxattr(p, "user.alpha", "two", 3, XATTR_CREATE));
             t.step("set replace missing", ::setxattr(p, "user.beta", "two", 3, XATTR_REPLACE));
             t.step("set beta", ::setxattr(p, "user.beta", "22", 2, 0));
             char buf[256] = {};
             t.step("get size", ::getxattr(p, "user.alpha", nullptr, 0));
             t.step("get", ::getxattr(p, "user.alpha", buf, sizeof(buf)));
             t.note("value", buf);
             t.step("get too small", ::getxattr(p, "user.alpha", buf, 1));
             t.step("get missing", ::getxattr(p, "user.none", buf, sizeof(buf)));
             ssize_t n = ::listxattr(p, buf, sizeof(buf));
             std::vector<std::string> names;
             for (ssize_t i = 0; i < n; i += ssize_t(std::strlen(buf + i)) + 1)
                 names.emplace_back(buf + i);
             std::sort(names.begin(), names.end());
             std::string joined;
             for (auto& s : names)
                 joined += s + ",";
             t.note("list", joined);
             t.step("remove", ::removexattr(p, "user.alpha"));
             t.step("remove again", ::removexattr(p, "user.alpha"));
             t.step("bad namespace", ::setxattr(p, "nonsense.x", "1", 1, 0));
         }},
        {"posix_acl",
         [](Transcript& t) {
             write_file(t.at("f"), "x");
             ::mkdir(t.at("d").c_str(), 0755);
             t.step("setfacl", run("setfacl -m u:1000:rw,g:1001:r " + t.at("f")).exit_code);
             t.step("setfacl default", run("setfacl -d -m u:1000:rwx " + t.at("d")).exit_code);
             write_file(t.at("d/inherits"), "y");
             t.note("getfacl f", run("getfacl -cp " + t.at("f")).output);
             t.note("getfacl inherited", run("getfacl -cp " + t.at("d/inherits")).output);
             t.stat_of("f", "f");
         }},
        {"access_and_statfs",
         [](Transcript& t) {
             write_file(t.at("f"), "x");
             ::chmod(t.at("f").c_str(), 0400);
             t.step("access R", ::access(t.at("f").c_str(), R_OK));
             t.step("access missing", ::access(t.at("nope").c_str(), F_OK));
             struct statvfs sv {};
             t.step("statvfs", ::statvfs(t.dir().c_str(), &sv));
             t.note("statvfs", std::to_string(sv.f_bsize) + " " + std::to_string(sv.f_blocks) + " " +
                                   std::to_string(sv.f_files) + " " + std::to_string(sv.f_namemax));
         }},
    };
    return all;
}

std::string transcript_of(const ParityCase& c, const fs::path& dir) {
    Transcript t(dir);
    c.script(t);
    return t.str();
}

class PosixParity : public ::testing::TestWithParam<std::tuple<FsType, size_t>> {};

TEST_P(PosixParity, SameResultsAsBacking) {
    auto [type, index] = GetParam();
    const ParityCase& c = cases()[index];
    auto& env = shared_mount(type);
    FASTFS_REQUIRE(env.ready(), env.why);
    auto dirs = make_case_dirs(env, c.name);
    std::string native = transcript_of(c, dirs.native);
    std::string via_mount = transcript_of(c, dirs.via_mount);
    EXPECT_EQ(native, via_mount) << "case " << c.name << " on " << to_string(type);
    EXPECT_GT(native.size(), 20u) << "the script must record something";
    if (std::getenv("FASTFS_SHOW_TRANSCRIPTS")) std::cout << native;
}

INSTANTIATE_TEST_SUITE_P(AllCases, PosixParity,
                         ::testing::Combine(::testing::Values(FsType::xfs, FsType::ext4, FsType::btrfs),
                                            ::testing::Range(size_t(0), cases().size())),
                         [](const auto& param_info) {
                             return std::string(to_string(std::get<0>(param_info.param))) + "_" +
                                    cases()[std::get<1>(param_info.param)].name;
                         });

}  // namespace
}  // namespace fastfs::test
