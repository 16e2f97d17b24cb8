// A new file made next to its final name and renamed into place only when complete, so DST is never
// seen half-made and a failure leaves nothing behind.
#pragma once

#include <string>

#include "fastfs/cli/errors.hpp"
#include "fastfs/sys/unique_fd.hpp"

namespace fastfs::cli {

class PendingFile {
  public:
    // Creates a hidden temporary file in `dir_fd`, opened with `flags` (O_WRONLY or O_RDWR).
    static Checked<PendingFile> create(int dir_fd, const std::string& final_name, int flags);
    PendingFile(PendingFile&& other) noexcept;
    PendingFile& operator=(PendingFile&&) = delete;
    PendingFile(const PendingFile&) = delete;
    ~PendingFile();  // unlinks the temporary file unless commit() succeeded

    int fd() const { return fd_.get(); }
    // Renames the temporary file over the final name.
    Checked<void> commit();

  private:
    PendingFile(int dir_fd, std::string temp_name, std::string final_name, sys::UniqueFd fd);
    int dir_fd_ = -1;
    std::string temp_name_;
    std::string final_name_;
    sys::UniqueFd fd_;
    bool committed_ = false;
};

}  // namespace fastfs::cli
