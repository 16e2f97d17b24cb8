#include "fastfs/csi/command.hpp"

int main(int argc, char** argv) {
    return fastfs::csi::run_command(argc, argv);
}
