#include "fastfs/docker_plugin/command.hpp"

int main(int argc, char** argv) {
    return fastfs::docker_plugin::run_command(argc, argv);
}
