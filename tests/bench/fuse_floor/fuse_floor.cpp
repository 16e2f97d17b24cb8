// fuse-floor: the cheapest FUSE filesystem the side-by-side benchmark (tests/bench/run.sh) can mount.
//
// It receives the same requests a passthrough daemon such as fastfs receives (LOOKUP, CREATE, OPEN,
// WRITE, READDIRPLUS, ...) and answers every one from memory: no backing filesystem, no system call
// besides reading the request and writing the reply. What is left is the cost of the FUSE round trip
// itself, so its column in the benchmark is the best any FUSE daemon can do on that machine: a target
// this daemon cannot reach is out of reach for fastfs too.
//
// File contents are not stored: a file is only its size, and reads return zeros up to it. Everything
// else (names, modes, owners, times, link counts) is kept, so tar, rm -rf and find behave normally.
// Permissions are not checked (the benchmark runs as root). Nothing here is meant for real use.
//
// The kernel-facing settings follow fastfs's defaults (src/fuse/operations.cpp, src/fuse/session.cpp)
// so that the comparison is fair: the entry/attr/negative timeouts fastfs uses over a backing filesystem it
// watches for outside changes, as the benchmark's XFS is (60 s each, kWatchedTimeouts in
// include/fastfs/fuse/mount_context.hpp; -o sets others, e.g. fastfs's unwatched 1/1/0), keep_cache and
// noflush on every open, readdirplus, the same request size and background limits, a multi-threaded loop
// with one /dev/fuse descriptor per thread.
//
// -o io_uring takes requests through FUSE over io_uring (libfuse's per-CPU ring threads), as
// `fastfs -o io_uring` does: the benchmark's floor-uring column. The kernel must have it on
// (/sys/module/fuse/parameters/enable_uring = Y before the mount); fuse-floor refuses to start otherwise,
// rather than quietly measure /dev/fuse under that name.
//
//   fuse-floor [-f] [-d] [-o entry_timeout=S,attr_timeout=S,negative_timeout=S,io_uring] MOUNTPOINT
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

// As fastfs: one page below 1 MiB per READ/WRITE request.
constexpr unsigned kMaxRequestBytes = 1024 * 1024 - 4096;

struct Node {
    fuse_ino_t ino = 0;
    mode_t mode = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    dev_t rdev = 0;
    nlink_t nlink = 1;
    off_t size = 0;
    timespec atime{}, mtime{}, ctime{};
    uint64_t lookups = 0;                                    // the kernel's references (LOOKUP minus FORGET)
    fuse_ino_t parent = 0;                                   // directories: for ".."
    std::map<std::string, fuse_ino_t, std::less<>> entries;  // directories: name -> inode
    std::string target;                                      // symbolic links
};

struct DirEntry {
    std::string name;
    fuse_ino_t ino;
    mode_t mode;
};

// One per OPENDIR: the listing taken when the stream is read from offset 0. Offset i + 1 continues after
// entry i, stable while entries are added or removed (rm -rf removes while it lists).
struct DirHandle {
    std::vector<DirEntry> entries;
};

struct Floor {
    double entry_timeout = 60.0;
    double attr_timeout = 60.0;
    double negative_timeout = 60.0;  // a missing name is cached as such (0: not at all)
    bool io_uring = false;           // FUSE over io_uring instead of read/write on /dev/fuse
    std::mutex mutex;                // guards everything below
    std::unordered_map<fuse_ino_t, Node> nodes;
    fuse_ino_t next_ino = FUSE_ROOT_ID + 1;  // never reused, so the generation can stay 0
};

Floor& floor_of(fuse_req_t req) {
    return *static_cast<Floor*>(fuse_req_userdata(req));
}

timespec now() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts;
}

bool is_dir(const Node& node) {
    return S_ISDIR(node.mode);
}

Node* find(Floor& fl, fuse_ino_t ino) {
    auto it = fl.nodes.find(ino);
    return it == fl.nodes.end() ? nullptr : &it->second;
}

