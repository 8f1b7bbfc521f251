/* decode: a source file's bytes -> its signal at the session rate, trimmed
 * and placed on the timeline. libsndfile reads any format it knows (WAV,
 * AIFF, FLAC, 16/24/32-bit int and float); soxr converts the rate. */
#include "exec_internal.h"
#include "mf_params.h"
#include "mf_pcm.h"

#include <math.h>
#include <sndfile.h>
#include <soxr.h>
#include <stdlib.h>

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

mf_err_t mf_exec_decode(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r)
{
    mf_decode_spec_t spec;
    const char *why = "";
    if (t->n_inputs != 1 || mf_decode_spec_from_json(t->params, &spec, &why) != MF_OK)
        return mf_exec_fail(r, MF_ERR_INVALID, "decode: bad parameters: %s", why);
    decode_t d = {0};
    mf_err_t err = MF_ERR_FORMAT;
    char *path = mf_store_path(s, &t->inputs[0]);
    d.sf = path ? sf_open(path, SFM_READ, &d.info) : NULL;
    free(path);
    if (!d.sf) {
        err =
            mf_exec_fail(r, MF_ERR_FORMAT, "source %.12s: %s", t->inputs[0].hex, sf_strerror(NULL));
        goto done;
    }
    const int ch = d.info.channels;
    if (ch < 1 || ch > 2 || d.info.samplerate < 1) {
        err = mf_exec_fail(r, MF_ERR_FORMAT, "source %.12s: %d channels at %d Hz", t->inputs[0].hex,
                           ch, d.info.samplerate);
        goto done;
    }
    sf_count_t from = llround(spec.from_s * d.info.samplerate);
    sf_count_t count = d.info.frames - from;
    if (spec.length_s >= 0) {
        sf_count_t want = llround(spec.length_s * d.info.samplerate);
        if (want < count) count = want;
    }
    if (count < 0) count = 0;
    if (from > 0 && count > 0 && sf_seek(d.sf, from, SEEK_SET) < 0) {
        err = mf_exec_fail(r, MF_ERR_FORMAT, "source %.12s: cannot seek to %.3f s",
                           t->inputs[0].hex, spec.from_s);
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
    d.out = mf_pcm_writer_new(s, ch, spec.rate, llround(spec.start_s * spec.rate));
    if (!d.in_buf || !d.out_buf || !d.out) {
        err = MF_ERR_NOMEM;
        goto done;
    }
    for (sf_count_t left = count; left > 0;) {
        sf_count_t want = left < MF_BLOCK ? left : MF_BLOCK;
        sf_count_t got = sf_readf_float(d.sf, d.in_buf, want);
        if (got <= 0) {
            err = mf_exec_fail(r, MF_ERR_CORRUPT,
                               "source %.12s: the header promises %.3f s but the data ends at "
                               "%.3f s",
                               t->inputs[0].hex, (double)d.info.frames / d.info.samplerate,
                               (double)(from + count - left) / d.info.samplerate);
            goto done;
        }
        if ((err = s_emit(&d, d.in_buf, (size_t)got)) != MF_OK) goto done;
        left -= got;
    }
    if (d.soxr && (err = s_emit(&d, NULL, 0)) != MF_OK) goto done;
    mf_hash_t h;
    err = mf_pcm_writer_commit(d.out, &h);
    d.out = NULL;
    if (err == MF_OK) err = mf_exec_add_output(r, &h);
    r->audio_seconds = (double)count / d.info.samplerate;
done:
    s_decode_fini(&d);
    return err;
}
