// The plugin's command line and start-up. Every failure is one line "fastfs-docker-plugin: ...".
#include "fastfs/docker_plugin/command.hpp"
#include "fastfs/docker_plugin/errors.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <thread>

#include "fastfs/docker_plugin/server.hpp"
#include "fastfs/docker_plugin/system_mounts.hpp"
#include "fastfs/sys/logging.hpp"
#include "fastfs/sys/syscalls.hpp"
#include "fastfs/sys/unique_fd.hpp"

namespace fastfs::docker_plugin {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

struct Settings {
    std::string socket = "/run/docker/plugins/fastfs.sock";
    std::string state_dir = "/var/lib/fastfs-docker-plugin";
    std::string data_root;  // default: <state_dir>/volumes
    std::string run_dir = "/run/fastfs-docker-plugin";
    std::string fastfs;  // default: found next to this program
    std::string log_level = "info";
    double wait_seconds = 10;
};

constexpr const char* kFooter = R"(
Docker finds the plugin by its socket: /run/docker/plugins/NAME.sock is the driver NAME ("fastfs").

Volume options (docker volume create -d fastfs -o KEY[=VALUE] ...):
  backing=DIR      show the existing directory DIR; `docker volume rm` never deletes it. Without it the
                   volume is a new directory under the data root, deleted by `docker volume rm`.
  ro, nosuid, nodev, noexec, noatime, relatime, strictatime, nodiratime
                   flags of this volume alone (-o ro or -o ro=true; -o ro=false is the same as leaving it out)
  o=OPT[,OPT...]   fastfs mount options as a list, as after `fastfs -o`
  KEY[=VALUE]      any other fastfs mount option (see fastfs --help): entry_timeout=, attr_timeout=,
                   no_watch_backing, writeback_cache, ...

All volumes on one filesystem with the same fastfs options share one fastfs mount (allow_other), mounted
when a container first uses one of them and unmounted when no container uses any: a copy between two of
them is a copy inside one FUSE filesystem, and becomes a reflink on XFS or btrfs.

Exit status: 0 stopped by a signal, 1 failure (paths, permissions, state), 2 command-line error.)";

int fail(const std::string& message, int code = kExitFailure) {
    std::string line = message;
    std::ranges::replace(line, '\n', ' ');
    std::fprintf(stderr, "fastfs-docker-plugin: %s\n", line.c_str());
    return code;
}

// Relative paths are taken from the working directory; the result is normalized ("a/../b" is "b").
std::expected<fs::path, std::string> absolute_path(std::string_view option, const std::string& value) {
    if (value.empty()) return std::unexpected(std::string(option) + " is empty");
    std::error_code error;
    auto path = fs::absolute(value, error);
    if (error) return std::unexpected(std::string(option) + " " + value + ": " + error.message());
    return path.lexically_normal();
}

// The fastfs to spawn: the one installed or built with this plugin, so that both are the same version.
std::optional<fs::path> find_fastfs(const std::string& configured) {
    if (!configured.empty()) {
        auto path = absolute_path("--fastfs", configured);
        return path ? std::optional(*path) : std::nullopt;
    }
    std::error_code error;
    fs::path self = fs::read_symlink("/proc/self/exe", error).parent_path();
    for (const auto& candidate :
         {self / "fastfs", self / ".." / "bin" / "fastfs", fs::path("/usr/bin/fastfs")}) {
        if (::access(candidate.c_str(), X_OK) == 0) return candidate.lexically_normal();
    }
    return std::nullopt;
}

std::expected<void, std::string> make_private_directory(const fs::path& dir) {
    std::error_code error;
    fs::create_directories(dir, error);
    if (error) return std::unexpected(dir.string() + ": " + error.message());
    if (::chmod(dir.c_str(), 0700) != 0) return std::unexpected(dir.string() + ": " + errno_message(errno));
    return {};
}

// The fastfs daemons inherit this process's descriptor limit and size their caches by it; systemd starts
// services with a soft limit of 1024.
void raise_descriptor_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == limit.rlim_max) return;
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) spdlog::warn("cannot raise the open-file limit");
}

