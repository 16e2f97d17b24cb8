#include "fastfs/sys/pending_file.hpp"

#include <system_error>

#include <sstream>

#include <fstream>

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <utility>

#include "fastfs/sys/syscalls.hpp"

namespace fastfs::sys {
namespace {

constexpr int kNameAttempts = 100;

}  // namespace

std::string hidden_temp_name(const char* prefix) {
    static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char noise[6] = {};
    if (::getrandom(noise, sizeof noise, 0) != sizeof noise) {
        // getrandom cannot really fail for 6 bytes; the pid and address still make a collision unlikely.
        auto fallback = uint64_t(::getpid()) ^ uint64_t(reinterpret_cast<uintptr_t>(&noise));
        for (auto& byte : noise)
            byte = static_cast<unsigned char>(fallback >>= 5);
    }
    std::string name = prefix;
    for (unsigned char byte : noise)
        name += kAlphabet[byte % (sizeof kAlphabet - 1)];
    return name;
}

namespace {

std::string random_temp_name() {
    return hidden_temp_name(".fastfs-tmp-");
}

// O_TMPFILE is refused with EOPNOTSUPP by filesystems without it, EISDIR by kernels that predate it.
bool tmpfile_unsupported(int error) {
    return error == EOPNOTSUPP || error == EISDIR || error == EINVAL;
}

}  // namespace

PendingFile::PendingFile(int dir_fd, UniqueFd fd, std::string temp_name)
    : dir_fd_(dir_fd), fd_(std::move(fd)), temp_name_(std::move(temp_name)) {}

PendingFile::PendingFile(PendingFile&& other) noexcept
    : dir_fd_(other.dir_fd_),
      fd_(std::move(other.fd_)),
      temp_name_(std::move(other.temp_name_)),
      committed_(std::exchange(other.committed_, true)) {
    other.temp_name_.clear();
}

PendingFile::~PendingFile() {
    if (!committed_ && !temp_name_.empty()) ::unlinkat(dir_fd_, temp_name_.c_str(), 0);
}

Result<PendingFile> PendingFile::create(int dir_fd, mode_t mode) {
    auto anonymous = open_at(dir_fd, ".", O_TMPFILE | O_RDWR, mode);
    if (anonymous) return PendingFile(dir_fd, std::move(*anonymous), "");
    if (!tmpfile_unsupported(anonymous.error())) return fail(anonymous.error());
    for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
        std::string name = random_temp_name();
        auto named = open_at(dir_fd, name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW, mode);
        if (named) return PendingFile(dir_fd, std::move(*named), std::move(name));
        if (named.error() != EEXIST) return fail(named.error());
    }
    return fail(EEXIST);
}

// An anonymous file gets a temporary name first: linkat cannot replace an existing name, rename can.
Result<void> PendingFile::link_anonymous() {
    std::string proc_path = proc_fd_path(fd_.get());
    for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
        std::string name = random_temp_name();
        if (::linkat(AT_FDCWD, proc_path.c_str(), dir_fd_, name.c_str(), AT_SYMLINK_FOLLOW) == 0) {
            temp_name_ = std::move(name);
            return {};
        }
        if (errno != EEXIST) return fail_errno();
    }
    return fail(EEXIST);
}

Result<void> PendingFile::commit(const std::string& final_name) {
    if (temp_name_.empty()) {
        if (auto linked = link_anonymous(); !linked) return linked;
    }
    if (::renameat(dir_fd_, temp_name_.c_str(), dir_fd_, final_name.c_str()) != 0) return fail_errno();
    committed_ = true;
    return {};
}

namespace {

std::unexpected<std::string> file_error(const std::filesystem::path& file, int error) {
    return std::unexpected(file.string() + ": " + std::error_code(error, std::generic_category()).message());
}

}  // namespace

std::expected<void, std::string> replace_file_durably(const std::filesystem::path& file,
                                                      std::string_view text) {
    auto dir = open_at(AT_FDCWD, file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (!dir) return file_error(file, dir.error());
    auto pending = PendingFile::create(dir->get(), 0600);
    if (!pending) return file_error(file, pending.error());
    if (auto written = pwrite_full(pending->fd(), text.data(), text.size(), 0); !written)
        return file_error(file, written.error());
    if (auto synced = sync_fd(pending->fd(), false); !synced) return file_error(file, synced.error());
    if (auto committed = pending->commit(file.filename()); !committed)
        return file_error(file, committed.error());
    if (auto synced = sync_fd(dir->get(), false); !synced) return file_error(file, synced.error());
    return {};
}

std::expected<std::optional<std::string>, std::string> read_file_if_exists(
    const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        if (errno == ENOENT) return std::nullopt;
        return file_error(file, errno);
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return std::unexpected(file.string() + ": read error");
    return text.str();
}

}  // namespace fastfs::sys
