#include "fastfs/docker_plugin/system_mounts.hpp"
#include "fastfs/docker_plugin/errors.hpp"

#include <sys/stat.h>
#include <sys/statfs.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ranges>
#include <system_error>

#include "fastfs/docker_plugin/mount_table.hpp"
#include "fastfs/docker_plugin/process.hpp"
#include "fastfs/sys/mountinfo.hpp"

namespace fastfs::docker_plugin {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kFastfsType = "fuse.fastfs";

// FNV-1a: a stable name for a (filesystem, options) pair; not a security boundary.
std::string stable_hash(const std::string& text) {
    uint64_t hash = 1469598103934665603ULL;
    for (unsigned char c : text) {
        hash ^= c;
        hash *= 1099511628211ULL;
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016" PRIx64, hash);
    return hex;
}

Reply<void> make_directory(const fs::path& dir, mode_t mode) {
    if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST)
        return std::unexpected(dir.string() + ": " + errno_message(errno));
    // mkdir's mode is cut by the umask, and an existing directory keeps whatever it had.
    if (::chmod(dir.c_str(), mode) != 0) return std::unexpected(dir.string() + ": " + errno_message(errno));
    return {};
}

// statfs, not stat: FUSE answers stat from cached attributes (up to 60 s) even after its daemon died, while
// every statfs is a request to the daemon, and fails once it is gone (sys::fuse_daemon_gone).
bool answers(const fs::path& path) {
    struct statfs st {};
    return ::statfs(path.c_str(), &st) == 0;
}

bool is_dead(const fs::path& path) {
    struct statfs st {};
    return ::statfs(path.c_str(), &st) != 0 && sys::fuse_daemon_gone(errno);
}

// Unmounts one of ours: a dead FUSE mount is only ever detached (its daemon cannot answer a sync).
void take_down(const fs::path& path) {
    auto done = is_dead(path) ? detach(path) : unmount(path);
    if (!done) spdlog::warn("cannot unmount {}: {}", path.string(), errno_message(done.error()));
    ::rmdir(path.c_str());
}

}  // namespace

bool fastfs_mount_alive(const fs::path& path) {
    auto entry = mount_at(read_mount_table(), path);
    return entry && entry->fstype == kFastfsType && answers(path);
}

Reply<void> SystemMounts::prepare() const {
    // 0711: runc may need to reach volumes/<name> as a container's remapped root; nobody may list them.
    for (const auto& [dir, mode] : {std::pair{config_.run_dir, 0711},
                                    {config_.run_dir / "volumes", 0711},
                                    {config_.run_dir / "fs", 0700},
                                    {config_.run_dir / "roots", 0700}}) {
        if (auto made = make_directory(dir, static_cast<mode_t>(mode)); !made) return made;
    }
    return {};
}

fs::path SystemMounts::group_mount(const std::string& group) const {
    return config_.run_dir / "fs" / group;
}
fs::path SystemMounts::group_root(const std::string& group) const {
    return config_.run_dir / "roots" / group;
}
fs::path SystemMounts::volume_path(const std::string& name) const {
    return config_.run_dir / "volumes" / name;
}

// Normally the root of the backing filesystem's mount, so that every volume on it shares one fastfs mount.
// But fastfs refuses a backing directory that contains its mountpoint (a mount inside its own tree would
// call into itself), and compares inodes to find out: when the run directory lies below the mount's root,
// as on the root filesystem, the root is not possible, and the shallowest directory on the way down to the
// volume that does not contain the run directory is served instead (/var, /srv, ...).
fs::path SystemMounts::served_directory(const fs::path& mount_point, const fs::path& backing) const {
    fs::path served = mount_point;
    fs::path below = backing.lexically_relative(mount_point);
    for (auto part = below.begin(); part != below.end() && is_within(config_.run_dir, served); ++part) {
        if (*part != ".") served /= *part;
    }
    return served;
}

