#include "mf_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* mf_fs_create_direct's cookie: whole aligned blocks go out as they fill
 * `buf`; the rest waits for the next write or the close. */
#define DIRECT_ALIGN 4096
#define DIRECT_BUF (1u << 20)

typedef struct {
    int fd, direct;
    unsigned char *buf;
    size_t fill; /* bytes in buf, the file's from off on */
    off_t off, pos, end;
} direct_t;

/* n bytes of p at off, whole: 0, or -1 with errno set (ENOSPC when the
 * system takes no more); *done says how many went. */
static int s_pwrite_all(int fd, const unsigned char *p, size_t n, off_t off, size_t *done)
{
    for (*done = 0; *done < n;) {
        const ssize_t k = pwrite(fd, p + *done, n - *done, off + (off_t)*done);
        if (k < 0) return -1;
        if (k == 0) return errno = ENOSPC, -1;
        *done += (size_t)k;
    }
    return 0;
}

/* Stops writing around the cache: what buf holds goes out buffered, as
 * everything after. 0, or -1 with errno set. */
static int s_direct_off(direct_t *d)
{
    if (!d->direct) return 0;
    const int fl = fcntl(d->fd, F_GETFL);
    if (fl < 0 || fcntl(d->fd, F_SETFL, fl & ~O_DIRECT) != 0) return -1;
    d->direct = 0;
    size_t done;
    if (s_pwrite_all(d->fd, d->buf, d->fill, d->off, &done) != 0) return -1;
    d->off += (off_t)d->fill, d->fill = 0;
    return 0;
}

/* Writes what buf holds at off as its first len bytes (fill rounded up to
 * a whole block, zeros after fill). 0, or -1 with errno set; a file system
 * that refuses direct writes after all (EINVAL) gets the fill buffered. */
static int s_direct_out(direct_t *d, size_t len)
{
    size_t done;
    if (s_pwrite_all(d->fd, d->buf, len, d->off, &done) != 0)
        return errno == EINVAL && done == 0 ? s_direct_off(d) : -1;
    d->off += (off_t)d->fill, d->fill = 0;
    return 0;
}

static ssize_t s_direct_write(void *c, const char *data, size_t n)
{
    direct_t *d = c;
    size_t done = 0;
    if (!d->direct) {
        const int rc = s_pwrite_all(d->fd, (const unsigned char *)data, n, d->pos, &done);
        d->pos += (off_t)done, d->end = d->pos > d->end ? d->pos : d->end;
        return rc == 0 ? (ssize_t)n : -1;
    }
    while (done < n) {
        const size_t k = n - done < DIRECT_BUF - d->fill ? n - done : DIRECT_BUF - d->fill;
        memcpy(d->buf + d->fill, data + done, k);
        d->fill += k, done += k, d->pos += (off_t)k;
        if (d->fill == DIRECT_BUF && s_direct_out(d, DIRECT_BUF) != 0) return -1;
        if (!d->direct && done < n) { /* refused: the rest buffered */
            const ssize_t w = s_direct_write(c, data + done, n - done);
            return w < 0 ? -1 : (ssize_t)n;
        }
    }
    d->end = d->pos > d->end ? d->pos : d->end;
    return (ssize_t)n;
}

static int s_direct_seek(void *c, off64_t *at, int whence)
{
    direct_t *d = c;
    const off_t to = whence == SEEK_SET ? *at : whence == SEEK_CUR ? d->pos + *at : d->end + *at;
    if (to < 0) return errno = EINVAL, -1;
    if (to != d->pos && s_direct_off(d) != 0) return -1;
    d->pos = to, *at = to;
    return 0;
}

/* The last partial block goes out padded with zeros, and the file is cut
 * back to its length. */
