// `fastfs docker-plugin ARGS...` and `fastfs csi ARGS...`: run the Docker volume plugin and the Kubernetes
// CSI driver, separate programs installed with fastfs (fastfs-docker-plugin, fastfs-csi), so that the FUSE
// daemon itself links no HTTP, JSON or gRPC library.
#pragma once

#include <string>
#include <vector>

namespace fastfs::cli {

// Replace this process by fastfs-docker-plugin (fastfs-csi) with `args`; return an exit code only if that
// fails.
int run_docker_plugin(const std::vector<std::string>& args);
int run_csi_driver(const std::vector<std::string>& args);

}  // namespace fastfs::cli
