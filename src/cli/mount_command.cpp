#include "fastfs/cli/mount_command.hpp"

#include "fastfs/cli/errors.hpp"
#include "fastfs/cli/options.hpp"
#include "fastfs/cli/remount.hpp"
#include "fastfs/cli/validate.hpp"
#include "fastfs/fuse/mount_config.hpp"
#include "fastfs/sys/logging.hpp"

namespace fastfs::cli {
namespace {

constexpr const char* kUsage = "usage: fastfs [options] BACKING MOUNTPOINT (see fastfs --help)";

Checked<fuse::MountConfig> build_config(const MountRequest& request, std::string& log_level) {
    if (request.backing.empty()) return usage_error(std::string("missing BACKING and MOUNTPOINT; ") + kUsage);
    if (request.mountpoint.empty()) return usage_error(std::string("missing MOUNTPOINT; ") + kUsage);

    auto parsed = parse_mount_options(request.option_lists);
    if (!parsed) return usage_error(parsed.error());
    log_level = !request.log_level.empty()   ? request.log_level
                : !parsed->log_level.empty() ? parsed->log_level
                                             : kDefaultLogLevel;

    if (auto recovered = recover_dead_mount(request.mountpoint, parsed->config.subtype); !recovered)
        return std::unexpected(recovered.error());
    auto paths = resolve_mount_paths(request.backing, request.mountpoint);
    if (!paths) return std::unexpected(paths.error());
    fuse::MountConfig config = std::move(parsed->config);
    config.backing = paths->backing;
    config.mountpoint = paths->mountpoint;
    if (config.fsname.empty()) config.fsname = config.backing.string();
    config.debug = request.debug;
    config.foreground = request.foreground || request.debug;

    if (auto allowed = check_mount_permission(config); !allowed) return std::unexpected(allowed.error());
    if (auto uring = check_io_uring(config); !uring) return std::unexpected(uring.error());
    if (auto log = check_log_file(config); !log) return std::unexpected(log.error());
    return config;
}

}  // namespace

int run_mount(const MountRequest& request) {
    if (asks_for_remount(request.option_lists)) return run_remount(request);
    if (!request.log_level.empty() && !logging::valid_level(request.log_level))
        return report(CliError{kExitUsage, "unknown log level '" + request.log_level +
                                               "' (expected trace, debug, info, warn, error or off)"});
    std::string log_level;
    auto config = build_config(request, log_level);
    if (!config) return report(config.error());
    logging::init(log_level);
    return fuse::run_session(*config);
}

}  // namespace fastfs::cli
