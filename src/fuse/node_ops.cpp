// Name and inode operations: lookup/forget, attributes, creation and removal of names, statfs, access.
#include <fcntl.h>
#include <linux/limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <optional>
#include <vector>

#include "fastfs/sys/credentials.hpp"
#include "fastfs/sys/syscalls.hpp"
#include "handlers.hpp"
#include "kernel_features.hpp"

namespace fastfs::fuse {

fuse_entry_param entry_param(fuse_req_t req, const fs::Entry& entry) {
    auto& ctx = context(req);
    fuse_entry_param e{};
    e.ino = ctx.nodes->node_id(*entry.node);
    e.generation = entry.node->generation;
    e.attr = ctx.nodes->visible(entry.attr);
    CacheTimeouts timeouts = ctx.timeouts_for(entry.attr.st_dev);
    e.attr_timeout = timeouts.attr;
    e.entry_timeout = timeouts.entry;
    return e;
}

void reply_entry(fuse_req_t req, const fs::Entry& entry) {
    fuse_entry_param e = entry_param(req, entry);
    fuse_reply_entry(req, &e);
}

void reply_attr(fuse_req_t req, const struct stat& st) {
    auto& ctx = context(req);
    struct stat visible = ctx.nodes->visible(st);
    fuse_reply_attr(req, &visible, ctx.timeouts_for(st.st_dev).attr);
}

CallerScope act_as_identity(const sys::Identity& who) {
    sys::act_as(who);
    return CallerScope(true);
}

CallerScope act_as_caller(fuse_req_t req) {
    return act_as_identity(context(req).callers.of(*fuse_req_ctx(req)));
}

bool from_page_writeback(fuse_req_t req, const fuse_file_info* fi) {
    if (fi != nullptr && fi->writepage) return true;
    const fuse_ctx* caller = fuse_req_ctx(req);
    return caller->pid == 0 && caller->uid == 0 && caller->gid == 0;
}

CallerScope act_as_writer(fuse_req_t req, const OpenFile& file, const fuse_file_info* fi) {
    if (!from_page_writeback(req, fi)) return act_as_caller(req);
    if (file.opener) return act_as_identity(*file.opener);
    // Not uid 0 even without capabilities: ext4 lets its reserve's uid (by default 0) use the reserve.
    static const sys::Identity nobody{65534, 65534, {}, 0};
    return act_as_identity(nobody);
}

std::optional<fs::DescriptorBudget::Hold> count_descriptor(fuse_req_t req) {
    auto& budget = *context(req).descriptors;
    uid_t uid = fuse_req_ctx(req)->uid;
    auto counted = budget.acquire(uid);
    if (!counted) {
        static std::atomic<int64_t> last_warning{0};
        auto now = std::chrono::steady_clock::now().time_since_epoch() / std::chrono::seconds(1);
        if (now - last_warning.exchange(now) >= 60)
            spdlog::warn(
                "uid {} holds {} open files through the mount, its share of the {} this daemon keeps for "
                "users; refusing more (EMFILE)",
                uid, budget.held_by(uid), budget.capacity());
    }
    return counted;
}

int caller_umask(fuse_req_t req) {
    return context(req).thread_umask ? int(fuse_req_ctx(req)->umask) : -1;
}

namespace {

fs::Node& node_of(fuse_req_t req, fuse_ino_t ino) {
    return context(req).nodes->node(ino);
}

// Runs `call(parent_fd)` as the caller, then replies with the entry of `name` in `parent`.
template <typename Call>
void create_and_reply(fuse_req_t req, fuse_ino_t parent, const char* name, Call&& call) {
    auto& nodes = *context(req).nodes;
    auto& dir = nodes.node(parent);
    auto dir_fd = nodes.path_fd(dir);
    if (!dir_fd) return reply_error(req, dir_fd.error());
    auto as_caller = act_as_caller(req);
    {
        sys::CallerUmask umask(caller_umask(req));
        if (call((*dir_fd)->get()) != 0) return reply_error(req, errno);
    }
    auto entry = nodes.lookup(dir, name);  // as the daemon again
    if (!entry) return reply_error(req, entry.error());
    reply_entry(req, *entry);
}

// Removes `name` from `dir_fd` with `remove()`. If that was its inode's last name and the kernel still holds
// the inode, the node table keeps it reachable until the kernel forgets it (NodeTable::prepare_removal).
template <typename Remove>
void remove_name(fuse_req_t req, int dir_fd, const char* name, Remove&& remove) {
    auto& nodes = *context(req).nodes;
    auto victim = sys::stat_at(dir_fd, name);
    auto pin = victim ? nodes.prepare_removal(*victim) : std::nullopt;
    auto as_caller = act_as_caller(req);
    if (remove() != 0) return reply_error(req, errno);
    if (pin) nodes.keep_removed(std::move(*pin));
    reply_error(req, 0);
}

// UNLINK (flags 0) and RMDIR (AT_REMOVEDIR).
void unlink_at(fuse_req_t req, fuse_ino_t parent, const char* name, int flags) {
    auto dir = context(req).nodes->path_fd(node_of(req, parent));
    if (!dir) return reply_error(req, dir.error());
    int dir_fd = (*dir)->get();
    remove_name(req, dir_fd, name, [&] { return ::unlinkat(dir_fd, name, flags); });
}

sys::Result<struct stat> stat_node(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    if (fi != nullptr && open_file(fi).fd) return sys::stat_fd(open_file(fi).fd.get());
    auto fd = context(req).nodes->path_fd(node_of(req, ino));
    if (!fd) return sys::fail(fd.error());
    return sys::stat_fd((*fd)->get());
}

int set_mode(int fd, bool is_open_file, mode_t type, mode_t mode) {
    if (is_open_file) return ::fchmod(fd, mode);
    if (S_ISLNK(type)) return (errno = EOPNOTSUPP, -1);  // Linux has no lchmod
    return ::chmod(sys::proc_fd_path(fd).c_str(), mode);
}

int set_size(int fd, bool is_open_file, off_t size) {
    if (!is_open_file) return ::truncate(sys::proc_fd_path(fd).c_str(), size);
    auto done = sys::truncate_fd(fd, size);
    return done ? 0 : (errno = done.error(), -1);
}

int set_times(int fd, const struct stat& attr, int to_set) {
    struct timespec times[2];
    times[0].tv_nsec = UTIME_OMIT;
    times[1].tv_nsec = UTIME_OMIT;
    if (to_set & FUSE_SET_ATTR_ATIME_NOW)
        times[0].tv_nsec = UTIME_NOW;
    else if (to_set & FUSE_SET_ATTR_ATIME)
        times[0] = attr.st_atim;
    if (to_set & FUSE_SET_ATTR_MTIME_NOW)
        times[1].tv_nsec = UTIME_NOW;
    else if (to_set & FUSE_SET_ATTR_MTIME)
        times[1] = attr.st_mtim;
    return ::utimensat(fd, "", times, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
}

}  // namespace

namespace ops {

void lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    auto& ctx = context(req);
    auto& dir = node_of(req, parent);
    auto entry = ctx.nodes->lookup(dir, name);
    if (entry) return reply_entry(req, *entry);
    double negative_timeout = entry.error() == ENOENT ? ctx.timeouts_for(dir.key.dev).negative : 0.0;
    if (negative_timeout <= 0) return reply_error(req, entry.error());
    fuse_entry_param negative{};  // node id 0: the kernel caches "no such name" for the timeout
    negative.entry_timeout = negative_timeout;
    fuse_reply_entry(req, &negative);
}

// The request is gone once answered: the mount's state is taken from it first.
void forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
    auto& ctx = context(req);
    ctx.nodes->forget(node_of(req, ino), nlookup);
    fuse_reply_none(req);
    ctx.memory.after_forgets(ctx.nodes->node_count());
}

void forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data* forgets) {
    auto& ctx = context(req);
    for (size_t i = 0; i < count; ++i)
        ctx.nodes->forget(ctx.nodes->node(forgets[i].ino), forgets[i].nlookup);
    fuse_reply_none(req);
    ctx.memory.after_forgets(ctx.nodes->node_count());
}

void getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    auto st = stat_node(req, ino, fi);
    if (!st) return reply_error(req, st.error());
    reply_attr(req, *st);
}

void setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi) {
    auto& node = node_of(req, ino);
    fs::SharedFd path;
    std::optional<RequestFd> opened;
    int fd;
    if (fi != nullptr) {
        auto found =
            request_fd(req, open_file(fi), (to_set & FUSE_SET_ATTR_SIZE) ? Access::write : Access::read);
        if (!found) return reply_error(req, found.error());
        opened.emplace(std::move(*found));
        fd = opened->get();
    } else {
        auto found = context(req).nodes->path_fd(node);
        if (!found) return reply_error(req, found.error());
        path = *found;
        fd = path->get();
    }
    bool is_open = fi != nullptr;
    // The backing judges each change by the caller's rights: only the owner changes modes and times,
    // CAP_CHOWN to give a file away, a non-owner's truncate clears set-user-ID as natively. (One the kernel
    // sends from write-back on an open file, without credentials, runs as that file's opener.)
    auto as_caller = is_open ? act_as_writer(req, open_file(fi), fi) : act_as_caller(req);
    // Order matters: the size change must come before explicit times, or it would bump mtime after them.
    if ((to_set & FUSE_SET_ATTR_MODE) && set_mode(fd, is_open, node.type, attr->st_mode) != 0)
        return reply_error(req, errno);
    if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
        uid_t uid = (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : uid_t(-1);
        gid_t gid = (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : gid_t(-1);
        if (::fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
            return reply_error(req, errno);
    }
    if ((to_set & FUSE_SET_ATTR_SIZE) && set_size(fd, is_open, attr->st_size) != 0)
        return reply_error(req, errno);
    // With writeback_cache the kernel keeps a regular file's times itself and sends them with FATTR_CTIME:
    // at close, fsync and write-back after a write, which was the caller's right, but setting times
    // explicitly needs ownership, which a writer of another user's file lacks. With default_permissions the
    // kernel has already checked every such change (a utimensat(2) it sends the same way included), so the
    // times are set with the daemon's rights.
    if ((to_set & FUSE_SET_ATTR_CTIME) && context(req).config.default_permissions) sys::act_as_daemon();
    if ((to_set &
         (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW)) &&
        set_times(fd, *attr, to_set) != 0)
        return reply_error(req, errno);
    auto st = sys::stat_fd(fd);
    if (!st) return reply_error(req, st.error());
    reply_attr(req, *st);
}

void readlink(fuse_req_t req, fuse_ino_t ino) {
    auto fd = context(req).nodes->path_fd(node_of(req, ino));
    if (!fd) return reply_error(req, fd.error());
    std::vector<char> target(PATH_MAX + 1);
    ssize_t n = ::readlinkat((*fd)->get(), "", target.data(), target.size());
    if (n < 0) return reply_error(req, errno);
    if (size_t(n) >= target.size()) return reply_error(req, ENAMETOOLONG);
    target[size_t(n)] = '\0';
    fuse_reply_readlink(req, target.data());
}

void mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
    create_and_reply(req, parent, name, [&](int dir) { return ::mknodat(dir, name, mode, rdev); });
}

void mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
    create_and_reply(req, parent, name, [&](int dir) { return ::mkdirat(dir, name, mode); });
}