// Copies between volumes are reflinks only if the backing filesystem shares blocks: say so at start.
void check_reflinks(const fs::path& data_root) {
    auto source = sys::open_at(AT_FDCWD, data_root.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    auto target = sys::open_at(AT_FDCWD, data_root.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (!source || !target) return;
    std::string block(4096, 'x');
    bool written = sys::pwrite_full(source->get(), block.data(), block.size(), 0).has_value();
    if (written && sys::clone_file(source->get(), target->get())) {
        spdlog::info("data root {} shares blocks: copies between its volumes are reflinks",
                     data_root.string());
        return;
    }
    spdlog::warn(
        "data root {} is on a filesystem without reflinks: copies between its volumes copy data "
        "(use XFS with reflink=1 or btrfs)",
        data_root.string());
}

struct Paths {
    fs::path socket, state_file, data_root, run_dir, fastfs;
};

std::expected<Paths, std::string> resolve(const Settings& settings) {
    auto socket = absolute_path("--socket", settings.socket);
    auto state_dir = absolute_path("--state-dir", settings.state_dir);
    auto run_dir = absolute_path("--run-dir", settings.run_dir);
    if (!socket || !state_dir || !run_dir)
        return std::unexpected(!socket ? socket.error() : !state_dir ? state_dir.error() : run_dir.error());
    auto data_root = settings.data_root.empty() ? std::expected<fs::path, std::string>(*state_dir / "volumes")
                                                : absolute_path("--data-root", settings.data_root);
    if (!data_root) return std::unexpected(data_root.error());
    auto fastfs = find_fastfs(settings.fastfs);
    if (!fastfs) return std::unexpected("cannot find the fastfs program; give it with --fastfs PATH");
    if (::access(fastfs->c_str(), X_OK) != 0)
        return std::unexpected(fastfs->string() + ": " + errno_message(errno));
    for (const auto& dir : {*state_dir, *data_root}) {
        if (auto made = make_private_directory(dir); !made) return std::unexpected(made.error());
    }
    return Paths{*socket, *state_dir / "volumes.json", *data_root, *run_dir, *fastfs};
}

// Only one plugin may use a state directory and a run directory: a second one would tear down the first
// one's mounts as leftovers, and the two would overwrite each other's volume list. The holder writes its pid
// into the lock file, so that a refusal can name it. A plugin that was just told to stop may take a moment
// to exit (it finishes the requests in flight), and a restart right after the stop (a script, or an
// operator without systemd) must not fail for that: the new one waits up to `wait` for the lock.
class DirectoryLock {
  public:
    static std::expected<DirectoryLock, std::string> take(const fs::path& dir, Clock::time_point deadline,
                                                          std::chrono::milliseconds wait) {
        fs::path file = dir / ".lock";
        auto fd = sys::open_at(AT_FDCWD, file.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
        if (!fd) return std::unexpected(file.string() + ": " + errno_message(fd.error()));
        bool said = false;
        while (::flock(fd->get(), LOCK_EX | LOCK_NB) != 0) {
            if (errno != EWOULDBLOCK) return std::unexpected(file.string() + ": " + errno_message(errno));
            auto holder = holder_of(fd->get());
            if (Clock::now() >= deadline) {
                std::string who = holder ? " (pid " + std::to_string(*holder) + ")" : "";
                std::string waited =
                    wait.count() > 0 ? "; waited " + format_seconds(wait) + " for it to exit" : "";
                return std::unexpected("another fastfs-docker-plugin" + who + " uses " + dir.string() +
                                       waited);
            }
            if (!said) {
                spdlog::info("waiting up to {} for the fastfs-docker-plugin{} that uses {} to exit",
                             format_seconds(wait), holder ? " (pid " + std::to_string(*holder) + ")" : "",
                             dir.string());
                said = true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        std::string pid = std::to_string(::getpid()) + "\n";
        if (::ftruncate(fd->get(), 0) != 0 || !sys::pwrite_full(fd->get(), pid.data(), pid.size(), 0))
            spdlog::warn("{}: cannot record this plugin's pid in it", file.string());
        return DirectoryLock(std::move(*fd));
    }

  private:
    explicit DirectoryLock(sys::UniqueFd fd) : fd_(std::move(fd)) {}

    // The pid the holder wrote, if it did (a plugin that has just taken the lock may not have yet).
    static std::optional<long> holder_of(int fd) {
        char buf[32] = {};
        ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
        if (n <= 0) return std::nullopt;
        char* end = nullptr;
        long pid = std::strtol(buf, &end, 10);
        if (pid <= 0 || end == buf || (*end != '\n' && *end != '\0')) return std::nullopt;
        return pid;
    }
    static std::string format_seconds(std::chrono::milliseconds duration) {
        auto ms = duration.count();
        return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
    }

    sys::UniqueFd fd_;  // the lock goes with the descriptor
};

struct Plugin {
    std::optional<SystemMounts> mounts;
    std::optional<Driver> driver;
};

// Runs once the socket is ours: load the volumes, take over or clean up what a previous plugin mounted.
Reply<Driver*> start_driver(const Paths& paths, Plugin& plugin) {
    auto state = load_state(paths.state_file);
    if (!state)
        return std::unexpected("state file " + state.error() + " (fix or move it; it lists the volumes)");
    auto state_file = paths.state_file;
    DriverConfig config{paths.data_root, current_boot_id(),
                        [state_file](const State& s) { return save_state(state_file, s); }};
    plugin.driver.emplace(std::move(config), *plugin.mounts, std::move(*state));
    spdlog::info("state {}, data root {}, mounts under {}, fastfs {}", paths.state_file.string(),
                 paths.data_root.string(), paths.run_dir.string(), paths.fastfs.string());
    return &*plugin.driver;
}

int start(const Settings& settings) {
    if (::geteuid() != 0)
        return fail("must run as root: it mounts filesystems and Docker talks to it as root");
    auto paths = resolve(settings);
    if (!paths) return fail(paths.error());
    // Declared first, so released last: after everything else of this plugin is gone.
    std::optional<DirectoryLock> state_lock, run_lock;
    Plugin plugin;
    plugin.mounts.emplace(SystemMountsConfig{paths->run_dir, paths->fastfs});
    if (auto prepared = plugin.mounts->prepare(); !prepared) return fail(prepared.error());
    // One deadline for both locks: a plugin that is exiting holds both and lets go of them together.
    auto wait = std::chrono::milliseconds(std::llround(settings.wait_seconds * 1000));
    auto deadline = Clock::now() + wait;
    auto state_locked = DirectoryLock::take(paths->state_file.parent_path(), deadline, wait);
    if (!state_locked) return fail(state_locked.error());
    state_lock.emplace(std::move(*state_locked));
    auto run_locked = DirectoryLock::take(paths->run_dir, deadline, wait);
    if (!run_locked) return fail(run_locked.error());
    run_lock.emplace(std::move(*run_locked));
    raise_descriptor_limit();
    check_reflinks(paths->data_root);
    auto served = serve(paths->socket, [&] { return start_driver(*paths, plugin); });
    if (!served) return fail(served.error());
    return 0;
}

void add_options(CLI::App& app, Settings& settings) {
    app.add_option("--socket", settings.socket, "unix socket Docker connects to")
        ->capture_default_str()
        ->type_name("PATH");
    app.add_option("--state-dir", settings.state_dir, "where the list of volumes is kept (volumes.json)")
        ->capture_default_str()
        ->type_name("DIR");
    app.add_option("--data-root", settings.data_root,
                   "where volumes without backing= are made; put it on XFS (reflink=1) or btrfs "
                   "(default: STATE_DIR/volumes)")
        ->type_name("DIR");
    app.add_option("--run-dir", settings.run_dir,
                   "where the fastfs mounts live; must be on a tmpfs such as /run")
        ->capture_default_str()
        ->type_name("DIR");
    app.add_option("--fastfs", settings.fastfs,
                   "the fastfs program (default: the one installed with the plugin)")
        ->type_name("PATH");
    app.add_option("--log-level", settings.log_level, "trace, debug, info, warn, error or off")
        ->capture_default_str()
        ->type_name("LEVEL");
    app.add_option("--wait", settings.wait_seconds,
                   "how long to wait for a plugin that uses the same state or run directory to exit (a "
                   "restart right after a stop), before refusing to start")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 3600.0))
        ->type_name("SECONDS");
}

}  // namespace

int run_command(int argc, char** argv) {
    CLI::App app{
        "fastfs-docker-plugin: a Docker volume plugin whose volumes are served by fastfs, so that "
        "copies inside and between volumes become reflinks",
        "fastfs-docker-plugin"};
    app.set_version_flag("-V,--version", "fastfs-docker-plugin " FASTFS_VERSION);
    Settings settings;
    add_options(app, settings);
    app.footer(kFooter);
    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& done) {
        return app.exit(done);
    } catch (const CLI::ParseError& error) {
        return fail(error.what(), kExitUsage);
    }
    if (!logging::init(settings.log_level))
        return fail("--log-level: unknown level '" + settings.log_level + "'", kExitUsage);
    spdlog::default_logger()->set_pattern("fastfs-docker-plugin: %^%l%$: %v");
    return start(settings);
}

}  // namespace fastfs::docker_plugin
