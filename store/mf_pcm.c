#include "mf_pcm.h"
#include "mf_le.h"
#include "mf_log.h"
#include "mf_pipe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static const char s_magic[8] = {'M', 'F', 'P', 'C', 'M', '0', '0', '1'};
static const char s_magic_panned[8] = {'M', 'F', 'P', 'C', 'M', 'P', '0', '1'};

/* Trailer layout, little-endian: magic[8], u32 channels, u32 rate,
 * i64 start, i64 frames. A panned signal (s_magic_panned) stores one
 * channel, and its six gains (float32, left then right) just before the
 * trailer; channels says 2, what readers get. */
#define GAINS (6 * 4)

struct mf_pcm_writer {
    mf_blob_writer_t *blob; /* or, instead, */
    mf_pipe_t *pipe;        /* borrowed */
    mf_pcm_info_t info;
    int panned;
    float gains[2][MF_PCM_GAINS];
};

/* A reader copies samples out of the page cache with pread(2), in windows
 * of WINDOW bytes into a buffer of its own (or straight into the caller's
 * buffer for a plain read). A mapping would copy nothing, but each page
 * costs it a fault, and giving the pages back (resident size must not
 * grow with a signal's length: a 20-minute stereo signal at 96 kHz is
 * 920 MB) costs a TLB shootdown on every core the process runs on: a
 * 46 MB signal read 8 times took 0.19 s mapped and 0.055 s through
 * 128 KB reads (docs/dsp.md). A disk failing under a read is an I/O
 * error of the task, not a SIGBUS of the worker. */
#define WINDOW (128u << 10)

struct mf_pcm_reader {
    int fd;             /* -1 when reading a pipe */
    mf_pipe_t *pipe;    /* borrowed */
    uint64_t size;      /* the blob's bytes */
    unsigned char *win; /* WINDOW bytes, allocated at the first windowed read */
    uint64_t win_off;   /* the file offset of win[0] */
    size_t win_len;     /* bytes of win that are valid */
    mf_pcm_info_t info;
    int64_t pos; /* next frame to read, relative to the signal's start */
    int panned;  /* one channel stored, read as two through gains */
    int gained;  /* two stored, each read through its gains (a view) */
    float gains[2][MF_PCM_GAINS];
};

mf_pcm_writer_t *mf_pcm_writer_new(mf_store_t *s, int channels, int rate, int64_t start)
{
    return mf_pcm_writer_new_named(s, NULL, channels, rate, start);
}

mf_pcm_writer_t *mf_pcm_writer_new_named(mf_store_t *s, const mf_hash_t *name, int channels,
                                         int rate, int64_t start)
{
    mf_pcm_writer_t *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->blob = name ? mf_blob_writer_new_named(s, name) : mf_blob_writer_new(s);
    if (!w->blob) {
        free(w);
        return NULL;
    }
    w->info = (mf_pcm_info_t){.channels = channels, .rate = rate, .start = start};
    return w;
}

/* w stores one channel, read as two through gains. */
static mf_pcm_writer_t *s_panned(mf_pcm_writer_t *w, float gains[2][MF_PCM_GAINS])
{
    if (w) w->panned = 1, memcpy(w->gains, gains, sizeof w->gains);
    return w;
}

mf_pcm_writer_t *mf_pcm_writer_new_panned(mf_store_t *s, const mf_hash_t *name,
                                          float gains[2][MF_PCM_GAINS], int rate, int64_t start)
{
    return s_panned(mf_pcm_writer_new_named(s, name, 2, rate, start), gains);
}

mf_pcm_writer_t *mf_pcm_writer_new_pipe(mf_pipe_t *p, int channels, float gains[2][MF_PCM_GAINS],
                                        int rate, int64_t start)
{
    mf_pcm_writer_t *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->pipe = p;
    w->info = (mf_pcm_info_t){.channels = gains ? 2 : channels, .rate = rate, .start = start};
    return gains ? s_panned(w, gains) : w;
}

mf_err_t mf_pcm_writer_write(mf_pcm_writer_t *w, const float *buf, size_t frames)
{
    /* The host is little-endian (x86-64, aarch64); float32 goes out as is. */
    w->info.frames += (int64_t)frames;
    const size_t stored = w->panned ? 1 : (size_t)w->info.channels;
    const size_t bytes = frames * stored * sizeof(float);
    return w->pipe ? mf_pipe_write(w->pipe, buf, bytes) : mf_blob_writer_write(w->blob, buf, bytes);
}

