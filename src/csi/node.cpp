#include "fastfs/csi/node.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <spdlog/spdlog.h>
#include <set>
#include <system_error>

#include "fastfs/csi/mounts.hpp"
#include "fastfs/docker_plugin/mount_table.hpp"
#include "fastfs/docker_plugin/process.hpp"

namespace fastfs::csi {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kFastfsType = "fuse.fastfs";

std::string errno_message(int error) {
    return std::error_code(error, std::generic_category()).message();
}

bool fastfs_alive(const fs::path& path) {
    auto entry = docker_plugin::mount_at(docker_plugin::read_mount_table(), path);
    return entry && entry->fstype == kFastfsType && answers(path);
}

// A source that cannot be reached beneath the backing, in the words and code the CO gets.
Error source_error(const VolumeSpec& spec, int error) {
    std::string subject = "source=" + spec.source.string() + " in backing " + spec.backing;
    switch (error) {
        case ENOENT:
            return {Code::not_found, subject + ": no such directory"};
        case ENOTDIR:
            return {Code::invalid_argument, subject + ": not a directory"};
        case EXDEV:
        case ELOOP:
            return {Code::invalid_argument, subject + ": leads outside the backing"};
        default:
            return {Code::internal, subject + ": " + errno_message(error)};
    }
}

Reply<void> make_directory(const fs::path& dir, mode_t mode) {
    if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST)
        return refuse(Code::internal, "cannot make " + dir.string() + ": " + errno_message(errno));
    if (::chmod(dir.c_str(), mode) != 0)
        return refuse(Code::internal, "cannot chmod " + dir.string() + ": " + errno_message(errno));
    return {};
}

}  // namespace

fs::path volume_directory(const std::string& volume_id) {
    return fs::path(".fastfs-csi") / "volumes" / volume_id;
}

fs::path Node::mount_of_backing(const std::string& name) const {
    return config_.mount_root / name;
}

// The backing's fastfs mount, mounted on first use; a dead one (its daemon gone: ENOTCONN) is detached and
// mounted again, and the targets bound from it are bound again from the new mount.
Reply<void> Node::ensure_mounted(const std::string& backing) {
    fs::path mountpoint = mount_of_backing(backing);
    if (fastfs_alive(mountpoint)) return {};
    bool stale = is_mount_point(mountpoint);
    if (stale) {
        spdlog::warn("the fastfs mount {} does not answer; mounting it again", mountpoint.string());
        unmount_all(mountpoint);
    }
    if (auto mounted = mount_backing(backing); !mounted) return mounted;
    if (!stale) return {};
    for (const auto& [target, publication] : state_.published) {
        if (publication.spec.backing != backing || answers(target)) continue;
        unmount_all(target);
        if (auto bound = bind_target(target, publication); !bound)
            spdlog::error("cannot bind {} again: {}", target, bound.error().message);
    }
    return {};
}

Reply<void> Node::mount_backing(const std::string& backing) {
    fs::path mountpoint = mount_of_backing(backing);
    const fs::path& dir = config_.backings.at(backing);
    if (auto made = make_directory(mountpoint, 0700); !made) return made;
    std::vector<std::string> argv = {config_.fastfs_binary.string(), dir.string(), mountpoint.string(), "-o",
                                     "allow_other"};
    auto outcome = docker_plugin::run_program(argv, config_.mount_timeout);
    if (!outcome || outcome->exit_code != 0 || !fastfs_alive(mountpoint)) {
        std::string why = !outcome ? "cannot run " + argv[0] + ": " + errno_message(outcome.error())
                          : outcome->output.empty() ? "exit status " + std::to_string(outcome->exit_code)
                                                    : outcome->output;
        return refuse(Code::internal, "fastfs could not mount backing " + backing + ": " + why);
    }
    spdlog::info("backing {}: fastfs serves {} at {}", backing, dir.string(), mountpoint.string());
    return {};
}

// The source as a path relative to the backing with every symlink resolved, after openat2 proved it stays
// beneath the backing directory.
Reply<fs::path> Node::resolve_source(const VolumeSpec& spec) const {
    const fs::path& dir = config_.backings.at(spec.backing);
    auto fd = open_beneath(dir, spec.source);
    if (!fd) return std::unexpected(source_error(spec, fd.error()));
    auto where = path_of(fd->get());
    if (!where) return std::unexpected(source_error(spec, where.error()));
    fs::path relative = where->lexically_relative(dir);
    if (relative.empty() || relative == "." || *relative.begin() == ".." ||
        *relative.begin() == ".fastfs-csi")
        return refuse(Code::invalid_argument,
                      "source=" + spec.source.string() + ": must name a subdirectory of the backing");
    return relative;
}

