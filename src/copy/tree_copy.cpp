// copy_tree: measure (optionally), build the copy under a hidden name entry by entry, rename it into place.
#include "fastfs/copy/tree_copy.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "copy_job.hpp"
#include "fastfs/sys/syscalls.hpp"
#include "file_metadata.hpp"
#include "tree_stack.hpp"

namespace fastfs::copy {
namespace {

using detail::DirectoryStack;
using detail::DirEntry;
using Step = std::expected<void, TreeCopyError>;

// Large files are copied in pieces of this size, so a cancellation is seen within one piece.
constexpr uint64_t kChunkBytes = uint64_t(64) << 20;
constexpr int kDirectoryFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
// O_NONBLOCK: a fifo put in place of a file since the listing must not block the open.
constexpr int kSourceFileFlags = O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK;
constexpr int kNewFileFlags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW;
constexpr const char* kAclAccess = "system.posix_acl_access";
constexpr const char* kAclDefault = "system.posix_acl_default";

struct InodeId {
    dev_t dev;
    ino_t ino;
    bool operator==(const InodeId&) const = default;
};
struct InodeIdHash {
    size_t operator()(const InodeId& id) const noexcept {
        return std::hash<uint64_t>()(uint64_t(id.ino) * 0x9E3779B97F4A7C15ull ^ uint64_t(id.dev));
    }
};

InodeId id_of(const struct stat& st) {
    return {st.st_dev, st.st_ino};
}

// "a/b/c" -> ("a/b", "c").
std::pair<std::string, std::string> split_last(const std::string& path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) return {{}, path};
    return {path.substr(0, slash), path.substr(slash + 1)};
}

// The bytes of a file that are holes. Only files with fewer blocks than their size can have any (the
// same test cp makes), so dense files cost no extra system call.
uint64_t hole_bytes(int fd, const struct stat& st) {
    if (uint64_t(st.st_blocks) * 512 >= uint64_t(st.st_size)) return 0;
    uint64_t data = 0;
    off_t at = 0;
    while (at < st.st_size) {
        off_t start = ::lseek(fd, at, SEEK_DATA);
        if (start < 0) break;  // ENXIO: only a hole is left
        off_t end = ::lseek(fd, start, SEEK_HOLE);
        if (end < 0) return 0;
        data += uint64_t(std::min(end, st.st_size) - start);
        at = end;
    }
    return uint64_t(st.st_size) - std::min<uint64_t>(data, uint64_t(st.st_size));
}

bool has_xattr(int fd, const char* name) {
    return ::fgetxattr(fd, name, nullptr, 0) >= 0;
}

// A new entry inherits an ACL from a default ACL of its directory; cp -a leaves the source's ACLs
// instead, so what the source does not have goes.
void drop_inherited_acls(int src, int dst, bool directory) {
    if (!has_xattr(src, kAclAccess)) (void)::fremovexattr(dst, kAclAccess);
    if (directory && !has_xattr(src, kAclDefault)) (void)::fremovexattr(dst, kAclDefault);
}

// Owner and group where the caller may set them, else the group alone where it may, as cp -a.
void copy_owner_at(int dir, const char* name, const struct stat& st) {
    if (::fchownat(dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) == 0) return;
    (void)::fchownat(dir, name, uid_t(-1), st.st_gid, AT_SYMLINK_NOFOLLOW);
}

sys::Result<void> copy_times_at(int dir, const char* name, const struct stat& st) {
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::utimensat(dir, name, times, AT_SYMLINK_NOFOLLOW) != 0) return sys::fail_errno();
    return {};
}

class TreeWalkBase {
  protected:
    explicit TreeWalkBase(const TreeCopyOptions& options) : options_(options) {}

    bool cancelled() const { return options_.cancelled && options_.cancelled(); }
    std::unexpected<TreeCopyError> fail(int error, std::string_view entry = {}) const {
        return std::unexpected(TreeCopyError{error, stack_ ? stack_->path_of(entry) : std::string(entry)});
    }

    const TreeCopyOptions& options_;
    std::optional<DirectoryStack> stack_;
};

// Counts what a copy will make, for progress with totals.
class TreeMeasurer : TreeWalkBase {
  public:
    explicit TreeMeasurer(const TreeCopyOptions& options) : TreeWalkBase(options) {}

