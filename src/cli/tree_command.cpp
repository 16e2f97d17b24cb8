#include "fastfs/cli/tree_command.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stop_token>
#include <thread>

#include "fastfs/cli/clone_command.hpp"
#include "fastfs/cli/copy_command.hpp"
#include "fastfs/cli/errors.hpp"
#include "fastfs/cli/format.hpp"
#include "fastfs/cli/progress.hpp"
#include "fastfs/ioctl_abi.h"
#include "fastfs/sys/unique_fd.hpp"

namespace fastfs::cli {
namespace {

constexpr int kExitInterrupted = 130;  // 128 + SIGINT, as shells report an interrupted command
constexpr auto kProgressPeriod = std::chrono::milliseconds(100);

std::atomic<bool> g_interrupted{false};

void note_interrupt(int) {
    g_interrupted.store(true);
}

// While a copy runs: Ctrl-C, SIGTERM and SIGHUP stop it cleanly (outside a mount the walk sees the flag;
// inside, the signal interrupts the request and the daemon stops), and job-control stops are held back,
// because FUSE turns any signal that reaches a waiting request into an interrupt, which would cancel the
// copy. Restored when it ends.
class CopySignals {
  public:
    CopySignals() {
        struct sigaction action {};
        action.sa_handler = note_interrupt;  // no SA_RESTART: the request must see the interrupt
        for (int i = 0; i < 3; ++i)
            ::sigaction(kStopping[i], &action, &saved_[i]);
        sigset_t held;
        sigemptyset(&held);
        for (int sig : {SIGTSTP, SIGTTIN, SIGTTOU})
            sigaddset(&held, sig);
        ::pthread_sigmask(SIG_BLOCK, &held, &saved_mask_);
    }
    CopySignals(const CopySignals&) = delete;
    CopySignals& operator=(const CopySignals&) = delete;
    ~CopySignals() {
        for (int i = 0; i < 3; ++i)
            ::sigaction(kStopping[i], &saved_[i], nullptr);
        ::pthread_sigmask(SIG_SETMASK, &saved_mask_, nullptr);
    }

