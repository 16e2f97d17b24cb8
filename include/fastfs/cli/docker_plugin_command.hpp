// `fastfs docker-plugin ARGS...`: runs the Docker volume plugin, a separate program installed with fastfs
// (fastfs-docker-plugin), so that the FUSE daemon itself links no HTTP or JSON library.
#pragma once

#include <string>
#include <vector>

namespace fastfs::cli {

// Replaces this process by fastfs-docker-plugin with `args`; returns an exit code only if that fails.
int run_docker_plugin(const std::vector<std::string>& args);

}  // namespace fastfs::cli
