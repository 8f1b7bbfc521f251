#include "mf_source_reader.h"
#include "mf_audio_why.h"
#include "mf_kernels.h"
#include "mf_source_check.h"
#include "sf_buffered.h"

#include <errno.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct mf_source_reader {
    SNDFILE *sf;
    mf_sf_buffered_t *io; /* what sf reads through */
    SF_INFO sfi;
    mf_pcm_info_t info; /* start and frames after trimming */
    sf_count_t from;    /* the file's frame at info.start */
    int64_t pos;        /* next frame to read, relative to info.start */
    mf_hash_t hash;     /* for messages */
    char *path;         /* the worker's copy: checked when its content fails */
    /* A little-endian 16- or 24-bit WAV is read raw and converted by the
     * pcm_to_float kernel (libsndfile's own conversion, one sample at a
     * time, was 7 % of a strip benchmark's CPU): bytes per sample, else 0. */
    int raw;
    int floats; /* float or double samples: they can be NaN or infinite */
    unsigned char *scratch;
    size_t scratch_size;
};

/* Whether the file's samples can be read raw (s_read_raw). */
static int s_raw_bytes(const SF_INFO *sfi)
{
    const int type = sfi->format & SF_FORMAT_TYPEMASK, sub = sfi->format & SF_FORMAT_SUBMASK;
    const int endian = sfi->format & SF_FORMAT_ENDMASK;
    if ((type != SF_FORMAT_WAV && type != SF_FORMAT_WAVEX) ||
        (endian != SF_ENDIAN_FILE && endian != SF_ENDIAN_LITTLE))
        return 0;
    return sub == SF_FORMAT_PCM_24 ? 3 : sub == SF_FORMAT_PCM_16 ? 2 : 0;
}

/* Frames read into out as sf_readf_float would give them (the same bits:
 * the conversion is exact), or a negative count on error. */
static sf_count_t s_read_raw(mf_source_reader_t *r, float *out, size_t frames)
{
    const size_t samples = frames * (size_t)r->sfi.channels;
    const size_t bytes = samples * (size_t)r->raw;
    if (bytes > r->scratch_size) {
        unsigned char *p = realloc(r->scratch, bytes);
        if (!p) return -1;
        r->scratch = p, r->scratch_size = bytes;
    }
    const sf_count_t got = sf_read_raw(r->sf, r->scratch, (sf_count_t)bytes);
    if (got < 0) return got;
    const size_t whole = (size_t)got / ((size_t)r->raw * (size_t)r->sfi.channels);
    mf_dsp_kernels()->pcm_to_float(out, r->scratch, whole * (size_t)r->sfi.channels, r->raw);
    return (sf_count_t)whole;
}

/* why = "source <hash12>: <what>", or "blob <hash12>: <what>" when the
 * worker cannot read its own copy. */
static mf_err_t s_failed(mf_err_t err, const mf_hash_t *h, const char *what, char *why, size_t n)
{
    const int blob = err == MF_ERR_NOENT || err == MF_ERR_IO;
    snprintf(why, n, "%s %.12s: %s", blob ? "blob" : "source", h->hex, what);
    return err;
}

/* The file's content failed (err): that is the file's fault only if this
 * worker's copy is the file the client sent, its SHA-256 its name. Read
 * again on this path alone, so a damaged disk or cache never fails a job
 * for good: its copy is the worker's I/O error, and the task runs again. */
static mf_err_t s_content_failed(mf_err_t err, const char *path, const mf_hash_t *h,
                                 const char *what, char *why, size_t n)
{
    mf_hash_t got;
    if (mf_hash_file(path, &got) == 0 && !strcmp(got.hex, h->hex))
        return s_failed(err, h, what, why, n);
    return s_failed(MF_ERR_IO, h, "this worker's copy differs from the file sent", why, n);
}

int mf_source_fault(mf_err_t err)
{
    return err == MF_ERR_FORMAT || err == MF_ERR_CORRUPT || err == MF_ERR_INVALID;
}

/* libsndfile's words without their "Error : " prefix and full stop. */
static void s_sf_words(SNDFILE *sf, char *out, size_t n)
{
    const char *w = sf_strerror(sf);
    if (!strncmp(w, "Error : ", 8)) w += 8;
    snprintf(out, n, "%s", w);
    size_t len = strlen(out);
    while (len > 0 && (out[len - 1] == '.' || out[len - 1] == '\n')) out[--len] = 0;
}

/* Opens the file and checks it is whole audio of one or two channels. */
static mf_err_t s_open_file(mf_source_reader_t *r, const char *path, char *why, size_t n)
{
    char sf_why[128];
    if (access(path, R_OK) != 0) {
        const int e = errno;
        snprintf(why, n, "%s", strerror(e));
        return e == ENOENT ? MF_ERR_NOENT : MF_ERR_IO;
    }
    if (!(r->sf = mf_sf_buffered_open(path, &r->sfi, &r->io))) {
        if (mf_audio_why(path, sf_strerror(NULL), sf_why, sizeof sf_why))
            snprintf(why, n, "%s", sf_why);
        else
            snprintf(why, n, "not an audio file (%s)", sf_why);
        return MF_ERR_FORMAT;
    }
    if (r->sfi.channels < 1 || r->sfi.channels > 2 || r->sfi.samplerate < 1) {
        snprintf(why, n, "%d channels at %d Hz", r->sfi.channels, r->sfi.samplerate);
        return MF_ERR_FORMAT;
    }
    r->raw = s_raw_bytes(&r->sfi);
    const int sub = r->sfi.format & SF_FORMAT_SUBMASK;
    r->floats = sub == SF_FORMAT_FLOAT || sub == SF_FORMAT_DOUBLE;
    const int truncated = mf_source_truncated(path, &r->sfi, why, n);
    if (truncated < 0) snprintf(why, n, "%s", strerror(errno));
    return truncated > 0 ? MF_ERR_CORRUPT : truncated < 0 ? MF_ERR_IO : MF_OK;
}

