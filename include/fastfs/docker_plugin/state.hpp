// What the plugin remembers across its own and Docker's restarts: the volumes, their options, and which
// Docker mounts use them. One JSON file, replaced atomically (written beside it, fsynced, renamed):
//
//   {"version": 1, "boot_id": "...",
//    "volumes": {"models": {"backing": "/srv/models", "owned": false, "options": {"backing": "/srv/models",
//                           "ro": "true"}, "created_at": "2026-11-28T19:40:00Z", "users": {"<mount id>":
//                           1}}}}
//
// "users" only means something during the boot that wrote it: a different boot_id (a reboot) empties it.
#pragma once

#include <expected>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "fastfs/docker_plugin/volume_options.hpp"

namespace fastfs::docker_plugin {

struct VolumeRecord {
    std::string backing;               // absolute directory the volume shows
    bool owned = false;                // made by the plugin under its data root: Remove deletes it
    OptionMap options;                 // Docker's options as given to Create
    std::string created_at;            // RFC 3339, UTC
    std::map<std::string, int> users;  // Docker mount ID -> times mounted and not yet unmounted

    bool operator==(const VolumeRecord&) const = default;
};

struct State {
    std::string boot_id;
    std::map<std::string, VolumeRecord> volumes;

    bool operator==(const State&) const = default;
};

inline constexpr int kStateVersion = 1;

std::string state_to_json(const State& state);
std::expected<State, std::string> state_from_json(std::string_view text);

// A missing file is an empty state; a damaged one is an error (never silently forget volumes).
std::expected<State, std::string> load_state(const std::filesystem::path& file);
std::expected<void, std::string> save_state(const std::filesystem::path& file, const State& state);

// This boot's identity (/proc/sys/kernel/random/boot_id), empty if unreadable.
std::string current_boot_id();

}  // namespace fastfs::docker_plugin
