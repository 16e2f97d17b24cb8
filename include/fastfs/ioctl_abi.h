/* The fastfs ioctl ABI: commands a client issues on a file or directory inside a fastfs mount.
 * Plain C layout with fixed-size fields, because FUSE forwards only "restricted" ioctls: the kernel copies
 * exactly _IOC_SIZE(cmd) bytes in and out and follows no pointers. */
#ifndef FASTFS_IOCTL_ABI_H
#define FASTFS_IOCTL_ABI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define FASTFS_IOCTL_MAGIC 0xFA
#define FASTFS_STATS_VERSION 1

/* Per-mount counters, read by `fastfs stats MOUNTPOINT`: THE list, from which the struct below, the daemon's
 * counters (src/stats) and the text and JSON output of `fastfs stats` (src/cli/format.cpp) are all made.
 * X(name, unit, source): unit BYTES or COUNT; source COUNTER (the daemon adds to it as requests run) or
 * GAUGE (read from the daemon's state when the stats are asked for). The ABI: append only, never reorder;
 * every counter appended takes one of the reserved slots, so the struct keeps its size. */
#define FASTFS_STATS_COUNTERS(X)                        \
    X(uptime_seconds, COUNT, GAUGE)                     \
    /* copy_file_range requests and what they did */    \
    X(copy_requests, COUNT, COUNTER)                    \
    X(copy_bytes_requested, BYTES, COUNTER)             \
    X(copy_bytes_done, BYTES, COUNTER)                  \
    X(copy_bytes_reflinked, BYTES, COUNTER)             \
    X(copy_bytes_copy_file_range, BYTES, COUNTER)       \
    X(copy_bytes_splice, BYTES, COUNTER)                \
    X(copy_bytes_read_write, BYTES, COUNTER)            \
    X(copy_bytes_hole, BYTES, COUNTER)                  \
    X(copy_holes_punched, COUNT, COUNTER)               \
    X(copy_errors, COUNT, COUNTER)                      \
    X(fallback_no_reflink, COUNT, COUNTER)              \
    X(fallback_cross_fs, COUNT, COUNTER)                \
    X(fallback_unaligned, COUNT, COUNTER)               \
    X(fallback_no_copy_file_range, COUNT, COUNTER)      \
    X(fallback_no_splice, COUNT, COUNTER)               \
    X(fallback_no_punch, COUNT, COUNTER)                \
    /* fastfs clone */                                  \
    X(clone_requests, COUNT, COUNTER)                   \
    X(clone_failures, COUNT, COUNTER)                   \
    /* data and metadata path */                        \
    X(read_requests, COUNT, COUNTER)                    \
    X(read_bytes, BYTES, COUNTER)                       \
    X(write_requests, COUNT, COUNTER)                   \
    X(write_bytes, BYTES, COUNTER)                      \
    X(lseek_requests, COUNT, COUNTER)                   \
    X(ioctl_refused, COUNT, COUNTER)                    \
    /* node table */                                    \
    X(nodes, COUNT, GAUGE)                              \
    X(cached_fds, COUNT, GAUGE)                         \
    X(fd_cache_hits, COUNT, GAUGE)                      \
    X(fd_cache_misses, COUNT, GAUGE)                    \
    /* what the mount does to show the backing's truth (docs/consistency.md) */ \
    X(lseek_writebacks, COUNT, COUNTER)                 \
    X(appends_moved, COUNT, COUNTER)                    \
    X(removed_inodes_held, COUNT, GAUGE)                \
    /* descriptors of open files, shared among users (docs/security.md) */ \
    X(open_file_descriptors, COUNT, GAUGE)              \
    X(opens_refused, COUNT, GAUGE)                      \
    /* FUSE passthrough: opens the kernel serves itself, and those it could not (docs/performance.md) */ \
    X(passthrough_opens, COUNT, COUNTER)                \
    X(passthrough_refused, COUNT, COUNTER)              \
    X(passthrough_inode_cached, COUNT, COUNTER)         \
    X(passthrough_backing_files, COUNT, GAUGE)          \
    /* fastfs clone -r / copy -r: whole trees in one request (FASTFS_IOC_TREE_COPY) */ \
    X(tree_requests, COUNT, COUNTER)                    \
    X(tree_failures, COUNT, COUNTER)                    \
    X(tree_files, COUNT, COUNTER)                       \
    X(tree_bytes_reflinked, BYTES, COUNTER)             \
    X(tree_bytes_copied, BYTES, COUNTER)

