#include "file_metadata.hpp"

#include <sys/xattr.h>
#include <unistd.h>

#include <string_view>

namespace fastfs::copy::detail {
namespace {

// Runs a size-query-then-fetch xattr call, retrying when the value grows in between (ERANGE).
template <typename Fetch>
sys::Result<std::string> fetch_sized(Fetch fetch) {
    for (;;) {
        ssize_t size = fetch(nullptr, 0);
        if (size < 0) return sys::fail_errno();
        std::string buffer(size_t(size), '\0');
        ssize_t got = fetch(buffer.data(), buffer.size());
        if (got >= 0) {
            buffer.resize(size_t(got));
            return buffer;
        }
        if (errno != ERANGE) return sys::fail_errno();
    }
}

sys::Result<std::vector<std::string>> xattr_names(int fd) {
    auto list = fetch_sized([fd](char* buf, size_t len) { return ::flistxattr(fd, buf, len); });
    if (!list) {
        if (list.error() == EOPNOTSUPP) return std::vector<std::string>{};
        return sys::fail(list.error());
    }
    std::vector<std::string> names;
    for (size_t at = 0; at < list->size();) {
        std::string name(list->c_str() + at);
        at += name.size() + 1;
        if (!name.empty()) names.push_back(std::move(name));
    }
    return names;
}

// Failures that mean "this attribute cannot live on the destination" rather than "the copy failed".
bool skippable(std::string_view name, int error) {
    return name.starts_with("security.") || error == EOPNOTSUPP || error == EPERM;
}

sys::Result<void> copy_xattrs(int src_fd, int dst_fd, MetadataOutcome& outcome) {
    auto names = xattr_names(src_fd);
    if (!names) return sys::fail(names.error());
    for (const std::string& name : *names) {
        auto value =
            fetch_sized([&](char* buf, size_t len) { return ::fgetxattr(src_fd, name.c_str(), buf, len); });
        if (!value) {
            if (value.error() == ENODATA) continue;  // removed since it was listed
            return sys::fail(value.error());
        }
        if (::fsetxattr(dst_fd, name.c_str(), value->data(), value->size(), 0) == 0) continue;
        int error = errno;
        if (!skippable(name, error)) return sys::fail(error);
        outcome.skipped_xattrs.push_back(name);
    }
    return {};
}

bool copy_owner(int dst_fd, const struct stat& source) {
    if (::fchown(dst_fd, source.st_uid, source.st_gid) == 0) return true;
    // Like cp -p: without the right to give the file away, still try to keep the group.
    ::fchown(dst_fd, uid_t(-1), source.st_gid);
    return false;
}

}  // namespace

sys::Result<MetadataOutcome> copy_metadata(int src_fd, const struct stat& source, int dst_fd) {
    MetadataOutcome outcome;
    outcome.owner_preserved = copy_owner(dst_fd, source);
    if (auto xattrs = copy_xattrs(src_fd, dst_fd, outcome); !xattrs) return sys::fail(xattrs.error());
    if (::fchmod(dst_fd, source.st_mode & 07777) != 0) return sys::fail_errno();
    const struct timespec times[2] = {source.st_atim, source.st_mtim};
    if (::futimens(dst_fd, times) != 0) return sys::fail_errno();
    return outcome;
}

}  // namespace fastfs::copy::detail