mf_err_t mf_pcm_writer_commit(mf_pcm_writer_t *w, mf_hash_t *out)
{
    if (w->pipe) { /* no trailer: its reader was told */
        mf_pipe_end(w->pipe);
        memset(out, 0, sizeof *out);
        free(w);
        return MF_OK;
    }
    unsigned char t[MF_PCM_TRAILER];
    mf_err_t gerr = w->panned ? mf_blob_writer_write(w->blob, w->gains, GAINS) : MF_OK;
    memcpy(t, w->panned ? s_magic_panned : s_magic, 8);
    mf_le_put(t + 8, (uint32_t)w->info.channels, 4);
    mf_le_put(t + 12, (uint32_t)w->info.rate, 4);
    mf_le_put(t + 16, (uint64_t)w->info.start, 8);
    mf_le_put(t + 24, (uint64_t)w->info.frames, 8);
    mf_err_t err = gerr == MF_OK ? mf_blob_writer_write(w->blob, t, sizeof t) : gerr;
    if (err == MF_OK)
        err = mf_blob_writer_commit(w->blob, out);
    else
        mf_blob_writer_abort(w->blob);
    free(w);
    return err;
}

void mf_pcm_writer_abort(mf_pcm_writer_t *w)
{
    if (!w) return;
    if (w->blob) mf_blob_writer_abort(w->blob);
    free(w);
}

mf_err_t mf_pcm_trailer_check(const uint8_t t[MF_PCM_TRAILER], uint64_t size, mf_pcm_info_t *info,
                              int *panned)
{
    *panned = memcmp(t, s_magic_panned, 8) == 0;
    if (!*panned && memcmp(t, s_magic, 8) != 0) return MF_ERR_CORRUPT;
    info->channels = (int)(uint32_t)mf_le_get(t + 8, 4);
    info->rate = (int)(uint32_t)mf_le_get(t + 12, 4);
    info->start = (int64_t)mf_le_get(t + 16, 8);
    info->frames = (int64_t)mf_le_get(t + 24, 8);
    if (info->channels < 1 || info->channels > 2 || info->rate < 1 || info->frames < 0 ||
        (*panned && info->channels != 2))
        return MF_ERR_CORRUPT;
    if (size < MF_PCM_TRAILER + (*panned ? GAINS : 0)) return MF_ERR_CORRUPT;
    const uint64_t data = size - MF_PCM_TRAILER - (*panned ? GAINS : 0);
    /* Divide rather than multiply: a forged frame count must not overflow. */
    const uint64_t frame_bytes = (*panned ? 1u : (unsigned)info->channels) * sizeof(float);
    return data % frame_bytes == 0 && data / frame_bytes == (uint64_t)info->frames ? MF_OK
                                                                                   : MF_ERR_CORRUPT;
}

/* Reads exactly n bytes at off; MF_ERR_IO on an error or a short file. */
static mf_err_t s_pread(int fd, void *dst, size_t n, uint64_t off)
{
    unsigned char *d = dst;
    while (n > 0) {
        const ssize_t got = pread(fd, d, n, (off_t)off);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return MF_ERR_IO;
        d += got, n -= (size_t)got, off += (uint64_t)got;
    }
    return MF_OK;
}

/* Exactly n bytes of r's signal at off, from its file or its pipe. */
static mf_err_t s_read(const mf_pcm_reader_t *r, void *dst, size_t n, uint64_t off)
{
    return r->pipe ? mf_pipe_read(r->pipe, dst, n, off) : s_pread(r->fd, dst, n, off);
}

/* The trailer of the size-byte blob open as fd, checked: MF_ERR_CORRUPT
 * when it cannot be read or does not add up. */
static mf_err_t s_trailer_at(int fd, uint64_t size, mf_pcm_info_t *info, int *panned)
{
    unsigned char t[MF_PCM_TRAILER];
    return size >= MF_PCM_TRAILER && s_pread(fd, t, sizeof t, size - MF_PCM_TRAILER) == MF_OK &&
                   mf_pcm_trailer_check(t, size, info, panned) == MF_OK
               ? MF_OK
               : MF_ERR_CORRUPT;
}

static mf_err_t s_read_trailer(mf_pcm_reader_t *r, const char *hex)
{
    if (s_trailer_at(r->fd, r->size, &r->info, &r->panned) != MF_OK ||
        (r->panned && s_pread(r->fd, r->gains, GAINS, r->size - MF_PCM_TRAILER - GAINS) != MF_OK)) {
        mf_error("blob %s: not a signal blob, or truncated", hex);
        return MF_ERR_CORRUPT;
    }
    return MF_OK;
}

