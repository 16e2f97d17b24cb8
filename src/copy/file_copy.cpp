// copy_file: resolve the target, then land_file: a pending file filled by the engine, metadata, fsync,
// rename.
#include "fastfs/copy/file_copy.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include "fastfs/sys/pending_file.hpp"
#include "fastfs/sys/syscalls.hpp"
#include "file_metadata.hpp"

namespace fastfs::copy {
namespace {

namespace fs = std::filesystem;
using sys::PendingFile;

struct Target {
    fs::path path;
    fs::path directory;
    std::string name;
};

// DST itself, or DST/basename(SRC) when DST is a directory; refuses to copy a file onto itself.
sys::Result<Target> resolve_target(const fs::path& source, const fs::path& destination,
                                   const struct stat& src) {
    fs::path path = destination;
    if (auto st = sys::stat_at(AT_FDCWD, path.c_str(), 0); st && S_ISDIR(st->st_mode)) {
        path /= source.filename();
    }
    if (auto st = sys::stat_at(AT_FDCWD, path.c_str(), 0)) {
        if (S_ISDIR(st->st_mode)) return sys::fail(EISDIR);
        if (st->st_dev == src.st_dev && st->st_ino == src.st_ino) return sys::fail(EINVAL);
    }
    Target target{path, path.parent_path(), path.filename().string()};
    if (target.name.empty() || target.name == "." || target.name == "..") return sys::fail(EISDIR);
    if (target.directory.empty()) target.directory = ".";
    return target;
}

sys::Result<uint64_t> copy_data(int src_fd, int dst_fd, uint64_t total, const FileCopyOptions& options,
                                CopyReport& report) {
    if (options.reflink == ReflinkMode::kAlways) {
        if (auto cloned = clone_whole_file(src_fd, dst_fd); !cloned) return sys::fail(cloned.error());
        report.bytes_reflinked += total;
        if (options.progress) options.progress(total, total);
        return total;
    }
    CapabilityCache caps;
    CopyOptions copy_options{.allow_reflink = options.reflink != ReflinkMode::kNever};
    const uint64_t chunk = std::max<uint64_t>(options.chunk_bytes, 1);
    uint64_t done = 0;
    while (done < total) {
        auto copied = copy_range(src_fd, off_t(done), dst_fd, off_t(done), std::min(chunk, total - done),
                                 caps, report, copy_options);
        if (!copied) return sys::fail(copied.error());
        if (*copied == 0) break;  // the source shrank while we copied
        done += *copied;
        if (options.progress) options.progress(done, total);
    }
    if (total == 0 && options.progress) options.progress(0, 0);
    return done;
}

}  // namespace

std::expected<LandedMetadata, LandingError> land_file(int dir_fd, const std::string& name, int src_fd,
                                                      const struct stat& src_st, bool preserve,
                                                      const FillPending& fill) {
    using Step = LandingError::Step;
    auto failed = [](Step step, int error) { return std::unexpected(LandingError{step, error}); };
    // Private until complete; without preserve the kernel applies the umask (or a default ACL) to the
    // source's permission bits, as for any new file.
    auto pending = PendingFile::create(dir_fd, preserve ? 0600 : (src_st.st_mode & 0777));
    if (!pending) return failed(Step::create, pending.error());
    if (auto filled = fill(pending->fd()); !filled) return failed(Step::fill, filled.error());
    LandedMetadata landed;
    if (preserve) {
        auto metadata = detail::copy_metadata(src_fd, src_st, pending->fd());
        if (!metadata) return failed(Step::metadata, metadata.error());
        landed.owner_preserved = metadata->owner_preserved;
        landed.skipped_xattrs = std::move(metadata->skipped_xattrs);
    }
    if (auto synced = sys::sync_fd(pending->fd(), false); !synced) return failed(Step::sync, synced.error());
    if (auto committed = pending->commit(name); !committed) return failed(Step::rename, committed.error());
    if (auto synced = sys::sync_fd(dir_fd, false); !synced) return failed(Step::sync, synced.error());
    return landed;
}

sys::Result<FileCopyReport> copy_file(const fs::path& source, const fs::path& destination,
                                      const FileCopyOptions& options) {
    auto src = sys::open_at(AT_FDCWD, source.c_str(), O_RDONLY | O_NOCTTY);
    if (!src) return sys::fail(src.error());
    auto src_stat = sys::stat_fd(src->get());
    if (!src_stat) return sys::fail(src_stat.error());
    if (S_ISDIR(src_stat->st_mode)) return sys::fail(EISDIR);
    if (!S_ISREG(src_stat->st_mode)) return sys::fail(EINVAL);

    auto target = resolve_target(source, destination, *src_stat);
    if (!target) return sys::fail(target.error());
    auto dir = sys::open_at(AT_FDCWD, target->directory.c_str(), O_RDONLY | O_DIRECTORY);
    if (!dir) return sys::fail(dir.error());

    FileCopyReport report;
    report.destination = target->path;
    auto landed = land_file(dir->get(), target->name, src->get(), *src_stat, options.preserve,
                            [&](int pending_fd) -> sys::Result<void> {
                                auto bytes = copy_data(src->get(), pending_fd, uint64_t(src_stat->st_size),
                                                       options, report.copy);
                                if (!bytes) return sys::fail(bytes.error());
                                report.bytes = *bytes;
                                return {};
                            });
    if (!landed) return sys::fail(landed.error().error);
    report.owner_preserved = landed->owner_preserved;
    report.skipped_xattrs = std::move(landed->skipped_xattrs);
    return report;
}

}  // namespace fastfs::copy
