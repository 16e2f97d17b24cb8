#include "fastfs/cli/errors.hpp"

#include <cstdio>
#include <cstring>

namespace fastfs::cli {

int report(const CliError& error) {
    std::string line = error.message;
    for (char& c : line)
        if (c == '\n' || c == '\r') c = ' ';
    std::fprintf(stderr, "fastfs: %s\n", line.c_str());
    return error.exit_code;
}

std::string errno_text(int error) {
    char buf[256];
    // GNU strerror_r: returns a pointer to the message, which may or may not be `buf`.
    return ::strerror_r(error, buf, sizeof(buf));
}

}  // namespace fastfs::cli
