/* Files written and read around the page cache (mf_fs.h:
 * mf_fs_create_direct, mf_fs_open_direct): O_DIRECT from aligned buffers
 * of our own, behind a stdio FILE (fopencookie) so that callers write and
 * read as they would any file.
 *
 * A direct write waits for the device, so the writer keeps two buffers:
 * while the caller fills one, a thread of the file's own writes the other
 * (started with the second full buffer; a file smaller than two buffers
 * never starts one). The first buffer goes out from the caller, so a file
 * system that refuses O_DIRECT after all (EINVAL) is found before anything
 * is in flight, and the file goes on buffered. An error of the thread's
 * (ENOSPC) comes out of the next write, or of fclose. */
#include "mf_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DIRECT_ALIGN 4096
#define DIRECT_BUF (1u << 20)

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

/* ---- the writing thread ---- */

typedef struct {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started, quit, fd;
    const unsigned char *job; /* a buffer to write, or NULL: idle */
    size_t len;
    off_t off;
    int err; /* errno of the first write that failed, or 0 */
} behind_t;

static void *s_behind_main(void *arg)
{
    behind_t *b = arg;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (!b->job && !b->quit) pthread_cond_wait(&b->cv, &b->mu);
        if (!b->job) break;
        const unsigned char *p = b->job;
        const size_t len = b->len;
        const off_t off = b->off;
        const int fd = b->fd;
        pthread_mutex_unlock(&b->mu);
        size_t done;
        const int rc = s_pwrite_all(fd, p, len, off, &done);
        const int e = errno;
        pthread_mutex_lock(&b->mu);
        if (rc != 0 && !b->err) b->err = e;
        b->job = NULL;
        pthread_cond_broadcast(&b->cv);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

/* Waits until the thread holds no buffer: 0, or -1 with errno set to what
 * an earlier write of its hit. */
static int s_behind_wait(behind_t *b)
{
    if (!b->started) return 0;
    pthread_mutex_lock(&b->mu);
    while (b->job) pthread_cond_wait(&b->cv, &b->mu);
    const int e = b->err;
    pthread_mutex_unlock(&b->mu);
    return e ? (errno = e, -1) : 0;
}

static void s_behind_stop(behind_t *b)
{
    if (!b->started) return;
    pthread_mutex_lock(&b->mu);
    b->quit = 1;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    pthread_join(b->thread, NULL);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    b->started = 0;
}

/* ---- writing ---- */

/* mf_fs_create_direct's cookie: whole aligned blocks go out as they fill
 * `buf`; the rest waits for the next write or the close. */
typedef struct {
    behind_t behind;
    int fd, direct;
    unsigned char *buf, *spare; /* filled here; the other, the thread's (or NULL) */
    size_t fill;                /* bytes in buf, the file's from off on */
    off_t off, pos, end;
} direct_t;

/* Stops writing around the cache: what buf holds goes out buffered, as
 * everything after. 0, or -1 with errno set. */
static int s_direct_off(direct_t *d)
{
    if (!d->direct) return 0;
    if (s_behind_wait(&d->behind) != 0) return -1;
    const int fl = fcntl(d->fd, F_GETFL);
    if (fl < 0 || fcntl(d->fd, F_SETFL, fl & ~O_DIRECT) != 0) return -1;
    d->direct = 0;
    size_t done;
    if (s_pwrite_all(d->fd, d->buf, d->fill, d->off, &done) != 0) return -1;
    d->off += (off_t)d->fill, d->fill = 0;
    return 0;
}

/* Hands the full buf to the thread and takes the spare to fill: 0, or -1
 * with errno set (an earlier write of the thread's failed, or no thread). */
static int s_direct_behind(direct_t *d)
{
    behind_t *b = &d->behind;
    if (!b->started) {
        if (!d->spare && !(d->spare = aligned_alloc(DIRECT_ALIGN, DIRECT_BUF)))
            return errno = ENOMEM, -1;
        b->fd = d->fd;
        if (pthread_mutex_init(&b->mu, NULL) != 0) return errno = EAGAIN, -1;
        if (pthread_cond_init(&b->cv, NULL) != 0) {
            pthread_mutex_destroy(&b->mu);
            return errno = EAGAIN, -1;
        }
        const int rc = pthread_create(&b->thread, NULL, s_behind_main, b);
        if (rc != 0) {
            pthread_cond_destroy(&b->cv);
            pthread_mutex_destroy(&b->mu);
            return errno = rc, -1;
        }
        b->started = 1;
    }
    if (s_behind_wait(b) != 0) return -1;
    pthread_mutex_lock(&b->mu);
    b->job = d->buf, b->len = DIRECT_BUF, b->off = d->off;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    unsigned char *t = d->buf;
    d->buf = d->spare, d->spare = t;
    d->off += (off_t)d->fill, d->fill = 0;
    return 0;
}

/* Writes what buf holds at off as its first len bytes (fill rounded up to
 * a whole block, zeros after fill), from here: 0, or -1 with errno set; a
 * file system that refuses direct writes after all (EINVAL) gets the fill
 * buffered. */
static int s_direct_out(direct_t *d, size_t len)
{
    size_t done;
    if (s_behind_wait(&d->behind) != 0) return -1;
    if (s_pwrite_all(d->fd, d->buf, len, d->off, &done) != 0)
        return errno == EINVAL && done == 0 ? s_direct_off(d) : -1;
    d->off += (off_t)d->fill, d->fill = 0;
    return 0;
}

/* A full buffer: the first (nothing written yet) from here, as it tells
 * whether direct writes work; the others from the thread. */
static int s_direct_full(direct_t *d)
{
    if (d->off == 0) return s_direct_out(d, DIRECT_BUF);
    /* No thread to be had: from here, as the first. */
    if (s_direct_behind(d) != 0) return errno == EAGAIN ? s_direct_out(d, DIRECT_BUF) : -1;
    return 0;
}

/* A cookie's write returns how many bytes it took, 0 on an error (errno
 * set), never a negative count: glibc's unbuffered fwrite takes -1 as
 * SIZE_MAX bytes written and reads past the caller's data (fopencookie(3);
 * an ASan build died so on a full disk once the error came from the thread
 * behind). */
static ssize_t s_direct_write(void *c, const char *data, size_t n)
{
    direct_t *d = c;
    size_t done = 0;
    if (!d->direct) {
        (void)s_pwrite_all(d->fd, (const unsigned char *)data, n, d->pos, &done);
        d->pos += (off_t)done, d->end = d->pos > d->end ? d->pos : d->end;
        return (ssize_t)done; /* short: errno says why */
    }
    while (done < n) {
        const size_t k = n - done < DIRECT_BUF - d->fill ? n - done : DIRECT_BUF - d->fill;
        memcpy(d->buf + d->fill, data + done, k);
        d->fill += k, done += k, d->pos += (off_t)k;
        if (d->fill == DIRECT_BUF && s_direct_full(d) != 0) return 0;
        if (!d->direct && done < n) { /* refused: the rest buffered */
            const ssize_t w = s_direct_write(c, data + done, n - done);
            return w == (ssize_t)(n - done) ? (ssize_t)n : 0;
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

/* What the thread holds goes out; then the last partial block, padded with
 * zeros, and the file is cut back to its length. */
static int s_direct_close(void *c)
{
    direct_t *d = c;
    int rc = s_behind_wait(&d->behind);
    if (rc == 0 && d->direct && d->fill) {
        const size_t len = (d->fill + DIRECT_ALIGN - 1) / DIRECT_ALIGN * DIRECT_ALIGN;
        memset(d->buf + d->fill, 0, len - d->fill);
        const off_t end = d->off + (off_t)d->fill;
        rc = s_direct_out(d, len);
        if (rc == 0 && ftruncate(d->fd, end) != 0) rc = -1; /* a no-op when it went buffered */
    }
    const int saved = errno;
    s_behind_stop(&d->behind);
    if (close(d->fd) != 0 && rc == 0)
        rc = -1;
    else
        errno = saved;
    free(d->buf), free(d->spare);
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

/* ---- reading ---- */

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
