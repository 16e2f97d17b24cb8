/* The client side of tests/bench/profile.sh: one loop of one kind of file system call over N files, timed
 * with CLOCK_MONOTONIC around the loop only. profile.sh compiles it at run time (cc -O2), so it needs no
 * build system target.
 *
 *   profile-workload OP DIR N [SRC_DIR [SIZE]]
 *
 *   create   open(DIR/fNNNNNN, O_CREAT|O_EXCL|O_WRONLY) + close       (LOOKUP + CREATE + RELEASE)
 *   lstat    lstat of each file                                       (LOOKUP when not cached)
 *   stat     stat of each file                                        (GETATTR with attr_timeout=0)
 *   chmod    chmod of each file, 0600                                 (SETATTR)
 *   scandir  readdir of DIR and fstatat of every entry, like ls -l    (READDIRPLUS)
 *   unlink   unlink of each file                                      (UNLINK)
 *   copy     per file: open SRC_DIR/fNNNNNN, create DIR/fNNNNNN O_EXCL, copy_file_range until it
 *            returns 0, close both                   (LOOKUP, OPEN, CREATE, COPY_FILE_RANGE, RELEASE...)
 *   fill     create each file with SIZE bytes (default 4096) of data: untimed setup for copy
 *
 * Prints one line: "ops=N usec=ELAPSED". Any failed call stops it with a message and exit status 1.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char* op;

static void die(const char* what, const char* path) {
    fprintf(stderr, "profile-workload %s: %s %s: %s\n", op, what, path, strerror(errno));
    exit(1);
}

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void file_name(char* buf, size_t size, const char* dir, long i) {
    snprintf(buf, size, "%s/f%06ld", dir, i);
}

static void copy_one(const char* src, const char* dst) {
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) die("open", src);
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) die("create", dst);
    for (;;) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
        if (n < 0) die("copy_file_range to", dst);
        if (n == 0) break;
    }
    if (close(in) != 0) die("close", src);
    if (close(out) != 0) die("close", dst);
}

static void fill_one(const char* path, const char* data, size_t size) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) die("create", path);
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n < 0) die("write", path);
        done += (size_t)n;
    }
    if (close(fd) != 0) die("close", path);
}

/* readdir + fstatat(AT_SYMLINK_NOFOLLOW) of every entry; returns how many entries there were. */
static long scan_dir(const char* dir) {
    DIR* d = opendir(dir);
    if (!d) die("opendir", dir);
    long entries = 0;
    struct dirent* e;
    struct stat st;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) die("fstatat in", dir);
        entries++;
    }
    if (errno != 0) die("readdir", dir);
    closedir(d);
    return entries;
}

int main(int argc, char** argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: profile-workload OP DIR N [SRC_DIR [SIZE]]\n");
        return 2;
    }
    op = argv[1];
    const char* dir = argv[2];
    long n = strtol(argv[3], NULL, 10);
    const char* src_dir = argc > 4 ? argv[4] : NULL;
    size_t fill_size = argc > 5 ? (size_t)strtoul(argv[5], NULL, 10) : 4096;
    char path[4096], src[4096];
    struct stat st;
    char* data = NULL;

    if (strcmp(op, "copy") == 0 && !src_dir) {
        fprintf(stderr, "profile-workload copy: needs SRC_DIR\n");
        return 2;
    }
    if (strcmp(op, "fill") == 0) {
        data = malloc(fill_size ? fill_size : 1);
        if (!data) die("malloc", "");
        for (size_t i = 0; i < fill_size; i++)
            data[i] = (char)('a' + i % 26);
    }

    long ops = 0;
    double start = now_us();
    if (strcmp(op, "scandir") == 0) {
        ops = scan_dir(dir);
    } else {
        for (long i = 0; i < n; i++, ops++) {
            file_name(path, sizeof path, dir, i);
            if (strcmp(op, "create") == 0) {
                int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd < 0) die("create", path);
                if (close(fd) != 0) die("close", path);
            } else if (strcmp(op, "lstat") == 0) {
                if (lstat(path, &st) != 0) die("lstat", path);
            } else if (strcmp(op, "stat") == 0) {
                if (stat(path, &st) != 0) die("stat", path);
            } else if (strcmp(op, "chmod") == 0) {
                if (chmod(path, 0600) != 0) die("chmod", path);
            } else if (strcmp(op, "unlink") == 0) {
                if (unlink(path) != 0) die("unlink", path);
            } else if (strcmp(op, "copy") == 0) {
                file_name(src, sizeof src, src_dir, i);
                copy_one(src, path);
            } else if (strcmp(op, "fill") == 0) {
                fill_one(path, data, fill_size);
            } else {
                fprintf(stderr, "profile-workload: unknown OP %s\n", op);
                return 2;
            }
        }
    }
    double elapsed = now_us() - start;
    printf("ops=%ld usec=%.0f\n", ops, elapsed);
    free(data);
    return 0;
}
