/* OUTDIR's staging folder, the signals written whole (through libsndfile
 * or as a float WAV), manifest.json and the commit that moves everything
 * into place. Files taken whole from a blob or an earlier render:
 * outdir_copy.c; files written as their blob arrives: outdir_stream.c. */
#include "mf_fs.h"
#include "mf_hashcache.h"
#include "mf_log.h"
#include "mf_parallel.h"
#include "mf_pcm.h"
#include "mf_wavf.h"
#include "mf_tempdir.h"
#include "outdir_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <math.h>
#include <jansson.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *mf_outdir__fmt(const char *fmt, const char *a, const char *b)
{
    size_t n = strlen(fmt) + strlen(a) + strlen(b) + 1;
    char *p = malloc(n);
    if (p) snprintf(p, n, fmt, a, b);
    return p;
}

int mf_outdir__mkdirs(const char *base, const char *rel)
{
    char *p = mf_outdir__fmt("%s/%s", base, rel);
    if (!p) return -1;
    for (char *c = p + strlen(base) + 1; *c; c++) {
        if (*c != '/') continue;
        *c = 0;
        int rc = mkdir(p, 0755);
        *c = '/';
        if (rc != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
    }
    free(p);
    return 0;
}

int mf_outdir__make_room(const mf_outdir_t *o, const char *rel)
{
    if (mf_outdir__mkdirs(o->stage, rel) != 0) return -1;
    char *p = mf_outdir__fmt("%s/%s", o->stage, rel);
    const int rc = p && (unlink(p) == 0 || errno == ENOENT) ? 0 : -1;
    free(p);
    return rc;
}

static int s_sync_job(const char *path, mf_hash_t *out)
{
    (void)out;
    return mf_fs_sync(path);
}

mf_outdir_t *mf_outdir_open(const char *outdir)
{
    mf_outdir_t *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->owner_fd = -1;
    pthread_mutex_init(&o->lock, NULL);
    o->dir = strdup(outdir);
    if (!o->dir || (mkdir(outdir, 0755) != 0 && errno != EEXIST)) {
        mf_error("%s: cannot create the output folder: %s", outdir, strerror(errno));
        goto fail;
    }
    /* Without them, commit syncs and hashes every file. */
    o->sync = mf_outdir__queue_new(s_sync_job);
    o->hasher = mf_outdir__queue_new(mf_hash_file);
    /* Staging folders of renders that were killed or interrupted go first
     * (they hold a render's files: gigabytes for an album). */
    const size_t n = strlen(outdir) + 32;
    if (!(o->stage = malloc(n)) ||
        mf_owned_dir(outdir, ".mixfarm-partial-", "staging", o->stage, n, &o->owner_fd) != 0) {
        mf_error("%s: cannot write in the output folder: %s", outdir, strerror(errno));
        free(o->stage);
        o->stage = NULL;
        goto fail;
    }
    return o;
fail:
    mf_outdir_free(&o);
    return NULL;
}

static int s_sf_format(const char *format, int bits, int64_t frames, int channels)
{
    int sub = bits == 16 ? SF_FORMAT_PCM_16 : bits == 24 ? SF_FORMAT_PCM_24 : SF_FORMAT_FLOAT;
    if (!strcmp(format, "aiff")) return SF_FORMAT_AIFF | sub;
    if (!strcmp(format, "flac")) return SF_FORMAT_FLAC | sub;
    /* A plain WAV unless the data outgrows what its 32-bit sizes can say. */
    int big = frames * channels * (bits / 8) > 0xFFFF0000LL;
    return (big ? SF_FORMAT_RF64 : SF_FORMAT_WAV) | sub;
}

static SNDFILE *s_open(const char *path, int channels, int rate, int64_t frames, const char *format,
                       int bits)
{
    SF_INFO info = {.samplerate = rate,
                    .channels = channels,
                    .format = s_sf_format(format, bits, frames, channels)};
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    /* No PEAK chunk: its timestamp would make identical renders differ. */
    if (sf) sf_command(sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
    return sf;
}

/* Word-length reduction with TPDF dither (two uniform variables, +-1 LSB
 * peak), from a fixed seed so identical renders give identical bits. */
typedef struct {
    uint64_t state;
} dither_t;

static double s_uniform(dither_t *d)
{
    d->state ^= d->state << 13, d->state ^= d->state >> 7, d->state ^= d->state << 17;
    return (double)(d->state >> 11) * (1.0 / 9007199254740992.0) - 0.5;
}

static void s_quantize(dither_t *d, const float *in, int *out, size_t n, int bits)
{
    const double scale = (double)(1u << (bits - 1)), lo = -scale, hi = scale - 1;
    for (size_t i = 0; i < n; i++) {
        double y = floor((double)in[i] * scale + s_uniform(d) + s_uniform(d) + 0.5);
        y = y < lo ? lo : y > hi ? hi : y;
        out[i] = (int)y * (1 << (32 - bits)); /* libsndfile's int scale: full 32 bits */
    }
}

/* Says why a file of the render could not be written, naming it as it
 * would have appeared in OUTDIR: the system's reason (ENOSPC: "No space
 * left on device") when there is one, else libsndfile's. */
mf_err_t mf_outdir__write_failed(mf_outdir_t *o, const char *rel, int saved_errno,
                                 const char *detail)
{
    const int no_space = saved_errno == ENOSPC || saved_errno == EDQUOT;
    pthread_mutex_lock(&o->lock);
    const unsigned full = no_space ? o->full++ : 0;
    pthread_mutex_unlock(&o->lock);
    if (!full) /* a full disk is said with the first file */
        mf_error("%s/%s: cannot write: %s", o->dir, rel,
                 saved_errno ? strerror(saved_errno)
                 : detail    ? detail
                             : "input/output error");
    return no_space ? MF_ERR_NOSPACE : MF_ERR_IO;
}

/* The file of a previous render that rel will replace at commit keeps its
 * bytes until then, but not its cached pages: dropping them now, while the
 * job runs, rather than when the old file is deleted after the swap takes
 * that work (about 9 ms per 23 MB here) off the end of a revision rendered
 * into the same folder. A kept file is the same inode: left alone. */
static void s_drop_old_pages(const mf_outdir_t *o, const char *rel)
{
    char *old = mf_outdir__fmt("%s/%s", o->dir, rel), *now = mf_outdir__fmt("%s/%s", o->stage, rel);
    struct stat a, b;
    const int fd = old && now && stat(now, &b) == 0 ? open(old, O_RDONLY | O_CLOEXEC) : -1;
    if (fd >= 0 && fstat(fd, &a) == 0 && S_ISREG(a.st_mode) &&
        (a.st_ino != b.st_ino || a.st_dev != b.st_dev))
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (fd >= 0) close(fd);
    free(old), free(now);
}

/* A staged file is whole: it goes to disk now, while the job runs, so
 * that commit waits only for the files staged last; and is hashed now, on
 * a thread of its own, unless its hash is known. */
static void s_soon(const mf_outdir_t *o, const char *rel, int hash)
{
    char *path = mf_outdir__fmt("%s/%s", o->stage, rel);
    if (path) mf_outdir__queue_add(o->sync, path);
    if (path && hash) mf_outdir__queue_add(o->hasher, path);
    free(path);
}

mf_err_t mf_outdir__stage(mf_outdir_t *o, staged_t f)
{
    if (f.rel) s_drop_old_pages(o, f.rel), s_soon(o, f.rel, !f.sha.hex[0]);
    pthread_mutex_lock(&o->lock);
    staged_t *same = NULL; /* the same file written again replaces it */
    for (size_t i = 0; f.rel && i < o->n && !same; i++)
        if (!strcmp(o->files[i].rel, f.rel)) same = &o->files[i];
    if (same) {
        free(same->rel);
        json_decref(same->meta);
        *same = f;
        pthread_mutex_unlock(&o->lock);
        return MF_OK;
    }
    staged_t *fs = realloc(o->files, (o->n + 1) * sizeof *fs);
    mf_err_t err = fs && f.rel ? MF_OK : MF_ERR_NOMEM;
    if (fs) o->files = fs;
    if (err == MF_OK) o->files[o->n++] = f;
    pthread_mutex_unlock(&o->lock);
    if (err != MF_OK) {
        free(f.rel);
        json_decref(f.meta);
    }
    return err;
}

/* Through libsndfile: any format and word length. */
static mf_err_t s_write_sndfile(mf_outdir_t *o, const char *relpath, const char *path,
                                mf_pcm_reader_t *r, int64_t frames, const char *format, int bits)
{
    const mf_pcm_info_t *info = mf_pcm_reader_info(r);
    enum { BLOCK = 4096 };
    float *buf = malloc(sizeof(float) * 2 * BLOCK);
    int *ibuf = bits < 32 ? malloc(sizeof(int) * 2 * BLOCK) : NULL;
    dither_t d = {0x9E3779B97F4A7C15ull};
    if (!buf || (bits < 32 && !ibuf)) {
        free(buf), free(ibuf);
        return MF_ERR_NOMEM;
    }
    errno = 0; /* libsndfile keeps its own error; errno says the system's */
    SNDFILE *sf = s_open(path, info->channels, info->rate, frames, format, bits);
    mf_err_t err = sf ? MF_OK : mf_outdir__write_failed(o, relpath, errno, sf_strerror(NULL));
    for (int64_t t = 0; sf && t < frames && err == MF_OK; t += BLOCK) {
        size_t n = (size_t)(frames - t < BLOCK ? frames - t : BLOCK);
        err = mf_pcm_reader_read_span(r, t, n, buf);
        sf_count_t wrote = 0;
        errno = 0;
        if (err == MF_OK && ibuf) {
            s_quantize(&d, buf, ibuf, n * (size_t)info->channels, bits);
            wrote = sf_writef_int(sf, ibuf, (sf_count_t)n);
        } else if (err == MF_OK) {
            wrote = sf_writef_float(sf, buf, (sf_count_t)n);
        }
        if (err == MF_OK && wrote != (sf_count_t)n)
            err = mf_outdir__write_failed(o, relpath, errno, sf_strerror(sf));
    }
    errno = 0;
    /* Closing writes the header's final sizes: it can fail on a full disk too. */
    if (sf && sf_close(sf) != 0 && err == MF_OK)
        err = mf_outdir__write_failed(o, relpath, errno, NULL);
    free(buf), free(ibuf);
    return err;
}

/* A float WAV (mf_wavf.h): its header, then the samples as they are read,
 * hashed on the way, so the file is not read again for the manifest. */
static mf_err_t s_write_wavf(mf_outdir_t *o, const char *relpath, const char *path,
                             mf_pcm_reader_t *r, int64_t frames, const uint8_t *header,
                             size_t header_len, mf_hash_t *sha)
{
    const size_t ch = (size_t)mf_pcm_reader_info(r)->channels;
    enum { BLOCK = 32768 };
    float *buf = malloc(sizeof(float) * 2 * BLOCK);
    mf_hasher_t *h = mf_hasher_new();
    FILE *out = buf && h ? mf_fs_create_direct(path) : NULL;
    mf_err_t err = !buf || !h ? MF_ERR_NOMEM
                   : out      ? MF_OK
                              : mf_outdir__write_failed(o, relpath, errno, NULL);
    if (err == MF_OK) {
        mf_hasher_update(h, header, header_len);
        if (fwrite(header, 1, header_len, out) != header_len)
            err = mf_outdir__write_failed(o, relpath, errno, NULL);
    }
    for (int64_t t = 0; err == MF_OK && t < frames; t += BLOCK) {
        const size_t n = (size_t)(frames - t < BLOCK ? frames - t : BLOCK);
        const float *x = mf_pcm_reader_span(r, t, n, buf, &err);
        if (err != MF_OK) break;
        mf_hasher_update(h, x, n * ch * sizeof *x);
        if (fwrite(x, sizeof *x * ch, n, out) != n)
            err = mf_outdir__write_failed(o, relpath, errno, NULL);
    }
    if (out && fclose(out) != 0 && err == MF_OK)
        err = mf_outdir__write_failed(o, relpath, errno, NULL);
    if (err == MF_OK) mf_hasher_final(h, sha);
    mf_hasher_free(&h);
    free(buf);
    return err;
}

mf_err_t mf_outdir_write_signal(mf_outdir_t *o, const char *relpath, const mf_store_t *s,
                                const mf_hash_t *blob, int64_t frames, const char *format, int bits)
{
    mf_pcm_reader_t *r = NULL;
    mf_err_t err = mf_pcm_reader_open(s, blob, &r);
    if (err != MF_OK) return err;
    const mf_pcm_info_t *info = mf_pcm_reader_info(r);
    if (frames < 0) frames = info->start + info->frames;
    char *path = mf_outdir__fmt("%s/%s", o->stage, relpath);
    staged_t f = {.frames = frames, .rate = info->rate, .channels = info->channels, .bits = bits};
    uint8_t header[MF_WAVF_HEADER_MAX];
    const size_t hlen = bits == 32 && !strcmp(format, "wav")
                            ? mf_wavf_header(header, info->channels, info->rate, frames)
                            : 0;
    if (!path)
        err = MF_ERR_NOMEM;
    else if (mf_outdir__make_room(o, relpath) != 0)
        err = mf_outdir__write_failed(o, relpath, errno, NULL);
    else if (hlen)
        err = s_write_wavf(o, relpath, path, r, frames, header, hlen, &f.sha);
    else
        err = s_write_sndfile(o, relpath, path, r, frames, format, bits);
    if (err == MF_OK) {
        f.rel = strdup(relpath);
        snprintf(f.format, sizeof f.format, "%s", format);
        err = mf_outdir__stage(o, f);
    }
    free(path);
    mf_pcm_reader_free(&r);
    return err;
}

static json_t *s_file_entry(const char *stage, const staged_t *f)
{
    char *path = mf_outdir__fmt("%s/%s", stage, f->rel);
    struct stat st;
    mf_hash_t h;
    json_t *e = NULL;
    if (f->sha.hex[0]) h = f->sha; /* not read again */
    if (path && stat(path, &st) == 0 && (f->sha.hex[0] || mf_hash_file(path, &h) == 0))
        e = json_pack("{s:s,s:I,s:s,s:s}", "path", f->rel, "size", (json_int_t)st.st_size, "sha256",
                      h.hex, "format", f->format);
    if (e && f->frames >= 0) {
        json_object_set_new(e, "channels", json_integer(f->channels));
        json_object_set_new(e, "sample_rate", json_integer(f->rate));
        json_object_set_new(e, "encoding",
                            json_string(f->bits == 32   ? "float32"
                                        : f->bits == 24 ? "pcm24"
                                                        : "pcm16"));
        json_object_set_new(e, "duration_s", json_real((double)f->frames / f->rate));
    }
    if (e && f->meta) json_object_update_missing(e, f->meta); /* size and hash are ours */
    free(path);
    return e;
}

static int s_by_path(const void *a, const void *b)
{
    return strcmp(((const staged_t *)a)->rel, ((const staged_t *)b)->rel);
}

/* The SHA-256 of a file staged without one: the hashing thread's, else
 * computed now. */
static mf_err_t s_hash_staged(void *ctx, size_t i)
{
    mf_outdir_t *o = ctx;
    staged_t *f = &o->files[i];
    if (f->sha.hex[0]) return MF_OK;
    char *path = mf_outdir__fmt("%s/%s", o->stage, f->rel);
    mf_err_t err = path && (mf_outdir__queue_done(o->hasher, path, &f->sha) ||
                            mf_hash_file(path, &f->sha) == 0)
                       ? MF_OK
                       : MF_ERR_IO;
    free(path);
    return err;
}

/* A file's data on disk, if the sync thread did not put it there: the
 * manifest must not name a file a power cut could empty. */
static mf_err_t s_sync_staged(void *ctx, size_t i)
{
    mf_outdir_t *o = ctx;
    const staged_t *f = &o->files[i];
    char *path = mf_outdir__fmt("%s/%s", o->stage, f->rel);
    if (!path) return MF_ERR_NOMEM;
    mf_err_t err = MF_OK;
    if (!mf_outdir__queue_done(o->sync, path, NULL) && mf_fs_sync(path) != 0)
        err = mf_outdir__write_failed(o, f->rel, errno, NULL);
    free(path);
    return err;
}

/* Every staged file on disk: what the sync thread did, and the rest. */
static mf_err_t s_sync_all(mf_outdir_t *o)
{
    const char *failed = NULL;
    if (mf_outdir__queue_wait(o->sync, &failed) != 0) {
        const size_t n = strlen(o->stage);
        const char *rel =
            !strncmp(failed, o->stage, n) && failed[n] == '/' ? failed + n + 1 : failed;
        return mf_outdir__write_failed(o, rel, errno, NULL);
    }
    return mf_parallel_for(o->n, s_sync_staged, o);
}

static mf_err_t s_write_manifest(mf_outdir_t *o, const char *session_name)
{
    /* In path order, whichever thread wrote what first. */
    if (o->n) qsort(o->files, o->n, sizeof *o->files, s_by_path); /* files is NULL with none */
    /* What the hashing thread has not begun is hashed on every core. */
    mf_outdir__queue_stop(o->hasher);
    if (mf_parallel_for(o->n, s_hash_staged, o) != MF_OK || s_sync_all(o) != MF_OK)
        return MF_ERR_IO;
    json_t *files = json_array();
    for (size_t i = 0; files && i < o->n; i++) {
        json_t *e = s_file_entry(o->stage, &o->files[i]);
        if (!e || json_array_append_new(files, e) != 0) {
            json_decref(files);
            return MF_ERR_IO;
        }
    }
    json_t *m = json_pack("{s:i,s:s,s:s,s:o}", "mixfarm", 1, "session", session_name, "version",
                          MF_VERSION, "files", files);
    char *path = mf_outdir__fmt("%s/%s", o->stage, "manifest.json");
    errno = 0;
    int rc = m && path ? json_dump_file(m, path, JSON_INDENT(2) | JSON_SORT_KEYS) : -1;
    json_decref(m);
    if (rc == 0 && mf_fs_sync(path) != 0) rc = -1;
    free(path);
    return rc == 0 ? MF_OK : mf_outdir__write_failed(o, "manifest.json", errno, NULL);
}

/* Into place. Over the file of a render this one replaces, the two are
 * swapped (renameat2 RENAME_EXCHANGE) and the old one leaves with the
 * staging folder: a plain rename over it makes ext4 (auto_da_alloc) write
 * the new file's data out at once, about 30 ms per 23 MB here, and the swap
 * never leaves the name missing either. A plain rename where there is
 * nothing to swap with, or the file system cannot swap. */
static int s_place(const char *from, const char *to)
{
#ifdef RENAME_EXCHANGE
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE) == 0) return 0;
#endif
    return rename(from, to);
}