struct stat attributes(const Node& node) {
    struct stat st {};
    st.st_ino = node.ino;
    st.st_mode = node.mode;
    st.st_nlink = node.nlink;
    st.st_uid = node.uid;
    st.st_gid = node.gid;
    st.st_rdev = node.rdev;
    st.st_size = node.size;
    st.st_blksize = 4096;
    // As if every byte were allocated: cp would otherwise take the files for sparse and walk them with
    // SEEK_DATA instead of calling copy_file_range.
    st.st_blocks = (node.size + 511) / 512;
    st.st_atim = node.atime;
    st.st_mtim = node.mtime;
    st.st_ctim = node.ctime;
    return st;
}

// The reply to a request that gives the kernel a new reference to `node`.
fuse_entry_param entry_for(Floor& fl, Node& node) {
    ++node.lookups;
    fuse_entry_param e{};
    e.ino = node.ino;
    e.attr = attributes(node);
    e.attr_timeout = fl.attr_timeout;
    e.entry_timeout = fl.entry_timeout;
    return e;
}

// Drops a node nothing refers to any more: no name (nlink 0) and no kernel reference.
void release_if_unused(Floor& fl, const Node& node) {
    if (node.nlink != 0 || node.lookups != 0) return;
    fuse_ino_t ino = node.ino;  // a copy: `node` goes away with the element
    fl.nodes.erase(ino);
}

void touch_dir(Node& dir) {
    dir.mtime = dir.ctime = now();
}

// Finds the directory `parent` and, in it, `name`. Returns 0 or an errno; `child` is null when the name
// does not exist.
int resolve(Floor& fl, fuse_ino_t parent, const char* name, Node*& dir, Node*& child) {
    dir = find(fl, parent);
    child = nullptr;
    if (dir == nullptr) return ESTALE;
    if (!is_dir(*dir)) return ENOTDIR;
    auto it = dir->entries.find(std::string_view(name));
    if (it != dir->entries.end()) child = find(fl, it->second);
    return 0;
}

// A new node named `name` in `parent`, owned by the caller; `target` is a symbolic link's.
int make_node(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev,
              fuse_entry_param& e, std::string_view target = {}) {
    auto& fl = floor_of(req);
    std::lock_guard lock(fl.mutex);
    Node* dir;
    Node* existing;
    if (int err = resolve(fl, parent, name, dir, existing)) return err;
    if (existing != nullptr) return EEXIST;
    const fuse_ctx* caller = fuse_req_ctx(req);
    fuse_ino_t ino = fl.next_ino++;
    Node& node = fl.nodes[ino];
    node.ino = ino;
    node.mode = mode;
    node.rdev = rdev;
    node.uid = caller->uid;
    node.gid = caller->gid;
    node.atime = node.mtime = node.ctime = now();
    if (S_ISDIR(mode)) {
        node.nlink = 2;
        node.parent = parent;
        node.size = 4096;
        ++dir->nlink;
    }
    if (S_ISLNK(mode)) {
        node.target = target;
        node.size = static_cast<off_t>(target.size());
    }
    dir->entries.emplace(name, ino);
    touch_dir(*dir);
    e = entry_for(fl, node);
    return 0;
}

void reply_entry_or_error(fuse_req_t req, int err, const fuse_entry_param& e) {
    if (err != 0)
        fuse_reply_err(req, err);
    else
        fuse_reply_entry(req, &e);
}

void set_open_flags(fuse_file_info* fi) {
    if (fi->flags & O_DIRECT) fi->direct_io = 1;
    if (!fi->direct_io) fi->keep_cache = 1;
    fi->noflush = 1;
}

// O_TRUNC arrives with OPEN (ATOMIC_O_TRUNC), not as a SETATTR.
void truncate_on_open(Node& node, const fuse_file_info* fi) {
    if ((fi->flags & O_TRUNC) && S_ISREG(node.mode) && node.size != 0) {
        node.size = 0;
        node.mtime = node.ctime = now();
    }
}

// ---------------------------------------------------------------------------------------------------
// the operations

