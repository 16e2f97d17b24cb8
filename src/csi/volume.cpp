#include "fastfs/csi/volume.hpp"

#include <algorithm>

namespace fastfs::csi {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kKubeletPrefix = "csi.storage.k8s.io/";
// kubelet's mark of an inline (ephemeral) volume, with podInfoOnMount: "true", or "false" for a PV.
constexpr std::string_view kEphemeralKey = "csi.storage.k8s.io/ephemeral";

std::optional<std::string> attribute(const std::map<std::string, std::string>& attributes,
                                     const std::string& key) {
    auto found = attributes.find(key);
    return found == attributes.end() ? std::nullopt : std::optional(found->second);
}

// Relative, and never climbing: ".." anywhere is refused before any lookup (symlinks are Node's business).
Reply<fs::path> parse_source(const std::string& text) {
    fs::path source(text);
    if (text.empty() || source.is_absolute())
        return refuse(Code::invalid_argument, "source=" + text + ": must be a path relative to the backing");
    if (std::ranges::any_of(source, [](const fs::path& part) { return part == ".."; }))
        return refuse(Code::invalid_argument, "source=" + text + ": must stay inside the backing (no ..)");
    fs::path normal = source.lexically_normal();
    if (normal == "." || normal.empty())
        return refuse(Code::invalid_argument, "source=" + text + ": must name a subdirectory of the backing");
    if (*normal.begin() == ".fastfs-csi")
        return refuse(Code::invalid_argument, "source=" + text + ": .fastfs-csi holds the driver's volumes");
    return normal;
}

Reply<void> check_keys(const std::map<std::string, std::string>& attributes) {
    for (const auto& [key, value] : attributes) {
        if (key == "backing" || key == "mode" || key == "source" || key == "readOnly") continue;
        if (key.starts_with(kKubeletPrefix)) continue;
        return refuse(Code::invalid_argument,
                      "unknown volume attribute " + key + " (known: backing, mode, source, readOnly)");
    }
    return {};
}

Reply<bool> parse_readonly(const std::optional<std::string>& text) {
    if (!text || *text == "false") return false;
    if (*text == "true") return true;
    return refuse(Code::invalid_argument, "readOnly=" + *text + ": must be true or false");
}

}  // namespace

std::string_view to_string(Mode mode) {
    switch (mode) {
        case Mode::clone:
            return "clone";
        case Mode::view:
            return "view";
        case Mode::scratch:
            return "scratch";
    }
    return "?";
}

std::optional<Mode> mode_from_string(std::string_view text) {
    for (Mode mode : {Mode::clone, Mode::view, Mode::scratch}) {
        if (to_string(mode) == text) return mode;
    }
    return std::nullopt;
}

Reply<VolumeSpec> parse_volume_context(const std::map<std::string, std::string>& attributes, bool readonly,
                                       const Backings& backings) {
    if (auto keys = check_keys(attributes); !keys) return std::unexpected(keys.error());
    VolumeSpec spec;
    auto backing = attribute(attributes, "backing");
    if (!backing || backing->empty())
        return refuse(Code::invalid_argument, "volume attribute backing= is missing");
    if (!backings.contains(*backing))
        return refuse(Code::invalid_argument, "backing=" + *backing + ": no such backing on this node");
    spec.backing = *backing;
    auto mode_text = attribute(attributes, "mode");
    if (!mode_text)
        return refuse(Code::invalid_argument, "volume attribute mode= is missing (clone, view or scratch)");
    auto mode = mode_from_string(*mode_text);
    if (!mode)
        return refuse(Code::invalid_argument, "mode=" + *mode_text + ": unknown (clone, view or scratch)");
    spec.mode = *mode;
    auto source = attribute(attributes, "source");
    if (spec.mode == Mode::scratch && source)
        return refuse(Code::invalid_argument, "source= is for clone and view volumes, not scratch");
    if (spec.mode != Mode::scratch) {
        if (!source) return refuse(Code::invalid_argument, "volume attribute source= is missing");
        auto parsed = parse_source(*source);
        if (!parsed) return std::unexpected(parsed.error());
        spec.source = *parsed;
    }
    auto readonly_attribute = parse_readonly(attribute(attributes, "readOnly"));
    if (!readonly_attribute) return std::unexpected(readonly_attribute.error());
    spec.readonly = readonly || *readonly_attribute;
    // Any pod author can write an inline volume; only an administrator makes a PersistentVolume. A writable
    // view writes the shared backing itself (the model cache every pod clones), so inline volumes get it
    // only read-only; clones and scratch directories are the pod's own.
    if (spec.mode == Mode::view && !spec.readonly &&
        attribute(attributes, std::string(kEphemeralKey)) == "true")
        return refuse(
            Code::invalid_argument,
            "mode=view: an inline volume may view a backing only read-only (readOnly=true); a writable "
            "view needs a PersistentVolume made by an administrator");
    return spec;
}

bool valid_volume_id(std::string_view id) {
    return !id.empty() && id.size() <= 255 && id != "." && id != ".." &&
           id.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

}  // namespace fastfs::csi
