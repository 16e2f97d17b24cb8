#include "fastfs/docker_plugin/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fastfs/sys/unique_fd.hpp"

namespace fastfs::docker_plugin {
namespace {

using Clock = std::chrono::steady_clock;

// posix_spawn's attributes and file actions own memory; these make sure it is released on every path.
struct SpawnAttributes {
    posix_spawnattr_t attr{};
    posix_spawn_file_actions_t actions{};
    SpawnAttributes() {
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_init(&actions);
    }
    ~SpawnAttributes() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
    }
    SpawnAttributes(const SpawnAttributes&) = delete;
    SpawnAttributes& operator=(const SpawnAttributes&) = delete;
};

int prepare(SpawnAttributes& spawn, int output_fd) {
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    int rc = posix_spawnattr_setsigmask(&spawn.attr, &none);
    if (rc == 0) rc = posix_spawnattr_setsigdefault(&spawn.attr, &all);
    if (rc == 0) rc = posix_spawnattr_setflags(&spawn.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (rc == 0) rc = posix_spawn_file_actions_addopen(&spawn.actions, 0, "/dev/null", O_RDONLY, 0);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&spawn.actions, output_fd, 1);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&spawn.actions, output_fd, 2);
    // The daemon outlives the plugin: it must not keep the plugin's listening socket or state files open.
    if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&spawn.actions, 3);
    return rc;
}

void drain(int fd, std::string& output) {
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) return;
        if (output.size() < 64 * 1024) output.append(buf, static_cast<size_t>(n));
    }
}

int exit_code_of(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Collects output until the child exits. The daemonized grandchild may keep the pipe open (or not), so
// the end is the child's exit, not end-of-file.
ProgramOutcome wait_for(pid_t pid, int out_fd, std::chrono::milliseconds timeout) {
    ProgramOutcome outcome;
    auto deadline = Clock::now() + timeout;
    for (;;) {
        pollfd pfd{out_fd, POLLIN, 0};
        ::poll(&pfd, 1, 50);
        drain(out_fd, outcome.output);
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            drain(out_fd, outcome.output);
            outcome.exit_code = exit_code_of(status);
            break;
        }
        if (Clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            outcome.output += "(killed after " + std::to_string(timeout.count()) + " ms)";
            break;
        }
    }
    while (!outcome.output.empty() && outcome.output.back() == '\n')
        outcome.output.pop_back();
    return outcome;
}

}  // namespace

sys::Result<ProgramOutcome> run_program(const std::vector<std::string>& argv,
                                        std::chrono::milliseconds timeout) {
    if (argv.empty()) return sys::fail(EINVAL);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return sys::fail_errno();
    sys::UniqueFd read_end(fds[0]), write_end(fds[1]);
    // Only our end polls; the child's stdout and stderr stay blocking, as programs expect.
    if (::fcntl(read_end.get(), F_SETFL, O_NONBLOCK) != 0) return sys::fail_errno();
    SpawnAttributes spawn;
    if (int rc = prepare(spawn, write_end.get()); rc != 0) return sys::fail(rc);
    std::vector<char*> args;
    for (const auto& arg : argv)
        args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    if (int rc = posix_spawn(&pid, args[0], &spawn.actions, &spawn.attr, args.data(), environ); rc != 0)
        return sys::fail(rc);
    write_end.reset();  // only the child writes now
    return wait_for(pid, read_end.get(), timeout);
}

}  // namespace fastfs::docker_plugin