// The volume's own directory, new: a whole-tree clone of the source (all shared extents, made by the
// daemon in one request) or an empty directory anyone may write (like emptyDir).
Reply<void> Node::prepare_volume_directory(const PublishRequest& request, const fs::path& source) {
    fs::path mountpoint = mount_of_backing(request.spec.backing);
    fs::path dir = mountpoint / volume_directory(request.volume_id);
    std::error_code error;
    fs::remove_all(dir, error);  // a leftover of a publish that crashed before it was recorded
    if (error)
        return refuse(Code::internal, "cannot remove leftover " + dir.string() + ": " + error.message());
    for (const auto& parent : {mountpoint / ".fastfs-csi", mountpoint / ".fastfs-csi" / "volumes"}) {
        if (auto made = make_directory(parent, 0711); !made) return made;
    }
    if (request.spec.mode == Mode::scratch) return make_directory(dir, 01777);
    auto started = std::chrono::steady_clock::now();
    std::vector<std::string> argv = {config_.fastfs_binary.string(), "clone", "-r",
                                     (mountpoint / source).string(), dir.string()};
    auto outcome = docker_plugin::run_program(argv, config_.clone_timeout);
    if (!outcome || outcome->exit_code != 0) {
        fs::remove_all(dir, error);
        std::string why = !outcome ? errno_message(outcome.error()) : outcome->output;
        return refuse(Code::failed_precondition, "cannot clone source=" + request.spec.source.string() +
                                                     " (clone volumes share every extent or fail): " + why);
    }
    auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    spdlog::info("volume {}: cloned {} in {} ms", request.volume_id, source.string(), took.count());
    return {};
}

// What the target shows: the volume's own directory, or for a view the source (resolved again, beneath the
// backing), reached through the backing's fastfs mount.
Reply<void> Node::bind_target(const fs::path& target, const Publication& publication) {
    const auto& spec = publication.spec;
    fs::path shown = volume_directory(publication.volume_id);
    if (spec.mode == Mode::view) {
        auto source = resolve_source(spec);
        if (!source) return std::unexpected(source.error());
        shown = *source;
    }
    auto fd = open_beneath(mount_of_backing(spec.backing), shown);
    if (!fd)
        return refuse(Code::internal,
                      "cannot open " + shown.string() + " through fastfs: " + errno_message(fd.error()));
    if (auto made = make_directory(target, 0750); !made) return made;
    if (auto bound = attach_bind(fd->get(), target, spec.readonly); !bound)
        return refuse(Code::internal,
                      "cannot bind onto " + target.string() + ": " + errno_message(bound.error()));
    return {};
}

bool Node::volume_in_use(const std::string& volume_id, const fs::path& except) const {
    for (const auto& [target, publication] : state_.published) {
        if (publication.volume_id == volume_id && target != except) return true;
    }
    return false;
}

// Kubelet retries and may publish one volume at several targets (one PV in two pods of the node): the same
// volume with the same attributes is fine, anything else is refused with the spec's codes.
Reply<void> Node::check_compatible(const PublishRequest& request) const {
    for (const auto& [target, publication] : state_.published) {
        bool same_volume = publication.volume_id == request.volume_id;
        if (target == request.target.string()) {
            if (!same_volume || publication.spec != request.spec)
                return refuse(Code::already_exists, "target " + target + " already shows volume " +
                                                        publication.volume_id + " with other attributes");
            continue;
        }
        if (!same_volume) continue;
        if (publication.spec != request.spec)
            return refuse(Code::already_exists, "volume " + request.volume_id + " is published at " + target +
                                                    " with other attributes");
        if (request.single_writer)
            return refuse(
                Code::failed_precondition,
                "volume " + request.volume_id + " is single-writer and already published at " + target);
    }
    return {};
}

Reply<void> Node::save() {
    if (auto saved = config_.save(state_); !saved)
        return refuse(Code::internal, "cannot save state: " + saved.error());
    return {};
}

Reply<void> Node::publish(const PublishRequest& request) {
    if (!valid_volume_id(request.volume_id))
        return refuse(Code::invalid_argument, "volume_id must be one path component (no /, not . or ..)");
    if (!request.target.is_absolute()) return refuse(Code::invalid_argument, "target_path must be absolute");
    const std::string target = request.target.lexically_normal().string();
    if (auto compatible = check_compatible(request); !compatible) return compatible;
    bool recorded = state_.published.contains(target);
    if (recorded && is_mount_point(target) && answers(target)) return {};  // a retry: already published
    if (auto mounted = ensure_mounted(request.spec.backing); !mounted) return mounted;
    fs::path source;
    if (request.spec.mode != Mode::scratch) {
        auto resolved = resolve_source(request.spec);
        if (!resolved) return std::unexpected(resolved.error());
        source = *resolved;
    }
    unmount_all(target);  // ours, left by a publish that failed or crashed before it was recorded
    bool own_directory = request.spec.mode != Mode::view;
    bool fresh = own_directory && !recorded && !volume_in_use(request.volume_id, target);
    if (fresh) {
        if (auto prepared = prepare_volume_directory(request, source); !prepared) return prepared;
    }
    Publication publication{request.volume_id, request.spec};
    auto bound = bind_target(target, publication);
    if (bound) {
        state_.published[target] = publication;
        bound = save();
    }
    if (!bound) {
        unmount_all(target);
        state_.published.erase(target);
        if (fresh) remove_volume_directory(publication);
        return bound;
    }
    spdlog::info("published volume {} ({} {}{}{}) at {}", request.volume_id, to_string(request.spec.mode),
                 request.spec.backing, source.empty() ? "" : ":" + source.string(),
                 request.spec.readonly ? ", read-only" : "", target);
    return {};
}