void symlink(fuse_req_t req, const char* link, fuse_ino_t parent, const char* name) {
    create_and_reply(req, parent, name, [&](int dir) { return ::symlinkat(link, dir, name); });
}

void link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname) {
    auto& nodes = *context(req).nodes;
    auto source = nodes.path_fd(node_of(req, ino));
    if (!source) return reply_error(req, source.error());
    create_and_reply(req, newparent, newname, [&](int dir) {
        // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; without it, go through the /proc magic link.
        int rc = ::linkat((*source)->get(), "", dir, newname, AT_EMPTY_PATH);
        if (rc != 0 && (errno == ENOENT || errno == EPERM))
            rc = ::linkat(AT_FDCWD, sys::proc_fd_path((*source)->get()).c_str(), dir, newname,
                          AT_SYMLINK_FOLLOW);
        return rc;
    });
}

void unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
    unlink_at(req, parent, name, 0);
}

void rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
    unlink_at(req, parent, name, AT_REMOVEDIR);
}

void rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent, const char* newname,
            unsigned int flags) {
    auto& nodes = *context(req).nodes;
    auto from = nodes.path_fd(node_of(req, parent));
    if (!from) return reply_error(req, from.error());
    auto to = nodes.path_fd(node_of(req, newparent));
    if (!to) return reply_error(req, to.error());
    auto rename_it = [&] { return ::renameat2((*from)->get(), name, (*to)->get(), newname, flags); };
    // A rename that replaces its target removes the target's name; an exchange removes nothing.
    if (flags & RENAME_EXCHANGE) {
        auto as_caller = act_as_caller(req);
        return reply_error(req, rename_it() == 0 ? 0 : errno);
    }
    remove_name(req, (*to)->get(), newname, rename_it);
}

void statfs(fuse_req_t req, fuse_ino_t ino) {
    auto fd = context(req).nodes->path_fd(node_of(req, ino));
    if (!fd) return reply_error(req, fd.error());
    auto sv = sys::statvfs_fd((*fd)->get());
    if (!sv) return reply_error(req, sv.error());
    fuse_reply_statfs(req, &*sv);
}

void access(fuse_req_t req, fuse_ino_t ino, int mask) {
    auto fd = context(req).nodes->path_fd(node_of(req, ino));
    if (!fd) return reply_error(req, fd.error());
    auto as_caller = act_as_caller(req);
    // AT_EACCESS checks with the (switched) filesystem ids instead of the real ids.
    int rc = ::faccessat(AT_FDCWD, sys::proc_fd_path((*fd)->get()).c_str(), mask, AT_EACCESS);
    reply_error(req, rc == 0 ? 0 : errno);
}

}  // namespace ops
}  // namespace fastfs::fuse
