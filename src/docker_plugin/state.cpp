#include "fastfs/docker_plugin/state.hpp"
#include "fastfs/docker_plugin/errors.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

#include "fastfs/sys/pending_file.hpp"

namespace fastfs::docker_plugin {
namespace {

using nlohmann::json;

json record_to_json(const VolumeRecord& record) {
    return json{{"backing", record.backing},
                {"owned", record.owned},
                {"options", record.options},
                {"created_at", record.created_at},
                {"users", record.users}};
}

// nlohmann reports a wrong type by throwing; this is the seam where that becomes an error value.
std::expected<VolumeRecord, std::string> record_from_json(const std::string& name, const json& value) {
    try {
        VolumeRecord record;
        record.backing = value.at("backing").get<std::string>();
        record.owned = value.at("owned").get<bool>();
        record.options = value.value("options", OptionMap{});
        record.created_at = value.value("created_at", std::string{});
        record.users = value.value("users", std::map<std::string, int>{});
        if (record.backing.empty() || record.backing.front() != '/')
            return std::unexpected("volume '" + name + "' has no absolute backing path");
        return record;
    } catch (const json::exception& error) {
        return std::unexpected("volume '" + name + "': " + error.what());
    }
}

}  // namespace

std::string state_to_json(const State& state) {
    json volumes = json::object();
    for (const auto& [name, record] : state.volumes)
        volumes[name] = record_to_json(record);
    json root{{"version", kStateVersion}, {"boot_id", state.boot_id}, {"volumes", volumes}};
    return root.dump(2) + "\n";
}

std::expected<State, std::string> state_from_json(std::string_view text) {
    json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded() || !root.is_object()) return std::unexpected("not a JSON object");
    auto version = root.find("version");
    if (version == root.end() || !version->is_number_integer() || version->get<int>() != kStateVersion)
        return std::unexpected("unknown state version (expected " + std::to_string(kStateVersion) + ")");
    State state;
    if (auto boot = root.find("boot_id"); boot != root.end() && boot->is_string())
        state.boot_id = boot->get<std::string>();
    auto volumes = root.find("volumes");
    if (volumes == root.end() || !volumes->is_object()) return std::unexpected("no \"volumes\" object");
    for (const auto& [name, value] : volumes->items()) {
        auto record = record_from_json(name, value);
        if (!record) return std::unexpected(record.error());
        state.volumes.emplace(name, std::move(*record));
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

std::string current_boot_id() {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string id;
    std::getline(in, id);
    return id;
}

}  // namespace fastfs::docker_plugin
