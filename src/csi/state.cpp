#include "fastfs/csi/state.hpp"

#include <nlohmann/json.hpp>

#include "fastfs/sys/pending_file.hpp"

namespace fastfs::csi {
namespace {

using nlohmann::json;
constexpr int kStateVersion = 1;

json publication_to_json(const Publication& publication) {
    const auto& spec = publication.spec;
    return json{{"volume_id", publication.volume_id},
                {"backing", spec.backing},
                {"mode", to_string(spec.mode)},
                {"source", spec.source.string()},
                {"readonly", spec.readonly}};
}

// nlohmann reports a wrong type by throwing; this is the seam where that becomes an error value.
std::expected<Publication, std::string> publication_from_json(const std::string& target, const json& value) {
    try {
        Publication publication;
        publication.volume_id = value.at("volume_id").get<std::string>();
        publication.spec.backing = value.at("backing").get<std::string>();
        auto mode = mode_from_string(value.at("mode").get<std::string>());
        if (!mode) return std::unexpected("target " + target + ": unknown mode");
        publication.spec.mode = *mode;
        publication.spec.source = value.at("source").get<std::string>();
        publication.spec.readonly = value.at("readonly").get<bool>();
        if (!valid_volume_id(publication.volume_id) || target.empty() || target.front() != '/')
            return std::unexpected("target " + target + ": bad volume ID or target path");
        return publication;
    } catch (const json::exception& error) {
        return std::unexpected("target " + target + ": " + error.what());
    }
}

}  // namespace

std::string state_to_json(const State& state) {
    json published = json::object();
    for (const auto& [target, publication] : state.published)
        published[target] = publication_to_json(publication);
    return json{{"version", kStateVersion}, {"published", published}}.dump(2) + "\n";
}

std::expected<State, std::string> state_from_json(std::string_view text) {
    json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded() || !root.is_object()) return std::unexpected("not a JSON object");
    auto version = root.find("version");
    if (version == root.end() || !version->is_number_integer() || version->get<int>() != kStateVersion)
        return std::unexpected("unknown state version (expected " + std::to_string(kStateVersion) + ")");
    auto published = root.find("published");
    if (published == root.end() || !published->is_object()) return std::unexpected("no \"published\" object");
    State state;
    for (const auto& [target, value] : published->items()) {
        auto publication = publication_from_json(target, value);
        if (!publication) return std::unexpected(publication.error());
        state.published.emplace(target, std::move(*publication));
    }
    return state;
}

std::expected<State, std::string> load_state(const std::filesystem::path& file) {
    auto text = sys::read_file_if_exists(file);
    if (!text) return std::unexpected(text.error());
    if (!*text) return State{};
    auto state = state_from_json(**text);
    if (!state) return std::unexpected(file.string() + ": " + state.error());
    return state;
}

std::expected<void, std::string> save_state(const std::filesystem::path& file, const State& state) {
    return sys::replace_file_durably(file, state_to_json(state));
}

}  // namespace fastfs::csi