#define FASTFS_STATS_ONE_MORE(name, unit, source) +1
enum { FASTFS_STATS_COUNTER_COUNT = 0 FASTFS_STATS_COUNTERS(FASTFS_STATS_ONE_MORE) };
#undef FASTFS_STATS_ONE_MORE

/* Slots for counters: those in use and the reserved rest (version 1 had 29 in use and 16 reserved; passthrough
 * took 4 of them and the tree copies 5, 1 stays reserved). */
#define FASTFS_STATS_SLOTS 45

struct fastfs_stats {
    __u32 version; /* FASTFS_STATS_VERSION */
    __u32 size;    /* sizeof(struct fastfs_stats) as the daemon knows it */
#define FASTFS_STATS_FIELD(name, unit, source) __u64 name;
    FASTFS_STATS_COUNTERS(FASTFS_STATS_FIELD)
#undef FASTFS_STATS_FIELD
    __u64 reserved[FASTFS_STATS_SLOTS - FASTFS_STATS_COUNTER_COUNT];
};

/* Step 1 of a clone, on the SOURCE file (opened for reading by the caller): returns a one-time token that
 * names this open file for the caller's next step. For a tree copy, on the source directory. */
struct fastfs_clone_token {
    __u64 token;
};

/* Step 2 of a clone, on the DESTINATION file (opened for writing by the caller): share the source's blocks.
 * length 0 means the whole source file (FICLONE); otherwise FICLONERANGE rules apply. Never copies. */
struct fastfs_clone_request {
    __u64 token;
    __u64 src_offset;
    __u64 dst_offset;
    __u64 length;
};

/* A whole directory tree in one request (`fastfs clone -r`, `fastfs copy -r`). Issued on a file the caller
 * made with O_TMPFILE, open for writing, in the directory that will hold the new tree: the kernel makes that
 * file only where the caller's view of the mount may write (not on a read-only bind), which an ioctl alone
 * does not prove. With a token from FASTFS_IOC_CLONE_SOURCE on the SOURCE directory (opened for reading by
 * the caller). The daemon walks the source and builds the copy on the backing filesystem as the caller,
 * under a hidden temporary name renamed to `name` only when complete (`name` must not exist): all or
 * nothing. An interrupted request (a signal to the caller) stops the copy and leaves nothing. On failure the
 * ioctl returns -1 with errno and still fills `done` (how far it got) and failed_path. EBADF: the token is
 * unknown, expired, another user's, or its directory was closed, or the request was not issued on such an
 * O_TMPFILE file; EBUSY: too many tree copies run (a user may run 4, all users together half the daemon's
 * threads). */
#define FASTFS_TREE_NAME_MAX 256 /* NAME_MAX + 1 */
#define FASTFS_TREE_PATH_MAX 1024
enum {
    FASTFS_TREE_CLONE = 1u << 0,      /* every regular file shares all its blocks, or the copy fails */
    FASTFS_TREE_NO_REFLINK = 1u << 1, /* new blocks for every file (cp --reflink=never) */
    FASTFS_TREE_MEASURE = 1u << 2,    /* count the source first, so progress has totals */
};
struct fastfs_tree_counts {
    __u64 files;       /* regular files made (hard links not counted) */
    __u64 directories; /* including the tree's top directory */
    __u64 symlinks;
    __u64 specials; /* fifos, sockets, device nodes */
    __u64 hard_links;
    __u64 bytes;        /* apparent size of the regular files made */
    __u64 bytes_shared; /* data shared with the source (reflinks) */
    __u64 bytes_copied; /* data written anew */
    __u64 bytes_holes;  /* holes kept: neither read nor written */
};
struct fastfs_tree_copy {
    /* in */
    __u64 token;
    __u32 flags; /* FASTFS_TREE_* */
    __u32 reserved_in;
    char name[FASTFS_TREE_NAME_MAX]; /* one path component, NUL-terminated */
    /* out, also on failure */
    struct fastfs_tree_counts done;
    __u64 reserved_out[4];
    char failed_path[FASTFS_TREE_PATH_MAX]; /* the entry that failed, relative to the source ("" = the top) */
};