static mf_err_t s_move(mf_outdir_t *o, const char *rel)
{
    char *from = mf_outdir__fmt("%s/%s", o->stage, rel), *to = mf_outdir__fmt("%s/%s", o->dir, rel);
    mf_err_t err = MF_OK;
    if (!from || !to || mf_outdir__mkdirs(o->dir, rel) != 0 || s_place(from, to) != 0) {
        mf_error("%s/%s: %s", o->dir, rel, strerror(errno));
        err = MF_ERR_IO;
    }
    free(from);
    free(to);
    return err;
}

/* The folders below OUTDIR that rel was renamed into on disk (and made
 * in), so the renames outlive a power cut; OUTDIR itself is synced last.
 * prev, the file placed before (files are in path order), shares them
 * when it is in the same folder. */
static mf_err_t s_sync_folders(mf_outdir_t *o, const char *rel, const char *prev)
{
    const char *slash = strrchr(rel, '/');
    const size_t n = slash ? (size_t)(slash - rel) : 0;
    const char *pslash = prev ? strrchr(prev, '/') : NULL;
    if (!n || (pslash && (size_t)(pslash - prev) == n && !strncmp(prev, rel, n))) return MF_OK;
    char *dir = mf_outdir__fmt("%s/%s", o->dir, rel);
    if (!dir) return MF_ERR_NOMEM;
    char *top = dir + strlen(o->dir), *end = top + 1 + n;
    int rc = 0;
    for (; rc == 0 && end > top; end = strrchr(dir, '/')) {
        *end = 0;
        rc = mf_fs_sync(dir);
    }
    const int saved = errno;
    free(dir);
    return rc == 0 ? MF_OK : mf_outdir__write_failed(o, rel, saved, NULL);
}

