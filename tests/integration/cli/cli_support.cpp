#include "cli_support.hpp"

#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace fastfs::test::cli {

std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s)
        out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

CommandResult run_fastfs(const std::string& args) {
    return run(quote(fastfs_binary()) + " " + args);
}

static std::vector<std::string> cmdline_of(const fs::path& proc_dir) {
    std::ifstream in(proc_dir / "cmdline", std::ios::binary);
    std::vector<std::string> args;
    std::string arg;
    while (std::getline(in, arg, '\0'))
        args.push_back(arg);
    return args;
}

pid_t find_daemon(const fs::path& mountpoint) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        auto args = cmdline_of(entry.path());
        if (args.empty() || fs::path(args[0]).filename() != "fastfs") continue;
        for (const auto& arg : args)
            if (arg == mountpoint.string()) return static_cast<pid_t>(std::stol(name));
    }
    return -1;
}

bool process_alive(pid_t pid) {
    if (pid <= 0) return false;
    // A zombie child of ours still "exists"; reap it if it is ours.
    int status;
    if (::waitpid(pid, &status, WNOHANG) == pid) return false;
    std::ifstream stat_file("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat_file, line)) return false;
    auto close_paren = line.rfind(')');
    return close_paren != std::string::npos && line.size() > close_paren + 2 && line[close_paren + 2] != 'Z';
}

bool unmount_and_reap(const fs::path& mountpoint, pid_t pid) {
    if (is_mounted(mountpoint)) {
        if (run("fusermount3 -u " + quote(mountpoint.string())).exit_code != 0)
            ::umount2(mountpoint.c_str(), MNT_DETACH);
    }
    if (pid <= 0) return true;
    bool exited = wait_until([&] { return !process_alive(pid); }, std::chrono::seconds(10));
    if (!exited) {
        ::kill(pid, SIGKILL);
        wait_until([&] { return !process_alive(pid); }, std::chrono::seconds(5));
    }
    return exited;
}

CommandResult DaemonMount::start(const std::string& args) {
    return start_command(quote(fastfs_binary()) + " " + args);
}

CommandResult DaemonMount::start_command(const std::string& command_line) {
    // Output goes to a file: a daemon that kept the pipe open would otherwise hang the reader.
    fs::path log = mountpoint_.parent_path() / "fastfs-start.log";
    auto r = run("( " + command_line + " ) </dev/null >" + quote(log.string()) + " 2>&1");
    r.output = read_file(log);
    fs::remove(log);
    pid_ = find_daemon(mountpoint_);
    return r;
}

bool DaemonMount::stop() {
    bool clean = unmount_and_reap(mountpoint_, pid_);
    pid_ = -1;
    return clean;
}

BindMount::BindMount(const fs::path& source, const fs::path& target) : target_(target) {
    ok_ = ::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) == 0;
}

BindMount::~BindMount() {
    if (ok_ && ::umount2(target_.c_str(), 0) != 0) ::umount2(target_.c_str(), MNT_DETACH);
}

std::string mount_options_of(const fs::path& path) {
    std::ifstream mountinfo("/proc/self/mountinfo");
    std::string line, found;
    while (std::getline(mountinfo, line)) {
        std::istringstream fields(line);
        std::string id, parent, devno, root, mount_point, options;
        fields >> id >> parent >> devno >> root >> mount_point >> options;
        if (mount_point == path.string()) found = options;
    }
    return found;
}

}  // namespace fastfs::test::cli