static int s_direct_close(void *c)
{
    direct_t *d = c;
    int rc = 0;
    if (d->direct && d->fill) {
        const size_t len = (d->fill + DIRECT_ALIGN - 1) / DIRECT_ALIGN * DIRECT_ALIGN;
        memset(d->buf + d->fill, 0, len - d->fill);
        const off_t end = d->off + (off_t)d->fill;
        rc = s_direct_out(d, len);
        if (rc == 0 && ftruncate(d->fd, end) != 0) rc = -1; /* a no-op when it went buffered */
    }
    const int saved = errno;
    if (close(d->fd) != 0 && rc == 0)
        rc = -1;
    else
        errno = saved;
    free(d->buf);
    free(d);
    return rc;
}

/* A FILE over cookie d, whose descriptor and buffer are *fd and *buf,
 * given its aligned buffer when it needs one; NULL with errno set, the
 * descriptor closed and d freed, when either fails. */
static FILE *s_cookie_file(void *d, int *fd, unsigned char **buf, int need_buf, const char *mode,
                           cookie_io_functions_t io)
{
    FILE *f = NULL;
    if (*fd >= 0 && need_buf && !(*buf = aligned_alloc(DIRECT_ALIGN, DIRECT_BUF)))
        errno = ENOMEM;
    else if (*fd >= 0)
        f = fopencookie(d, mode, io);
    if (!f) {
        const int saved = errno;
        if (*fd >= 0) close(*fd);
        free(*buf), free(d);
        errno = saved;
    }
    return f;
}

/* mf_fs_open_direct's cookie: buf refilled a whole aligned MiB at a time. */
typedef struct {
    int fd, direct;
    unsigned char *buf;
    size_t fill, at; /* bytes in buf, of which at are taken */
} direct_in_t;

static ssize_t s_direct_read(void *c, char *data, size_t n)
{
    direct_in_t *d = c;
    if (d->at == d->fill) {
        ssize_t k = read(d->fd, d->buf, DIRECT_BUF);
        if (k < 0 && errno == EINVAL && d->direct) { /* refused after all: buffered */
            const int fl = fcntl(d->fd, F_GETFL);
            if (fl < 0 || fcntl(d->fd, F_SETFL, fl & ~O_DIRECT) != 0) return -1;
            d->direct = 0;
            k = read(d->fd, d->buf, DIRECT_BUF);
        }
        if (k <= 0) return k;
        d->fill = (size_t)k, d->at = 0;
    }
    const size_t k = n < d->fill - d->at ? n : d->fill - d->at;
    memcpy(data, d->buf + d->at, k);
    d->at += k;
    return (ssize_t)k;
}

static int s_direct_in_close(void *c)
{
    direct_in_t *d = c;
    const int rc = close(d->fd);
    free(d->buf), free(d);
    return rc;
}

FILE *mf_fs_open_direct(const char *path)
{
    direct_in_t *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->fd = open(path, O_RDONLY | O_CLOEXEC | O_DIRECT);
    d->direct = d->fd >= 0;
    if (d->fd < 0 && errno == EINVAL) d->fd = open(path, O_RDONLY | O_CLOEXEC);
    cookie_io_functions_t io = {.read = s_direct_read, .close = s_direct_in_close};
    return s_cookie_file(d, &d->fd, &d->buf, 1, "r", io);
}

/* path created or emptied for writing: with O_DIRECT where the file system
 * takes it (*direct set), else without. -1 with errno set. */
static int s_open_new(const char *path, int *direct)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_DIRECT, 0666);
    *direct = fd >= 0;
    if (fd < 0 && errno == EINVAL) fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    return fd;
}

FILE *mf_fs_create_direct(const char *path)
{
    direct_t *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->fd = s_open_new(path, &d->direct);
    cookie_io_functions_t io = {
        .write = s_direct_write, .seek = s_direct_seek, .close = s_direct_close};
    FILE *f = s_cookie_file(d, &d->fd, &d->buf, d->direct, "w", io);
    if (f) setvbuf(f, NULL, _IONBF, 0); /* our buffer is the only one */
    return f;
}
