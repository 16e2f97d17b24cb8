// The plugin's HTTP side: cpp-httplib listening on a unix socket, each POST answered by handle_call.
#pragma once

#include <filesystem>
#include <string>

#include "fastfs/docker_plugin/driver.hpp"

namespace fastfs::docker_plugin {

// Listens on `socket_path` (mode 0600: Docker runs as root, and whoever can reach the socket can mount
// and delete volumes) until SIGTERM, SIGINT or SIGHUP. Tells systemd it is ready (Type=notify) once the
// socket accepts. Returns an error text if the socket cannot be set up.
Reply<void> serve(Driver& driver, const std::filesystem::path& socket_path);

}  // namespace fastfs::docker_plugin
