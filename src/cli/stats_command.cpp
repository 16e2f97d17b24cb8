#include "fastfs/cli/stats_command.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/statvfs.h>

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

// Issues `cmd` with `arg` on `directory`, a directory inside a fastfs mount; errors name `what`.
Checked<void> ask_mount(const std::string& directory, unsigned long cmd, void* arg, const std::string& what) {
    sys::UniqueFd dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) {
        int error = errno;
        return runtime_error(directory + ": " + errno_text(error));
    }
    if (sys::retry_eintr([&] { return ::ioctl(dir.get(), cmd, arg); }) == 0) return {};
    int error = errno;
    if (means_not_fastfs(error))
        return runtime_error(directory + " is not inside a fastfs mount (" + errno_text(error) + ")");
    if (error == EACCES)
        return runtime_error("cannot read " + what + " of " + directory +
                             ": it is for root and the user who mounted it");
    return runtime_error("cannot read " + what + " of " + directory + ": " + errno_text(error));
}

// What the daemon wrote must be the layout this binary reads.
Checked<void> check_layout(const std::string& directory, const std::string& what, uint32_t version,
                           uint32_t size, uint32_t known_version, size_t known_size) {
    if (version == known_version && size == known_size) return {};
    return runtime_error(directory + " is served by a fastfs with " + what + " version " +
                         std::to_string(version) + " (" + std::to_string(size) +
                         " bytes); this fastfs reads version " + std::to_string(known_version) + " (" +
                         std::to_string(known_size) + " bytes): use the fastfs binary that mounted it");
}

}  // namespace

Checked<fastfs_stats> read_mount_stats(const std::string& directory) {
    fastfs_stats stats{};
    if (auto asked = ask_mount(directory, FASTFS_IOC_GET_STATS, &stats, "the counters"); !asked)
        return std::unexpected(asked.error());
    if (auto layout = check_layout(directory, "stats", stats.version, stats.size, FASTFS_STATS_VERSION,
                                   sizeof(fastfs_stats));
        !layout)
        return std::unexpected(layout.error());
    return stats;
}

Checked<fastfs_status> read_mount_status(const std::string& directory) {
    fastfs_status status{};
    if (auto asked = ask_mount(directory, FASTFS_IOC_GET_STATUS, &status, "the status"); !asked) {
        // A daemon from before `fastfs status` answers ENOTTY, like a filesystem that is not fastfs.
        if (read_mount_stats(directory))
            return runtime_error(directory +
                                 " is served by a fastfs older than `fastfs status` (`fastfs stats` "
                                 "works; restart the mount with this version for status)");
        return std::unexpected(asked.error());
    }
    if (auto layout = check_layout(directory, "status", status.version, status.size, FASTFS_STATUS_VERSION,
                                   sizeof(fastfs_status));
        !layout)
        return std::unexpected(layout.error());
    return status;
}

int run_stats(const std::string& mountpoint, bool json) {
    auto stats = read_mount_stats(mountpoint);
    if (!stats) return report(stats.error());
    std::string text = json ? format_stats_json(*stats) : format_stats_text(*stats);
    std::fputs(text.c_str(), stdout);
    return kExitOk;
}

int run_status(const std::string& mountpoint, bool json) {
    auto status = read_mount_status(mountpoint);
    if (!status) return report(status.error());
    struct statvfs sv {};
    bool read_only = ::statvfs(mountpoint.c_str(), &sv) == 0 && (sv.f_flag & ST_RDONLY);
    std::string text = json ? format_status_json(*status, read_only) : format_status_text(*status, read_only);
    std::fputs(text.c_str(), stdout);
    return kExitOk;
}

}  // namespace fastfs::cli