/* A stored blob's file, read-only, into *fd. */
static mf_err_t s_open_blob(const mf_store_t *s, const mf_hash_t *h, int *fd)
{
    char *path = mf_store_path(s, h);
    if (!path) return MF_ERR_NOMEM;
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    return *fd >= 0 ? MF_OK : errno == ENOENT ? MF_ERR_NOENT : MF_ERR_IO;
}

mf_err_t mf_pcm_peek(const mf_store_t *s, const mf_hash_t *h, mf_pcm_info_t *info, int *panned)
{
    int fd;
    const mf_err_t opened = s_open_blob(s, h, &fd);
    if (opened != MF_OK) return opened;
    struct stat st;
    const mf_err_t err =
        fstat(fd, &st) != 0 ? MF_ERR_IO : s_trailer_at(fd, (uint64_t)st.st_size, info, panned);
    close(fd);
    return err;
}

mf_err_t mf_pcm_reader_open(const mf_store_t *s, const mf_hash_t *h, mf_pcm_reader_t **out)
{
    *out = NULL;
    int fd;
    const mf_err_t opened = s_open_blob(s, h, &fd);
    if (opened != MF_OK) return opened;
    struct stat st;
    mf_pcm_reader_t *r = fstat(fd, &st) == 0 ? calloc(1, sizeof *r) : NULL;
    if (!r) {
        close(fd);
        return MF_ERR_NOMEM;
    }
    r->fd = fd, r->size = (uint64_t)st.st_size;
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    const mf_err_t err = s_read_trailer(r, h->hex);
    if (err != MF_OK) {
        mf_pcm_reader_free(&r);
        return err;
    }
    *out = r;
    return MF_OK;
}

mf_err_t mf_pcm_reader_open_pipe(mf_pipe_t *p, const mf_pcm_writer_t *w, int64_t frames,
                                 mf_pcm_reader_t **out)
{
    *out = NULL;
    if (!w->pipe || w->pipe != p || frames < 0) return MF_ERR_INVALID;
    mf_pcm_reader_t *r = calloc(1, sizeof *r);
    if (!r) return MF_ERR_NOMEM;
    r->fd = -1, r->pipe = p;
    r->info = w->info;
    r->info.frames = frames;
    r->panned = w->panned;
    memcpy(r->gains, w->gains, sizeof r->gains);
    r->size = (uint64_t)frames * (r->panned ? 1u : (unsigned)r->info.channels) * sizeof(float);
    *out = r;
    return MF_OK;
}

const mf_pcm_info_t *mf_pcm_reader_info(const mf_pcm_reader_t *r)
{
    return &r->info;
}

/* Each channel c of d is the stored signal's (a panned mono signal's one
 * channel, stride 1; a viewed stereo signal's channel c, stride 2) through
 * its gains, multiplied in the order the writer's caller would have: the
 * same bits as a stereo blob of the products. add: into d. Inlined with
 * constant stride and add, so each use is a loop of its own. */
static inline void s_gains(const mf_pcm_reader_t *r, const float *restrict x, size_t stride,
                           float *restrict d, size_t frames, int add)
{
    const float(*g)[MF_PCM_GAINS] = r->gains;
    const float l0 = g[0][0], l1 = g[0][1], l2 = g[0][2];
    const float r0 = g[1][0], r1 = g[1][1], r2 = g[1][2];
    for (size_t i = 0; i < frames; i++) {
        const float a = x[stride * i] * l0 * l1 * l2;
        const float b = x[stride * i + stride - 1] * r0 * r1 * r2;
        d[2 * i] = add ? d[2 * i] + a : a;
        d[2 * i + 1] = add ? d[2 * i + 1] + b : b;
    }
}

mf_err_t mf_pcm_reader_view(mf_pcm_reader_t *r, float gains[2][MF_PCM_GAINS])
{
    if (r->panned || r->gained || r->pos) return MF_ERR_INVALID;
    memcpy(r->gains, gains, sizeof r->gains);
    r->panned = r->info.channels == 1, r->gained = r->info.channels == 2;
    r->info.channels = 2;
    return MF_OK;
}

/* A plain signal added in. */
static void s_add(const float *restrict x, float *restrict d, size_t n)
{
    for (size_t i = 0; i < n; i++) d[i] += x[i];
}

/* Points *p at the stored bytes [off, off + n) through the window, reading
 * it again from off when they are not all in it; n <= WINDOW. */