  private:
    static constexpr int kStopping[3] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction saved_[3]{};
    sigset_t saved_mask_{};
};

const char* verb(copy::TreeMode mode) {
    return mode == copy::TreeMode::kClone ? "clone" : "copy";
}

struct NewDirectory {
    sys::UniqueFd parent;
    std::string name;
    std::string display;
};

// DST names a directory to make: its parent must exist, its name be one plain component.
Checked<NewDirectory> resolve_new_directory(std::string destination) {
    while (destination.size() > 1 && destination.back() == '/')
        destination.pop_back();
    NewDirectory target;
    target.display = destination;
    size_t slash = destination.rfind('/');
    target.name = slash == std::string::npos ? destination : destination.substr(slash + 1);
    std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : destination.substr(0, slash);
    if (!copy::valid_tree_name(target.name))
        return usage_error(destination + ": DST must name a new directory");
    target.parent.reset(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!target.parent) return runtime_error(parent + ": " + errno_text(errno));
    return target;
}

std::optional<std::string> real_path(const std::string& path) {
    char* resolved = ::realpath(path.c_str(), nullptr);
    if (resolved == nullptr) return std::nullopt;
    std::string result(resolved);
    std::free(resolved);
    return result;
}

// A copy into its own source would never end (the walk refuses it too, later).
Checked<void> refuse_into_itself(copy::TreeMode mode, const std::string& source,
                                 const std::string& destination) {
    std::string parent = destination.substr(0, destination.find_last_of('/') + 1);
    auto src = real_path(source), dst = real_path(parent.empty() ? "." : parent);
    if (src && dst && (*dst == *src || dst->starts_with(*src == "/" ? *src : *src + "/")))
        return usage_error("cannot " + std::string(verb(mode)) + " " + source + " into itself (" +
                           destination + ")");
    return {};
}

std::string failure_message(copy::TreeMode mode, const std::string& source, const std::string& destination,
                            int error, const std::string& path) {
    std::string head = "cannot " + std::string(verb(mode)) + " " + source + " to " + destination + ": ";
    if (error == EEXIST && path.empty()) return head + destination + " exists";
    if (error == ENOTTY)
        return head +
               "the fastfs daemon of this mount is older than this command's tree copies (restart it with "
               "this version)";
    if (error == EBUSY) return head + "too many tree copies are running on this mount; try again later";
    if (error == EMFILE)
        return head + "your share of the daemon's descriptors is in use (close files you hold in the mount)";
    std::string where = path.empty() ? "" : source + "/" + path + ": ";
    if (error == EOPNOTSUPP || error == EXDEV)
        return head + where +
               "the filesystem cannot share these blocks (reflink needs XFS with reflink=1 or btrfs, SRC and "
               "DST on the same filesystem; fastfs copy -r copies instead)";
    if (error == EINVAL && !path.empty())
        return head + where + "Invalid argument (blocks that cannot be shared, or DST inside SRC)";
    return head + where + errno_text(error);
}

int report_failure(copy::TreeMode mode, const std::string& source, const NewDirectory& target, int error,
                   const std::string& path) {
    if (error == EINTR) {
        report(CliError{kExitInterrupted, "interrupted: nothing was left at " + target.display});
        return kExitInterrupted;
    }
    return report(CliError{kExitFailure, failure_message(mode, source, target.display, error, path)});
}

copy::TreeCounts from_abi(const fastfs_tree_counts& c) {
    return {c.files, c.directories,  c.symlinks,     c.specials,   c.hard_links,
            c.bytes, c.bytes_shared, c.bytes_copied, c.bytes_holes};
}

uint32_t flags_of(copy::TreeMode mode, bool measure) {
    uint32_t flags = measure ? FASTFS_TREE_MEASURE : 0;
    if (mode == copy::TreeMode::kClone) flags |= FASTFS_TREE_CLONE;
    if (mode == copy::TreeMode::kNoReflink) flags |= FASTFS_TREE_NO_REFLINK;
    return flags;
}

// Asks the daemon how far the copy got, every kProgressPeriod, until stopped.
void show_daemon_progress(std::stop_token stop, int fd, __u64 token, ProgressBar& bar) {
    while (!stop.stop_requested()) {
        std::this_thread::sleep_for(kProgressPeriod);
        fastfs_tree_progress progress{};
        progress.token = token;
        if (::ioctl(fd, FASTFS_IOC_TREE_PROGRESS, &progress) != 0) continue;  // not started, or over
        bar.update_tree(progress.done.files, progress.total.files, progress.done.bytes, progress.total.bytes);
    }
}

// The daemon writes only where the caller shows that its view of the mount may write (ioctl_abi.h): the
// request goes on a file made with O_TMPFILE in DST's parent, open for writing, which vanishes when closed.
// A read-only bind or volume refuses it here, as it refuses mkdir.
Checked<sys::UniqueFd> make_write_proof(copy::TreeMode mode, const std::string& source,
                                        const NewDirectory& target) {
    sys::UniqueFd proof(::openat(target.parent.get(), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600));
    if (proof) return proof;
    std::string head = "cannot " + std::string(verb(mode)) + " " + source + " to " + target.display + ": ";
    if (errno == EOPNOTSUPP || errno == EISDIR)
        return runtime_error(
            head +
            "the kernel or the backing filesystem has no O_TMPFILE, which tree copies inside a "
            "mount need (Linux 6.1+ and XFS, btrfs, ext4 or tmpfs)");
    return runtime_error(head + errno_text(errno));
}

std::expected<copy::TreeCounts, copy::TreeCopyError> copy_through_mount(copy::TreeMode mode, __u64 token,
                                                                        const NewDirectory& target,
                                                                        int write_proof, ProgressBar& bar,
                                                                        bool measure) {
    fastfs_tree_copy request{};
    request.token = token;
    request.flags = flags_of(mode, measure);
    std::memcpy(request.name, target.name.c_str(), target.name.size() + 1);
    if (g_interrupted.load()) return std::unexpected(copy::TreeCopyError{EINTR, {}});
    int rc;
    {
        std::jthread progress;
        if (measure) progress = std::jthread(show_daemon_progress, target.parent.get(), token, std::ref(bar));
        rc = ::ioctl(write_proof, FASTFS_IOC_TREE_COPY, &request);  // not retried: EINTR is an answer
    }
    if (rc != 0) {
        request.failed_path[sizeof request.failed_path - 1] = '\0';
        return std::unexpected(copy::TreeCopyError{errno, request.failed_path});
    }
    return from_abi(request.done);
}

std::expected<copy::TreeCounts, copy::TreeCopyError> copy_directly(copy::TreeMode mode, int source_fd,
                                                                   const NewDirectory& target,
                                                                   ProgressBar& bar, bool measure) {
    copy::TreeCopyOptions options{.mode = mode, .measure_first = measure};
    options.cancelled = [] { return g_interrupted.load(); };
    options.progress = [&bar](const copy::TreeCounts& done, const copy::TreeCounts& total) {
        bar.update_tree(done.files, total.files, done.bytes, total.bytes);
    };
    // The copy is private while it is built; the modes are set explicitly at the end.
    mode_t saved = ::umask(077);
    auto copied = copy::copy_tree(source_fd, target.parent.get(), target.name, options);
    ::umask(saved);
    return copied;
}

// Both ends inside one fastfs mount (the daemon copies), or neither (the command copies itself).
Checked<std::optional<__u64>> choose_route(copy::TreeMode mode, int source_fd, const std::string& source,
                                           const NewDirectory& target) {
    const std::string head =
        "cannot " + std::string(verb(mode)) + " " + source + " to " + target.display + ": ";
    auto token = request_clone_token(source_fd, source);
    if (!token) return token;
    bool destination_inside = inside_fastfs(target.parent.get());
    if (token->has_value() != destination_inside)
        return runtime_error(head + (destination_inside ? source : target.display) +
                             " is not inside a fastfs mount (" +
                             (destination_inside ? target.display : source) + " is)");
    struct stat src_st {
    }, dst_st{};
    if (token->has_value() && ::fstat(source_fd, &src_st) == 0 &&
        ::fstat(target.parent.get(), &dst_st) == 0 && src_st.st_dev != dst_st.st_dev)
        return runtime_error(head + "they are on two different mounts");
    return token;
}

// Outside a mount DST must not exist either; inside, the daemon checks (a lookup from here would leave the
// kernel caching "no such name" for DST).
Checked<void> refuse_existing(const NewDirectory& target) {
    struct stat st {};
    if (::fstatat(target.parent.get(), target.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
        return runtime_error(target.display + " exists (DST must be a new directory)");
    return {};
}

// SRC is a file: what the command without -r does.
int run_single_file(copy::TreeMode mode, const std::string& source, const std::string& destination) {
    if (mode == copy::TreeMode::kClone) return run_clone(source, destination);
    return run_copy(
        source, destination,
        mode == copy::TreeMode::kNoReflink ? copy::ReflinkMode::kNever : copy::ReflinkMode::kAuto);
}

}  // namespace

std::string tree_summary(copy::TreeMode mode, const copy::TreeCounts& counts, const std::string& destination,
                         double seconds) {
    std::string line = std::string(mode == copy::TreeMode::kClone ? "cloned " : "copied ") +
                       std::to_string(counts.files) + (counts.files == 1 ? " file (" : " files (") +
                       human_bytes(counts.bytes) + ") to " + destination + " in " +
                       human_duration(std::chrono::duration<double>(seconds)) + ": " +
                       human_bytes(counts.bytes_shared) + " shared, " + human_bytes(counts.bytes_copied) +
                       " copied, " + human_bytes(counts.bytes_holes) + " holes kept";
    auto add = [&line, first = true](uint64_t n, const char* one, const char* many) mutable {
        if (n == 0) return;
        line += (first ? "; " : ", ") + std::to_string(n) + " " + (n == 1 ? one : many);
        first = false;
    };
    add(counts.directories, "directory", "directories");
    add(counts.symlinks, "symlink", "symlinks");
    add(counts.hard_links, "hard link", "hard links");
    add(counts.specials, "special file", "special files");
    return line;
}

int run_tree(copy::TreeMode mode, const std::string& source, const std::string& destination) {
    sys::UniqueFd source_fd(::open(source.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!source_fd && errno == ENOTDIR) return run_single_file(mode, source, destination);
    if (!source_fd) return report(CliError{kExitFailure, source + ": " + errno_text(errno)});
    auto target = resolve_new_directory(destination);
    if (!target) return report(target.error());
    if (auto itself = refuse_into_itself(mode, source, target->display); !itself)
        return report(itself.error());
    auto token = choose_route(mode, source_fd.get(), source, *target);
    if (!token) return report(token.error());
    sys::UniqueFd write_proof;
    if (token->has_value()) {
        auto proof = make_write_proof(mode, source, *target);
        if (!proof) return report(proof.error());
        write_proof = std::move(*proof);
    } else if (auto fresh = refuse_existing(*target); !fresh) {
        return report(fresh.error());
    }

    ProgressBar bar(ProgressBar::stderr_is_terminal());
    bool measure = ProgressBar::stderr_is_terminal();  // totals only matter to a bar someone watches
    auto started = std::chrono::steady_clock::now();
    std::expected<copy::TreeCounts, copy::TreeCopyError> copied;
    {
        CopySignals signals;
        copied = token->has_value()
                     ? copy_through_mount(mode, **token, *target, write_proof.get(), bar, measure)
                     : copy_directly(mode, source_fd.get(), *target, bar, measure);
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    bar.finish();
    if (!copied) return report_failure(mode, source, *target, copied.error().error, copied.error().path);
    std::printf("%s\n", tree_summary(mode, *copied, target->display, seconds).c_str());
    return kExitOk;
}

}  // namespace fastfs::cli
