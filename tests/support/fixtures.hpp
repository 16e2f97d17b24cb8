// Real things for tests: loop-mounted filesystems made from scratch images, and a FUSE mount of the built
// fastfs binary. Every object cleans up what it made (mounts, loop devices, files, processes) in its
// destructor, so a failing assertion leaves nothing behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fastfs::test {

namespace fs = std::filesystem;

// True when running in CI (CI=true): a test that cannot get a real mount must fail instead of skipping.
bool in_ci();

// Result of running a command through /bin/sh.
struct CommandResult {
    int exit_code = -1;
    std::string output;  // stdout and stderr, interleaved
};
CommandResult run(const std::string& command);
// `s` as one word for /bin/sh.
std::string shell_quote(const std::string& s);

// A private temporary directory, removed with everything in it.
class ScratchDir {
  public:
    explicit ScratchDir(const std::string& prefix = "fastfs-test");
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ~ScratchDir();
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

enum class FsType { xfs, btrfs, ext4, tmpfs };
const char* to_string(FsType type);

// A filesystem of the given type made in a sparse image file and loop-mounted on a private directory
// (tmpfs is mounted directly). XFS is made with reflink=1.
class LoopFilesystem {
  public:
    // Returns nullopt (with the reason in `why`) when the filesystem cannot be made or mounted here.
    static std::optional<LoopFilesystem> create(FsType type, uint64_t size_bytes, std::string* why = nullptr);
    LoopFilesystem(LoopFilesystem&& other) noexcept;
    LoopFilesystem& operator=(LoopFilesystem&&) = delete;
    LoopFilesystem(const LoopFilesystem&) = delete;
    ~LoopFilesystem();

    FsType type() const { return type_; }
    const fs::path& path() const { return mount_dir_; }

  private:
    LoopFilesystem() = default;
    FsType type_ = FsType::tmpfs;
    fs::path work_dir_;  // holds the image and the mount directory
    fs::path mount_dir_;
    bool mounted_ = false;
};

// The built fastfs binary (path baked in at build time, overridable with FASTFS_BINARY).
std::string fastfs_binary();
// Where each thread of `pid` waits in the kernel (wchan and kernel stack), for a failure message about a
// process that does not exit.
std::string kernel_waits(pid_t pid);
// One counter of `fastfs stats` for the mount at `mount_root`, or nullopt if it cannot be read.
std::optional<uint64_t> mount_counter(const fs::path& mount_root, std::string_view name);

// fastfs running in the foreground as a child process, mounted over `backing` at a private mountpoint, with
// `-o $FASTFS_TEST_MOUNT_OPTIONS` added when that is set (a suite run again with other options).
class FastfsMount {
  public:
    static std::optional<FastfsMount> start(const fs::path& backing,
                                            const std::vector<std::string>& extra_args = {},
                                            std::string* why = nullptr);
    FastfsMount(FastfsMount&& other) noexcept;
    FastfsMount& operator=(FastfsMount&&) = delete;
    FastfsMount(const FastfsMount&) = delete;
    ~FastfsMount();

    const fs::path& path() const { return mountpoint_; }
    pid_t pid() const { return pid_; }
    // Unmounts and waits for the daemon to exit; returns its exit status (or -1).
    int stop();
    // Output the daemon wrote to stderr so far (for diagnosing failures).
    std::string log() const;

  private:
    FastfsMount() = default;
    fs::path work_dir_;
    fs::path mountpoint_;
    fs::path log_path_;
    pid_t pid_ = -1;
};

// Whether `path` is currently a mount point of the given fstype (e.g. "fuse.fastfs"), from mountinfo.
bool is_mounted(const fs::path& path, const std::string& fstype = "");

// Waits until `predicate` holds or the timeout passes.
template <typename Predicate>
bool wait_until(Predicate predicate, std::chrono::milliseconds timeout = std::chrono::seconds(10));

// File helpers for assertions.
std::string read_file(const fs::path& path);
void write_file(const fs::path& path, const std::string& data);
// Extents of `path` that share blocks with another file, from `filefrag -v` (0 when none or unsupported).
int shared_extent_count(const fs::path& path);
// Allocated bytes (st_blocks * 512).
uint64_t allocated_bytes(const fs::path& path);

}  // namespace fastfs::test

#include "fixtures_impl.hpp"
