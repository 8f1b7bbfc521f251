/* OUTDIR's files written as their blob arrives (mf_outdir_stream_* of
 * mf_outdir.h): the bytes go into the staging folder chunk by chunk, so a
 * file is whole and staged the moment its last chunk lands, hashed on the
 * way (reading it again for the manifest would cost more: its bytes went
 * straight to the disk, mf_fs_create_direct). A signal's file is its float WAV
 * header, the silence before its start, its samples and the silence after them; the blob's trailer
 * is checked against what the stream was opened for. */
#include "mf_fs.h"
#include "mf_pcm.h"
#include "mf_wavf.h"
#include "outdir_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct mf_outdir_stream {
    mf_outdir_t *o;
    char *rel, *path;
    FILE *f;
    mf_hasher_t *sha; /* of every byte written, in order */
    int file;         /* mf_outdir_stream_file's: every byte of the blob is the file's */
    int deferred;     /* its length unknown when it began (mf_outdir_stream_end) */
    int channels, rate;
    int64_t start, frames, file_frames;
    uint64_t body, got;              /* the samples' bytes; the blob's bytes so far */
    uint8_t trailer[MF_PCM_TRAILER]; /* the bytes after the samples */
};

static void s_stream_free(mf_outdir_stream_t *s, int remove_file)
{
    if (s->f) fclose(s->f);
    mf_hasher_free(&s->sha);
    if (remove_file && s->path) unlink(s->path);
    free(s->rel), free(s->path), free(s);
}

/* n bytes into the file and its hash. 0, or -1 with errno set. */
static int s_put(mf_outdir_stream_t *s, const void *data, size_t n)
{
    mf_hasher_update(s->sha, data, n);
    return fwrite(data, 1, n, s->f) == n ? 0 : -1;
}

/* frames of silence, written. */
static int s_stream_silence(mf_outdir_stream_t *s, int64_t frames)
{
    static const float zeros[4096];
    for (uint64_t left = (uint64_t)frames * (uint64_t)s->channels; left;) {
        const size_t n = left < 4096 ? (size_t)left : 4096;
        if (s_put(s, zeros, n * sizeof *zeros) != 0) return -1;
        left -= n;
    }
    return 0;
}

/* A stream's file in the staging folder, open; NULL (said) when it cannot
 * be made. */
static mf_outdir_stream_t *s_stream_open(mf_outdir_t *o, const char *relpath)
{
    mf_outdir_stream_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->o = o;
    s->rel = strdup(relpath), s->path = mf_outdir__fmt("%s/%s", o->stage, relpath);
    s->sha = mf_hasher_new();
    if (s->sha && s->rel && s->path && mf_outdir__make_room(o, relpath) == 0)
        s->f = mf_fs_create_direct(s->path);
    if (!s->f) {
        mf_outdir__write_failed(o, relpath, errno, NULL);
        s_stream_free(s, 1);
        return NULL;
    }
    return s;
}

mf_outdir_stream_t *mf_outdir_stream_signal(mf_outdir_t *o, const char *relpath, int channels,
                                            int rate, int64_t start, int64_t frames,
                                            int64_t file_frames)
{
    uint8_t header[MF_WAVF_HEADER_MAX];
    /* Unknown: the header of the shortest file that holds the signal, for
     * now. Most often that is the file (a stem as long as the mix); else
     * its end writes the header again (a plain WAV's header has one length
     * whatever the size). */
    const int deferred = file_frames < 0;
    const int64_t at_least = deferred ? start + frames : file_frames;
    const size_t hlen = start >= 0 && frames >= 0 && start <= at_least - frames
                            ? mf_wavf_header(header, channels, rate, at_least)
                            : 0;
    mf_outdir_stream_t *s = hlen ? s_stream_open(o, relpath) : NULL;
    if (!s) return NULL;
    s->channels = channels, s->rate = rate, s->deferred = deferred;
    s->start = start, s->frames = frames, s->file_frames = at_least;
    s->body = (uint64_t)frames * (uint64_t)channels * sizeof(float);
    if (s_put(s, header, hlen) != 0 || s_stream_silence(s, start) != 0) {
        mf_outdir__write_failed(o, relpath, errno, NULL);
        s_stream_free(s, 1);
        return NULL;
    }
    return s;
}

mf_outdir_stream_t *mf_outdir_stream_file(mf_outdir_t *o, const char *relpath)
{
    mf_outdir_stream_t *s = s_stream_open(o, relpath);
    if (s) s->file = 1, s->body = UINT64_MAX; /* every byte is the file's */
    return s;
}

mf_err_t mf_outdir_stream_write(mf_outdir_stream_t *s, const uint8_t *data, size_t n)
{
    const size_t samples = s->got >= s->body      ? 0
                           : s->body - s->got < n ? (size_t)(s->body - s->got)
                                                  : n;
    if (samples) {
        if (s_put(s, data, samples) != 0) return mf_outdir__write_failed(s->o, s->rel, errno, NULL);
    }
    if (samples < n) { /* the rest goes into the trailer */
        const uint64_t at = s->got + samples - s->body;
        if (n - samples > MF_PCM_TRAILER - at) return MF_ERR_CORRUPT; /* longer than a signal */
        memcpy(s->trailer + at, data + samples, n - samples);
    }
    s->got += n;
    return MF_OK;
}

