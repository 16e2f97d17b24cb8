// Everything a mount needs, decided by the command line (src/cli) and consumed by the session (src/fuse).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace fastfs::fuse {

struct MountConfig {
    std::filesystem::path backing;     // absolute, canonical, an existing directory
    std::filesystem::path mountpoint;  // absolute, canonical, an existing directory outside `backing`

    bool foreground = false;  // -f: stay attached; otherwise daemonize once the mount has succeeded
    bool debug = false;       // -d: libfuse prints every request

    // Kernel mount options. fsname defaults to the backing path; the type shows as fuse.<subtype>.
    std::string fsname;
    std::string subtype = "fastfs";
    bool allow_other = false;
    bool allow_root = false;
    bool default_permissions = false;
    bool read_only = false;
    std::vector<std::string> kernel_options;  // passed to the kernel as they are: nosuid, nodev, noexec,
                                              // noatime, relatime, sync, dirsync, ...

    // Caching (see docs/consistency.md): seconds the kernel may trust what we told it. Unset: long where
    // the backing filesystem is watched for outside changes, short elsewhere (mount_context.hpp).
    std::optional<double> entry_timeout;
    std::optional<double> attr_timeout;
    std::optional<double> negative_timeout;
    bool watch_backing = true;     // invalidate the kernel's caches when the backing changes behind us
    bool keep_cache = true;        // keep page cache across opens while mtime/size are unchanged
    bool writeback_cache = false;  // off by default: the kernel does not flush before FUSE_LSEEK

    unsigned max_threads = 0;  // 0: an automatic number (worker_threads())
    size_t fd_cache_size = 0;  // 0: derived from RLIMIT_NOFILE
    bool splice = true;        // splice read/write where libfuse can
    // The kernel reads and writes regular files itself on the backing files (FUSE passthrough), where it
    // can: a root daemon, a kernel that offers it, no writeback_cache. -o passthrough=off turns it off.
    bool passthrough = true;
    // Requests through io_uring queues instead of /dev/fuse reads and writes. The kernel offers it only when
    // the fuse module's enable_uring parameter is on (off by default): `automatic` uses it then and /dev/fuse
    // otherwise, `on` (-o io_uring) refuses to mount without it, `off` (-o no_io_uring) never uses it.
    enum class IoUring { automatic, on, off };
    IoUring io_uring = IoUring::automatic;
    // Where a daemonized mount logs: this file if set, else the journal, syslog or a default file
    // (sys/logging.hpp, LogDestination).
    std::filesystem::path log_file;

    // libfuse's worker threads on /dev/fuse at most.
    unsigned worker_threads() const { return max_threads != 0 ? max_threads : 16; }
};

// Mounts, serves until unmounted or signalled, and unmounts. Returns the process exit code. Errors are
// logged as one clear line; a failed mount returns non-zero before any daemonizing.
int run_session(const MountConfig& config);

}  // namespace fastfs::fuse
