#include "fastfs/cli/clone_command.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <optional>

#include "fastfs/cli/errors.hpp"
#include "fastfs/cli/paths.hpp"
#include "fastfs/copy/engine.hpp"
#include "fastfs/copy/file_copy.hpp"
#include "fastfs/ioctl_abi.h"
#include "fastfs/sys/result.hpp"

namespace fastfs::cli {
namespace {

std::string refusal_message(const std::string& source, int error, bool through_fastfs) {
    if (error == EOPNOTSUPP || error == EXDEV || error == EINVAL)
        return "cannot clone " + source + ": the " + std::string(through_fastfs ? "backing " : "") +
               "filesystem cannot share blocks between these files (reflink needs XFS with reflink=1 or "
               "btrfs, "
               "both files on the same filesystem)";
    if (error == ENOTTY) return "cannot clone " + source + ": not inside a fastfs mount";
    return "cannot clone " + source + ": " + errno_text(error);
}

CliError landing_failure(const std::string& source, const Destination& dst, const copy::LandingError& failure,
                         bool through_fastfs) {
    using Step = copy::LandingError::Step;
    std::string why = errno_text(failure.error);
    switch (failure.step) {
        case Step::create:
            return CliError{kExitFailure, "cannot create a file next to " + dst.display + ": " + why};
        case Step::fill:
            return CliError{kExitFailure, refusal_message(source, failure.error, through_fastfs)};
        case Step::metadata:
            return CliError{kExitFailure,
                            "cannot give " + dst.display + " the attributes of " + source + ": " + why};
        case Step::sync:
            return CliError{kExitFailure, "cannot write " + dst.display + " to disk: " + why};
        case Step::rename:
            return CliError{kExitFailure, "cannot rename into " + dst.display + ": " + why};
    }
    return CliError{kExitFailure, "cannot clone " + source + ": " + why};
}

sys::Result<void> clone_through_mount(__u64 token, int destination_fd) {
    fastfs_clone_request request{token, 0, 0, 0};  // length 0: the whole file
    if (sys::retry_eintr([&] { return ::ioctl(destination_fd, FASTFS_IOC_CLONE_INTO, &request); }) == 0)
        return {};
    return sys::fail_errno();
}

// Decides the route: through the daemon when both ends are in one fastfs mount, directly when neither is.
Checked<std::optional<__u64>> choose_route(const OpenedSource& src, const Destination& dst,
                                           const std::string& source) {
    auto token = request_clone_token(src.fd.get(), source);
    if (!token) return token;
    bool destination_in_fastfs = inside_fastfs(dst.dir.get());
    if (token->has_value() && !destination_in_fastfs)
        return runtime_error("cannot clone " + source + " to " + dst.display + ": " + dst.display +
                             " is not inside a fastfs mount (" + source + " is)");
    if (!token->has_value() && destination_in_fastfs)
        return runtime_error("cannot clone " + source + " to " + dst.display + ": " + source +
                             " is not inside a fastfs mount (" + dst.display + " is)");
    struct stat dir_st {};
    if (token->has_value() && ::fstat(dst.dir.get(), &dir_st) == 0 && dir_st.st_dev != src.st.st_dev)
        return runtime_error("cannot clone " + source + " to " + dst.display +
                             ": they are on two different fastfs mounts");
    return token;
}

}  // namespace

Checked<std::optional<__u64>> request_clone_token(int source_fd, const std::string& source) {
    fastfs_clone_token token{};
    if (sys::retry_eintr([&] { return ::ioctl(source_fd, FASTFS_IOC_CLONE_SOURCE, &token); }) == 0)
        return std::optional<__u64>(token.token);
    int error = errno;
    if (error == ENOTTY) return std::optional<__u64>();
    return runtime_error("cannot clone " + source + ": " + errno_text(error));
}

// A fastfs mount answers its stats ioctl, or refuses it to users other than root and its owner (EACCES).
bool inside_fastfs(int dir_fd) {
    fastfs_stats probe{};
    return ::ioctl(dir_fd, FASTFS_IOC_GET_STATS, &probe) == 0 || errno == EACCES;
}

int run_clone(const std::string& source, const std::string& destination) {
    auto src = open_source(source);
    if (!src) return report(src.error());
    auto dst = resolve_destination(source, src->st, destination);
    if (!dst) return report(dst.error());
    auto token = choose_route(*src, *dst, source);
    if (!token) return report(token.error());

    // Landed as `fastfs copy` lands a file: a pending file, the source's owner, xattrs, mode and times,
    // fsync, rename into place.
    bool through_fastfs = token->has_value();
    auto landed = copy::land_file(dst->dir.get(), dst->name, src->fd.get(), src->st, true,
                                  [&](int pending_fd) -> sys::Result<void> {
                                      if (through_fastfs) return clone_through_mount(**token, pending_fd);
                                      return copy::clone_whole_file(src->fd.get(), pending_fd);
                                  });
    if (!landed) return report(landing_failure(source, *dst, landed.error(), through_fastfs));
    return kExitOk;
}

}  // namespace fastfs::cli
