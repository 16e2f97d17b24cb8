#include "fixtures.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <utility>

extern char** environ;

namespace fastfs::test {

bool in_ci() {
    const char* ci = std::getenv("CI");
    return ci != nullptr && std::string(ci) == "true";
}

CommandResult run(const std::string& command) {
    CommandResult result;
    std::string wrapped = "( " + command + " ) 2>&1";
    FILE* pipe = ::popen(wrapped.c_str(), "r");
    if (pipe == nullptr) return result;
    std::array<char, 4096> buf{};
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0)
        result.output.append(buf.data(), n);
    int status = ::pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s)
        out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// Scratch space lives under /var/tmp by default: /tmp may be a small tmpfs, and images are sparse.
static fs::path scratch_root() {
    const char* root = std::getenv("FASTFS_TEST_TMPDIR");
    return root != nullptr ? fs::path(root) : fs::path("/var/tmp");
}

ScratchDir::ScratchDir(const std::string& prefix) {
    std::string pattern = (scratch_root() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + pattern);
    path_ = pattern;
}

ScratchDir::~ScratchDir() {
    std::error_code ec;
    // Never recurse into something still mounted below us.
    if (!is_mounted(path_)) fs::remove_all(path_, ec);
}

const char* to_string(FsType type) {
    switch (type) {
        case FsType::xfs:
            return "xfs";
        case FsType::btrfs:
            return "btrfs";
        case FsType::ext4:
            return "ext4";
        case FsType::tmpfs:
            return "tmpfs";
    }
    return "?";
}

static std::string mkfs_command(FsType type, const fs::path& image) {
    std::string img = shell_quote(image.string());
    switch (type) {
        case FsType::xfs:
            return "mkfs.xfs -q -f -m reflink=1 " + img;
        case FsType::btrfs:
            return "mkfs.btrfs -q -f " + img;
        case FsType::ext4:
            return "mkfs.ext4 -q -F -E lazy_itable_init=1,lazy_journal_init=1 " + img;
        case FsType::tmpfs:
            return "true";
    }
    return "false";
}

std::optional<LoopFilesystem> LoopFilesystem::create(FsType type, uint64_t size_bytes, std::string* why) {
    LoopFilesystem lfs;
    lfs.type_ = type;
    std::string pattern = (scratch_root() / (std::string("fastfs-") + to_string(type) + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        if (why) *why = "mkdtemp failed";
        return std::nullopt;
    }
    lfs.work_dir_ = pattern;
    lfs.mount_dir_ = lfs.work_dir_ / "mnt";
    fs::create_directory(lfs.mount_dir_);
    std::string mnt = shell_quote(lfs.mount_dir_.string());
    CommandResult r;
    if (type == FsType::tmpfs) {
        r = run("mount -t tmpfs -o size=" + std::to_string(size_bytes) + " fastfs-test " + mnt);
    } else {
        fs::path image = lfs.work_dir_ / "fs.img";
        r = run("truncate -s " + std::to_string(size_bytes) + " " + shell_quote(image.string()) + " && " +
                mkfs_command(type, image) + " && mount -o loop " + shell_quote(image.string()) + " " + mnt);
    }
    if (r.exit_code != 0) {
        if (why) *why = std::string("cannot make/mount ") + to_string(type) + ": " + r.output;
        return std::nullopt;  // the destructor of lfs removes the work directory
    }
    lfs.mounted_ = true;
    return std::optional<LoopFilesystem>(std::move(lfs));
}

LoopFilesystem::LoopFilesystem(LoopFilesystem&& other) noexcept
    : type_(other.type_),
      work_dir_(std::move(other.work_dir_)),
      mount_dir_(std::move(other.mount_dir_)),
      mounted_(std::exchange(other.mounted_, false)) {
    other.work_dir_.clear();
}

LoopFilesystem::~LoopFilesystem() {
    if (mounted_) {
        // "mount -o loop" set autoclear: unmounting also detaches the loop device.
        if (::umount2(mount_dir_.c_str(), 0) != 0) ::umount2(mount_dir_.c_str(), MNT_DETACH);
    }
    if (!work_dir_.empty() && !is_mounted(mount_dir_)) {
        std::error_code ec;
        fs::remove_all(work_dir_, ec);
    }
}

std::string kernel_waits(pid_t pid) {
    std::string out;
    std::error_code ec;
    for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        std::string stack = read_file(task.path() / "stack");
        for (char& c : stack)
            if (c == '\n') c = ' ';
        out += "  " + task.path().filename().string() + " " + read_file(task.path() / "wchan") + ": " +
               stack.substr(0, 400) + "\n";
    }
    return out;
}

std::optional<uint64_t> mount_counter(const fs::path& mount_root, std::string_view name) {
    auto r = run(shell_quote(fastfs_binary()) + " stats " + shell_quote(mount_root.string()) + " --json");
    if (r.exit_code != 0) return std::nullopt;
    std::regex field("\"" + std::string(name) + "\"\\s*:\\s*([0-9]+)");
    std::smatch match;
    if (!std::regex_search(r.output, match, field)) return std::nullopt;
    return std::stoull(match[1].str());
}

