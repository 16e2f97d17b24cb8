// What a CSI volume is, as the CO describes it: the volume context's attributes (the same for ephemeral
// inline volumes and pre-provisioned persistent volumes) checked against the driver's named backings.
// Pure: no file is looked at here (the source's existence and confinement are checked by Node).
#pragma once

#include <expected>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace fastfs::csi {

// The gRPC status codes the Node service answers with (mapped to grpc::StatusCode in service.cpp).
enum class Code { invalid_argument, not_found, already_exists, failed_precondition, internal };

struct Error {
    Code code = Code::internal;
    std::string message;  // one line
};

template <typename T>
using Reply = std::expected<T, Error>;

inline std::unexpected<Error> refuse(Code code, std::string message) {
    return std::unexpected(Error{code, std::move(message)});
}

// clone: the pod's own writable reflink clone of the source tree; view: the source itself; scratch: an empty
// directory of the volume's own.
enum class Mode { clone, view, scratch };
std::string_view to_string(Mode mode);
std::optional<Mode> mode_from_string(std::string_view text);

using Backings = std::map<std::string, std::filesystem::path>;  // --backing NAME=DIR

struct VolumeSpec {
    std::string backing;  // a name of Backings
    Mode mode = Mode::view;
    std::filesystem::path source;  // relative to the backing, lexically normal (clone and view only)
    bool readonly = false;
    bool operator==(const VolumeSpec&) const = default;
};

// The attributes: backing=NAME, mode=clone|view|scratch, source=REL/PATH (clone, view), readOnly=true|false.
// Keys under csi.storage.k8s.io/ (kubelet's pod info) are ignored; any other key is refused, so that a typo
// is an error at pod start rather than a silently different volume. `readonly` is the request's flag.
Reply<VolumeSpec> parse_volume_context(const std::map<std::string, std::string>& attributes, bool readonly,
                                       const Backings& backings);

// A volume ID names a directory of its own: one path component, no NUL, at most 255 bytes, not . or ..
bool valid_volume_id(std::string_view id);

}  // namespace fastfs::csi
