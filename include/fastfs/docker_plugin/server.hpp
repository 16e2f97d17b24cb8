// The plugin's HTTP side: cpp-httplib listening on a unix socket, each POST answered by handle_call.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "fastfs/docker_plugin/driver.hpp"

namespace fastfs::docker_plugin {

// Binds `socket_path` (mode 0600: Docker runs as root, and whoever can reach the socket can mount and
// delete volumes; a live plugin's socket is never taken over), then calls `start` for the driver to serve
// (it takes over mounts, which must wait until the socket is known to be ours), then serves it until
// SIGTERM, SIGINT or SIGHUP. Tells systemd it is ready (Type=notify) once requests are answered.
Reply<void> serve(const std::filesystem::path& socket_path, const std::function<Reply<Driver*>()>& start);

}  // namespace fastfs::docker_plugin
