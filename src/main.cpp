#include "fastfs/cli/cli.hpp"

int main(int argc, char** argv) { return fastfs::cli::run(argc, argv); }
