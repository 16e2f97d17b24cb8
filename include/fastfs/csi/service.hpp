// The gRPC side: the Identity and Node services over a unix socket, each call mapped onto Node.
#pragma once

#include <filesystem>
#include <mutex>
#include <string>

#include "fastfs/csi/node.hpp"

namespace fastfs::csi {

inline constexpr const char* kDriverName = "fastfs.csi.fastfs.dev";

struct ServiceConfig {
    std::string endpoint;  // unix:///path/csi.sock
    std::string node_id;
};

// Serves until SIGTERM or SIGINT. Removes a stale socket file first. Errors: the socket cannot be made.
std::expected<void, std::string> serve(const ServiceConfig& config, Node& node, const Backings& backings);

}  // namespace fastfs::csi
