#include "fastfs/docker_plugin/driver.hpp"
#include "fastfs/docker_plugin/errors.hpp"

#include <sys/stat.h>

#include <spdlog/spdlog.h>
#include <ctime>
#include <system_error>

#include "fastfs/sys/pseudo_filesystem.hpp"

namespace fastfs::docker_plugin {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxNameLength = 255;  // a directory name

std::string now_rfc3339() {
    std::time_t now = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

int user_count(const VolumeRecord& record) {
    int count = 0;
    for (const auto& [id, times] : record.users)
        count += times;
    return count;
}

Reply<void> check_backing_directory(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return std::unexpected("backing " + path + ": " + errno_message(errno));
    if (!S_ISDIR(st.st_mode)) return std::unexpected("backing " + path + ": " + errno_message(ENOTDIR));
    return {};
}

// A directory of the data root for a new volume. An existing one is taken over: it is what a volume of
// the same name left when the plugin's state was lost, and the data in it is the user's.
Reply<void> make_owned_directory(const fs::path& dir) {
    if (::mkdir(dir.c_str(), 0755) == 0) return {};
    if (errno != EEXIST) return std::unexpected(dir.string() + ": " + errno_message(errno));
    spdlog::info("volume directory {} exists already; the new volume shows its contents", dir.string());
    return check_backing_directory(dir.string());
}

}  // namespace

Reply<void> check_volume_name(const std::string& name) {
    bool valid = !name.empty() && name.size() <= kMaxNameLength && name.front() != '.' &&
                 name.front() != '-' && name.front() != '_';
    for (char c : name)
        valid = valid && is_name_char(c);
    if (!valid)
        return std::unexpected("invalid volume name '" + name +
                               "' (letters, digits, '_', '.', '-', starting with a letter or digit)");
    return {};
}

Driver::Driver(DriverConfig config, Attacher& attacher, State state)
    : config_(std::move(config)), attacher_(attacher), state_(std::move(state)) {
    if (state_.boot_id != config_.boot_id) {
        // A reboot ended every container: no mount ID recorded before it can still be in use.
        for (auto& [name, record] : state_.volumes)
            record.users.clear();
        state_.boot_id = config_.boot_id;
        if (auto saved = save(); !saved) spdlog::error("cannot save the state: {}", saved.error());
    }
    std::vector<AttachRequest> in_use;
    for (const auto& [name, record] : state_.volumes) {
        if (record.users.empty()) continue;
        if (auto request = request_for(name, record)) in_use.push_back(std::move(*request));
    }
    attacher_.adopt(in_use);
}

Reply<void> Driver::save() {
    return config_.persist(state_);
}

Reply<VolumeRecord*> Driver::find(const std::string& name) {
    auto it = state_.volumes.find(name);
    if (it == state_.volumes.end()) return std::unexpected("no such volume: " + name);
    return &it->second;
}

Reply<AttachRequest> Driver::request_for(const std::string& name, const VolumeRecord& record) const {
    auto options = parse_volume_options(record.options);
    if (!options) return std::unexpected("volume " + name + ": " + options.error());
    return AttachRequest{name, record.backing, std::move(*options)};
}

Reply<std::string> Driver::backing_for(const std::string& name, const VolumeOptions& options, bool& owned) {
    owned = options.backing.empty();
    if (!owned) {
        if (auto checked = check_backing_directory(options.backing); !checked)
            return std::unexpected(checked.error());
        std::error_code error;
        auto canonical = fs::canonical(options.backing, error);
        if (error) return std::unexpected("backing " + options.backing + ": " + error.message());
        auto pseudo = sys::pseudo_filesystem_of(canonical);
        if (!pseudo)
            return std::unexpected("backing " + options.backing + ": " + errno_message(pseudo.error()));
        if (*pseudo)
            return std::unexpected(sys::pseudo_filesystem_refusal("backing " + options.backing, **pseudo));
        return canonical.string();
    }
    fs::path dir = config_.data_root / name;
    if (auto made = make_owned_directory(dir); !made) return std::unexpected(made.error());
    return dir.string();
}

Reply<void> Driver::create(const std::string& name, const OptionMap& opts) {
    std::lock_guard lock(mutex_);
    if (auto valid = check_volume_name(name); !valid) return valid;
    auto options = parse_volume_options(opts);
    if (!options) return std::unexpected("volume " + name + ": " + options.error());
    if (auto existing = state_.volumes.find(name); existing != state_.volumes.end()) {
        if (existing->second.options == opts) return {};  // Docker may ask twice
        return std::unexpected("volume " + name + " exists already with other options");
    }
    VolumeRecord record;
    auto backing = backing_for(name, *options, record.owned);
    if (!backing) return std::unexpected(backing.error());
    record.backing = *backing;
    record.options = opts;
    record.created_at = now_rfc3339();
    state_.volumes.emplace(name, record);
    if (auto saved = save(); !saved) {
        state_.volumes.erase(name);
        return std::unexpected("cannot save the plugin state: " + saved.error());
    }
    spdlog::info("created volume {} at {}{}", name, record.backing, record.owned ? " (plugin-owned)" : "");
    return {};
}

// Docker asks to remove a volume only when no container of its own refers to it, yet it may never have given
// back the mounts of containers it found dead after being killed. Mount IDs that no container holds in the
// kernel's mount tables are such leftovers; a volume some container really holds is refused.
Reply<void> Driver::forget_stale_users(const std::string& name, VolumeRecord& record) {
    int users = user_count(record);
    if (users == 0) return {};
    auto request = request_for(name, record);
    if (!request || attacher_.held_by_containers(*request))
        return std::unexpected("volume " + name + " is in use by " + std::to_string(users) +
                               " container mount(s); stop those containers first");
    spdlog::warn("volume {}: no container holds it, forgetting {} mount(s) Docker did not give back", name,
                 users);
    record.users.clear();
    attacher_.detach(name);
    return {};
}

Reply<void> Driver::remove(const std::string& name) {
    std::lock_guard lock(mutex_);
    auto record = find(name);
    if (!record) return std::unexpected(record.error());
    if (auto in_use = forget_stale_users(name, **record); !in_use) return in_use;
    VolumeRecord removed = **record;
    state_.volumes.erase(name);
    if (auto saved = save(); !saved) {
        state_.volumes.emplace(name, removed);
        return std::unexpected("cannot save the plugin state: " + saved.error());
    }
    if (removed.owned) {
        // Only directories the plugin made; a backing= directory is the user's and is never touched.
        std::error_code error;
        fs::remove_all(removed.backing, error);
        if (error)
            spdlog::error("volume {} removed, but not its directory {}: {}", name, removed.backing,
                          error.message());
    }
    spdlog::info("removed volume {}", name);
    return {};
}

Reply<std::string> Driver::mount(const std::string& name, const std::string& id) {
    std::lock_guard lock(mutex_);
    if (id.empty()) return std::unexpected("mount of volume " + name + " without a mount ID");
    auto record = find(name);
    if (!record) return std::unexpected(record.error());
    auto request = request_for(name, **record);
    if (!request) return std::unexpected(request.error());
    auto path = attacher_.attach(*request);
    if (!path) return std::unexpected("volume " + name + ": " + path.error());
    ++(*record)->users[id];
    if (auto saved = save(); !saved) {
        // Without the record a restarted plugin would not know the volume is in use: refuse the mount.
        if (--(*record)->users[id] == 0) (*record)->users.erase(id);
        if ((*record)->users.empty()) attacher_.detach(name);
        return std::unexpected("cannot save the plugin state: " + saved.error());
    }
    spdlog::info("mounted volume {} for {} at {} ({} user(s))", name, id, path->string(),
                 user_count(**record));
    return path->string();
}

Reply<void> Driver::unmount(const std::string& name, const std::string& id) {
    std::lock_guard lock(mutex_);
    auto record = find(name);
    if (!record) return std::unexpected(record.error());
    auto& users = (*record)->users;
    auto user = users.find(id);
    if (user == users.end()) {
        spdlog::warn("unmount of volume {} by {}, which had not mounted it", name, id);
        return {};
    }
    if (--user->second == 0) users.erase(user);
    if (users.empty()) attacher_.detach(name);
    if (auto saved = save(); !saved) spdlog::error("cannot save the state: {}", saved.error());
    spdlog::info("unmounted volume {} for {} ({} user(s) left)", name, id, user_count(**record));
    return {};
}

Reply<std::string> Driver::path(const std::string& name) {
    std::lock_guard lock(mutex_);
    auto record = find(name);
    if (!record) return std::unexpected(record.error());
    if ((*record)->users.empty()) return std::string{};
    // In use: make sure the path really works (a dead fastfs daemon is replaced here).
    auto request = request_for(name, **record);
    if (!request) return std::unexpected(request.error());
    auto path = attacher_.attach(*request);
    if (!path) return std::unexpected("volume " + name + ": " + path.error());
    return path->string();
}

VolumeView Driver::view(const std::string& name, const VolumeRecord& record) const {
    VolumeView view{name, "", record.created_at, attacher_.status(name)};
    if (auto path = attacher_.attached(name)) view.mountpoint = path->string();
    view.status["backing"] = record.backing;
    view.status["removes_data"] =
        record.owned ? "yes: the plugin made this directory" : "no: backing= directory, kept on remove";
    view.status["users"] = std::to_string(user_count(record));
    if (auto options = parse_volume_options(record.options); options)
        view.status["fastfs_options"] = join_option_list(options->mount_options);
    return view;
}

Reply<VolumeView> Driver::get(const std::string& name) {
    std::lock_guard lock(mutex_);
    auto record = find(name);
    if (!record) return std::unexpected(record.error());
    return view(name, **record);
}

std::vector<VolumeView> Driver::list() {
    std::lock_guard lock(mutex_);
    std::vector<VolumeView> views;
    for (const auto& [name, record] : state_.volumes)
        views.push_back(view(name, record));
    return views;
}

}  // namespace fastfs::docker_plugin
