// tree_copy (C): the same per-file tree copy as tree_copy.go, for a machine without a Go toolchain.
// SRC is walked without following symbolic links; a directory becomes mkdir, a symbolic link symlink, and
// a regular file: open SRC, open DST with O_WRONLY|O_CREAT|O_EXCL, copy_file_range(2) until it returns 0,
// close both. Where copy_file_range is refused (EXDEV, ENOSYS, EOPNOTSUPP, and EINVAL as Go also takes it)
// the rest of the file is copied with read/write, as Go's io.Copy does. Permission bits are kept (0777, as
// the Go program's Mode().Perm()); owners and times are not.
//
// A benchmark tool (tests/bench/copy_bench.sh, perfile_bench.sh), compiled with cc at run time by lib.sh's
// bench_build_tree_copy.
//
//   tree_copy SRC DST
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char* src_root;
static const char* dst_root;
static size_t src_root_len;

static int fail(const char* what, const char* path) {
    fprintf(stderr, "tree_copy: %s %s: %s\n", what, path, strerror(errno));
    return -1;
}

static int write_all(int fd, const char* buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

// Copies from the current offset of in to that of out until the end of in.
static int copy_data(int in, int out) {
    for (;;) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)1 << 30, 0);
        if (n > 0) continue;
        if (n == 0) return 0;
        if (errno == EINTR) continue;
        if (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL) break;
        return -1;
    }
    static char buf[1 << 20];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n == 0) return 0;
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (write_all(out, buf, (size_t)n) != 0) return -1;
    }
}

static int copy_file(const char* from, const char* to, mode_t mode) {
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) return fail("open", from);
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0777);
    if (out < 0) {
        fail("create", to);
        close(in);
        return -1;
    }
    int rc = copy_data(in, out);
    if (rc != 0) fail("copy to", to);
    close(in);
    if (close(out) != 0 && rc == 0) rc = fail("close", to);
    return rc;
}

static int visit(const char* path, const struct stat* st, int type, struct FTW* ftw) {
    (void)ftw;
    char target[PATH_MAX];
    if (snprintf(target, sizeof target, "%s%s", dst_root, path + src_root_len) >= (int)sizeof target) {
        errno = ENAMETOOLONG;
        return fail("name", path);
    }
    switch (type) {
        case FTW_D:
            return mkdir(target, st->st_mode & 0777) == 0 ? 0 : fail("mkdir", target);
        case FTW_SL: {
            char link[PATH_MAX];
            ssize_t n = readlink(path, link, sizeof link - 1);
            if (n < 0) return fail("readlink", path);
            link[n] = '\0';
            return symlink(link, target) == 0 ? 0 : fail("symlink", target);
        }
        case FTW_F:
            if (S_ISREG(st->st_mode)) return copy_file(path, target, st->st_mode);
            fprintf(stderr, "tree_copy: %s: not a regular file, directory or symbolic link\n", path);
            return -1;
        default:
            return fail("cannot read", path);
    }
}

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: tree_copy SRC DST\n");
        return 2;
    }
    src_root = argv[1];
    dst_root = argv[2];
    src_root_len = strlen(src_root);
    return nftw(src_root, visit, 64, FTW_PHYS) == 0 ? 0 : 1;
}
