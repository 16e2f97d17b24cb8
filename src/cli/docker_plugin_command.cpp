#include "fastfs/cli/docker_plugin_command.hpp"

#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "fastfs/cli/errors.hpp"

namespace fastfs::cli {
namespace fs = std::filesystem;

namespace {

constexpr const char* kPluginProgram = "fastfs-docker-plugin";

// Beside this fastfs (a build tree), or in ../sbin of where it is installed (/usr/bin -> /usr/sbin).
std::vector<fs::path> candidates() {
    std::error_code error;
    fs::path self = fs::read_symlink("/proc/self/exe", error).parent_path();
    return {self / kPluginProgram, self / ".." / "sbin" / kPluginProgram};
}

}  // namespace

int run_docker_plugin(const std::vector<std::string>& args) {
    for (const auto& program : candidates()) {
        if (::access(program.c_str(), X_OK) != 0) continue;
        std::vector<std::string> argv = {program.string()};
        argv.insert(argv.end(), args.begin(), args.end());
        std::vector<char*> pointers;
        for (auto& arg : argv)
            pointers.push_back(arg.data());
        pointers.push_back(nullptr);
        ::execv(pointers[0], pointers.data());
        return report(
            CliError{kExitFailure, "docker-plugin: " + program.string() + ": " + errno_text(errno)});
    }
    return report(CliError{kExitFailure, std::string("docker-plugin: ") + kPluginProgram +
                                             " is not installed next to fastfs (nor in ../sbin)"});
}

}  // namespace fastfs::cli
