#include "fastfs/docker_plugin/volume_options.hpp"

#include <sys/mount.h>

#include <algorithm>
#include <array>

#include "fastfs/cli/options.hpp"

namespace fastfs::docker_plugin {
namespace {

using Outcome = std::expected<void, std::string>;

// Per-mount flags a bind mount carries on its own: these apply to one volume even though the fastfs
// mount underneath is shared. `set` is the flag added, `clear` the flags the option takes away.
struct BindFlag {
    std::string_view name;
    unsigned long set;
    unsigned long clear;
};
constexpr unsigned long kAtimeFlags = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;
constexpr std::array kBindFlags = {
    BindFlag{"ro", MS_RDONLY, 0},
    BindFlag{"rw", 0, MS_RDONLY},
    BindFlag{"nosuid", MS_NOSUID, 0},
    BindFlag{"suid", 0, MS_NOSUID},
    BindFlag{"nodev", MS_NODEV, 0},
    BindFlag{"dev", 0, MS_NODEV},
    BindFlag{"noexec", MS_NOEXEC, 0},
    BindFlag{"exec", 0, MS_NOEXEC},
    BindFlag{"noatime", MS_NOATIME, kAtimeFlags},
    BindFlag{"relatime", MS_RELATIME, kAtimeFlags},
    BindFlag{"strictatime", MS_STRICTATIME, kAtimeFlags},
    BindFlag{"nodiratime", MS_NODIRATIME, 0},
    BindFlag{"diratime", 0, MS_NODIRATIME},
};

// Options that would break what the plugin promises: containers of every user get in, the kernel checks
// their rights, and findmnt tells which mount is the plugin's.
struct Refusal {
    std::string_view name;
    std::string_view reason;
};
constexpr std::array kRefused = {
    Refusal{"fsname", "the plugin names its mounts itself"},
    Refusal{"subtype", "the plugin's mounts are always fuse.fastfs"},
    Refusal{"allow_root", "volumes are mounted with allow_other so that every container user gets in"},
    Refusal{"no_default_permissions",
            "without it the kernel would not check container users' rights and any of them could reach "
            "every file"},
};

bool is_true(std::string_view value) {
    return value.empty() || value == "true";
}

// One Docker option as fastfs -o items: `-o ro` and `-o ro=true` mean the flag, `-o ro=false` nothing,
// `-o o=a,b` the list as it is, and any other value key=value.
std::vector<std::string> items_of(const std::string& key, const std::string& value) {
    if (key == kRawListKey) return cli::split_option_list(value);
    if (is_true(value)) return {key};
    if (value == "false") return {};
    return {key + "=" + value};
}

Outcome check_key(const std::string& key) {
    if (key.empty()) return std::unexpected("an option has an empty name");
    if (key.find_first_of(",=\\") != std::string::npos)
        return std::unexpected("option name '" + key + "' contains ',', '=' or '\\'");
    return {};
}

Outcome check_refused(std::string_view item) {
    std::string_view name = item.substr(0, item.find('='));
    for (const auto& refusal : kRefused) {
        if (name == refusal.name)
            return std::unexpected("option '" + std::string(name) +
                                   "' is not accepted: " + std::string(refusal.reason));
    }
    return {};
}

// Runs the whole list through the daemon's parser as the plugin will mount it (with allow_other).
Outcome check_with_fastfs(const std::vector<std::string>& items) {
    std::vector<std::string> lists = {join_option_list(items), "allow_other"};
    auto parsed = cli::parse_mount_options(lists);
    if (!parsed) return std::unexpected(parsed.error());
    return {};
}

void apply_item(const std::string& item, VolumeOptions& options) {
    auto flag = std::ranges::find(kBindFlags, std::string_view(item), &BindFlag::name);
    if (flag == kBindFlags.end()) {
        options.mount_options.push_back(item);
        return;
    }
    options.bind_flags = (options.bind_flags & ~flag->clear) | flag->set;
}

}  // namespace

std::expected<VolumeOptions, std::string> parse_volume_options(const OptionMap& opts) {
    VolumeOptions options;
    std::vector<std::string> items;
    for (const auto& [key, value] : opts) {
        if (auto checked = check_key(key); !checked) return std::unexpected(checked.error());
        if (key == kBackingKey) {
            if (value.empty() || value.front() != '/')
                return std::unexpected("backing='" + value + "' is not an absolute path");
            options.backing = value;
            continue;
        }
        std::ranges::move(items_of(key, value), std::back_inserter(items));
    }
    for (const auto& item : items) {
        if (auto refused = check_refused(item); !refused) return std::unexpected(refused.error());
    }
    if (auto checked = check_with_fastfs(items); !checked) return std::unexpected(checked.error());
    for (const auto& item : items)
        apply_item(item, options);
    return options;
}

std::string join_option_list(const std::vector<std::string>& items) {
    std::string list;
    for (const auto& item : items) {
        if (!list.empty()) list += ',';
        for (char c : item) {
            if (c == ',') list += '\\';
            list += c;
        }
    }
    return list;
}

}  // namespace fastfs::docker_plugin