/* Trims to spec and seeks to its first frame. */
static mf_err_t s_trim(mf_source_reader_t *r, const mf_decode_spec_t *spec, char *why, size_t n)
{
    const double rate = r->sfi.samplerate;
    r->from = llround(spec->from_s * rate);
    sf_count_t count = r->sfi.frames - r->from;
    if (spec->length_s >= 0 && llround(spec->length_s * rate) < count)
        count = llround(spec->length_s * rate);
    if (count < 0) count = 0;
    if (r->from > 0 && count > 0 && sf_seek(r->sf, r->from, SEEK_SET) < 0) {
        char sf_why[128];
        s_sf_words(r->sf, sf_why, sizeof sf_why);
        snprintf(why, n, "cannot seek to %.3f s (%s)", spec->from_s, sf_why);
        return MF_ERR_CORRUPT;
    }
    r->info = (mf_pcm_info_t){.channels = r->sfi.channels,
                              .rate = r->sfi.samplerate,
                              .start = llround(spec->start_s * rate),
                              .frames = count};
    return MF_OK;
}

mf_err_t mf_source_reader_open(const mf_store_t *s, const mf_hash_t *h,
                               const mf_decode_spec_t *spec, mf_source_reader_t **out, char *why,
                               size_t why_size)
{
    *out = NULL;
    mf_source_reader_t *r = calloc(1, sizeof *r);
    char *path = mf_store_path(s, h), what[256] = "";
    mf_err_t err = r && path ? s_open_file(r, path, what, sizeof what) : MF_ERR_NOMEM;
    if (err == MF_OK) err = s_trim(r, spec, what, sizeof what);
    if (err == MF_OK) {
        r->hash = *h;
        r->path = path;
        *out = r;
        return MF_OK;
    }
    mf_source_reader_free(&r);
    if (what[0] == 0) snprintf(what, sizeof what, "%s", mf_strerror(err));
    err = mf_source_fault(err) ? s_content_failed(err, path, h, what, why, why_size)
                               : s_failed(err, h, what, why, why_size);
    free(path);
    return err;
}

const mf_pcm_info_t *mf_source_reader_info(const mf_source_reader_t *r)
{
    return &r->info;
}

mf_err_t mf_source_reader_read_span(mf_source_reader_t *r, int64_t t, size_t n, float *out,
                                    char *why, size_t why_size)
{
    const int ch = r->info.channels;
    int64_t from = t - r->info.start, to = from + (int64_t)n;
    if (from < 0) from = 0;
    if (to > r->info.frames) to = r->info.frames;
    if (from >= to) {
        memset(out, 0, n * (size_t)ch * sizeof(float));
        return MF_OK;
    }
    if (from < r->pos) return MF_ERR_INVALID; /* sequential readers only */
    if (from > r->pos && sf_seek(r->sf, r->from + from, SEEK_SET) < 0) return MF_ERR_IO;
    const size_t lead = (size_t)(r->info.start + from - t), want = (size_t)(to - from);
    memset(out, 0, lead * (size_t)ch * sizeof(float));
    float *dst = out + lead * (size_t)ch;
    const sf_count_t got =
        r->raw ? s_read_raw(r, dst, want) : sf_readf_float(r->sf, dst, (sf_count_t)want);
    if (got != (sf_count_t)want) {
        const double rate = r->sfi.samplerate;
        char words[300], reason[160] = "";
        mf_source_short_words(words, sizeof words, (double)r->sfi.frames / rate,
                              (double)(r->from + from + (got > 0 ? got : 0)) / rate);
        if (sf_error(r->sf) != SF_ERR_NO_ERROR) {
            char sf_why[128];
            s_sf_words(r->sf, sf_why, sizeof sf_why);
            snprintf(reason, sizeof reason, " (%s)", sf_why);
        }
        snprintf(words + strlen(words), sizeof words - strlen(words), "%s", reason);
        return s_content_failed(MF_ERR_CORRUPT, r->path, &r->hash, words, why, why_size);
    }
    /* A float file can hold samples that are not numbers (a plugin that
     * blew up, a damaged export). One NaN in an IIR filter makes all its
     * outputs after it NaN, and an infinite peak sent the master's gain
     * search astray (-29.5 LUFS for a -14 target, exit 1 as a QC failure
     * that said nothing of why): such a file is refused, naming where.
     * PCM files cannot hold one. */
    const size_t samples = r->floats ? want * (size_t)ch : 0;
    int finite = 1; /* one pass without a branch (it vectorises); then where */
    for (size_t i = 0; i < samples; i++) finite &= isfinite(dst[i]) != 0;
    for (size_t i = 0; !finite && i < samples; i++) {
        if (isfinite(dst[i])) continue;
        const double at = (double)(r->from + from) + (double)(i / (size_t)ch);
        char words[200];
        snprintf(words, sizeof words,
                 "its sample at %.3f s is not a number (%s): the file is damaged; export it again",
                 at / r->sfi.samplerate, isnan(dst[i]) ? "NaN" : "infinite");
        return s_content_failed(MF_ERR_CORRUPT, r->path, &r->hash, words, why, why_size);
    }
    memset(out + (lead + want) * (size_t)ch, 0, (n - lead - want) * (size_t)ch * sizeof(float));
    r->pos = to;
    return MF_OK;
}

void mf_source_reader_free(mf_source_reader_t **r)
{
    if (!r || !*r) return;
    mf_sf_buffered_close((*r)->sf, &(*r)->io);
    free((*r)->scratch);
    free((*r)->path);
    free(*r);
    *r = NULL;
}
