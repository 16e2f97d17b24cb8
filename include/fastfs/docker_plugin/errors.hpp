// Error texts of the plugin: what Docker shows the user, so always words, never a bare number.
#pragma once

#include <string>
#include <system_error>

namespace fastfs::docker_plugin {

// "No such file or directory" for ENOENT (thread-safe, unlike strerror).
inline std::string errno_message(int error) {
    return std::error_code(error, std::generic_category()).message();
}

}  // namespace fastfs::docker_plugin
