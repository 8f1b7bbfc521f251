/* decode: a source file's bytes -> its signal at the session rate, trimmed
 * and placed on the timeline: what mf_source_signal.h reads, written as a
 * blob. Impulse responses are decoded so (the convolution reads them whole);
 * a track's strip reads its file through the same reader itself. */
#include "exec_internal.h"
#include "mf_params.h"
#include "mf_pcm.h"
#include "mf_source_signal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
    mf_source_signal_t *g = NULL;
    mf_pcm_writer_t *w = NULL;
    float *buf = NULL;
    char why[256] = "";
    mf_err_t err = mf_source_signal_open(s, &t->inputs[0], &spec, &g, why, sizeof why);
    if (err != MF_OK) {
        err = mf_exec_fail_source(r, err, why);
        goto done;
    }
    const mf_pcm_info_t *in = mf_source_signal_info(g);
    const int twice = spec.stereo && in->channels == 1; /* a mono file in both channels */
    buf = malloc(sizeof(float) * MF_BLOCK * 2);
    mf_hash_t name;
    mf_exec_output_name(t, 0, &name);
    w = mf_pcm_writer_new_named(s, &name, twice ? 2 : in->channels, in->rate, in->start);
    if (!buf || !w) {
        err = w ? MF_ERR_NOMEM : s_store_failed(r, MF_ERR_IO, errno);
        goto done;
    }
    for (int64_t pos = 0; pos < in->frames; pos += MF_BLOCK) {
        const size_t n = in->frames - pos < MF_BLOCK ? (size_t)(in->frames - pos) : MF_BLOCK;
        err = mf_source_signal_read_span(g, in->start + pos, n, buf, why, sizeof why);
        if (err != MF_OK) {
            err = mf_exec_fail_source(r, err, why);
            goto done;
        }
        for (size_t i = n; twice && i-- > 0;)
            buf[2 * i] = buf[2 * i + 1] = buf[i]; /* from the end */
        if ((err = mf_pcm_writer_write(w, buf, n)) != MF_OK) {
            err = s_store_failed(r, err, errno);
            goto done;
        }
    }
    mf_hash_t h;
    err = mf_pcm_writer_commit(w, &h);
    w = NULL;
    if (err == MF_ERR_IO) err = s_store_failed(r, err, errno);
    if (err == MF_OK) err = mf_exec_add_output(r, &h);
    r->audio_seconds = mf_source_signal_seconds(g);
done:
    mf_pcm_writer_abort(w);
    mf_source_signal_free(&g);
    free(buf);
    return err;
}
