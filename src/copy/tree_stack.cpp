#include "tree_stack.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "fastfs/sys/pending_file.hpp"
#include "fastfs/sys/syscalls.hpp"

namespace fastfs::copy::detail {
namespace {

constexpr size_t kListingBufferBytes = 64 * 1024;
constexpr int kDirectoryFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
constexpr int kNameAttempts = 100;

bool is_dot_or_dotdot(const char* name) {
    return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

// The longest prefix of `path` that ends before a '/' and is shorter than PATH_MAX, or all of it.
size_t first_piece(std::string_view path) {
    if (path.size() < PATH_MAX) return path.size();
    size_t cut = path.rfind('/', PATH_MAX - 1);
    return cut == std::string_view::npos || cut == 0 ? path.size()
                                                     : cut;  // a name > PATH_MAX: the kernel says
}

// "a/b/c" -> ("a/b", "c"); "c" -> ("", "c").
std::pair<std::string_view, std::string_view> split_last(std::string_view path) {
    size_t slash = path.rfind('/');
    if (slash == std::string_view::npos) return {{}, path};
    return {path.substr(0, slash), path.substr(slash + 1)};
}

std::string joined(std::string_view parent, std::string_view name) {
    std::string path(parent);
    if (!path.empty()) path += '/';
    path += name;
    return path;
}

}  // namespace

sys::Result<std::vector<DirEntry>> read_listing(int fd) {
    std::vector<DirEntry> entries;
    std::vector<char> buffer(kListingBufferBytes);
    for (;;) {
        ssize_t n = sys::retry_eintr([&] { return ::getdents64(fd, buffer.data(), buffer.size()); });
        if (n < 0) return sys::fail_errno();
        if (n == 0) break;
        for (ssize_t at = 0; at < n;) {
            auto* entry = reinterpret_cast<const struct dirent64*>(buffer.data() + at);
            at += entry->d_reclen;
            if (!is_dot_or_dotdot(entry->d_name))
                entries.push_back({entry->d_name, entry->d_type, entry->d_ino});
        }
    }
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.ino < b.ino; });
    return entries;
}

sys::Result<sys::UniqueFd> open_path_beneath(int root, std::string_view path, int flags) {
    if (path.empty()) return sys::open_beneath(root, ".", flags);
    sys::UniqueFd step;  // the directory reached so far, when the path needs more than one call
    int from = root;
    for (;;) {
        size_t piece = first_piece(path);
        std::string part(path.substr(0, piece));
        bool last = piece == path.size();
        auto opened = sys::open_beneath(from, part.c_str(), last ? flags : O_PATH | O_DIRECTORY);
        if (!opened || last) return opened;
        step = std::move(*opened);
        from = step.get();
        path.remove_prefix(piece + 1);
    }
}

sys::Result<DirectoryStack> DirectoryStack::open_top(sys::UniqueFd src, sys::UniqueFd dst) {
    auto source = sys::stat_fd(src.get());
    if (!source) return sys::fail(source.error());
    DirectoryStack stack;
    stack.has_destination_ = dst.valid();
    if (auto pushed = stack.push("", std::move(src), *source, std::move(dst)); !pushed)
        return sys::fail(pushed.error());
    return stack;
}

sys::Result<void> DirectoryStack::push(std::string name, sys::UniqueFd src, const struct stat& source,
                                       sys::UniqueFd dst) {
    Frame frame;
    frame.name = std::move(name);
    frame.source = source;
    if (dst.valid()) {
        auto st = sys::stat_fd(dst.get());
        if (!st) return sys::fail(st.error());
        frame.dst_dev = st->st_dev;
        frame.dst_ino = st->st_ino;
    }
    auto listing = read_listing(src.get());
    if (!listing) return sys::fail(listing.error());
    frame.entries = std::move(*listing);
    frame.src = std::move(src);
    frame.dst = std::move(dst);
    frames_.push_back(std::move(frame));
    close_far_frames();
    return {};
}

void DirectoryStack::pop() {
    frames_.pop_back();
}

// Frame 0 stays open: every reopening starts there.
void DirectoryStack::close_far_frames() {
    if (frames_.size() <= kOpenLevels + 1) return;
    for (size_t i = 1; i + kOpenLevels < frames_.size(); ++i) {
        frames_[i].src.reset();
        frames_[i].dst.reset();
    }
}

sys::Result<sys::UniqueFd> DirectoryStack::reopen(int root, std::string_view path, dev_t dev,
                                                  ino_t ino) const {
    auto fd = open_path_beneath(root, path, kDirectoryFlags);
    if (!fd) return fd;
    auto st = sys::stat_fd(fd->get());
    if (!st) return sys::fail(st.error());
    if (st->st_dev != dev || st->st_ino != ino) return sys::fail(ESTALE);  // renamed or replaced meanwhile
    return fd;
}

