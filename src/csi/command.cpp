// fastfs-csi's command line and start-up. Every failure is one line "fastfs-csi: ...".
#include "fastfs/csi/command.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "fastfs/csi/node.hpp"
#include "fastfs/csi/service.hpp"
#include "fastfs/sys/logging.hpp"
#include "fastfs/sys/pseudo_filesystem.hpp"

namespace fastfs::csi {
namespace fs = std::filesystem;
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

struct Settings {
    std::string endpoint = "unix:///csi/csi.sock";
    std::string node_id;  // default: the host name
    std::string state_dir = "/var/lib/fastfs-csi";
    std::vector<std::string> backings;  // NAME=DIR
    std::string fastfs;                 // default: next to this program
    std::string mount_root = "/run/fastfs-csi/mounts";
    std::string log_level = "info";
};

constexpr const char* kFooter = R"(
Volume attributes (volumeAttributes of an inline csi volume, or of a PV's csi source):
  backing=NAME            one of the --backing names (required)
  mode=clone|view|scratch clone: the pod's own writable reflink clone of source (removed at unpublish);
                          view: source itself; scratch: an empty directory of the volume's own
  source=REL/PATH         a subdirectory of the backing (clone and view)
  readOnly=true           a read-only bind (also: the pod's readOnly flag, or a read-only access mode)

Exit status: 0 stopped by a signal, 1 failure, 2 command-line error.)";

int fail(const std::string& message, int code = kExitFailure) {
    std::string line = message;
    std::ranges::replace(line, '\n', ' ');
    std::fprintf(stderr, "fastfs-csi: %s\n", line.c_str());
    return code;
}

bool valid_backing_name(std::string_view name) {
    return !name.empty() && name.size() <= 64 && name.front() != '.' &&
           name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
               std::string_view::npos;
}

// NAME=DIR: an existing directory of a real filesystem, canonical (symlinks resolved) so that sources
// can be checked against it.
std::expected<Backings, std::string> parse_backings(const std::vector<std::string>& specs) {
    Backings backings;
    for (const auto& spec : specs) {
        auto equals = spec.find('=');
        std::string name = spec.substr(0, equals);
        if (equals == std::string::npos || !valid_backing_name(name))
            return std::unexpected("--backing " + spec +
                                   ": expected NAME=DIR, NAME of letters, digits, - _ .");
        std::error_code error;
        fs::path dir = fs::canonical(spec.substr(equals + 1), error);
        if (error || !fs::is_directory(dir, error))
            return std::unexpected("--backing " + spec + ": not a directory");
        auto pseudo = sys::pseudo_filesystem_of(dir);
        if (!pseudo) return std::unexpected("--backing " + spec + ": statfs failed");
        if (*pseudo)
            return std::unexpected(sys::pseudo_filesystem_refusal("backing " + dir.string(), **pseudo));
        if (!backings.emplace(name, dir).second) return std::unexpected("--backing " + name + " given twice");
    }
    if (backings.empty()) return std::unexpected("give at least one --backing NAME=DIR");
    return backings;
}

std::optional<fs::path> find_fastfs(const std::string& configured) {
    if (!configured.empty()) return fs::absolute(configured).lexically_normal();
    std::error_code error;
    fs::path self = fs::read_symlink("/proc/self/exe", error).parent_path();
    for (const auto& candidate :
         {self / "fastfs", self / ".." / "bin" / "fastfs", fs::path("/usr/bin/fastfs")}) {
        if (::access(candidate.c_str(), X_OK) == 0) return candidate.lexically_normal();
    }
    return std::nullopt;
}

std::string host_name() {
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    return name;
}

// One driver per state directory: a second would overwrite the first one's list of published volumes.
std::expected<int, std::string> lock_directory(const fs::path& dir) {
    fs::path file = dir / ".lock";
    int fd = ::open(file.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) return std::unexpected(file.string() + ": cannot open");
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        return std::unexpected("another fastfs-csi uses " + dir.string());
    }
    return fd;  // held for the life of the process
}

int start(const Settings& settings) {
    if (::geteuid() != 0) return fail("must run as root: it mounts filesystems");
    auto backings = parse_backings(settings.backings);
    if (!backings) return fail(backings.error());
    auto fastfs = find_fastfs(settings.fastfs);
    if (!fastfs || ::access(fastfs->c_str(), X_OK) != 0)
        return fail("cannot find the fastfs program; give it with --fastfs PATH");
    fs::path state_dir = fs::absolute(settings.state_dir), mount_root = fs::absolute(settings.mount_root);
    std::error_code error;
    for (const auto& dir : {state_dir, mount_root}) {
        fs::create_directories(dir, error);
        if (error) return fail(dir.string() + ": " + error.message());
    }
    auto lock = lock_directory(state_dir);
    if (!lock) return fail(lock.error());
    fs::path state_file = state_dir / "published.json";
    auto state = load_state(state_file);
    if (!state)
        return fail("state file " + state.error() + " (fix or move it; it lists the published volumes)");
    NodeConfig config;
    config.backings = *backings;
    config.mount_root = mount_root;
    config.fastfs_binary = *fastfs;
    config.save = [state_file](const State& s) { return save_state(state_file, s); };
    Node node(std::move(config), std::move(*state));
    spdlog::info("state {}, fastfs mounts under {}, fastfs {}", state_file.string(), mount_root.string(),
                 fastfs->string());
    node.recover();
    std::string node_id = settings.node_id.empty() ? host_name() : settings.node_id;
    auto served = serve(ServiceConfig{settings.endpoint, node_id}, node, *backings);
    if (!served) return fail(served.error());
    return 0;
}

void add_options(CLI::App& app, Settings& settings) {
    app.add_option("--endpoint", settings.endpoint, "the CSI socket, unix:///PATH")->capture_default_str();
    app.add_option("--node-id", settings.node_id, "this node's name (default: the host name)");
    app.add_option("--state-dir", settings.state_dir, "where published.json is kept")->capture_default_str();
    app.add_option("--backing", settings.backings, "a directory volumes may use, by name (repeatable)")
        ->type_name("NAME=DIR");
    app.add_option("--fastfs", settings.fastfs, "the fastfs program (default: the one beside this one)");
    app.add_option("--mount-root", settings.mount_root, "where the fastfs mounts of the backings live")
        ->capture_default_str();
    app.add_option("--log-level", settings.log_level, "trace, debug, info, warn, error or off")
        ->capture_default_str();
}

}  // namespace

int run_command(int argc, char** argv) {
    CLI::App app{
        "fastfs-csi: a Kubernetes CSI node plugin whose volumes are fastfs clones, views and scratch "
        "directories of named backings",
        "fastfs-csi"};
    app.set_version_flag("-V,--version", "fastfs-csi " FASTFS_VERSION);
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
    spdlog::default_logger()->set_pattern("fastfs-csi: %^%l%$: %v");
    return start(settings);
}

}  // namespace fastfs::csi
