#include "fastfs/cli/temp_file.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <utility>

#include <spdlog/fmt/fmt.h>

namespace fastfs::cli {
namespace {

std::string temp_name_for(const std::string& final_name) {
    uint64_t nonce = 0;
    if (::getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce)) nonce = uint64_t(::getpid()) << 20;
    // Keep the name within NAME_MAX however long the final name is.
    return fmt::format(".{}.fastfs-{:016x}", final_name.substr(0, 200), nonce);
}

}  // namespace

PendingFile::PendingFile(int dir_fd, std::string temp_name, std::string final_name, sys::UniqueFd fd)
    : dir_fd_(dir_fd),
      temp_name_(std::move(temp_name)),
      final_name_(std::move(final_name)),
      fd_(std::move(fd)) {}

PendingFile::PendingFile(PendingFile&& other) noexcept
    : dir_fd_(other.dir_fd_),
      temp_name_(std::move(other.temp_name_)),
      final_name_(std::move(other.final_name_)),
      fd_(std::move(other.fd_)),
      committed_(std::exchange(other.committed_, true)) {}

Checked<PendingFile> PendingFile::create(int dir_fd, const std::string& final_name, int flags) {
    for (int attempt = 0; attempt < 16; ++attempt) {
        std::string name = temp_name_for(final_name);
        sys::UniqueFd fd(::openat(dir_fd, name.c_str(), flags | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (fd) return PendingFile(dir_fd, std::move(name), final_name, std::move(fd));
        if (errno != EEXIST)
            return runtime_error("cannot create a file next to " + final_name + ": " + errno_text(errno));
    }
    return runtime_error("cannot create a file next to " + final_name + ": " + errno_text(EEXIST));
}

Checked<void> PendingFile::commit() {
    if (::renameat(dir_fd_, temp_name_.c_str(), dir_fd_, final_name_.c_str()) != 0)
        return runtime_error("cannot rename into " + final_name_ + ": " + errno_text(errno));
    committed_ = true;
    return {};
}

PendingFile::~PendingFile() {
    if (!committed_) ::unlinkat(dir_fd_, temp_name_.c_str(), 0);
}

}  // namespace fastfs::cli
