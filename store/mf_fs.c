#include "mf_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/fs.h> /* FICLONE */
#endif

static int s_remove(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int mf_fs_remove_tree(const char *dir)
{
    return nftw(dir, s_remove, 16, FTW_DEPTH | FTW_PHYS);
}

int64_t mf_parse_size(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !(v > 0)) return -1;
    double mult = 1;
    if (*end) {
        const char *units = "KMGT", *u = strchr(units, *end & ~0x20);
        if (!u || !*u || (end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB"))) return -1;
        for (const char *p = units; p <= u; p++) mult *= 1024;
    }
    v *= mult;
    return v < 9e18 ? (int64_t)v : -1;
}

char *mf_fs_buffer(FILE *f, size_t size)
{
    char *buf = malloc(size);
    if (buf) setvbuf(f, buf, _IOFBF, size);
    return buf;
}

int mf_fs_sync(const char *path)
{
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    /* fsync, not fdatasync: a folder's entries, and a new file's size. A
     * file system that cannot sync (EINVAL: some FUSE and network ones, for
     * a folder) keeps what it keeps; that is no reason to fail a render. */
    int rc = fsync(fd);
    if (rc != 0 && (errno == EINVAL || errno == ENOTSUP)) rc = 0;
    const int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int mf_fs_rename_durable(const char *tmp, const char *path)
{
    if (mf_fs_sync(tmp) != 0 || rename(tmp, path) != 0) return -1;
    char *copy = strdup(path);
    if (!copy) return -1;
    const int rc = mf_fs_sync(dirname(copy));
    const int saved = errno;
    free(copy);
    errno = saved;
    return rc;
}

int mf_fs_clone_into(const char *src, int dst_fd)
{
#ifdef FICLONE
    const int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return -1;
    const int rc = ioctl(dst_fd, FICLONE, in);
    const int saved = errno;
    close(in);
    errno = saved;
    return rc == 0 ? 0 : -1;
#else
    (void)src, (void)dst_fd;
    errno = EOPNOTSUPP;
    return -1;
#endif
}

int mf_fs_clone(const char *src, const char *dst)
{
    const int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (out < 0) return -1;
    const int rc = mf_fs_clone_into(src, out);
    const int saved = errno;
    close(out);
    if (rc != 0) unlink(dst); /* made here, empty */
    errno = saved;
    return rc;
}

mf_err_t mf_fs_write_atomic(const char *path, const void *data, size_t len)
{
    const size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) return MF_ERR_NOMEM;
    snprintf(tmp, n, "%s.tmp.XXXXXX", path);
    const int fd = mkstemp(tmp);
    if (fd < 0) {
        free(tmp);
        return MF_ERR_IO;
    }
    size_t done = 0;
    while (done < len) {
        const ssize_t w = write(fd, (const char *)data + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        done += (size_t)w;
    }
    /* mkstemp makes the file 0600; these are ordinary documents. */
    const int ok = done == len && fchmod(fd, 0644) == 0;
    if (close(fd) != 0 || !ok || mf_fs_rename_durable(tmp, path) != 0) {
        const int e = errno;
        unlink(tmp);
        free(tmp);
        errno = e;
        return MF_ERR_IO;
    }
    free(tmp);
    return MF_OK;
}
