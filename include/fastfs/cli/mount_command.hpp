// `fastfs [options] BACKING MOUNTPOINT`: turn the command line into a MountConfig, check it, mount.
#pragma once

#include <string>
#include <vector>

namespace fastfs::cli {

struct MountRequest {
    std::string backing;                    // as typed; empty when missing
    std::string mountpoint;                 // as typed; empty when missing
    std::vector<std::string> option_lists;  // each -o argument, in command-line order
    bool foreground = false;                // -f
    bool debug = false;                     // -d (implies foreground)
    std::string log_level;                  // --log-level; empty: -o log_level= or the default
};

inline constexpr const char* kDefaultLogLevel = "info";

// Validates, then runs the FUSE session until unmounted. Returns the process exit code.
int run_mount(const MountRequest& request);

}  // namespace fastfs::cli
