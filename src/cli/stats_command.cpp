#include "fastfs/cli/stats_command.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstdio>

#include "fastfs/cli/format.hpp"
#include "fastfs/sys/result.hpp"
#include "fastfs/sys/unique_fd.hpp"

namespace fastfs::cli {
namespace {

// What a filesystem that does not know the command answers: the kernel turns a FUSE daemon's ENOSYS
// into ENOTTY; other daemons and filesystems say EINVAL or EOPNOTSUPP.
bool means_not_fastfs(int error) {
    return error == ENOTTY || error == EINVAL || error == EOPNOTSUPP || error == ENOSYS;
}

}  // namespace

Checked<fastfs_stats> read_mount_stats(const std::string& directory) {
    sys::UniqueFd dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) {
        int error = errno;
        return runtime_error(directory + ": " + errno_text(error));
    }
    fastfs_stats stats{};
    if (sys::retry_eintr([&] { return ::ioctl(dir.get(), FASTFS_IOC_GET_STATS, &stats); }) != 0) {
        int error = errno;
        if (means_not_fastfs(error))
            return runtime_error(directory + " is not inside a fastfs mount (" + errno_text(error) + ")");
        if (error == EACCES)
            return runtime_error("cannot read the counters of " + directory +
                                 ": they are for root and the user who mounted it");
        return runtime_error("cannot read the counters of " + directory + ": " + errno_text(error));
    }
    if (stats.version != FASTFS_STATS_VERSION || stats.size != sizeof(fastfs_stats))
        return runtime_error(directory + " is served by a fastfs with stats version " +
                             std::to_string(stats.version) + " (" + std::to_string(stats.size) +
                             " bytes); this fastfs reads version " + std::to_string(FASTFS_STATS_VERSION) +
                             " (" + std::to_string(sizeof(fastfs_stats)) +
                             " bytes): use the fastfs binary that mounted it");
    return stats;
}

int run_stats(const std::string& mountpoint, bool json) {
    auto stats = read_mount_stats(mountpoint);
    if (!stats) return report(stats.error());
    std::string text = json ? format_stats_json(*stats) : format_stats_text(*stats);
    std::fputs(text.c_str(), stdout);
    return kExitOk;
}

}  // namespace fastfs::cli