Reply<SystemMounts::Placement> SystemMounts::place(const AttachRequest& request) const {
    std::error_code error;
    fs::path backing = fs::canonical(request.backing, error);
    if (error) return std::unexpected("backing " + request.backing.string() + ": " + error.message());
    if (is_within(backing, config_.run_dir) || is_within(config_.run_dir, backing))
        return std::unexpected("backing " + backing.string() + " overlaps the plugin's run directory " +
                               config_.run_dir.string());
    auto mount = mount_of(backing);
    if (!mount) return std::unexpected("backing " + backing.string() + ": " + errno_message(mount.error()));
    Placement placement;
    placement.served = served_directory(mount->mount_point, backing);
    placement.relative = backing.lexically_relative(placement.served);
    placement.mount_options = request.options.mount_options;
    placement.group =
        stable_hash(mount->device + '\n' + mount->root.string() + '\n' + placement.served.string() + '\n' +
                    join_option_list(request.options.mount_options));
    return placement;
}

Reply<fs::path> SystemMounts::attach(const AttachRequest& request) {
    auto placement = place(request);
    if (!placement) return std::unexpected(placement.error());
    if (auto ready = ensure_group(*placement); !ready) return std::unexpected(ready.error());
    Volume volume{*placement, request.options.bind_flags};
    auto known = volumes_.find(request.name);
    if (known != volumes_.end()) {
        if (known->second == volume && fastfs_mount_alive(volume_path(request.name)))
            return volume_path(request.name);
        std::string old_group = known->second.placement.group;
        unbind_volume(request.name);  // dead, or the volume's directory moved to another filesystem
        if (old_group != placement->group && !group_has_volumes(old_group)) unmount_group(old_group);
    }
    if (auto bound = bind_volume(request.name, volume); !bound) {
        if (!group_has_volumes(placement->group)) unmount_group(placement->group);
        return std::unexpected(bound.error());
    }
    return volume_path(request.name);
}

void SystemMounts::detach(const std::string& name) {
    auto known = volumes_.find(name);
    if (known == volumes_.end()) return;
    std::string group = known->second.placement.group;
    unbind_volume(name);
    if (!group_has_volumes(group)) unmount_group(group);
}

std::optional<fs::path> SystemMounts::attached(const std::string& name) const {
    if (!volumes_.contains(name)) return std::nullopt;
    return volume_path(name);
}

// A container's mount of the volume is a fastfs mount named after the volume's filesystem whose root is the
// volume's directory (or below it): found by name, so a mount whose daemon died and was replaced counts too.
bool SystemMounts::held_by_containers(const AttachRequest& request) const {
    auto placement = place(request);
    if (!placement) return false;
    fs::path volume_root = fs::path("/") / placement->relative;
    for (const auto& table : other_namespaces_mount_tables()) {
        for (const auto& entry : table) {
            if (entry.fstype == kFastfsType && entry.source == placement->served.string() &&
                is_within(entry.root, volume_root))
                return true;
        }
    }
    return false;
}

std::map<std::string, std::string> SystemMounts::status(const std::string& name) const {
    auto known = volumes_.find(name);
    if (known == volumes_.end()) return {{"fastfs_mount", "none (no container uses the volume)"}};
    const auto& placement = known->second.placement;
    std::string state = fastfs_mount_alive(group_mount(placement.group)) ? "" : " (daemon not answering)";
    return {{"fastfs_mount", group_mount(placement.group).string() + state},
            {"fastfs_serves", placement.served.string()}};
}

bool SystemMounts::group_has_volumes(const std::string& group) const {
    return std::ranges::any_of(volumes_,
                               [&](const auto& entry) { return entry.second.placement.group == group; });
}

// The group's fastfs mount, mounted if it is not, and remounted if its daemon died (every volume of the
// group is bound again; containers that still hold the dead mount see ENOTCONN until restarted).
Reply<void> SystemMounts::ensure_group(const Placement& placement) {
    const auto& group = placement.group;
    if (groups_.contains(group)) {
        if (fastfs_mount_alive(group_mount(group))) return {};
        drop_dead_group(group);
    }
    if (auto mounted = mount_group(placement); !mounted) return mounted;
    groups_.insert(group);
    for (const auto& [name, volume] : volumes_) {
        if (volume.placement.group != group) continue;
        if (auto bound = bind_volume(name, volume); !bound)
            spdlog::error("volume {}: cannot bind it again: {}", name, bound.error());
    }
    return {};
}

void SystemMounts::drop_dead_group(const std::string& group) {
    spdlog::warn("the fastfs daemon of {} is gone (its mount no longer answers); mounting it again",
                 group_mount(group).string());
    for (const auto& [name, volume] : volumes_) {
        if (volume.placement.group == group) take_down(volume_path(name));
    }
    take_down(group_mount(group));
    take_down(group_root(group));
    groups_.erase(group);
}