void floor_init(void* userdata, fuse_conn_info* conn) {
    // One flag per call: fuse_set_feature_flag() takes every bit it is given once the kernel offers one.
    for (uint64_t flag :
         {FUSE_CAP_READDIRPLUS, FUSE_CAP_READDIRPLUS_AUTO, FUSE_CAP_PARALLEL_DIROPS, FUSE_CAP_ASYNC_READ,
          FUSE_CAP_ATOMIC_O_TRUNC, FUSE_CAP_AUTO_INVAL_DATA, FUSE_CAP_CACHE_SYMLINKS})
        fuse_set_feature_flag(conn, flag);
    for (uint64_t flag : {FUSE_CAP_POSIX_LOCKS, FUSE_CAP_FLOCK_LOCKS, FUSE_CAP_WRITEBACK_CACHE})
        fuse_unset_feature_flag(conn, flag);
    auto& fl = *static_cast<Floor*>(userdata);
    if (fl.io_uring && !(conn->capable_ext & FUSE_CAP_OVER_IO_URING))
        std::fprintf(stderr, "fuse-floor: the kernel does not offer FUSE over io_uring; using /dev/fuse\n");
    // Splice is left as libfuse sets it: without a write_buf handler it reads every request, data
    // included, with one read(2), which is the cheapest way to receive data nobody looks at.
    conn->max_write = kMaxRequestBytes;
    conn->max_readahead = kMaxRequestBytes;
    conn->max_background = 64;
    conn->congestion_threshold = 48;
    conn->time_gran = 1;
}

void floor_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    auto& fl = floor_of(req);
    fuse_entry_param e{};
    int err;
    {
        std::lock_guard lock(fl.mutex);
        Node* dir;
        Node* child;
        err = resolve(fl, parent, name, dir, child);
        if (err == 0 && child == nullptr) err = ENOENT;
        if (err == 0) e = entry_for(fl, *child);
        if (err == ENOENT && fl.negative_timeout > 0) {
            // A negative entry (node id 0): the kernel keeps the missing name for that long.
            e.entry_timeout = fl.negative_timeout;
            err = 0;
        }
    }
    reply_entry_or_error(req, err, e);
}

void forget_locked(Floor& fl, fuse_ino_t ino, uint64_t count) {
    Node* node = find(fl, ino);
    if (node == nullptr) return;
    node->lookups -= std::min(count, node->lookups);
    release_if_unused(fl, *node);
}

void floor_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
    auto& fl = floor_of(req);
    {
        std::lock_guard lock(fl.mutex);
        forget_locked(fl, ino, nlookup);
    }
    fuse_reply_none(req);
}

void floor_forget_multi(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
    auto& fl = floor_of(req);
    {
        std::lock_guard lock(fl.mutex);
        for (size_t i = 0; i < count; ++i)
            forget_locked(fl, forgets[i].ino, forgets[i].nlookup);
    }
    fuse_reply_none(req);
}

void floor_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
    auto& fl = floor_of(req);
    struct stat st {};
    {
        std::lock_guard lock(fl.mutex);
        Node* node = find(fl, ino);
        if (node == nullptr) {
            fuse_reply_err(req, ESTALE);
            return;
        }
        st = attributes(*node);
    }
    fuse_reply_attr(req, &st, fl.attr_timeout);
}

void floor_setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info*) {
    auto& fl = floor_of(req);
    struct stat st {};
    {
        std::lock_guard lock(fl.mutex);
        Node* node = find(fl, ino);
        if (node == nullptr) {
            fuse_reply_err(req, ESTALE);
            return;
        }
        if ((to_set & FUSE_SET_ATTR_SIZE) && !S_ISREG(node->mode)) {
            fuse_reply_err(req, is_dir(*node) ? EISDIR : EINVAL);
            return;
        }
        timespec t = now();
        if (to_set & FUSE_SET_ATTR_MODE) node->mode = (node->mode & S_IFMT) | (attr->st_mode & 07777);
        if (to_set & FUSE_SET_ATTR_UID) node->uid = attr->st_uid;
        if (to_set & FUSE_SET_ATTR_GID) node->gid = attr->st_gid;
        if (to_set & FUSE_SET_ATTR_SIZE) {
            node->size = attr->st_size;
            node->mtime = t;
        }
        if (to_set & FUSE_SET_ATTR_ATIME_NOW)
            node->atime = t;
        else if (to_set & FUSE_SET_ATTR_ATIME)
            node->atime = attr->st_atim;
        if (to_set & FUSE_SET_ATTR_MTIME_NOW)
            node->mtime = t;
        else if (to_set & FUSE_SET_ATTR_MTIME)
            node->mtime = attr->st_mtim;
        node->ctime = (to_set & FUSE_SET_ATTR_CTIME) ? attr->st_ctim : t;
        st = attributes(*node);
    }
    fuse_reply_attr(req, &st, fl.attr_timeout);
}