/* Tells the hash cache what each file placed holds (st: each one's stat
 * in the staging folder): the next revision can then take an unchanged one
 * without reading it (mf_prev.h). */
static void s_note_placed(const mf_outdir_t *o, const struct stat *st)
{
    for (size_t i = 0; st && i < o->n; i++) {
        char *path = mf_outdir__fmt("%s/%s", o->dir, o->files[i].rel);
        if (path && st[i].st_nlink && o->files[i].sha.hex[0])
            mf_hashcache_note(path, &st[i], &o->files[i].sha);
        free(path);
    }
}

/* Each staged file's stat (st_nlink 0 where it failed), or NULL. */
static struct stat *s_stat_staged(const mf_outdir_t *o)
{
    struct stat *st = calloc(o->n + 1, sizeof *st);
    for (size_t i = 0; st && i < o->n; i++) {
        char *path = mf_outdir__fmt("%s/%s", o->stage, o->files[i].rel);
        if (!path || stat(path, &st[i]) != 0) st[i].st_nlink = 0;
        free(path);
    }
    return st;
}

/* Two renders into one OUTDIR commit one after the other: interleaved,
 * the folder could end with one's manifest over a mix of both's files. A
 * flock on the folder itself (no file added to it), held through the
 * moves and the manifest; -1 when it cannot be taken (then unguarded). */
