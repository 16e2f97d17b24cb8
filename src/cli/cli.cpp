// Placeholder until the command line lands.
#include "fastfs/cli/cli.hpp"

#include <cstdio>

namespace fastfs::cli {
int run(int, char**) {
    std::fprintf(stderr, "fastfs: not built yet\n");
    return 2;
}
}  // namespace fastfs::cli