static mf_err_t s_window(mf_pcm_reader_t *r, uint64_t off, size_t n, const unsigned char **p)
{
    if (off < r->win_off || off + n > r->win_off + r->win_len) {
        if (!r->win && !(r->win = malloc(WINDOW))) return MF_ERR_NOMEM;
        const uint64_t left = r->size - off;
        const size_t len = left < WINDOW ? (size_t)left : WINDOW;
        r->win_off = off, r->win_len = 0;
        const mf_err_t err = s_read(r, r->win, len, off);
        if (err != MF_OK) return err;
        r->win_len = len;
    }
    *p = r->win + (off - r->win_off);
    return MF_OK;
}

/* One piece of a span, from stored frames x: overwrite (acc 0) or add. */
static void s_apply(const mf_pcm_reader_t *r, const float *x, float *dst, size_t frames, int acc)
{
    if (r->panned && acc)
        s_gains(r, x, 1, dst, frames, 1);
    else if (r->panned)
        s_gains(r, x, 1, dst, frames, 0);
    else if (r->gained && acc)
        s_gains(r, x, 2, dst, frames, 1);
    else if (r->gained)
        s_gains(r, x, 2, dst, frames, 0);
    else if (acc)
        s_add(x, dst, frames * (size_t)r->info.channels);
    else
        memcpy(dst, x, frames * (size_t)r->info.channels * sizeof(float));
}

/* What read_span and add_span do with the part of [t, t+n) the signal
 * covers: acc 0, overwrite; 1, add. A plain overwrite is read straight
 * into out; the rest goes through the window. */
static mf_err_t s_span(mf_pcm_reader_t *r, int64_t t, size_t n, float *out, int acc)
{
    const int ch = r->info.channels;
    /* Overlap of [t, t+n) with the signal [start, start+frames), relative to start. */
    int64_t from = t - r->info.start, to = from + (int64_t)n;
    if (from < 0) from = 0;
    if (to > r->info.frames) to = r->info.frames;
    if (from >= to) return MF_OK;
    if (from < r->pos) return MF_ERR_INVALID; /* sequential readers only */
    const size_t stored = r->panned ? 1 : (size_t)ch, frame = stored * sizeof(float);
    float *dst = out + (size_t)(r->info.start + from - t) * (size_t)ch;
    if (!acc && !r->panned && !r->gained) {
        const size_t bytes = (size_t)(to - from) * frame;
        const mf_err_t err = s_read(r, dst, bytes, (uint64_t)from * frame);
        if (err == MF_OK) r->pos = to;
        return err;
    }
    for (int64_t f = from; f < to;) {
        const size_t k = (size_t)(to - f) < WINDOW / frame ? (size_t)(to - f) : WINDOW / frame;
        const unsigned char *x;
        const mf_err_t err = s_window(r, (uint64_t)f * frame, k * frame, &x);
        if (err != MF_OK) return err;
        s_apply(r, (const float *)(const void *)x, dst, k, acc);
        dst += k * (size_t)ch, f += (int64_t)k;
    }
    r->pos = to;
    return MF_OK;
}

mf_err_t mf_pcm_reader_read_span(mf_pcm_reader_t *r, int64_t t, size_t n, float *out)
{
    memset(out, 0, n * (size_t)r->info.channels * sizeof(float));
    return s_span(r, t, n, out, 0);
}

const float *mf_pcm_reader_span(mf_pcm_reader_t *r, int64_t t, size_t n, float *buf, mf_err_t *err)
{
    const int64_t from = t - r->info.start;
    const size_t frame = (size_t)r->info.channels * sizeof(float), bytes = n * frame;
    if (r->panned || r->gained || from < r->pos || from + (int64_t)n > r->info.frames ||
        bytes > WINDOW) {
        *err = mf_pcm_reader_read_span(r, t, n, buf);
        return *err == MF_OK ? buf : NULL;
    }
    const unsigned char *x;
    *err = s_window(r, (uint64_t)from * frame, bytes, &x);
    if (*err != MF_OK) return NULL;
    r->pos = from + (int64_t)n;
    return (const float *)(const void *)x;
}

mf_err_t mf_pcm_reader_add_span(mf_pcm_reader_t *r, int64_t t, size_t n, float *acc)
{
    return s_span(r, t, n, acc, 1);
}

void mf_pcm_reader_free(mf_pcm_reader_t **r)
{
    if (!r || !*r) return;
    if ((*r)->fd >= 0) close((*r)->fd);
    free((*r)->win);
    free(*r);
    *r = NULL;
}

mf_err_t mf_pcm_info(const mf_store_t *s, const mf_hash_t *h, mf_pcm_info_t *out)
{
    int panned;
    return mf_pcm_peek(s, h, out, &panned);
}
