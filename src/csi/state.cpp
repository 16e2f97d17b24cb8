#include "fastfs/csi/state.hpp"

#include <fcntl.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "fastfs/sys/pending_file.hpp"
#include "fastfs/sys/syscalls.hpp"

namespace fastfs::csi {
namespace {

using nlohmann::json;
constexpr int kStateVersion = 1;

std::string errno_message(int error) {
    return std::error_code(error, std::generic_category()).message();
}

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

std::expected<std::string, std::string> read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::unexpected(file.string() + ": " + errno_message(errno));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return std::unexpected(file.string() + ": read error");
    return text.str();
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
    std::error_code error;
    if (!std::filesystem::exists(file, error)) {
        if (error) return std::unexpected(file.string() + ": " + error.message());
        return State{};
    }
    auto text = read_file(file);
    if (!text) return std::unexpected(text.error());
    auto state = state_from_json(*text);
    if (!state) return std::unexpected(file.string() + ": " + state.error());
    return state;
}

// Written beside the final name and renamed over it, file and directory synced: a crash leaves the old
// state or the new one, never a torn file.
std::expected<void, std::string> save_state(const std::filesystem::path& file, const State& state) {
    auto fail = [&](int error) { return std::unexpected(file.string() + ": " + errno_message(error)); };
    auto dir = sys::open_at(AT_FDCWD, file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (!dir) return fail(dir.error());
    auto pending = sys::PendingFile::create(dir->get(), 0600);
    if (!pending) return fail(pending.error());
    std::string text = state_to_json(state);
    if (auto written = sys::pwrite_full(pending->fd(), text.data(), text.size(), 0); !written)
        return fail(written.error());
    if (auto synced = sys::sync_fd(pending->fd(), false); !synced) return fail(synced.error());
    if (auto committed = pending->commit(file.filename()); !committed) return fail(committed.error());
    if (auto synced = sys::sync_fd(dir->get(), false); !synced) return fail(synced.error());
    return {};
}

}  // namespace fastfs::csi