void floor_readlink(fuse_req_t req, fuse_ino_t ino) {
    auto& fl = floor_of(req);
    std::string target;
    {
        std::lock_guard lock(fl.mutex);
        Node* node = find(fl, ino);
        if (node == nullptr || !S_ISLNK(node->mode)) {
            fuse_reply_err(req, node == nullptr ? ESTALE : EINVAL);
            return;
        }
        target = node->target;
    }
    fuse_reply_readlink(req, target.c_str());
}

void floor_mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
    fuse_entry_param e{};
    int err = make_node(req, parent, name, mode, rdev, e);
    reply_entry_or_error(req, err, e);
}

void floor_mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
    fuse_entry_param e{};
    int err = make_node(req, parent, name, S_IFDIR | (mode & 07777), 0, e);
    reply_entry_or_error(req, err, e);
}

void floor_symlink(fuse_req_t req, const char* link, fuse_ino_t parent, const char* name) {
    fuse_entry_param e{};
    int err = make_node(req, parent, name, S_IFLNK | 0777, 0, e, link);
    reply_entry_or_error(req, err, e);
}

void floor_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname) {
    auto& fl = floor_of(req);
    fuse_entry_param e{};
    int err;
    {
        std::lock_guard lock(fl.mutex);
        Node* dir;
        Node* existing;
        Node* node = find(fl, ino);
        err = resolve(fl, newparent, newname, dir, existing);
        if (err == 0 && node == nullptr) err = ESTALE;
        if (err == 0 && existing != nullptr) err = EEXIST;
        if (err == 0 && is_dir(*node)) err = EPERM;
        if (err == 0) {
            ++node->nlink;
            node->ctime = now();
            dir->entries.emplace(newname, ino);
            touch_dir(*dir);
            e = entry_for(fl, *node);
        }
    }
    reply_entry_or_error(req, err, e);
}

// Removes `name` from `dir`; for a directory `node` the link from its parent and its "." go together.
void remove_name(Floor& fl, Node& dir, std::string_view name, Node& node) {
    dir.entries.erase(dir.entries.find(name));
    touch_dir(dir);
    node.ctime = now();
    if (is_dir(node)) {
        node.nlink = 0;
        --dir.nlink;
    } else {
        --node.nlink;
    }
    release_if_unused(fl, node);
}

// unlink and rmdir: the same removal, with the checks of one or the other kind of node.
void remove_checked(fuse_req_t req, fuse_ino_t parent, const char* name, bool directory) {
    auto& fl = floor_of(req);
    int err;
    {
        std::lock_guard lock(fl.mutex);
        Node* dir;
        Node* node;
        err = resolve(fl, parent, name, dir, node);
        if (err == 0 && node == nullptr) err = ENOENT;
        if (err == 0 && is_dir(*node) != directory) err = directory ? ENOTDIR : EISDIR;
        if (err == 0 && directory && !node->entries.empty()) err = ENOTEMPTY;
        if (err == 0) remove_name(fl, *dir, name, *node);
    }
    fuse_reply_err(req, err);
}

void floor_unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
    remove_checked(req, parent, name, false);
}

void floor_rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
    remove_checked(req, parent, name, true);
}