Reply<void> SystemMounts::mount_group(const Placement& placement) {
    fs::path root = group_root(placement.group), mountpoint = group_mount(placement.group);
    for (const auto& dir : {root, mountpoint}) {
        if (auto made = make_directory(dir, 0700); !made) return made;
    }
    if (auto bound = bind_private(placement.served, root, 0); !bound)
        return std::unexpected("cannot bind " + placement.served.string() + ": " +
                               errno_message(bound.error()));
    std::vector<std::string> options = {"allow_other", "fsname=" + placement.served.string()};
    options.insert(options.end(), placement.mount_options.begin(), placement.mount_options.end());
    std::vector<std::string> argv = {config_.fastfs_binary.string(), "-o", join_option_list(options),
                                     root.string(), mountpoint.string()};
    auto outcome = run_program(argv, config_.mount_timeout);
    if (!outcome || outcome->exit_code != 0 || !fastfs_mount_alive(mountpoint)) {
        take_down(root);
        std::string why = !outcome ? "cannot run " + argv[0] + ": " + errno_message(outcome.error())
                          : outcome->output.empty() ? "exit status " + std::to_string(outcome->exit_code)
                                                    : outcome->output;
        return std::unexpected("fastfs could not mount " + placement.served.string() + ": " + why);
    }
    spdlog::info("fastfs serves {} at {} (options: {})", placement.served.string(), mountpoint.string(),
                 join_option_list(options));
    return {};
}

void SystemMounts::unmount_group(const std::string& group) {
    if (!groups_.erase(group)) return;
    take_down(group_mount(group));  // the daemon exits once its mount is gone
    take_down(group_root(group));
    spdlog::info("unmounted {}: no container uses its volumes", group_mount(group).string());
}

Reply<void> SystemMounts::bind_volume(const std::string& name, const Volume& volume) {
    fs::path source = group_mount(volume.placement.group) / volume.placement.relative;
    fs::path target = volume_path(name);
    struct stat st {};
    if (::stat(source.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return std::unexpected("directory " + (volume.placement.served / volume.placement.relative).string() +
                               " is not reachable through fastfs: " + errno_message(errno ? errno : ENOTDIR));
    if (auto made = make_directory(target, 0700); !made) return made;
    if (auto bound = bind_private(source, target, volume.bind_flags); !bound) {
        ::rmdir(target.c_str());
        return std::unexpected("cannot bind " + source.string() + ": " + errno_message(bound.error()));
    }
    volumes_[name] = volume;
    return {};
}

void SystemMounts::unbind_volume(const std::string& name) {
    take_down(volume_path(name));
    volumes_.erase(name);
}

void SystemMounts::adopt(const std::vector<AttachRequest>& in_use) {
    for (const auto& request : in_use) {
        auto placement = place(request);
        if (!placement) {
            spdlog::warn("volume {} is in use but {}", request.name, placement.error());
            continue;
        }
        const auto& group = placement->group;
        if (!fastfs_mount_alive(group_mount(group)) || !fastfs_mount_alive(volume_path(request.name)))
            continue;  // mounted again on demand
        groups_.insert(group);
        volumes_[request.name] = Volume{*placement, request.options.bind_flags};
        spdlog::info("volume {}: taking over the live mount at {}", request.name,
                     volume_path(request.name).string());
    }
    remove_leftovers();
}

// Everything below the run directory that is not adopted: binds first, then the fastfs mounts, then the
// roots (the mount table lists parents before children, so reverse order takes children first).
void SystemMounts::remove_leftovers() {
    std::set<fs::path> keep;
    for (const auto& [name, volume] : volumes_)
        keep.insert(volume_path(name));
    for (const auto& group : groups_) {
        keep.insert(group_mount(group));
        keep.insert(group_root(group));
    }
    auto table = read_mount_table();
    for (const auto& entry : std::views::reverse(table)) {
        if (entry.mount_point == config_.run_dir || !is_within(entry.mount_point, config_.run_dir)) continue;
        if (keep.contains(entry.mount_point)) continue;
        spdlog::info("removing leftover mount {} ({}{})", entry.mount_point.string(), entry.fstype,
                     is_dead(entry.mount_point) ? ", stale: its daemon is gone" : "");
        take_down(entry.mount_point);
    }
}

}  // namespace fastfs::docker_plugin
