// What the driver remembers across its restarts: every published target and the volume it shows. One JSON
// file, replaced atomically (written beside it, fsynced, renamed, directory fsynced):
//
//   {"version": 1, "published": {"/var/lib/kubelet/pods/<uid>/volumes/kubernetes.io~csi/models/mount":
//     {"volume_id": "csi-4f1c...", "backing": "models", "mode": "clone", "source": "llama/v2",
//      "readonly": false}}}
#pragma once

#include <expected>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "fastfs/csi/volume.hpp"

namespace fastfs::csi {

struct Publication {
    std::string volume_id;
    VolumeSpec spec;
    bool operator==(const Publication&) const = default;
};

struct State {
    std::map<std::string, Publication> published;  // by target path
    bool operator==(const State&) const = default;
};

std::string state_to_json(const State& state);
std::expected<State, std::string> state_from_json(std::string_view text);

// A missing file is an empty state; a damaged one is an error (never silently forget published volumes).
std::expected<State, std::string> load_state(const std::filesystem::path& file);
std::expected<void, std::string> save_state(const std::filesystem::path& file, const State& state);

}  // namespace fastfs::csi