    std::expected<TreeCounts, TreeCopyError> run(int src_dir) {
        auto src = sys::open_beneath(src_dir, ".", kDirectoryFlags);
        if (!src) return fail(src.error());
        auto stack = DirectoryStack::open_top(std::move(*src), {});
        if (!stack) return fail(stack.error());
        stack_.emplace(std::move(*stack));
        total_.directories = 1;
        while (!stack_->empty()) {
            if (auto counted = step(); !counted) return std::unexpected(counted.error());
        }
        return total_;
    }

  private:
    Step step() {
        if (cancelled()) return fail(EINTR);
        if (auto reopened = stack_->reopen_top(); !reopened) return fail(reopened.error());
        auto& top = stack_->top();
        if (top.next == top.entries.size()) {
            stack_->pop();
            return {};
        }
        std::string name = std::move(top.entries[top.next++].name);
        auto st = sys::stat_at(top.src.get(), name.c_str());
        if (!st) return fail(st.error(), name);
        if (S_ISDIR(st->st_mode)) return enter(name, *st);
        count(*st);
        return {};
    }

    Step enter(std::string& name, const struct stat& st) {
        auto src = sys::open_beneath(stack_->top().src.get(), name.c_str(), kDirectoryFlags);
        if (!src) return fail(src.error(), name);
        if (auto pushed = stack_->push(name, std::move(*src), st, {}); !pushed)
            return fail(pushed.error(), name);
        ++total_.directories;
        return {};
    }

    void count(const struct stat& st) {
        if (st.st_nlink > 1 && !seen_.insert(id_of(st)).second) {
            ++total_.hard_links;
        } else if (S_ISREG(st.st_mode)) {
            ++total_.files;
            total_.bytes += uint64_t(st.st_size);
        } else if (S_ISLNK(st.st_mode)) {
            ++total_.symlinks;
        } else {
            ++total_.specials;
        }
    }

    TreeCounts total_;
    std::unordered_set<InodeId, InodeIdHash> seen_;
};

class TreeCopier : TreeWalkBase {
  public:
    TreeCopier(const TreeCopyOptions& options, const TreeCounts& total, CapabilityCache& caps)
        : TreeWalkBase(options), total_(total), caps_(caps) {}

    std::expected<TreeCounts, TreeCopyError> run(int src_dir, int dst_parent, std::string_view name) {
        auto src = sys::open_beneath(src_dir, ".", kDirectoryFlags);
        if (!src) return fail(src.error());
        auto pending = detail::PendingTree::create(dst_parent);
        if (!pending) return fail(pending.error());
        if (auto started = start(std::move(*src), *pending); !started)
            return std::unexpected(started.error());
        while (!stack_->empty()) {
            if (auto stepped = step(); !stepped) {
                stack_.reset();  // its descriptors, before the hidden tree is removed
                return std::unexpected(stepped.error());
            }
        }
        if (auto committed = pending->commit(name); !committed) return fail(committed.error());
        return done_;
    }

  private:
    using Frame = DirectoryStack::Frame;

    Step start(sys::UniqueFd src, const detail::PendingTree& pending) {
        auto dst = pending.open();
        if (!dst) return fail(dst.error());
        auto dst_st = sys::stat_fd(dst->get());
        if (!dst_st) return fail(dst_st.error());
        new_top_ = id_of(*dst_st);
        // Entries made below the hidden directory inherit ACLs only if it did, from the destination's parent.
        inherits_acls_ = has_xattr(dst->get(), kAclDefault);
        auto stack = DirectoryStack::open_top(std::move(src), std::move(*dst));
        if (!stack) return fail(stack.error());
        stack_.emplace(std::move(*stack));
        ++done_.directories;
        return {};
    }

    // Copies the working directory's next entry, or finishes the directory when none is left.
    Step step() {
        if (cancelled()) return fail(EINTR);
        if (auto reopened = stack_->reopen_top(); !reopened) return fail(reopened.error());
        Frame& top = stack_->top();
        if (top.next == top.entries.size()) return finish_directory(top);
        DirEntry entry = std::move(top.entries[top.next++]);
        Step copied = copy_entry(entry);
        if (options_.progress) options_.progress(done_, total_);
        return copied;
    }

    Step copy_entry(const DirEntry& entry) {
        if (entry.type == DT_DIR) return copy_directory(entry.name);
        if (entry.type == DT_REG) return copy_regular(entry.name);
        auto st = sys::stat_at(src(), entry.name.c_str());
        if (!st) return fail(st.error(), entry.name);
        return copy_by_type(entry.name, *st);
    }

