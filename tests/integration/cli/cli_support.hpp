// Helpers for running the built fastfs binary the way a user or a mount helper would.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

#include "fixtures.hpp"

namespace fastfs::test::cli {

std::string quote(const std::string& s);

// Runs `fastfs ARGS` through /bin/sh with stdout and stderr together.
CommandResult run_fastfs(const std::string& args);

// The daemon serving `mountpoint`, found by its command line in /proc; -1 when none.
pid_t find_daemon(const fs::path& mountpoint);

bool process_alive(pid_t pid);

// Unmounts `mountpoint` (fusermount3 -u, else a lazy umount) and waits for the daemon `pid` to exit,
// killing it by its id if it will not. Returns whether the daemon went away by itself.
bool unmount_and_reap(const fs::path& mountpoint, pid_t pid);

// A mount made by running the daemonizing `fastfs` command; always unmounted and reaped at the end.
class DaemonMount {
  public:
    DaemonMount(fs::path mountpoint) : mountpoint_(std::move(mountpoint)) {}
    DaemonMount(const DaemonMount&) = delete;
    DaemonMount& operator=(const DaemonMount&) = delete;
    ~DaemonMount() { stop(); }
    // Runs `fastfs ARGS` (which must name this mountpoint) and remembers the daemon it left.
    CommandResult start(const std::string& args);
    // The same with a whole shell command line (e.g. the binary behind setpriv).
    CommandResult start_command(const std::string& command_line);
    pid_t pid() const { return pid_; }
    bool stop();

  private:
    fs::path mountpoint_;
    pid_t pid_ = -1;
};

// A directory bind-mounted elsewhere, unmounted at the end.
class BindMount {
  public:
    BindMount(const fs::path& source, const fs::path& target);
    BindMount(const BindMount&) = delete;
    BindMount& operator=(const BindMount&) = delete;
    ~BindMount();
    bool ok() const { return ok_; }

  private:
    fs::path target_;
    bool ok_ = false;
};

// The mount options field of `path`'s mountinfo entry (e.g. "rw,nosuid,nodev,noatime").
std::string mount_options_of(const fs::path& path);

// A scratch directory holding an empty BACKING and MOUNTPOINT for the binary under test; b() and m() are
// their shell-quoted paths.
class BackingAndMountpoint : public ::testing::Test {
  protected:
    explicit BackingAndMountpoint(const std::string& prefix) : scratch_(prefix) {}
    void SetUp() override {
        backing_ = scratch_.path() / "backing";
        mountpoint_ = scratch_.path() / "mnt";
        fs::create_directory(backing_);
        fs::create_directory(mountpoint_);
    }
    std::string b() const { return quote(backing_.string()); }
    std::string m() const { return quote(mountpoint_.string()); }

    ScratchDir scratch_;
    fs::path backing_;
    fs::path mountpoint_;
};

}  // namespace fastfs::test::cli

// The CLI's error contract: exactly one line, starting "fastfs: ", and a non-zero exit.
#define EXPECT_ONE_LINE_ERROR(result)                                                                 \
    do {                                                                                              \
        const auto& r_ = (result);                                                                    \
        EXPECT_NE(r_.exit_code, 0) << r_.output;                                                      \
        EXPECT_TRUE(r_.output.starts_with("fastfs: ")) << r_.output;                                  \
        EXPECT_TRUE(r_.output.ends_with("\n")) << r_.output;                                          \
        EXPECT_EQ(r_.output.find('\n'), r_.output.size() - 1) << "more than one line: " << r_.output; \
    } while (0)
