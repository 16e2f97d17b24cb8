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
    X(passthrough_backing_files, COUNT, GAUGE)

#define FASTFS_STATS_ONE_MORE(name, unit, source) +1
enum { FASTFS_STATS_COUNTER_COUNT = 0 FASTFS_STATS_COUNTERS(FASTFS_STATS_ONE_MORE) };
#undef FASTFS_STATS_ONE_MORE

/* Slots for counters: those in use and the reserved rest (version 1 had 29 in use and 16 reserved). */
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
 * names this open file for the caller's next step. */
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

#define FASTFS_IOC_GET_STATS _IOR(FASTFS_IOCTL_MAGIC, 1, struct fastfs_stats)
#define FASTFS_IOC_CLONE_SOURCE _IOR(FASTFS_IOCTL_MAGIC, 2, struct fastfs_clone_token)
#define FASTFS_IOC_CLONE_INTO _IOW(FASTFS_IOCTL_MAGIC, 3, struct fastfs_clone_request)

#endif /* FASTFS_IOCTL_ABI_H */
