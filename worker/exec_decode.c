/* decode: a source file's bytes -> its signal at the session rate, trimmed
 * and placed on the timeline. The source is opened and read by
 * mf_source_reader.h (libsndfile: WAV, AIFF, FLAC, 16/24/32-bit int and
 * float, checked whole); soxr converts the rate. */
#include "exec_internal.h"
#include "mf_params.h"
#include "mf_pcm.h"
#include "mf_source_reader.h"

#include <errno.h>
#include <math.h>
#include <soxr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    mf_source_reader_t *src;
    int channels;
    soxr_t soxr;
    mf_pcm_writer_t *out;
    float *in_buf, *out_buf;
    size_t out_cap; /* frames out_buf holds */
} decode_t;

static void s_decode_fini(decode_t *d)
{
    mf_source_reader_free(&d->src);
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
            in += used * (size_t)d->channels;
            n -= used;
            if (n == 0) return MF_OK;
        } else if (done < d->out_cap) {
            return MF_OK; /* drained */
        }
    }
}

/* The worker's own store failed (a full disk, say): not the source's fault,
 * so the error names the store, not the source. */
static mf_err_t s_store_failed(mf_task_result_t *r, mf_err_t err, int saved_errno)
{
    return mf_exec_fail(r, err, "the worker's blob store: %s",
                        saved_errno ? strerror(saved_errno) : mf_strerror(err));
}

mf_err_t mf_exec_decode(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r)
{
    mf_decode_spec_t spec;
    const char *bad = "";
    if (t->n_inputs != 1 || mf_decode_spec_from_json(t->params, &spec, &bad) != MF_OK)
        return mf_exec_fail(r, MF_ERR_INVALID, "decode: bad parameters: %s", bad);
    decode_t d = {0};
    char why[256] = "";
    mf_err_t err = mf_source_reader_open(s, &t->inputs[0], &spec, &d.src, why, sizeof why);
    if (err != MF_OK) {
        err = mf_exec_fail(r, err, "%s", why);
        goto done;
    }
    const mf_pcm_info_t *in = mf_source_reader_info(d.src);
    const int ch = d.channels = in->channels;
    if (in->rate != spec.rate) {
        soxr_error_t se = NULL;
        soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
        soxr_quality_spec_t q = soxr_quality_spec(SOXR_VHQ, 0);
        soxr_runtime_spec_t rt = soxr_runtime_spec(1); /* one thread: same bits everywhere */
        d.soxr = soxr_create(in->rate, spec.rate, (unsigned)ch, &se, &io, &q, &rt);
        if (se) {
            err = mf_exec_fail(r, MF_ERR_INVALID, "resampler: %s", se);
            goto done;
        }
    }
    d.out_cap = (size_t)((double)MF_BLOCK * spec.rate / in->rate) + 64;
    d.in_buf = malloc(sizeof(float) * MF_BLOCK * (size_t)ch);
    d.out_buf = malloc(sizeof(float) * d.out_cap * (size_t)ch);
    mf_hash_t name;
    mf_exec_output_name(t, 0, &name);
    d.out = mf_pcm_writer_new_named(s, &name, ch, spec.rate, llround(spec.start_s * spec.rate));
    if (!d.in_buf || !d.out_buf || !d.out) {
        err = d.out ? MF_ERR_NOMEM : s_store_failed(r, MF_ERR_IO, errno);
        goto done;
    }
    for (int64_t pos = 0; pos < in->frames; pos += MF_BLOCK) {
        const size_t n = in->frames - pos < MF_BLOCK ? (size_t)(in->frames - pos) : MF_BLOCK;
        err = mf_source_reader_read_span(d.src, in->start + pos, n, d.in_buf, why, sizeof why);
        if (err != MF_OK) {
            err = mf_exec_fail(r, err, "%s", why);
            goto done;
        }
        if ((err = s_emit(&d, d.in_buf, n)) != MF_OK) {
            if (err == MF_ERR_IO) err = s_store_failed(r, err, errno);
            goto done;
        }
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
    r->audio_seconds = (double)in->frames / in->rate;
done:
    s_decode_fini(&d);
    return err;
}
