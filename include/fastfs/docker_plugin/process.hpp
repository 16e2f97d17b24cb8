// Running the fastfs binary to mount: it returns once the mount exists (the daemon goes on in the
// background), so "run, wait, read what it said" is the whole protocol.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "fastfs/sys/result.hpp"

namespace fastfs::docker_plugin {

struct ProgramOutcome {
    int exit_code = -1;  // -1: killed by a signal (or by the timeout)
    std::string output;  // stdout and stderr together, trailing newline removed
};

// Starts argv[0] with argv, no inherited descriptors beyond stdio, default signal dispositions and mask
// (the plugin blocks its termination signals for its signal thread; a child must not inherit that), and
// stdin on /dev/null. Waits at most `timeout`, then kills it. Errors: the program could not be started.
sys::Result<ProgramOutcome> run_program(const std::vector<std::string>& argv,
                                        std::chrono::milliseconds timeout);

}  // namespace fastfs::docker_plugin