int rename_locked(Floor& fl, fuse_ino_t parent, const char* name, fuse_ino_t newparent, const char* newname,
                  unsigned flags) {
    if (flags & ~unsigned(RENAME_NOREPLACE | RENAME_EXCHANGE)) return EINVAL;
    Node* from_dir;
    Node* node;
    Node* to_dir;
    Node* target;
    if (int err = resolve(fl, parent, name, from_dir, node)) return err;
    if (node == nullptr) return ENOENT;
    if (int err = resolve(fl, newparent, newname, to_dir, target)) return err;
    timespec t = now();

    if (flags & RENAME_EXCHANGE) {
        if (target == nullptr) return ENOENT;
        from_dir->entries.find(std::string_view(name))->second = target->ino;
        to_dir->entries.find(std::string_view(newname))->second = node->ino;
        if (from_dir != to_dir) {
            if (is_dir(*node)) {
                --from_dir->nlink;
                ++to_dir->nlink;
                node->parent = newparent;
            }
            if (is_dir(*target)) {
                --to_dir->nlink;
                ++from_dir->nlink;
                target->parent = parent;
            }
        }
        node->ctime = target->ctime = t;
        touch_dir(*from_dir);
        touch_dir(*to_dir);
        return 0;
    }
    if (target == node) return 0;  // two names of the same file: nothing to do
    if (target != nullptr) {
        if (flags & RENAME_NOREPLACE) return EEXIST;
        if (is_dir(*node) && !is_dir(*target)) return ENOTDIR;
        if (!is_dir(*node) && is_dir(*target)) return EISDIR;
        if (is_dir(*target) && !target->entries.empty()) return ENOTEMPTY;
        remove_name(fl, *to_dir, newname, *target);
    }
    from_dir->entries.erase(from_dir->entries.find(std::string_view(name)));
    to_dir->entries.emplace(newname, node->ino);
    if (is_dir(*node) && from_dir != to_dir) {
        --from_dir->nlink;
        ++to_dir->nlink;
        node->parent = newparent;
    }
    node->ctime = t;
    touch_dir(*from_dir);
    touch_dir(*to_dir);
    return 0;
}

void floor_rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
                  const char* newname, unsigned int flags) {
    auto& fl = floor_of(req);
    int err;
    {
        std::lock_guard lock(fl.mutex);
        err = rename_locked(fl, parent, name, newparent, newname, flags);
    }
    fuse_reply_err(req, err);
}

void floor_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    auto& fl = floor_of(req);
    {
        std::lock_guard lock(fl.mutex);
        Node* node = find(fl, ino);
        if (node == nullptr) {
            fuse_reply_err(req, ESTALE);
            return;
        }
        truncate_on_open(*node, fi);
    }
    set_open_flags(fi);
    fuse_reply_open(req, fi);
}

void floor_create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi) {
    auto& fl = floor_of(req);
    fuse_entry_param e{};
    int err = make_node(req, parent, name, S_IFREG | (mode & 07777), 0, e);
    if (err == EEXIST && !(fi->flags & O_EXCL)) {
        // Created by someone else since the kernel's LOOKUP: open that file instead.
        std::lock_guard lock(fl.mutex);
        Node* dir;
        Node* node;
        err = resolve(fl, parent, name, dir, node);
        if (err == 0 && node == nullptr) err = ENOENT;
        if (err == 0 && is_dir(*node)) err = EISDIR;
        if (err == 0) {
            truncate_on_open(*node, fi);
            e = entry_for(fl, *node);
        }
    }
    if (err != 0) {
        fuse_reply_err(req, err);
        return;
    }
    set_open_flags(fi);
    fuse_reply_create(req, &e, fi);
}

// Zeros for every READ: the contents are not kept.
const std::vector<char>& zeros() {
    static const std::vector<char> buffer(kMaxRequestBytes);
    return buffer;
}

void floor_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
    auto& fl = floor_of(req);
    size_t length = 0;
    {
        std::lock_guard lock(fl.mutex);
        Node* node = find(fl, ino);
        if (node == nullptr) {
            fuse_reply_err(req, ESTALE);
            return;
        }
        if (off < node->size) length = std::min(size, static_cast<size_t>(node->size - off));
    }
    if (length == 0) {
        fuse_reply_buf(req, nullptr, 0);
        return;
    }
    // Reads are at most max_pages long (libfuse derives it from max_write); anything longer still gets zeros.
    std::vector<iovec> iov;
    for (size_t done = 0; done < length;) {
        size_t piece = std::min(length - done, zeros().size());
        iov.push_back({const_cast<char*>(zeros().data()), piece});
        done += piece;
    }
    fuse_reply_iov(req, iov.data(), static_cast<int>(iov.size()));
}