sys::Result<void> DirectoryStack::reopen_top() {
    Frame& frame = top();
    if (frame.src.valid()) return {};
    std::string path = path_of();
    auto src = reopen(root().src.get(), path, frame.source.st_dev, frame.source.st_ino);
    if (!src) return sys::fail(src.error());
    if (has_destination_) {
        auto dst = reopen(root().dst.get(), path, frame.dst_dev, frame.dst_ino);
        if (!dst) return sys::fail(dst.error());
        frame.dst = std::move(*dst);
    }
    frame.src = std::move(*src);
    return {};
}

std::string DirectoryStack::path_of(std::string_view entry) const {
    std::string path;
    for (size_t i = 1; i < frames_.size(); ++i)
        path = joined(path, frames_[i].name);
    return entry.empty() ? path : joined(path, entry);
}

sys::Result<PendingTree> PendingTree::create(int parent) {
    for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
        std::string name = sys::hidden_temp_name(".fastfs-tree-");
        if (::mkdirat(parent, name.c_str(), 0700) == 0) return PendingTree(parent, std::move(name));
        if (errno != EEXIST) return sys::fail_errno();
    }
    return sys::fail(EEXIST);
}

PendingTree::PendingTree(PendingTree&& other) noexcept
    : parent_(other.parent_), temp_name_(std::exchange(other.temp_name_, {})) {}

PendingTree::~PendingTree() {
    if (!temp_name_.empty()) (void)remove_tree(parent_, temp_name_);
}

sys::Result<sys::UniqueFd> PendingTree::open() const {
    return sys::open_beneath(parent_, temp_name_.c_str(), kDirectoryFlags);
}

sys::Result<void> PendingTree::commit(std::string_view name) {
    std::string final_name(name);
    if (::renameat2(parent_, temp_name_.c_str(), parent_, final_name.c_str(), RENAME_NOREPLACE) != 0)
        return sys::fail_errno();
    temp_name_.clear();
    return {};
}

namespace {

// A directory on its way out: its path below the parent, and its subdirectories still to remove.
struct Doomed {
    std::string path;
    std::vector<std::string> subdirectories;
    bool emptied = false;  // its other entries are gone and its subdirectories listed
};

// Removes every entry of `doomed` but its subdirectories, which it notes.
sys::Result<void> empty_directory(int parent, Doomed& doomed) {
    auto fd = open_path_beneath(parent, doomed.path, kDirectoryFlags);
    if (!fd) return sys::fail(fd.error());
    (void)::fchmod(fd->get(), S_IRWXU);  // copied modes may lack u+w; the copy is the caller's own
    auto listing = read_listing(fd->get());
    if (!listing) return sys::fail(listing.error());
    for (const DirEntry& entry : *listing) {
        bool directory = entry.type == DT_DIR;
        if (entry.type == DT_UNKNOWN) {
            auto st = sys::stat_at(fd->get(), entry.name.c_str());
            directory = st && S_ISDIR(st->st_mode);
        }
        if (directory)
            doomed.subdirectories.push_back(entry.name);
        else if (::unlinkat(fd->get(), entry.name.c_str(), 0) != 0 && errno != ENOENT)
            return sys::fail_errno();
    }
    doomed.emptied = true;
    return {};
}

sys::Result<void> remove_empty(int parent, std::string_view path) {
    auto [dir_path, name] = split_last(path);
    auto dir = open_path_beneath(parent, dir_path, O_PATH | O_DIRECTORY);
    if (!dir) return sys::fail(dir.error());
    std::string base(name);
    if (::unlinkat(dir->get(), base.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) return sys::fail_errno();
    return {};
}

}  // namespace

sys::Result<void> remove_tree(int parent, std::string_view name) {
    std::vector<Doomed> stack;
    stack.push_back({std::string(name), {}, false});
    while (!stack.empty()) {
        Doomed& doomed = stack.back();
        if (!doomed.emptied) {
            if (auto emptied = empty_directory(parent, doomed); !emptied) return emptied;
        }
        if (!doomed.subdirectories.empty()) {
            std::string child = joined(doomed.path, doomed.subdirectories.back());
            doomed.subdirectories.pop_back();
            stack.push_back({std::move(child), {}, false});
            continue;
        }
        if (auto removed = remove_empty(parent, doomed.path); !removed) return removed;
        stack.pop_back();
    }
    return {};
}

}  // namespace fastfs::copy::detail
