// Results at syscall seams: a value or a positive errno. No exceptions cross a seam.
#pragma once

#include <cerrno>
#include <expected>

namespace fastfs::sys {

// The error side of every Result is a positive errno value (EIO, ENOSPC, ...).
template <typename T>
using Result = std::expected<T, int>;

// Builds the error side of a Result from an errno value.
inline std::unexpected<int> fail(int error) {
    return std::unexpected<int>(error);
}

// Builds the error side of a Result from the current errno (after a failed libc call).
inline std::unexpected<int> fail_errno() {
    return std::unexpected<int>(errno != 0 ? errno : EIO);
}

// Runs a libc call that returns -1/errno on failure, retrying on EINTR.
template <typename Call>
auto retry_eintr(Call&& call) {
    for (;;) {
        auto rc = call();
        if (rc != -1 || errno != EINTR) return rc;
    }
}

}  // namespace fastfs::sys