// A write or a copy into `node` ending at `end`.
void data_written(Node& node, off_t end) {
    node.size = std::max(node.size, end);
    node.mtime = node.ctime = now();
}

void floor_write(fuse_req_t req, fuse_ino_t ino, const char*, size_t size, off_t off, fuse_file_info*) {
    auto& fl = floor_of(req);
    {
        std::lock_guard lock(fl.mutex);
        Node* node = find(fl, ino);
        if (node == nullptr) {
            fuse_reply_err(req, ESTALE);
            return;
        }
        data_written(*node, off + static_cast<off_t>(size));
    }
    fuse_reply_write(req, size);
}

// An in-mount cp: fastfs reflinks here, the floor only moves the destination's size.
void floor_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in, fuse_file_info*,
                           fuse_ino_t ino_out, off_t off_out, fuse_file_info*, size_t len, int) {
    auto& fl = floor_of(req);
    size_t copied = 0;
    {
        std::lock_guard lock(fl.mutex);
        Node* in = find(fl, ino_in);
        Node* out = find(fl, ino_out);
        if (in == nullptr || out == nullptr) {
            fuse_reply_err(req, ESTALE);
            return;
        }
        if (off_in < in->size) copied = std::min(len, static_cast<size_t>(in->size - off_in));
        if (copied != 0) data_written(*out, off_out + static_cast<off_t>(copied));
    }
    fuse_reply_write(req, copied);
}

void floor_reply_ok(fuse_req_t req, fuse_ino_t, fuse_file_info*) {
    fuse_reply_err(req, 0);
}

void floor_sync(fuse_req_t req, fuse_ino_t, int, fuse_file_info*) {
    fuse_reply_err(req, 0);
}

void floor_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    auto& fl = floor_of(req);
    {
        std::lock_guard lock(fl.mutex);
        Node* node = find(fl, ino);
        if (node == nullptr || !is_dir(*node)) {
            fuse_reply_err(req, node == nullptr ? ESTALE : ENOTDIR);
            return;
        }
    }
    fi->fh = reinterpret_cast<uint64_t>(new DirHandle);
    fi->cache_readdir = 1;
    fi->keep_cache = 1;
    if (fuse_reply_open(req, fi) != 0) delete reinterpret_cast<DirHandle*>(fi->fh);
}

void list(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi, bool plus) {
    auto& fl = floor_of(req);
    auto& handle = *reinterpret_cast<DirHandle*>(fi->fh);
    std::vector<char> buffer(size);
    size_t used = 0;
    {
        std::lock_guard lock(fl.mutex);
        Node* dir = find(fl, ino);
        if (dir == nullptr) {
            fuse_reply_err(req, ESTALE);
            return;
        }
        if (off == 0) {
            handle.entries.clear();
            handle.entries.push_back({".", dir->ino, S_IFDIR});
            handle.entries.push_back({"..", dir->parent != 0 ? dir->parent : dir->ino, S_IFDIR});
            for (const auto& [name, child_ino] : dir->entries)
                handle.entries.push_back({name, child_ino, fl.nodes.at(child_ino).mode});
        }
        for (size_t i = static_cast<size_t>(off); i < handle.entries.size(); ++i) {
            const DirEntry& entry = handle.entries[i];
            char* out = buffer.data() + used;
            size_t room = size - used;
            off_t next = static_cast<off_t>(i + 1);
            size_t need;
            if (!plus) {
                struct stat st {};
                st.st_ino = entry.ino;
                st.st_mode = entry.mode;
                need = fuse_add_direntry(req, out, room, entry.name.c_str(), &st, next);
            } else {
                fuse_entry_param e{};
                Node* node = i < 2 ? nullptr : find(fl, entry.ino);
                if (i >= 2 && node == nullptr) continue;  // removed since the listing was taken
                if (node != nullptr) {
                    e.ino = node->ino;  // "." and ".." stay at 0: no attributes, no new reference
                    e.attr = attributes(*node);
                    e.attr_timeout = fl.attr_timeout;
                    e.entry_timeout = fl.entry_timeout;
                } else {
                    e.attr.st_ino = entry.ino;
                    e.attr.st_mode = entry.mode;
                }
                need = fuse_add_direntry_plus(req, out, room, entry.name.c_str(), &e, next);
                if (need <= room && node != nullptr) ++node->lookups;
            }
            if (need > room) break;
            used += need;
        }
    }
    fuse_reply_buf(req, buffer.data(), used);
}

