/* decode: a source file's bytes -> its signal at the session rate, trimmed
 * and placed on the timeline. libsndfile reads any format it knows (WAV,
 * AIFF, FLAC, 16/24/32-bit int and float); soxr converts the rate. A WAV
 * or AIFF that holds less than its header declares fails the task whatever
 * part of it the session uses (libsndfile would quietly read it as a
 * shorter file); any file whose data ends or breaks early in the part read
 * fails it too. */
#include "exec_internal.h"
#include "mf_params.h"
#include "mf_pcm.h"
#include "mf_source_check.h"

#include <errno.h>
#include <math.h>
#include <sndfile.h>
#include <soxr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    SNDFILE *sf;
    SF_INFO info;
    soxr_t soxr;
    mf_pcm_writer_t *out;
    float *in_buf, *out_buf;
    size_t out_cap; /* frames out_buf holds */
} decode_t;

static void s_decode_fini(decode_t *d)
{
    if (d->sf) sf_close(d->sf);
    if (d->soxr) soxr_delete(d->soxr);
    mf_pcm_writer_abort(d->out);
    free(d->in_buf);
    free(d->out_buf);
}

/* Writes n frames through the resampler (or straight, at the same rate);
 * n == 0 with in == NULL drains the resampler. */
static mf_err_t s_emit(decode_t *d, const float *in, size_t n)
{
    if (!d->soxr) return mf_pcm_writer_write(d->out, in, n);
    for (;;) {
        size_t used = 0, done = 0;
        soxr_error_t e = soxr_process(d->soxr, in, n, &used, d->out_buf, d->out_cap, &done);
        if (e) return MF_ERR_INVALID;
        if (done) {
            mf_err_t err = mf_pcm_writer_write(d->out, d->out_buf, done);
            if (err != MF_OK) return err;
        }
        if (in) {
            in += used * (size_t)d->info.channels;
            n -= used;
            if (n == 0) return MF_OK;
        } else if (done < d->out_cap) {
            return MF_OK; /* drained */
        }
    }
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

/* The worker's own store failed (a full disk, say): not the source's fault,
 * so the error names the store, not the source. */
static mf_err_t s_store_failed(mf_task_result_t *r, mf_err_t err, int saved_errno)
{
    return mf_exec_fail(r, err, "the worker's blob store: %s",
                        saved_errno ? strerror(saved_errno) : mf_strerror(err));
}

/* Opens the source blob. Errors about the file's content start with
 * "source <hash12>:" (the client maps them back to the file's name); a
 * blob the worker cannot read is the worker's problem and says "blob". */
static mf_err_t s_open_source(mf_store_t *s, const mf_hash_t *h, decode_t *d, mf_task_result_t *r)
{
    char *path = mf_store_path(s, h);
    if (!path) return MF_ERR_NOMEM;
    mf_err_t err = MF_OK;
    char why[256];
    int truncated = 0;
    if (access(path, R_OK) != 0) {
        err = mf_exec_fail(r, errno == ENOENT ? MF_ERR_NOENT : MF_ERR_IO, "blob %.12s: %s", h->hex,
                           strerror(errno));
    } else if (!(d->sf = sf_open(path, SFM_READ, &d->info))) {
        s_sf_words(NULL, why, sizeof why);
        err = mf_exec_fail(r, MF_ERR_FORMAT, "source %.12s: not an audio file (%s)", h->hex, why);
    } else if (d->info.channels < 1 || d->info.channels > 2 || d->info.samplerate < 1) {
        err = mf_exec_fail(r, MF_ERR_FORMAT, "source %.12s: %d channels at %d Hz", h->hex,
                           d->info.channels, d->info.samplerate);
    } else if ((truncated = mf_source_truncated(path, &d->info, why, sizeof why)) != 0) {
        err = truncated > 0 ? mf_exec_fail(r, MF_ERR_CORRUPT, "source %.12s: %s", h->hex, why)
                            : mf_exec_fail(r, MF_ERR_IO, "blob %.12s: %s", h->hex, strerror(errno));
    }
    free(path);
    return err;
}

/* The data ended (or broke) at frame `at`, before the header said it would. */
static mf_err_t s_short_data(decode_t *d, const mf_hash_t *h, sf_count_t at, mf_task_result_t *r)
{
    char words[128], reason[160] = "";
    const double rate = d->info.samplerate;
    mf_source_short_words(words, sizeof words, (double)d->info.frames / rate, (double)at / rate);
    if (sf_error(d->sf) != SF_ERR_NO_ERROR) {
        char sf_why[128];
        s_sf_words(d->sf, sf_why, sizeof sf_why);
        snprintf(reason, sizeof reason, " (%s)", sf_why);
    }
    return mf_exec_fail(r, MF_ERR_CORRUPT, "source %.12s: %s%s", h->hex, words, reason);
}

mf_err_t mf_exec_decode(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r)
{
    mf_decode_spec_t spec;
    const char *why = "";
    if (t->n_inputs != 1 || mf_decode_spec_from_json(t->params, &spec, &why) != MF_OK)
        return mf_exec_fail(r, MF_ERR_INVALID, "decode: bad parameters: %s", why);
    decode_t d = {0};
    mf_err_t err = s_open_source(s, &t->inputs[0], &d, r);
    if (err != MF_OK) goto done;
    const int ch = d.info.channels;
    sf_count_t from = llround(spec.from_s * d.info.samplerate);
    sf_count_t count = d.info.frames - from;
    if (spec.length_s >= 0) {
        sf_count_t want = llround(spec.length_s * d.info.samplerate);
        if (want < count) count = want;
    }
    if (count < 0) count = 0;
    if (from > 0 && count > 0 && sf_seek(d.sf, from, SEEK_SET) < 0) {
        char sf_why[128];
        s_sf_words(d.sf, sf_why, sizeof sf_why);
        err = mf_exec_fail(r, MF_ERR_CORRUPT, "source %.12s: cannot seek to %.3f s (%s)",
                           t->inputs[0].hex, spec.from_s, sf_why);
        goto done;
    }
    if (d.info.samplerate != spec.rate) {
        soxr_error_t se = NULL;
        soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
        soxr_quality_spec_t q = soxr_quality_spec(SOXR_VHQ, 0);
        soxr_runtime_spec_t rt = soxr_runtime_spec(1); /* one thread: same bits everywhere */
        d.soxr = soxr_create(d.info.samplerate, spec.rate, (unsigned)ch, &se, &io, &q, &rt);
        if (se) {
            err = mf_exec_fail(r, MF_ERR_INVALID, "resampler: %s", se);
            goto done;
        }
    }
    d.out_cap = (size_t)((double)MF_BLOCK * spec.rate / d.info.samplerate) + 64;
    d.in_buf = malloc(sizeof(float) * MF_BLOCK * (size_t)ch);
    d.out_buf = malloc(sizeof(float) * d.out_cap * (size_t)ch);
    mf_hash_t name;
    mf_exec_output_name(t, 0, &name);
    d.out = mf_pcm_writer_new_named(s, &name, ch, spec.rate, llround(spec.start_s * spec.rate));
    if (!d.in_buf || !d.out_buf || !d.out) {
        err = d.out ? MF_ERR_NOMEM : s_store_failed(r, MF_ERR_IO, errno);
        goto done;
    }
    for (sf_count_t left = count; left > 0;) {
        sf_count_t want = left < MF_BLOCK ? left : MF_BLOCK;
        sf_count_t got = sf_readf_float(d.sf, d.in_buf, want);
        if (got <= 0) {
            err = s_short_data(&d, &t->inputs[0], from + count - left, r);
            goto done;
        }
        if ((err = s_emit(&d, d.in_buf, (size_t)got)) != MF_OK) {
            if (err == MF_ERR_IO) err = s_store_failed(r, err, errno);
            goto done;
        }
        left -= got;
    }
    if (d.soxr && (err = s_emit(&d, NULL, 0)) != MF_OK) {
        if (err == MF_ERR_IO) err = s_store_failed(r, err, errno);
        goto done;
    }
    mf_hash_t h;
    err = mf_pcm_writer_commit(d.out, &h);
    d.out = NULL;
    if (err == MF_ERR_IO) err = s_store_failed(r, err, errno);
    if (err == MF_OK) err = mf_exec_add_output(r, &h);
    r->audio_seconds = (double)count / d.info.samplerate;
done:
    s_decode_fini(&d);
    return err;
}
