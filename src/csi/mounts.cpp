#include "fastfs/csi/mounts.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "fastfs/docker_plugin/mount_table.hpp"
#include "fastfs/sys/mountinfo.hpp"

namespace fastfs::csi {
namespace fs = std::filesystem;

sys::Result<sys::UniqueFd> open_beneath(const fs::path& dir, const fs::path& relative) {
    int dir_fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) return sys::fail_errno();
    sys::UniqueFd base(dir_fd);
    open_how how{};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long fd = sys::retry_eintr(
        [&] { return ::syscall(SYS_openat2, base.get(), relative.c_str(), &how, sizeof how); });
    if (fd < 0) return sys::fail_errno();
    return sys::UniqueFd(static_cast<int>(fd));
}

sys::Result<fs::path> path_of(int fd) {
    std::error_code error;
    auto path = fs::read_symlink("/proc/self/fd/" + std::to_string(fd), error);
    if (error) return sys::fail(error.value());
    return path;
}

sys::Result<void> attach_bind(int dir_fd, const fs::path& target, bool readonly) {
    int tree = ::open_tree(dir_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (tree < 0) return sys::fail_errno();
    sys::UniqueFd detached(tree);  // a detached mount vanishes with its last descriptor
    if (readonly) {
        mount_attr attr{};
        attr.attr_set = MOUNT_ATTR_RDONLY;
        if (::mount_setattr(detached.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
            return sys::fail_errno();
    }
    if (::move_mount(detached.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
        return sys::fail_errno();
    return {};
}

bool is_mount_point(const fs::path& path) {
    return docker_plugin::mount_at(docker_plugin::read_mount_table(), path).has_value();
}

bool answers(const fs::path& path) {
    struct statfs st {};
    return ::statfs(path.c_str(), &st) == 0;
}

void unmount_all(const fs::path& path) {
    while (is_mount_point(path)) {
        struct statfs st {};
        bool dead = ::statfs(path.c_str(), &st) != 0 && sys::fuse_daemon_gone(errno);
        auto done = dead ? docker_plugin::detach(path) : docker_plugin::unmount(path);
        if (!done) return;
    }
}

}  // namespace fastfs::csi
