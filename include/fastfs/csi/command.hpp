#pragma once

namespace fastfs::csi {

// fastfs-csi's command line; returns the exit status.
int run_command(int argc, char** argv);

}  // namespace fastfs::csi
