// Directories: open, list (readdir, and readdirplus which also looks every entry up), release, sync.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include "fastfs/sys/syscalls.hpp"
#include "handlers.hpp"

namespace fastfs::fuse {
namespace {

constexpr size_t kDirBufferBytes = 64 * 1024;

// The next backing entry of the stream, reading more from the directory when the buffer is used up.
// Returns nullptr at the end of the directory or on error (then `error` is set).
const struct dirent64* peek_entry(OpenFile& dir, int& error) {
    DirStream& stream = *dir.dir;
    if (stream.pos >= stream.len) {
        ssize_t n = ::getdents64(dir.fd.get(), stream.buffer.data(), stream.buffer.size());
        if (n < 0) {
            error = errno;
            return nullptr;
        }
        stream.pos = 0;
        stream.len = size_t(n);
        if (n == 0) return nullptr;
    }
    return reinterpret_cast<const struct dirent64*>(stream.buffer.data() + stream.pos);
}

void consume_entry(DirStream& stream, const struct dirent64* entry) {
    stream.pos += entry->d_reclen;
    stream.offset = entry->d_off;
}

bool is_dot_or_dotdot(const char* name) {
    return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

// Positions the stream at the kernel's offset (0, or the d_off of an entry already sent).
int seek_stream(OpenFile& dir, off_t off) {
    DirStream& stream = *dir.dir;
    if (off == stream.offset) return 0;
    if (auto pos = sys::seek(dir.fd.get(), off, SEEK_SET); !pos) return pos.error();
    stream.pos = stream.len = 0;
    stream.offset = off;
    return 0;
}

enum class Added { ok, full, vanished };

// Entries live on the directory's filesystem: their numbers are shown as stat shows them (visible_ino).
Added add_plain(fuse_req_t req, const fs::Node& dir, const struct dirent64* entry, char* out, size_t room,
                size_t& used) {
    struct stat st {};
    st.st_ino = context(req).nodes->visible_ino(dir.key.dev, entry->d_ino);
    st.st_mode = mode_t(entry->d_type) << 12;
    size_t need = fuse_add_direntry(req, out, room, entry->d_name, &st, entry->d_off);
    if (need > room) return Added::full;
    used += need;
    return Added::ok;
}

Added add_plus(fuse_req_t req, fs::Node& dir, const struct dirent64* entry, char* out, size_t room,
               size_t& used) {
    auto& ctx = context(req);
    const char* name = entry->d_name;
    // Size first: a lookup reference must not be taken for an entry that will not be sent.
    if (fuse_add_direntry_plus(req, nullptr, 0, name, nullptr, 0) > room) return Added::full;
    fuse_entry_param e{};
    if (is_dot_or_dotdot(name)) {
        // Node id 0: the kernel lists the name without instantiating an inode for it.
        e.attr.st_ino = ctx.nodes->visible_ino(dir.key.dev, entry->d_ino);
        e.attr.st_mode = mode_t(entry->d_type) << 12;
    } else {
        auto found = ctx.nodes->lookup(dir, name);
        if (!found)
            return Added::vanished;  // removed since getdents: leave it out, as a later getdents would
        e = entry_param(req, *found);
    }
    used += fuse_add_direntry_plus(req, out, room, name, &e, entry->d_off);
    return Added::ok;
}

void list(fuse_req_t req, size_t size, off_t off, fuse_file_info* fi, bool plus) {
    OpenFile& dir = open_file(fi);
    if (int error = seek_stream(dir, off); error != 0) return reply_error(req, error);
    std::vector<char> reply(size);
    size_t used = 0;
    int error = 0;
    while (const struct dirent64* entry = peek_entry(dir, error)) {
        Added added = plus ? add_plus(req, *dir.node, entry, reply.data() + used, size - used, used)
                           : add_plain(req, *dir.node, entry, reply.data() + used, size - used, used);
        if (added == Added::full) break;
        consume_entry(*dir.dir, entry);
    }
    // An error after some entries were gathered is reported by the next call, which starts there.
    if (error != 0 && used == 0) return reply_error(req, error);
    fuse_reply_buf(req, reply.data(), used);
}

}  // namespace

namespace ops {

void opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    auto& ctx = context(req);
    auto counted = count_descriptor(req);
    if (!counted) return reply_error(req, EMFILE);
    auto& node = ctx.nodes->node(ino);
    auto fd = ctx.nodes->open_fd(node, O_RDONLY | O_DIRECTORY);
    if (!fd) return reply_error(req, fd.error());
    auto stream = std::make_unique<DirStream>();
    stream->buffer.resize(kDirBufferBytes);
    fi->fh =
        ctx.open_files.add(std::make_shared<OpenFile>(std::move(*fd), fi->flags, O_RDONLY | O_DIRECTORY,
                                                      &node, false, std::move(*counted), std::move(stream)));
    // Let the kernel cache listings; it drops them when the directory's mtime changes (consistency.md).
    fi->cache_readdir = ctx.config.keep_cache;
    fi->keep_cache = ctx.config.keep_cache;
    if (fuse_reply_open(req, fi) != 0) ctx.open_files.remove(fi->fh);
}

void readdir(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
    list(req, size, off, fi, false);
}

void readdirplus(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
    list(req, size, off, fi, true);
}

void releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
    context(req).open_files.remove(fi->fh);
    reply_error(req, 0);
}

void fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi) {
    fsync(req, ino, datasync, fi);  // an open directory is an OpenFile too
}

}  // namespace ops
}  // namespace fastfs::fuse
