#include "fastfs/docker_plugin/protocol.hpp"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace fastfs::docker_plugin {
namespace {

using nlohmann::json;

// Paths are bytes, JSON is UTF-8: replace what does not decode instead of failing the whole answer.
std::string text(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json error_json(const std::string& message) {
    return json{{"Err", message}};
}

json volume_json(const VolumeView& view) {
    json volume{{"Name", view.name}, {"Mountpoint", view.mountpoint}};
    if (!view.created_at.empty()) volume["CreatedAt"] = view.created_at;
    if (!view.status.empty()) volume["Status"] = view.status;
    return volume;
}

template <typename T>
json err_or(const Reply<T>& reply, json ok) {
    if (!reply) return error_json(reply.error());
    ok["Err"] = "";
    return ok;
}

// A string field of the request; Docker always sends Name, and ID for Mount/Unmount.
std::string field(const json& request, const char* key) {
    auto it = request.find(key);
    return it != request.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

// Opts arrive as {"key": "value"}; anything else in them is refused rather than guessed at.
Reply<OptionMap> options_of(const json& request) {
    OptionMap options;
    auto opts = request.find("Opts");
    if (opts == request.end() || opts->is_null()) return options;
    if (!opts->is_object()) return std::unexpected("Opts is not an object");
    for (const auto& [key, value] : opts->items()) {
        if (!value.is_string()) return std::unexpected("option '" + key + "' is not a string");
        options[key] = value.get<std::string>();
    }
    return options;
}

json create(Driver& driver, const json& request) {
    auto options = options_of(request);
    if (!options) return error_json(options.error());
    return err_or(driver.create(field(request, "Name"), *options), json::object());
}

json mountpoint_answer(const Reply<std::string>& path) {
    return err_or(path, json{{"Mountpoint", path.value_or("")}});
}

json get(Driver& driver, const json& request) {
    auto view = driver.get(field(request, "Name"));
    return err_or(view, view ? json{{"Volume", volume_json(*view)}} : json::object());
}

json list(Driver& driver) {
    json volumes = json::array();
    for (const auto& view : driver.list())
        volumes.push_back(volume_json(view));
    return json{{"Volumes", volumes}, {"Err", ""}};
}

std::optional<json> dispatch(Driver& driver, std::string_view method, const json& request) {
    if (method == "Plugin.Activate") return json{{"Implements", json::array({"VolumeDriver"})}};
    if (method == "VolumeDriver.Capabilities") return json{{"Capabilities", {{"Scope", "local"}}}};
    if (method == "VolumeDriver.Create") return create(driver, request);
    if (method == "VolumeDriver.Remove") return err_or(driver.remove(field(request, "Name")), json::object());
    if (method == "VolumeDriver.Mount")
        return mountpoint_answer(driver.mount(field(request, "Name"), field(request, "ID")));
    if (method == "VolumeDriver.Unmount")
        return err_or(driver.unmount(field(request, "Name"), field(request, "ID")), json::object());
    if (method == "VolumeDriver.Path") return mountpoint_answer(driver.path(field(request, "Name")));
    if (method == "VolumeDriver.Get") return get(driver, request);
    if (method == "VolumeDriver.List") return list(driver);
    return std::nullopt;
}

// An empty body is an empty request: Docker sends "null" or nothing for calls without arguments.
Reply<json> parse_request(std::string_view body) {
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return json::object();
    json request = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded()) return std::unexpected("request body is not JSON");
    if (request.is_null()) return json::object();
    if (!request.is_object()) return std::unexpected("request body is not a JSON object");
    return request;
}

}  // namespace

Answer handle_call(Driver& driver, std::string_view method, std::string_view body) {
    try {
        auto request = parse_request(body);
        if (!request) return {400, text(error_json(request.error()))};
        auto answer = dispatch(driver, method, *request);
        if (!answer) return {404, text(error_json("unknown method " + std::string(method)))};
        return {200, text(*answer)};
    } catch (const std::exception& error) {
        // The seam: nothing thrown below (allocation, JSON encoding) reaches the HTTP library.
        spdlog::error("{}: {}", method, error.what());
        return {500, text(error_json(std::string("internal error: ") + error.what()))};
    } catch (...) {
        spdlog::error("{}: unknown exception", method);
        return {500, R"({"Err":"internal error"})"};
    }
}

}  // namespace fastfs::docker_plugin
