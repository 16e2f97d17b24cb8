// The FUSE session: mount, daemonize once mounted, serve on several threads, unmount on a signal.
#include <fuse_lowlevel.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "fastfs/fuse/io_uring_choice.hpp"
#include "fastfs/fuse/mount_context.hpp"
#include "fastfs/sys/credentials.hpp"
#include "fastfs/sys/logging.hpp"
#include "fastfs/sys/mountinfo.hpp"
#include "fastfs/sys/syscalls.hpp"
#include "kernel_cache.hpp"

namespace fastfs::fuse {
namespace {

struct FuseArgs {
    fuse_args args = FUSE_ARGS_INIT(0, nullptr);
    ~FuseArgs() { fuse_opt_free_args(&args); }
};

struct SessionDeleter {
    void operator()(fuse_session* se) const { fuse_session_destroy(se); }
};
using SessionPtr = std::unique_ptr<fuse_session, SessionDeleter>;

// What the backing root's own mount withholds (nosuid, nodev, noexec), for the FUSE mount too: the kernel
// checks these on the FUSE mount only, so a view without them would run set-user-ID programs, open device
// nodes or execute files that the backing refuses. After the user's options, so they win over `suid`,
// `dev` or `exec` asked for (with a warning). Filesystems mounted further inside the backing tree: exec
// opens on a noexec one are refused per open (file_ops.cpp).
std::vector<std::string> backing_mount_restrictions(const MountConfig& config) {
    struct statvfs sv {};
    if (::statvfs(config.backing.c_str(), &sv) != 0) return {};
    std::vector<std::string> restrictions;
    for (auto [flag, option, opposite] : {std::tuple{ST_NOSUID, "nosuid", "suid"},
                                          {ST_NODEV, "nodev", "dev"},
                                          {ST_NOEXEC, "noexec", "exec"}}) {
        if (!(sv.f_flag & flag)) continue;
        restrictions.emplace_back(option);
        if (std::ranges::find(config.kernel_options, opposite) != config.kernel_options.end())
            spdlog::warn("{} is mounted {}: the mount is {} too, whatever -o {} says",
                         config.backing.string(), option, option, opposite);
    }
    return restrictions;
}

// Builds "-o opt,opt,..." for libfuse; values are escaped (a backing path may contain commas).
bool build_args(const MountConfig& config, bool io_uring, FuseArgs& out) {
    char* options = nullptr;
    auto add = [&](const std::string& opt) { return fuse_opt_add_opt_escaped(&options, opt.c_str()) == 0; };
    bool ok = add("fsname=" + (config.fsname.empty() ? config.backing.string() : config.fsname)) &&
              add("subtype=" + config.subtype) && add("max_read=" + std::to_string(kMaxRequestBytes));
    if (config.allow_other) ok = ok && add("allow_other");
    if (config.allow_root) ok = ok && add("allow_root");
    if (config.default_permissions) ok = ok && add("default_permissions");
    if (config.read_only) ok = ok && add("ro");
    if (io_uring) ok = ok && add("io_uring");
    for (const auto& opt : config.kernel_options)
        ok = ok && add(opt);
    for (const auto& opt : backing_mount_restrictions(config))
        ok = ok && add(opt);
    ok = ok && fuse_opt_add_arg(&out.args, "fastfs") == 0;
    if (config.debug) ok = ok && fuse_opt_add_arg(&out.args, "-d") == 0;
    ok = ok && fuse_opt_add_arg(&out.args, "-o") == 0 && fuse_opt_add_arg(&out.args, options) == 0;
    std::free(options);
    return ok;
}

// How the process's descriptors are shared (docs/security.md): the descriptor cache (lookups without it
// cost an open_by_handle_at each), descriptors of removed inodes the kernel still holds, a reserve for the
// daemon's own (a /dev/fuse clone per thread, one per backing filesystem, lookups and copies in progress),
// and the rest for the files and directories users open, shared fairly among them.
struct DescriptorPlan {
    size_t fd_cache;
    size_t removed_pins;
    size_t for_users;
};

DescriptorPlan plan_descriptors(const MountConfig& config) {
    // The soft limit is what applies; systemd starts services at 1024 whatever the hard limit allows.
    if (auto raised = sys::raise_open_fd_limit(); raised && raised->first != raised->second)
        spdlog::info("open-file limit raised from {} to {}", raised->first, raised->second);
    size_t limit = sys::open_fd_limit();
    size_t threads = config.worker_threads();
    size_t reserve = 64 + 4 * threads;
    size_t fd_cache =
        config.fd_cache_size != 0 ? config.fd_cache_size : std::clamp<size_t>(limit / 4, 64, 8192);
    if (fd_cache > limit / 2) {
        spdlog::warn("fd_cache={} is more than half of the open-file limit ({}); using {}", fd_cache, limit,
                     limit / 2);
        fd_cache = limit / 2;
    }
    size_t removed_pins = std::max<size_t>(16, limit / 16);
    size_t taken = fd_cache + removed_pins + reserve;
    return {fd_cache, removed_pins, limit > taken + 64 ? limit - taken : 64};
}

int serve(fuse_session* se, const MountConfig& config) {
    if (config.max_threads == 1) return fuse_session_loop(se);
    fuse_loop_config* loop = fuse_loop_cfg_create();
    fuse_loop_cfg_set_clone_fd(loop, 1);  // one /dev/fuse descriptor per thread: less contention
    unsigned threads = config.worker_threads();
    fuse_loop_cfg_set_max_threads(loop, threads);
    fuse_loop_cfg_set_idle_threads(loop, std::max(1u, threads / 2));
    int rc = fuse_session_loop_mt(se, loop);
    fuse_loop_cfg_destroy(loop);
    return rc;
}

// Over io_uring, the kernel may end the rings of a session that was unmounted with an error other than the
// ENOTCONN libfuse takes for the unmount, and libfuse then reports it (seen once, in a CI run's sanitizer
// pass). A session whose mount is gone ended because it was unmounted: that is no failure. Mountinfo, not a
// stat: nothing answers requests on the mount any more.
int unmounted_is_clean(const MountContext& ctx, int rc) {
    if (rc >= 0 || !ctx.io_uring) return rc;
    auto type = sys::mounted_type_at(ctx.config.mountpoint);
    if (type && *type == "fuse." + ctx.config.subtype) return rc;
    spdlog::debug("the request loop ended with {} after the unmount", std::strerror(-rc));
    return 0;
}

}  // namespace

int run_session(const MountConfig& config) {
    auto ctx = std::make_unique<MountContext>();
    ctx->config = config;
    DescriptorPlan plan = plan_descriptors(config);
    auto table = fs::NodeTable::open(config.backing.string(), plan.fd_cache, plan.removed_pins);
    if (!table) {
        spdlog::error("{}: {}", config.backing.string(), std::strerror(table.error()));
        return 1;
    }
    ctx->nodes = std::move(*table);
    ctx->descriptors = std::make_unique<fs::DescriptorBudget>(plan.for_users);
    // Modes arrive already masked (or are masked per request with the caller's umask): ours must not apply.
    ::umask(0);

    IoUringChoice io_uring = choose_io_uring(config);
    ctx->io_uring_asked = io_uring.use;
    ctx->io_uring_note = io_uring.why_not;
    FuseArgs args;
    if (!build_args(config, io_uring.use, args)) {
        spdlog::error("cannot build FUSE options");
        return 1;
    }
    SessionPtr se(fuse_session_new(&args.args, &operations(), sizeof(fuse_lowlevel_ops), ctx.get()));
    if (!se) {
        spdlog::error("cannot create the FUSE session (see the message above)");
        return 1;
    }
    if (fuse_set_signal_handlers(se.get()) != 0) {
        spdlog::error("cannot install signal handlers");
        return 1;
    }
    if (fuse_session_mount(se.get(), config.mountpoint.c_str()) != 0) {
        fuse_remove_signal_handlers(se.get());
        spdlog::error("cannot mount on {} (see the message above)", config.mountpoint.string());
        return 1;
    }
    if (!ctx->nodes->uses_handles()) {
        // Expected for a user's own mount (no CAP_DAC_READ_SEARCH); worth a warning for root.
        bool privileged = sys::host_capable(2);  // CAP_DAC_READ_SEARCH
        spdlog::log(
            privileged ? spdlog::level::warn : spdlog::level::info,
            "{}: {}; holding one descriptor per known inode, so very large trees may hit the open-file "
            "limit",
            config.backing.string(),
            privileged ? "this filesystem cannot encode file handles"
                       : "inodes cannot be reopened by file handle without CAP_DAC_READ_SEARCH on the "
                         "host (not root, or in a user namespace)");
    }
    if (config.allow_other && !config.default_permissions)
        spdlog::warn(
            "allow_other with no_default_permissions: the kernel does not check file modes, and fastfs acts "
            "as root for reads and opens: every user reaches every file");
    if (!config.foreground) {
        // Chosen before daemonizing, while stderr can still say something.
        auto log_destination = logging::choose_destination(config.log_file);
        // Only now: the parent exits 0 once the mount exists, so `fastfs A B && ls B` works.
        if (fuse_daemonize(0) != 0) {
            fuse_session_unmount(se.get());
            fuse_remove_signal_handlers(se.get());
            return 1;
        }
        logging::switch_to(log_destination);
    }
    // After daemonizing, so that mount(8) and scripts see nothing on success; it goes to the log.
    spdlog::info("mounted {} on {}", config.backing.string(), config.mountpoint.string());
    ctx->session = se.get();
    KernelCacheKeeper keeper(*ctx);  // after daemonizing: it tells our own changes by our pid
    int rc = serve(se.get(), config);
    ctx->slow_requests.stop();  // as libfuse joins its workers: the requests they serve are answered first
    rc = unmounted_is_clean(*ctx, rc);
    fuse_session_unmount(se.get());
    fuse_remove_signal_handlers(se.get());
    if (!keeper.stop(std::chrono::seconds(2))) {
        // Its notification waits on an inode locked for a request no thread answers any more; the
        // process exits now, so leave the session and context to it rather than free them under it.
        spdlog::warn("backing watcher still busy at exit; leaving it to the process exit");
        [[maybe_unused]] auto* leaked_session = se.release();
        [[maybe_unused]] auto* leaked_context = ctx.release();
    }
    spdlog::info("unmounted {}", config.mountpoint.string());
    // libfuse reports a shutdown by SIGTERM/SIGINT/SIGHUP as the (positive) signal number, errors as -errno.
    return rc >= 0 ? 0 : 1;
}

}  // namespace fastfs::fuse
