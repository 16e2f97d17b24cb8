// How the command line fails: one line on stderr starting "fastfs: ", and an exit code that tells a script
// whether the command line itself was wrong (2) or the system refused (1).
#pragma once

#include <expected>
#include <string>

namespace fastfs::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // runtime: a path, a permission, the kernel said no
inline constexpr int kExitUsage = 2;    // the command line is wrong: unknown option, missing argument

struct CliError {
    int exit_code = kExitFailure;
    std::string message;  // without the "fastfs: " prefix and without a trailing newline
};

template <typename T>
using Checked = std::expected<T, CliError>;

inline std::unexpected<CliError> usage_error(std::string message) {
    return std::unexpected(CliError{kExitUsage, std::move(message)});
}
inline std::unexpected<CliError> runtime_error(std::string message) {
    return std::unexpected(CliError{kExitFailure, std::move(message)});
}

// Prints "fastfs: MESSAGE" as one line on stderr (newlines inside the message are flattened) and returns
// the error's exit code.
int report(const CliError& error);

// strerror(error) without the locale surprises of the global strerror buffer.
std::string errno_text(int error);

}  // namespace fastfs::cli
