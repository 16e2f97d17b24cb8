#include "fastfs/cli/validate.hpp"

#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "fastfs/fuse/io_uring_choice.hpp"
#include "fastfs/sys/mountinfo.hpp"
#include "fastfs/sys/pseudo_filesystem.hpp"
#include "fastfs/sys/unique_fd.hpp"

namespace fastfs::cli {
namespace fs = std::filesystem;
namespace {

constexpr const char* kFuseDevice = "/dev/fuse";

std::string path_error(std::string_view role, std::string_view path, int error) {
    return std::string(role) + " " + std::string(path) + ": " + errno_text(error);
}

// stat() first: canonicalizing a dead FUSE mount fails with ENOTCONN (or ECONNABORTED) and says nothing
// useful.
Checked<fs::path> existing_directory(std::string_view role, std::string_view path) {
    struct stat st {};
    if (::stat(std::string(path).c_str(), &st) != 0) {
        int error = errno;
        if (sys::fuse_daemon_gone(error)) return runtime_error(stale_mount_message(path));
        return runtime_error(path_error(role, path, error));
    }
    if (!S_ISDIR(st.st_mode)) return runtime_error(path_error(role, path, ENOTDIR));
    char resolved[PATH_MAX];
    if (::realpath(std::string(path).c_str(), resolved) == nullptr)
        return runtime_error(path_error(role, path, errno));
    if (::access(resolved, X_OK) != 0) return runtime_error(path_error(role, path, errno));
    return fs::path(resolved);
}

bool same_inode(const struct stat& a, const struct stat& b) {
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// Walks from the mountpoint up to "/" comparing inodes, which also catches the backing tree reached
// through a bind mount or a second path that canonical names cannot see.
bool inside_tree(const fs::path& tree, const fs::path& candidate) {
    struct stat tree_st {};
    if (::stat(tree.c_str(), &tree_st) != 0) return false;
    for (fs::path dir = candidate;; dir = dir.parent_path()) {
        struct stat st {};
        if (::stat(dir.c_str(), &st) == 0 && same_inode(st, tree_st)) return true;
        if (dir == dir.root_path() || dir.empty()) return false;
    }
}

std::optional<fs::path> find_fusermount() {
    std::string search = "/usr/bin:/bin";
    if (const char* path = std::getenv("PATH")) search = std::string(path) + ":" + search;
    std::istringstream dirs(search);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        fs::path candidate = fs::path(dir.empty() ? "." : dir) / "fusermount3";
        if (::access(candidate.c_str(), F_OK) == 0) return candidate;
    }
    return std::nullopt;
}

bool fuse_conf_allows_other() {
    std::ifstream conf("/etc/fuse.conf");
    std::string line;
    while (std::getline(conf, line)) {
        auto start = line.find_first_not_of(" \t");
        if (start != std::string::npos && line.compare(start, 16, "user_allow_other") == 0) return true;
    }
    return false;
}

Checked<void> check_fuse_device_exists() {
    struct stat st {};
    if (::stat(kFuseDevice, &st) == 0) return {};
    int error = errno;
    return runtime_error(std::string(kFuseDevice) + ": " + errno_text(error) +
                         " (load the fuse module or pass --device /dev/fuse to the container)");
}

Checked<void> check_fuse_device_opens() {
    if (auto exists = check_fuse_device_exists(); !exists) return exists;
    sys::UniqueFd fd(::open(kFuseDevice, O_RDWR | O_CLOEXEC));
    if (fd) return {};
    int error = errno;
    std::string hint =
        (error == ENODEV || error == ENXIO)
            ? " (load the fuse module: modprobe fuse)"
            : " (in a container pass --device /dev/fuse; a device cgroup or a nodev /dev forbids it)";
    return runtime_error(std::string(kFuseDevice) + ": " + errno_text(error) + hint);
}

// A non-root mount goes through the setuid fusermount3, which opens /dev/fuse itself and enforces
// its own rules; check the ones it would refuse with a less helpful message.
Checked<void> check_unprivileged_mount(const fuse::MountConfig& config) {
    if (auto exists = check_fuse_device_exists(); !exists) return exists;
    std::string who = "uid " + std::to_string(::geteuid());
    auto helper = find_fusermount();
    struct stat st {};
    if (!helper || ::stat(helper->c_str(), &st) != 0 || st.st_uid != 0 || (st.st_mode & S_ISUID) == 0)
        return runtime_error("cannot mount as " + who +
                             ": fusermount3 is missing or not setuid root (install fuse3, or mount as root)");
    if (::access(helper->c_str(), X_OK) != 0)
        return runtime_error("cannot mount as " + who + ": " + helper->string() + ": " + errno_text(errno));
    // fusermount3 opens the device with the user's rights.
    if (::access(kFuseDevice, R_OK | W_OK) != 0)
        return runtime_error("cannot mount as " + who + ": " + std::string(kFuseDevice) + ": " +
                             errno_text(errno) +
                             " (users other than root need read and write access to it; most systems make it "
                             "0666)");
    if (config.allow_other && !fuse_conf_allows_other())
        return runtime_error(
            "cannot mount as " + who +
            " with allow_other: add 'user_allow_other' to /etc/fuse.conf (or mount as root)");
    const auto& mnt = config.mountpoint;
    if (::access(mnt.c_str(), W_OK) != 0)
        return runtime_error("mountpoint " + mnt.string() + ": " + errno_text(errno) +
                             " (a non-root user needs write access to the mountpoint)");
    if (::stat(mnt.c_str(), &st) == 0 && (st.st_mode & S_ISVTX) != 0 && st.st_uid != ::getuid())
        return runtime_error("mountpoint " + mnt.string() + ": " + errno_text(EPERM) +
                             " (sticky directory not owned by " + who + ")");
    return {};
}

// Detaches the dead mount at `path`: umount2(MNT_DETACH) for root; fusermount3 -u -z for a user, who may
// unmount only a FUSE mount of their own (fusermount3 checks that).
bool detach_mount(const fs::path& path) {
    if (::geteuid() == 0) return ::umount2(path.c_str(), MNT_DETACH) == 0;
    auto helper = find_fusermount();
    if (!helper) return false;
    std::string program = helper->string(), target = path.string();
    char* argv[] = {program.data(), const_cast<char*>("-u"), const_cast<char*>("-z"), target.data(), nullptr};
    pid_t pid = 0;
    if (::posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv, environ) != 0) return false;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

Checked<void> recover_dead_mount(std::string_view mountpoint, const std::string& subtype) {
    struct stat st {};
    std::string path(mountpoint);
    if (::stat(path.c_str(), &st) == 0 || !sys::fuse_daemon_gone(errno)) return {};
    // The mountpoint itself cannot be resolved (every stat of it fails); its parent can.
    fs::path given(path);
    char parent[PATH_MAX];
    fs::path parent_path = given.has_parent_path() ? given.parent_path() : fs::path(".");
    if (::realpath(parent_path.c_str(), parent) == nullptr) return {};
    fs::path canonical = fs::path(parent) / given.filename();
    auto type = sys::mounted_type_at(canonical);
    if (!type || *type != "fuse." + subtype) return {};  // not ours: existing_directory reports it
    if (!detach_mount(canonical) || ::stat(path.c_str(), &st) != 0)
        return runtime_error(stale_mount_message(mountpoint));
    report(CliError{kExitOk,
                    "note: the fastfs daemon of " + path +
                        " had died (its mount no longer answers); detached that mount, mounting again"});
    return {};
}

std::string stale_mount_message(std::string_view path) {
    std::string p(path);
    return p + " is a stale FUSE mount (its daemon died); run `fusermount3 -u " + p + "` (or `umount -l " +
           p + "`) and mount again";
}

Checked<MountPaths> resolve_mount_paths(std::string_view backing, std::string_view mountpoint) {
    auto backing_dir = existing_directory("backing directory", backing);
    if (!backing_dir) return std::unexpected(backing_dir.error());
    if (::access(backing_dir->c_str(), R_OK) != 0)
        return runtime_error(path_error("backing directory", backing, errno));
    auto pseudo = sys::pseudo_filesystem_of(*backing_dir);
    if (!pseudo) return runtime_error(path_error("backing directory", backing, pseudo.error()));
    if (*pseudo)
        return usage_error(
            sys::pseudo_filesystem_refusal("backing directory " + std::string(backing), **pseudo));
    auto mount_dir = existing_directory("mountpoint", mountpoint);
    if (!mount_dir) return std::unexpected(mount_dir.error());

    if (*mount_dir == *backing_dir)
        return usage_error("mountpoint " + std::string(mountpoint) +
                           " is the backing directory itself; a mount over its own backing tree calls into "
                           "itself and hangs (choose a mountpoint outside " +
                           backing_dir->string() + ")");
    if (inside_tree(*backing_dir, *mount_dir))
        return usage_error("mountpoint " + std::string(mountpoint) + " is inside the backing directory " +
                           backing_dir->string() +
                           "; a mount inside its own backing tree calls into itself and hangs (choose a "
                           "mountpoint outside it)");
    if (auto type = sys::mounted_type_at(*mount_dir); type && type->starts_with("fuse"))
        return runtime_error(std::string(mountpoint) + " is already mounted (" + *type +
                             "); unmount it first with `umount " + std::string(mountpoint) + "`");
    return MountPaths{*backing_dir, *mount_dir};
}

Checked<void> check_mount_permission(const fuse::MountConfig& config) {
    if (::geteuid() == 0) return check_fuse_device_opens();
    return check_unprivileged_mount(config);
}

Checked<void> check_log_file(const fuse::MountConfig& config) {
    if (config.log_file.empty()) return {};
    sys::UniqueFd fd(::open(config.log_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
    if (fd) return {};
    return runtime_error("log_file=" + config.log_file.string() + ": " + errno_text(errno));
}

Checked<void> check_io_uring(const fuse::MountConfig& config) {
    // Only an explicit -o io_uring insists; by default it is used where the kernel offers it.
    if (config.io_uring != fuse::MountConfig::IoUring::on) return {};
    switch (fuse::io_uring_support()) {
        case fuse::IoUringSupport::available:
            return {};
        case fuse::IoUringSupport::not_built:
            return usage_error(
                "option 'io_uring': this fastfs was built with a libfuse without io_uring support");
        case fuse::IoUringSupport::no_kernel:
            return runtime_error(
                "option 'io_uring': this kernel has no FUSE over io_uring (Linux 6.14+ built with "
                "CONFIG_FUSE_IO_URING)");
        case fuse::IoUringSupport::parameter_off:
            break;
    }
    // Off by default in the kernel, and libfuse would quietly fall back to /dev/fuse.
    return runtime_error(std::string("option 'io_uring': FUSE over io_uring is off in the kernel; turn it on "
                                     "with `echo Y > ") +
                         fuse::kFuseUringParameter + "` as root (it applies to mounts made after that)");
}

}  // namespace fastfs::cli