/* Closes s's file and stages it as f (its path taken from s), or
 * removes it when err is set or the close fails; frees s and, on failure,
 * f's meta. */
static mf_err_t s_stream_finish(mf_outdir_stream_t *s, mf_err_t err, staged_t f)
{
    if (err == MF_OK) { /* else s_stream_free closes it */
        const int closed = fclose(s->f);
        s->f = NULL;
        if (closed != 0) err = mf_outdir__write_failed(s->o, s->rel, errno, NULL);
    }
    if (err == MF_OK && s->sha) mf_hasher_final(s->sha, &f.sha); /* else hashed once staged */
    if (err == MF_OK) {
        f.rel = s->rel, s->rel = NULL;
        err = mf_outdir__stage(s->o, f); /* frees f's parts when it fails */
    } else {
        json_decref(f.meta);
    }
    s_stream_free(s, err != MF_OK);
    return err;
}

mf_err_t mf_outdir_stream_commit_file(mf_outdir_stream_t *s, uint64_t blob_size, const json_t *meta)
{
    mf_err_t err = s->file && meta && s->got == blob_size ? MF_OK : MF_ERR_CORRUPT;
    const char *fmt = json_string_value(json_object_get(meta, "format"));
    const char *ext = strrchr(s->rel, '.');
    staged_t f = {.frames = -1};
    snprintf(f.format, sizeof f.format, "%s", fmt ? fmt : ext ? ext + 1 : "");
    if (err == MF_OK && !(f.meta = json_deep_copy(meta))) err = MF_ERR_NOMEM;
    return s_stream_finish(s, err, f);
}

/* Whether the blob that arrived whole is the signal s was opened for. */
static mf_err_t s_stream_check(const mf_outdir_stream_t *s, uint64_t blob_size)
{
    mf_pcm_info_t info;
    int panned;
    mf_err_t err = s->got == blob_size && blob_size == s->body + MF_PCM_TRAILER
                       ? mf_pcm_trailer_check(s->trailer, blob_size, &info, &panned)
                       : MF_ERR_CORRUPT;
    if (err == MF_OK && (panned || info.channels != s->channels || info.rate != s->rate ||
                         info.start != s->start || info.frames != s->frames))
        err = MF_ERR_CORRUPT;
    return err;
}

/* Adds the silence up to file_frames, writes the header again when one is
 * given (hlen bytes: a deferred stream's) and stages the file. */
static mf_err_t s_stream_close(mf_outdir_stream_t *s, mf_err_t err, int64_t file_frames,
                               const uint8_t *header, size_t hlen)
{
    if (err == MF_OK && s_stream_silence(s, file_frames - s->start - s->frames) != 0)
        err = mf_outdir__write_failed(s->o, s->rel, errno, NULL);
    if (err == MF_OK && hlen &&
        (fflush(s->f) != 0 || fseeko(s->f, 0, SEEK_SET) != 0 ||
         fwrite(header, 1, hlen, s->f) != hlen))
        err = mf_outdir__write_failed(s->o, s->rel, errno, NULL);
    if (hlen) mf_hasher_free(&s->sha); /* the bytes hashed began with another header */
    staged_t f = {.frames = file_frames, .rate = s->rate, .channels = s->channels, .bits = 32};
    snprintf(f.format, sizeof f.format, "wav");
    return s_stream_finish(s, err, f);
}

mf_err_t mf_outdir_stream_commit(mf_outdir_stream_t *s, uint64_t blob_size)
{
    if (s->file || s->deferred)
        return mf_outdir_stream_commit_file(s, blob_size, NULL); /* refused */
    return s_stream_close(s, s_stream_check(s, blob_size), s->file_frames, NULL, 0);
}

mf_err_t mf_outdir_stream_hold(mf_outdir_stream_t *s, uint64_t blob_size)
{
    mf_err_t err = s->deferred ? s_stream_check(s, blob_size) : MF_ERR_INVALID;
    if (err != MF_OK) s_stream_free(s, 1);
    return err;
}

mf_err_t mf_outdir_stream_end(mf_outdir_stream_t *s, int64_t file_frames)
{
    uint8_t header[MF_WAVF_HEADER_MAX];
    const size_t hlen = s->deferred && file_frames >= s->start + s->frames
                            ? mf_wavf_header(header, s->channels, s->rate, file_frames)
                            : 0;
    /* Shorter than its signal, or past a plain WAV's sizes (RF64). */
    if (!hlen) return s_stream_close(s, MF_ERR_INVALID, file_frames, NULL, 0);
    if (file_frames == s->file_frames) /* as begun: the header holds */
        return s_stream_close(s, MF_OK, file_frames, NULL, 0);
    return s_stream_close(s, MF_OK, file_frames, header, hlen);
}

void mf_outdir_stream_abort(mf_outdir_stream_t *s)
{
    if (s) s_stream_free(s, 1);
}