void floor_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
    list(req, ino, size, off, fi, false);
}

void floor_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
    list(req, ino, size, off, fi, true);
}

void floor_releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
    delete reinterpret_cast<DirHandle*>(fi->fh);
    fuse_reply_err(req, 0);
}

void floor_statfs(fuse_req_t req, fuse_ino_t) {
    struct statvfs st {};
    st.f_bsize = st.f_frsize = 4096;
    st.f_blocks = st.f_bfree = st.f_bavail = 1ull << 32;  // 16 TiB, all free
    st.f_files = st.f_ffree = st.f_favail = 1ull << 32;
    st.f_namemax = 255;
    fuse_reply_statfs(req, &st);
}

// Extended attributes are answered with ENOSYS, which the kernel remembers (fc->no_getxattr): it then
// fails every later getxattr itself, without a request. That matters for writes: this superblock lacks
// SB_NOSEC (fastfs gets it by negotiating HANDLE_KILLPRIV_V2, src/fuse/kernel_features.hpp), so
// before every write(2) the kernel looks up "security.capability" to see whether it must be removed.
// After the first ENOSYS that lookup costs nothing, as with fastfs; EOPNOTSUPP or ENODATA would not be
// remembered and would add a round trip to every write.
void floor_getxattr(fuse_req_t req, fuse_ino_t, const char*, size_t) {
    fuse_reply_err(req, ENOSYS);
}

void floor_listxattr(fuse_req_t req, fuse_ino_t, size_t) {
    fuse_reply_err(req, ENOSYS);
}

fuse_lowlevel_ops make_operations() {
    fuse_lowlevel_ops o{};
    o.init = floor_init;
    o.lookup = floor_lookup;
    o.forget = floor_forget;
    o.forget_multi = floor_forget_multi;
    o.getattr = floor_getattr;
    o.setattr = floor_setattr;
    o.readlink = floor_readlink;
    o.mknod = floor_mknod;
    o.mkdir = floor_mkdir;
    o.symlink = floor_symlink;
    o.link = floor_link;
    o.unlink = floor_unlink;
    o.rmdir = floor_rmdir;
    o.rename = floor_rename;
    o.open = floor_open;
    o.create = floor_create;
    o.read = floor_read;
    o.write = floor_write;
    o.copy_file_range = floor_copy_file_range;
    o.flush = floor_reply_ok;
    o.release = floor_reply_ok;
    o.fsync = floor_sync;
    o.opendir = floor_opendir;
    o.readdir = floor_readdir;
    o.readdirplus = floor_readdirplus;
    o.releasedir = floor_releasedir;
    o.fsyncdir = floor_sync;
    o.statfs = floor_statfs;
    o.getxattr = floor_getxattr;
    o.listxattr = floor_listxattr;
    return o;
}

// ---------------------------------------------------------------------------------------------------
// command line

struct Options {
    bool foreground = false;
    bool debug = false;
    std::string mountpoint;
};

int usage(const char* why) {
    std::fprintf(stderr,
                 "fuse-floor: %s\nusage: fuse-floor [-f] [-d] "
                 "[-o entry_timeout=S,attr_timeout=S,negative_timeout=S] MOUNTPOINT\n",
                 why);
    return 2;
}

bool parse_seconds(std::string_view text, double& out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size() && out >= 0;
}

// "-o a=1,b=2,io_uring": the timeouts and io_uring.
bool parse_mount_options(std::string_view list, Floor& fl) {
    while (!list.empty()) {
        size_t comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        if (item == "io_uring") {
            fl.io_uring = true;
            continue;
        }
        size_t eq = item.find('=');
        std::string_view key = item.substr(0, eq);
        std::string_view value = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
        double* target = key == "entry_timeout"      ? &fl.entry_timeout
                         : key == "attr_timeout"     ? &fl.attr_timeout
                         : key == "negative_timeout" ? &fl.negative_timeout
                                                     : nullptr;
        if (target == nullptr || !parse_seconds(value, *target)) return false;
    }
    return true;
}