static int s_lock_dir(const mf_outdir_t *o)
{
    const int fd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Tests' hooks (tests/render: two commits made to overlap): milliseconds to
 * wait before taking the lock (..._DELAY_MS) and before each move
 * (..._PAUSE_MS). */
static void s_test_pause(const char *var)
{
    const char *ms = getenv(var);
    if (ms && atoi(ms) > 0) usleep((useconds_t)atoi(ms) * 1000);
}

mf_err_t mf_outdir_commit(mf_outdir_t *o, const char *session_name)
{
    mf_err_t err = s_write_manifest(o, session_name);
    struct stat *st = err == MF_OK ? s_stat_staged(o) : NULL;
    s_test_pause("MIXFARM_TEST_COMMIT_DELAY_MS");
    const int lock = err == MF_OK ? s_lock_dir(o) : -1;
    o->placing = err == MF_OK;
    for (size_t i = 0; err == MF_OK && i < o->n; i++) {
        s_test_pause("MIXFARM_TEST_COMMIT_PAUSE_MS");
        err = s_move(o, o->files[i].rel);
    }
    for (size_t i = 0; err == MF_OK && i < o->n; i++)
        err = s_sync_folders(o, o->files[i].rel, i ? o->files[i - 1].rel : NULL);
    if (err == MF_OK && mf_fs_sync(o->dir) != 0) err = mf_outdir__write_failed(o, ".", errno, NULL);
    /* The manifest last: its presence says the render is complete, and
     * everything it lists is on disk by then. */
    if (err == MF_OK) err = s_move(o, "manifest.json");
    if (err == MF_OK && mf_fs_sync(o->dir) != 0) err = mf_outdir__write_failed(o, ".", errno, NULL);
    if (lock >= 0) close(lock); /* and so unlocked */
    if (err == MF_OK) s_note_placed(o, st);
    free(st);
    return err;
}

/* What the staging folder holds at rel: the previous render's file after
 * commit swapped them, else the one staged. */
static mf_err_t s_unlink_staged(void *ctx, size_t i)
{
    const mf_outdir_t *o = ctx;
    char *path = mf_outdir__fmt("%s/%s", o->stage, o->files[i].rel);
    if (path) unlink(path);
    free(path);
    return MF_OK;
}

void mf_outdir_free(mf_outdir_t **op)
{
    if (!op || !*op) return;
    mf_outdir_t *o = *op;
    mf_outdir__queue_free(&o->hasher);
    mf_outdir__queue_free(&o->sync);
    if (o->full > 1) /* one file may count twice: written early, then again at fetch */
        mf_error("%s: the disk is full: %u writes of this render failed%s", o->dir, o->full,
                 o->placing ? "" : "; the folder holds what it held before");
    /* Unlinking frees a file's blocks, about 9 ms per 23 MB here: the old
     * files of a revision rendered into the same folder go on every core
     * rather than one after another. What is left goes after them. */
    if (o->stage) mf_parallel_for(o->n, s_unlink_staged, o);
    if (o->stage && mf_fs_remove_owned(o->stage, &o->owner_fd) != 0)
        mf_warn("%s: cannot remove", o->stage);
    for (size_t i = 0; i < o->n; i++) {
        free(o->files[i].rel);
        json_decref(o->files[i].meta);
    }
    free(o->files);
    free(o->stage);
    free(o->dir);
    pthread_mutex_destroy(&o->lock);
    free(o);
    *op = NULL;
}