    Step copy_by_type(const std::string& name, const struct stat& st) {
        if (S_ISDIR(st.st_mode)) return copy_directory(name);
        if (S_ISREG(st.st_mode)) return copy_regular(name);
        if (S_ISLNK(st.st_mode)) return copy_symlink(name, st);
        return copy_special(name, st);
    }

    // The directory's metadata last: making its entries changed its times, and its mode may forbid them.
    Step finish_directory(Frame& top) {
        if (inherits_acls_) drop_inherited_acls(top.src.get(), top.dst.get(), true);
        if (auto meta = detail::copy_metadata(top.src.get(), top.source, top.dst.get()); !meta)
            return fail(meta.error());
        stack_->pop();
        return {};
    }

    Step copy_directory(const std::string& name) {
        auto src_dir = sys::open_beneath(src(), name.c_str(), kDirectoryFlags);
        if (!src_dir) return fail(src_dir.error(), name);
        auto st = sys::stat_fd(src_dir->get());
        if (!st) return fail(st.error(), name);
        // The hidden copy is inside the source (DST inside SRC): copying on would never end.
        if (id_of(*st) == new_top_) return fail(EINVAL, name);
        if (::mkdirat(dst(), name.c_str(), S_IRWXU) != 0) return fail(errno, name);
        auto dst_dir = sys::open_beneath(dst(), name.c_str(), kDirectoryFlags);
        if (!dst_dir) return fail(dst_dir.error(), name);
        if (auto pushed = stack_->push(name, std::move(*src_dir), *st, std::move(*dst_dir)); !pushed)
            return fail(pushed.error(), name);
        ++done_.directories;
        return {};
    }

    Step copy_regular(const std::string& name) {
        auto file = sys::open_beneath(src(), name.c_str(), kSourceFileFlags);
        if (!file && file.error() == ELOOP) return copy_replaced(name);  // a symlink now
        if (!file) return fail(file.error(), name);
        auto st = sys::stat_fd(file->get());
        if (!st) return fail(st.error(), name);
        if (S_ISDIR(st->st_mode)) return copy_directory(name);
        if (!S_ISREG(st->st_mode)) return copy_special(name, *st);
        if (auto linked = link_if_known(*st, name)) return *linked;
        auto made = sys::open_beneath(dst(), name.c_str(), kNewFileFlags, S_IRUSR | S_IWUSR);
        if (!made) return fail(made.error(), name);
        if (auto data = copy_data(file->get(), made->get(), *st, name); !data) return data;
        if (inherits_acls_) drop_inherited_acls(file->get(), made->get(), false);
        if (auto meta = detail::copy_metadata(file->get(), *st, made->get()); !meta)
            return fail(meta.error(), name);
        remember_link(*st, name);
        ++done_.files;
        return {};
    }

    Step copy_replaced(const std::string& name) {
        auto st = sys::stat_at(src(), name.c_str());
        if (!st) return fail(st.error(), name);
        if (!S_ISLNK(st->st_mode)) return fail(ESTALE, name);
        return copy_symlink(name, *st);
    }

    Step copy_data(int from, int to, const struct stat& st, const std::string& name) {
        if (st.st_size == 0) return {};
        if (try_clone(st)) {
            auto cloned = sys::clone_file(from, to);
            if (cloned) {
                uint64_t holes = hole_bytes(from, st);
                done_.bytes_shared += uint64_t(st.st_size) - holes;
                done_.bytes_holes += holes;
                done_.bytes += uint64_t(st.st_size);
                return {};
            }
            if (options_.mode == TreeMode::kClone || !detail::is_unsupported(cloned.error()))
                return fail(cloned.error(), name);
            caps_.mark_refused(st.st_dev, new_top_.dev, CapabilityCache::kReflink);
        }
        return copy_with_engine(from, to, st, name);
    }

    // A whole-file clone first (one call, as cp makes), unless this pair of filesystems refused one.
    bool try_clone(const struct stat& st) const {
        if (options_.mode == TreeMode::kClone) return true;
        if (options_.mode == TreeMode::kNoReflink) return false;
        return !caps_.refused(st.st_dev, new_top_.dev, CapabilityCache::kReflink);
    }