void Node::remove_volume_directory(const Publication& publication) {
    fs::path dir = mount_of_backing(publication.spec.backing) / volume_directory(publication.volume_id);
    std::error_code error;
    fs::remove_all(dir, error);
    if (error) spdlog::warn("cannot remove {}: {}", dir.string(), error.message());
}

Reply<void> Node::unpublish(const std::string& volume_id, const fs::path& target_path) {
    if (volume_id.empty()) return refuse(Code::invalid_argument, "volume_id is missing");
    if (target_path.empty() || !target_path.is_absolute())
        return refuse(Code::invalid_argument, "target_path is missing or not absolute");
    const std::string target = target_path.lexically_normal().string();
    auto known = state_.published.find(target);
    if (known == state_.published.end()) {
        // Unknown or already unpublished: OK. A fastfs bind there is ours, left by a crash before the record.
        auto entry = docker_plugin::mount_at(docker_plugin::read_mount_table(), target);
        if (entry && entry->fstype == kFastfsType) unmount_all(target);
        ::rmdir(target.c_str());
        return {};
    }
    if (known->second.volume_id != volume_id)
        return refuse(Code::not_found,
                      "target " + target + " shows volume " + known->second.volume_id + ", not " + volume_id);
    unmount_all(target);
    if (is_mount_point(target)) return refuse(Code::internal, "cannot unmount " + target);
    if (::rmdir(target.c_str()) != 0 && errno != ENOENT)
        spdlog::warn("cannot remove {}: {}", target, errno_message(errno));
    Publication publication = known->second;
    state_.published.erase(known);
    if (publication.spec.mode != Mode::view && !volume_in_use(volume_id, target)) {
        if (auto mounted = ensure_mounted(publication.spec.backing); !mounted) {
            state_.published[target] = publication;  // kubelet retries: the directory goes then
            return mounted;
        }
        remove_volume_directory(publication);
    }
    if (auto saved = save(); !saved) return saved;
    spdlog::info("unpublished volume {} from {}", volume_id, target);
    return {};
}

Reply<VolumeStats> Node::stats(const std::string& volume_id, const fs::path& path) const {
    if (volume_id.empty() || path.empty())
        return refuse(Code::invalid_argument, "volume_id and volume_path are required");
    auto known = state_.published.find(path.lexically_normal().string());
    if (known == state_.published.end() || known->second.volume_id != volume_id)
        return refuse(Code::not_found, "volume " + volume_id + " is not published at " + path.string());
    struct statvfs st {};
    if (::statvfs(path.c_str(), &st) != 0)
        return refuse(Code::internal, "statvfs " + path.string() + ": " + errno_message(errno));
    auto blocks = [&](fsblkcnt_t n) { return static_cast<int64_t>(n * st.f_frsize); };
    VolumeStats stats;
    stats.bytes_total = blocks(st.f_blocks);
    stats.bytes_available = blocks(st.f_bavail);
    stats.bytes_used = blocks(st.f_blocks - st.f_bfree);
    stats.inodes_total = static_cast<int64_t>(st.f_files);
    stats.inodes_available = static_cast<int64_t>(st.f_favail);
    stats.inodes_used = static_cast<int64_t>(st.f_files - st.f_ffree);
    return stats;
}

void Node::recover() {
    std::set<std::string> backings;
    for (const auto& [target, publication] : state_.published)
        backings.insert(publication.spec.backing);
    for (const auto& backing : backings) {
        if (!config_.backings.contains(backing)) {
            spdlog::error("published volumes use backing {}, which is no longer configured", backing);
            continue;
        }
        if (auto mounted = ensure_mounted(backing); !mounted) spdlog::error("{}", mounted.error().message);
    }
    for (const auto& [target, publication] : state_.published) {
        if (!config_.backings.contains(publication.spec.backing)) continue;
        if (is_mount_point(target) && answers(target)) {
            spdlog::info("volume {}: {} is still published", publication.volume_id, target);
            continue;
        }
        unmount_all(target);
        if (auto bound = bind_target(target, publication); !bound)
            spdlog::error("volume {}: cannot bind {} again: {}", publication.volume_id, target,
                          bound.error().message);
        else
            spdlog::info("volume {}: bound {} again", publication.volume_id, target);
    }
}

bool Node::ready() const {
    for (const auto& [name, dir] : config_.backings) {
        if (!answers(dir)) return false;
    }
    return true;
}

}  // namespace fastfs::csi
