#include "fastfs/cli/docker_plugin_command.hpp"

#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "fastfs/cli/errors.hpp"

namespace fastfs::cli {
namespace fs = std::filesystem;

namespace {

// Beside this fastfs (a build tree), or in ../sbin of where it is installed (/usr/bin -> /usr/sbin).
std::vector<fs::path> candidates(const std::string& program) {
    std::error_code error;
    fs::path self = fs::read_symlink("/proc/self/exe", error).parent_path();
    return {self / program, self / ".." / "sbin" / program};
}

// Replaces this process by `program` with `args`; `word` is the subcommand, for the error message.
int exec_sibling(const std::string& word, const std::string& program, const std::vector<std::string>& args) {
    for (const auto& path : candidates(program)) {
        if (::access(path.c_str(), X_OK) != 0) continue;
        std::vector<std::string> argv = {path.string()};
        argv.insert(argv.end(), args.begin(), args.end());
        std::vector<char*> pointers;
        for (auto& arg : argv)
            pointers.push_back(arg.data());
        pointers.push_back(nullptr);
        ::execv(pointers[0], pointers.data());
        return report(CliError{kExitFailure, word + ": " + path.string() + ": " + errno_text(errno)});
    }
    return report(
        CliError{kExitFailure, word + ": " + program + " is not installed next to fastfs (nor in ../sbin)"});
}

}  // namespace

int run_docker_plugin(const std::vector<std::string>& args) {
    return exec_sibling("docker-plugin", "fastfs-docker-plugin", args);
}

int run_csi_driver(const std::vector<std::string>& args) {
    return exec_sibling("csi", "fastfs-csi", args);
}

}  // namespace fastfs::cli