// libfuse would quietly fall back to /dev/fuse when the kernel has FUSE over io_uring off.
bool uring_enabled_in_kernel() {
    constexpr const char* kParameter = "/sys/module/fuse/parameters/enable_uring";
    std::FILE* file = std::fopen(kParameter, "r");
    int value = file != nullptr ? std::fgetc(file) : EOF;
    if (file != nullptr) std::fclose(file);
    if (value == 'Y') return true;
    std::fprintf(stderr, "fuse-floor: -o io_uring: %s\n",
                 file == nullptr
                     ? "this kernel has no FUSE over io_uring (CONFIG_FUSE_IO_URING)"
                     : "FUSE over io_uring is off: echo Y > /sys/module/fuse/parameters/enable_uring");
    return false;
}

int serve(fuse_session* se) {
    // As fastfs: up to 16 threads, 8 of them kept idle, one /dev/fuse descriptor per thread.
    fuse_loop_config* loop = fuse_loop_cfg_create();
    fuse_loop_cfg_set_clone_fd(loop, 1);
    fuse_loop_cfg_set_max_threads(loop, 16);
    fuse_loop_cfg_set_idle_threads(loop, 8);
    int rc = fuse_session_loop_mt(se, loop);
    fuse_loop_cfg_destroy(loop);
    return rc;
}

}  // namespace

int main(int argc, char** argv) {
    auto floor = std::make_unique<Floor>();
    Options options;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "-f") {
            options.foreground = true;
        } else if (arg == "-d") {
            options.debug = options.foreground = true;
        } else if (arg == "-o" && i + 1 < argc) {
            if (!parse_mount_options(argv[++i], *floor))
                return usage("bad -o (entry_timeout=S,attr_timeout=S,negative_timeout=S,io_uring)");
        } else if (arg == "-h" || arg == "--help") {
            usage("an in-memory FUSE filesystem that does no work (the benchmark's floor)");
            return 0;
        } else if (!arg.starts_with('-') && options.mountpoint.empty()) {
            options.mountpoint = arg;
        } else {
            return usage(("unexpected argument " + std::string(arg)).c_str());
        }
    }
    if (options.mountpoint.empty()) return usage("no mountpoint");
    if (floor->io_uring && !uring_enabled_in_kernel()) return 1;

    timespec t = now();
    Node& root = floor->nodes[FUSE_ROOT_ID];
    root.ino = FUSE_ROOT_ID;
    root.mode = S_IFDIR | 0755;
    root.nlink = 2;
    root.size = 4096;
    root.parent = FUSE_ROOT_ID;
    root.atime = root.mtime = root.ctime = t;
    root.lookups = 1;  // the kernel never forgets the root

    std::vector<const char*> fuse_argv{argv[0], "-o", "fsname=fuse-floor,subtype=fuse-floor"};
    if (floor->io_uring) fuse_argv.insert(fuse_argv.end(), {"-o", "io_uring"});
    if (options.debug) fuse_argv.push_back("-d");
    fuse_args args = FUSE_ARGS_INIT(static_cast<int>(fuse_argv.size()), const_cast<char**>(fuse_argv.data()));
    const fuse_lowlevel_ops ops = make_operations();
    fuse_session* se = fuse_session_new(&args, &ops, sizeof(ops), floor.get());
    fuse_opt_free_args(&args);  // whatever the option parser allocated
    if (se == nullptr) return 1;
    int rc = 1;
    if (fuse_set_signal_handlers(se) == 0) {
        if (fuse_session_mount(se, options.mountpoint.c_str()) == 0) {
            if (options.foreground || fuse_daemonize(0) == 0) rc = serve(se) < 0 ? 1 : 0;
            fuse_session_unmount(se);
        }
        fuse_remove_signal_handlers(se);
    }
    fuse_session_destroy(se);
    return rc;
}