/* Progress of a tree copy in progress, asked from a second thread on any file or directory of the mount. */
struct fastfs_tree_progress {
    __u64 token; /* in: the token the copy was started with */
    struct fastfs_tree_counts done;
    struct fastfs_tree_counts total; /* with FASTFS_TREE_MEASURE once measured, else zeros */
};

#define FASTFS_IOC_GET_STATS _IOR(FASTFS_IOCTL_MAGIC, 1, struct fastfs_stats)
#define FASTFS_IOC_CLONE_SOURCE _IOR(FASTFS_IOCTL_MAGIC, 2, struct fastfs_clone_token)
#define FASTFS_IOC_CLONE_INTO _IOW(FASTFS_IOCTL_MAGIC, 3, struct fastfs_clone_request)
/* What a running mount is (`fastfs status`): for root and the user who mounted it, like the counters. The
 * strings are NUL-terminated; a note says why a feature is off ("" when it is on). */
#define FASTFS_STATUS_VERSION 1
enum {
    FASTFS_STATUS_PASSTHROUGH = 1u << 0,         /* the kernel reads and writes regular files itself */
    FASTFS_STATUS_IO_URING = 1u << 1,            /* requests over FUSE's io_uring queues */
    FASTFS_STATUS_WATCHING = 1u << 2,            /* outside changes to the backing reach the kernel's caches */
    FASTFS_STATUS_WRITEBACK_CACHE = 1u << 3,     /* the kernel caches writes (-o writeback_cache) */
    FASTFS_STATUS_ALLOW_OTHER = 1u << 4,         /* other users reach the mount */
    FASTFS_STATUS_DEFAULT_PERMISSIONS = 1u << 5, /* the kernel checks modes and ACLs */
};
struct fastfs_status {
    __u32 version; /* FASTFS_STATUS_VERSION */
    __u32 size;    /* sizeof(struct fastfs_status) as the daemon knows it */
    __u32 flags;   /* FASTFS_STATUS_* */
    __u32 pid;     /* the daemon's */
    __u64 started; /* when the daemon mounted, seconds since the epoch */
    __u32 max_threads;
    __u32 reserved;
    __u64 entry_timeout_ms; /* what the kernel may cache, for the backing root's filesystem */
    __u64 attr_timeout_ms;
    __u64 negative_timeout_ms;
    char fastfs_version[32];
    char libfuse_version[32];
    char backing[1024];
    char passthrough_note[192];
    char io_uring_note[192];
    char watch_note[192];
    char log_destination[1040]; /* "journal", "syslog", "file PATH", "stderr" */
};

/* Number 4 was the tree copy issued on the directory itself, which a read-only view did not stop: retired,
 * answered ENOTTY like any unknown command. */
#define FASTFS_IOC_TREE_PROGRESS _IOWR(FASTFS_IOCTL_MAGIC, 5, struct fastfs_tree_progress)
#define FASTFS_IOC_TREE_COPY _IOWR(FASTFS_IOCTL_MAGIC, 6, struct fastfs_tree_copy)
#define FASTFS_IOC_GET_STATUS _IOR(FASTFS_IOCTL_MAGIC, 7, struct fastfs_status)

#endif /* FASTFS_IOCTL_ABI_H */
