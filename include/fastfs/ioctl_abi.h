/* The fastfs ioctl ABI: commands a client issues on a file or directory inside a fastfs mount.
 * Plain C layout with fixed-size fields, because FUSE forwards only "restricted" ioctls: the kernel copies
 * exactly _IOC_SIZE(cmd) bytes in and out and follows no pointers. */
#ifndef FASTFS_IOCTL_ABI_H
#define FASTFS_IOCTL_ABI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define FASTFS_IOCTL_MAGIC 0xFA
#define FASTFS_STATS_VERSION 1

/* Per-mount counters, read by `fastfs stats MOUNTPOINT`. */
struct fastfs_stats {
    __u32 version; /* FASTFS_STATS_VERSION */
    __u32 size;    /* sizeof(struct fastfs_stats) as the daemon knows it */
    __u64 uptime_seconds;
    /* copy_file_range requests and what they did */
    __u64 copy_requests;
    __u64 copy_bytes_requested;
    __u64 copy_bytes_done;
    __u64 copy_bytes_reflinked;
    __u64 copy_bytes_copy_file_range;
    __u64 copy_bytes_splice;
    __u64 copy_bytes_read_write;
    __u64 copy_bytes_hole;
    __u64 copy_holes_punched;
    __u64 copy_errors;
    __u64 fallback_no_reflink;
    __u64 fallback_cross_fs;
    __u64 fallback_unaligned;
    __u64 fallback_no_copy_file_range;
    __u64 fallback_no_splice;
    __u64 fallback_no_punch;
    /* fastfs clone */
    __u64 clone_requests;
    __u64 clone_failures;
    /* data and metadata path */
    __u64 read_requests;
    __u64 read_bytes;
    __u64 write_requests;
    __u64 write_bytes;
    __u64 lseek_requests;
    __u64 ioctl_refused;
    /* node table */
    __u64 nodes;
    __u64 cached_fds;
    __u64 fd_cache_hits;
    __u64 fd_cache_misses;
    __u64 reserved[16];
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