std::string fastfs_binary() {
    if (const char* override_path = std::getenv("FASTFS_BINARY")) return override_path;
#ifdef FASTFS_BINARY_PATH
    return FASTFS_BINARY_PATH;
#else
    return "fastfs";
#endif
}

bool is_mounted(const fs::path& path, const std::string& fstype) {
    std::ifstream mountinfo("/proc/self/mountinfo");
    std::string line;
    std::string target = fs::absolute(path).lexically_normal().string();
    if (target.size() > 1 && target.back() == '/') target.pop_back();
    while (std::getline(mountinfo, line)) {
        std::istringstream fields(line);
        std::string id, parent, devno, root, mount_point;
        fields >> id >> parent >> devno >> root >> mount_point;
        if (mount_point != target) continue;
        if (fstype.empty()) return true;
        auto dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        std::istringstream tail(line.substr(dash + 3));
        std::string type;
        tail >> type;
        if (type == fstype) return true;
    }
    return false;
}

std::optional<FastfsMount> FastfsMount::start(const fs::path& backing,
                                              const std::vector<std::string>& extra_args, std::string* why) {
    FastfsMount m;
    std::string pattern = (scratch_root() / "fastfs-mnt-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        if (why) *why = "mkdtemp failed";
        return std::nullopt;
    }
    m.work_dir_ = pattern;
    m.mountpoint_ = m.work_dir_ / "mnt";
    m.log_path_ = m.work_dir_ / "fastfs.log";
    fs::create_directory(m.mountpoint_);

    std::vector<std::string> args = {fastfs_binary(), "-f", backing.string(), m.mountpoint_.string()};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    // A whole suite run again with other mount options (ctest sets it: passthrough=off, io_uring).
    if (const char* options = std::getenv("FASTFS_TEST_MOUNT_OPTIONS"); options != nullptr && *options != '\0')
        args.insert(args.end(), {"-o", options});
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, m.log_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    int rc = ::posix_spawn(&m.pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        m.pid_ = -1;
        if (why) *why = "cannot start " + args[0] + ": " + std::strerror(rc);
        return std::nullopt;
    }
    bool exited = false;
    bool up = wait_until([&] {
        int status;
        if (::waitpid(m.pid_, &status, WNOHANG) == m.pid_) {
            exited = true;
            return true;
        }
        return is_mounted(m.mountpoint_, "fuse.fastfs");
    });
    if (exited) m.pid_ = -1;
    if (!up || exited) {
        if (why) *why = "fastfs did not mount: " + m.log();
        return std::nullopt;
    }
    return std::optional<FastfsMount>(std::move(m));
}

FastfsMount::FastfsMount(FastfsMount&& other) noexcept
    : work_dir_(std::move(other.work_dir_)),
      mountpoint_(std::move(other.mountpoint_)),
      log_path_(std::move(other.log_path_)),
      pid_(std::exchange(other.pid_, -1)) {
    other.work_dir_.clear();
}

std::string FastfsMount::log() const {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

int FastfsMount::stop() {
    int exit_status = -1;
    if (is_mounted(mountpoint_)) {
        if (run("fusermount3 -u " + shell_quote(mountpoint_.string())).exit_code != 0)
            ::umount2(mountpoint_.c_str(), MNT_DETACH);
    }
    if (pid_ > 0) {
        int status = 0;
        // Generous: a sanitized daemon on a loaded 2-core machine spends seconds in its leak check at exit; a
        // daemon that really hangs stays hung, and its waits are printed below.
        bool gone =
            wait_until([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, std::chrono::seconds(30));
        if (!gone) {
            std::string waits = kernel_waits(pid_);
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            ADD_FAILURE() << "fastfs did not exit after unmount; killed. Where its threads waited:\n"
                          << waits << "Log:\n"
                          << log();
        } else if (WIFEXITED(status)) {
            exit_status = WEXITSTATUS(status);
            // A sanitizer report, or any error on the way out, fails the test that owned the mount.
            if (exit_status != 0)
                ADD_FAILURE() << "fastfs exited with status " << exit_status << ". Log:\n" << log();
        } else if (WIFSIGNALED(status) &&
                   WTERMSIG(status) != SIGKILL) {  // SIGKILL: a test crashed it on purpose
            ADD_FAILURE() << "fastfs died of signal " << WTERMSIG(status) << ". Log:\n" << log();
        }
        pid_ = -1;
    }
    return exit_status;
}

FastfsMount::~FastfsMount() {
    if (work_dir_.empty()) return;
    stop();
    if (!is_mounted(mountpoint_)) {
        std::error_code ec;
        fs::remove_all(work_dir_, ec);
    }
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const fs::path& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
}

int shared_extent_count(const fs::path& path) {
    auto r = run("filefrag -v " + shell_quote(path.string()));
    int count = 0;
    std::istringstream lines(r.output);
    std::string line;
    while (std::getline(lines, line))
        if (line.find("shared") != std::string::npos) ++count;
    return count;
}

uint64_t allocated_bytes(const fs::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return 0;
    return uint64_t(st.st_blocks) * 512;
}

}  // namespace fastfs::test
