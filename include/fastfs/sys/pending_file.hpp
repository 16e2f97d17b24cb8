// A file being written next to its final name: anonymous (O_TMPFILE) where the filesystem allows it,
// otherwise a hidden ".fastfs-tmp-XXXXXX" name. Used by `fastfs copy` and `fastfs clone`. It only ever
// appears under the final name, through one rename; if it is dropped before that, nothing of it remains.
#pragma once

#include <sys/types.h>

#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "fastfs/sys/result.hpp"
#include "fastfs/sys/unique_fd.hpp"

namespace fastfs::sys {

// `prefix` followed by six random letters and digits: a name no one else is about to use, hidden from ls.
std::string hidden_temp_name(const char* prefix);

class PendingFile {
  public:
    // Creates the file in `dir_fd` with permission bits `mode` (the umask applies), open read-write.
    static Result<PendingFile> create(int dir_fd, mode_t mode);
    PendingFile(PendingFile&& other) noexcept;
    PendingFile& operator=(PendingFile&&) = delete;
    PendingFile(const PendingFile&) = delete;
    ~PendingFile();  // removes the file unless commit() succeeded

    int fd() const { return fd_.get(); }

    // Gives the file the name `final_name` in the directory, replacing whatever was there.
    Result<void> commit(const std::string& final_name);

  private:
    PendingFile(int dir_fd, sys::UniqueFd fd, std::string temp_name);
    Result<void> link_anonymous();

    int dir_fd_ = -1;
    sys::UniqueFd fd_;
    std::string temp_name_;  // empty while the file is anonymous
    bool committed_ = false;
};

// A state file (the Docker plugin's, the CSI driver's) replaced whole: written beside its name, synced,
// renamed over it, the directory synced, so a crash leaves the old text or the new, never a torn file. The
// error names the file.
std::expected<void, std::string> replace_file_durably(const std::filesystem::path& file,
                                                      std::string_view text);
// The text of such a file; nullopt when there is none yet. The error names the file.
std::expected<std::optional<std::string>, std::string> read_file_if_exists(const std::filesystem::path& file);

}  // namespace fastfs::sys
