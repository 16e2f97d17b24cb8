// Extended attributes (and so POSIX ACLs, which are stored as system.posix_acl_* xattrs).
//
// Every call runs as the caller (act_as_caller). Nodes are held as O_PATH descriptors, which the *xattr calls
// do not accept; the /proc/self/fd magic link reaches the same inode. For symlinks there is no race-free way
// to do that (the magic link would be followed), so symlinks report no attributes and refuse changes, as
// user.* attributes on symlinks do.
#include <sys/stat.h>
#include <sys/xattr.h>

#include <optional>
#include <string>
#include <vector>

#include "fastfs/sys/syscalls.hpp"
#include "handlers.hpp"

namespace fastfs::fuse {
namespace {

struct XattrTarget {
    fs::SharedFd fd;
    std::string path;
    CallerScope as_caller;
};

// Resolves the node to a path usable by the *xattr calls, or replies with an error and returns nullopt.
std::optional<XattrTarget> target(fuse_req_t req, fuse_ino_t ino, int symlink_error) {
    auto& nodes = *context(req).nodes;
    auto& node = nodes.node(ino);
    if (S_ISLNK(node.type)) {
        reply_error(req, symlink_error);
        return std::nullopt;
    }
    auto fd = nodes.path_fd(node);
    if (!fd) {
        reply_error(req, fd.error());
        return std::nullopt;
    }
    std::string path = sys::proc_fd_path((*fd)->get());
    // The backing judges by the caller's rights: write access for user.*, CAP_SYS_ADMIN for trusted.*
    // (also to see those names in a listing), the security module's rules for security.*.
    return XattrTarget{std::move(*fd), std::move(path), act_as_caller(req)};
}

// getxattr and listxattr share the protocol: size 0 asks for the size, otherwise for the bytes.
template <typename Call>
void reply_sized(fuse_req_t req, size_t size, Call&& call) {
    if (size == 0) {
        ssize_t need = call(nullptr, 0);
        if (need < 0) return reply_error(req, errno);
        fuse_reply_xattr(req, size_t(need));
        return;
    }
    std::vector<char> value(size);
    ssize_t got = call(value.data(), size);
    if (got < 0) return reply_error(req, errno);
    fuse_reply_buf(req, value.data(), size_t(got));
}

}  // namespace

namespace ops {

void setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size, int flags) {
    auto t = target(req, ino, EPERM);
    if (!t) return;
    int rc = ::setxattr(t->path.c_str(), name, value, size, flags);
    reply_error(req, rc == 0 ? 0 : errno);
}

void getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
    auto t = target(req, ino, ENODATA);
    if (!t) return;
    reply_sized(req, size,
                [&](char* buf, size_t len) { return ::getxattr(t->path.c_str(), name, buf, len); });
}

void listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
    auto& node = context(req).nodes->node(ino);
    if (S_ISLNK(node.type)) {
        if (size == 0)
            fuse_reply_xattr(req, 0);
        else
            fuse_reply_buf(req, nullptr, 0);
        return;
    }
    auto t = target(req, ino, ENODATA);
    if (!t) return;
    reply_sized(req, size, [&](char* buf, size_t len) { return ::listxattr(t->path.c_str(), buf, len); });
}

void removexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
    auto t = target(req, ino, EPERM);
    if (!t) return;
    int rc = ::removexattr(t->path.c_str(), name);
    reply_error(req, rc == 0 ? 0 : errno);
}

}  // namespace ops
}  // namespace fastfs::fuse
