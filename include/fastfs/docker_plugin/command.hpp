// `fastfs-docker-plugin [options]` (also reached as `fastfs docker-plugin`): parse, check, set up, serve.
#pragma once

namespace fastfs::docker_plugin {

// Returns the process exit code: 0 after a clean stop, 1 when the system refused, 2 for a bad command line.
int run_command(int argc, char** argv);

}  // namespace fastfs::docker_plugin
