// The command line: `fastfs [options] BACKING MOUNTPOINT` mounts; `fastfs stats|clone|copy ...` are tools.
#pragma once

namespace fastfs::cli {

// Parses argv, validates, and runs the mount or a subcommand. Returns the process exit code.
int run(int argc, char** argv);

}  // namespace fastfs::cli