    Step copy_with_engine(int from, int to, const struct stat& st, const std::string& name) {
        CopyReport report;
        const CopyOptions copy_options{.allow_reflink = options_.mode != TreeMode::kNoReflink};
        const uint64_t size = uint64_t(st.st_size);
        uint64_t done = 0;
        while (done < size) {
            if (cancelled()) return fail(EINTR, name);
            auto copied = copy_range(from, off_t(done), to, off_t(done), std::min(kChunkBytes, size - done),
                                     caps_, report, copy_options);
            if (!copied) return fail(copied.error(), name);
            if (*copied == 0) break;  // the source shrank meanwhile
            done += *copied;
            done_.bytes += *copied;
            if (options_.progress) options_.progress(done_, total_);
        }
        done_.bytes_shared += report.bytes_reflinked;
        done_.bytes_copied += report.bytes_copy_file_range + report.bytes_splice + report.bytes_read_write;
        done_.bytes_holes += report.bytes_hole;
        return {};
    }

    Step copy_symlink(const std::string& name, const struct stat& st) {
        if (auto linked = link_if_known(st, name)) return *linked;
        std::string target(PATH_MAX, '\0');
        ssize_t length = ::readlinkat(src(), name.c_str(), target.data(), target.size());
        if (length < 0) return fail(errno, name);
        target.resize(size_t(length));
        if (::symlinkat(target.c_str(), dst(), name.c_str()) != 0) return fail(errno, name);
        copy_owner_at(dst(), name.c_str(), st);
        if (auto times = copy_times_at(dst(), name.c_str(), st); !times) return fail(times.error(), name);
        remember_link(st, name);
        ++done_.symlinks;
        return {};
    }

    // Fifos, sockets and device nodes; making a device node needs CAP_MKNOD, as natively.
    Step copy_special(const std::string& name, const struct stat& st) {
        if (auto linked = link_if_known(st, name)) return *linked;
        if (::mknodat(dst(), name.c_str(), (st.st_mode & S_IFMT) | S_IRUSR | S_IWUSR, st.st_rdev) != 0)
            return fail(errno, name);
        copy_owner_at(dst(), name.c_str(), st);
        if (::fchmodat(dst(), name.c_str(), st.st_mode & 07777, AT_SYMLINK_NOFOLLOW) != 0)
            return fail(errno, name);
        if (auto times = copy_times_at(dst(), name.c_str(), st); !times) return fail(times.error(), name);
        remember_link(st, name);
        ++done_.specials;
        return {};
    }

    // A further name of an inode already copied becomes a hard link to the copy.
    std::optional<Step> link_if_known(const struct stat& st, const std::string& name) {
        if (st.st_nlink < 2) return std::nullopt;
        auto known = links_.find(id_of(st));
        if (known == links_.end()) return std::nullopt;
        auto [dir_path, first_name] = split_last(known->second);
        auto dir = detail::open_path_beneath(stack_->root().dst.get(), dir_path, O_PATH | O_DIRECTORY);
        if (!dir) return fail(dir.error(), name);
        if (::linkat(dir->get(), first_name.c_str(), dst(), name.c_str(), 0) != 0) return fail(errno, name);
        ++done_.hard_links;
        return Step{};
    }

    void remember_link(const struct stat& st, const std::string& name) {
        if (st.st_nlink > 1) links_.emplace(id_of(st), stack_->path_of(name));
    }

    int src() { return stack_->top().src.get(); }
    int dst() { return stack_->top().dst.get(); }

    TreeCounts done_;
    const TreeCounts total_;
    CapabilityCache& caps_;
    InodeId new_top_{};           // the hidden top directory of the copy
    bool inherits_acls_ = false;  // the destination's parent has a default ACL
    // Inodes with more than one name, by the path of their first copy below the new top.
    std::unordered_map<InodeId, std::string, InodeIdHash> links_;
};

}  // namespace

bool valid_tree_name(std::string_view name) {
    return !name.empty() && name != "." && name != ".." && name.size() <= NAME_MAX &&
           name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

std::expected<TreeCounts, TreeCopyError> copy_tree(int src_dir, int dst_parent, std::string_view name,
                                                   const TreeCopyOptions& options) {
    if (!valid_tree_name(name)) return std::unexpected(TreeCopyError{EINVAL, {}});
    std::string target(name);
    // Checked first so that an existing DST fails at once; the final rename checks again.
    if (sys::stat_at(dst_parent, target.c_str())) return std::unexpected(TreeCopyError{EEXIST, {}});
    TreeCounts total;
    if (options.measure_first) {
        auto measured = TreeMeasurer(options).run(src_dir);
        if (!measured) return std::unexpected(measured.error());
        total = *measured;
    }
    CapabilityCache private_caps;
    TreeCopier copier(options, total, options.caps != nullptr ? *options.caps : private_caps);
    return copier.run(src_dir, dst_parent, name);
}

}  // namespace fastfs::copy
