/* strip, bus and master: one channel strip, as on a console.
 *
 *   inputs 0..sum-1 summed in order -> polarity -> inserts in order
 *     -> pan (pan law on mono, balance on stereo) = the pre-fader tap
 *     -> fader = the post-fader signal
 *   each output: its tap x its level (automated or not)
 *
 * Pan and fader are both per-sample gains, so applying pan before the
 * fader (to share the pre-fader tap) gives the console's result.
 * The summation order is the input order the planner fixed, so the bits
 * never depend on which worker ran what first.
 *
 * An insert with an auxiliary input (a convolution reverb's impulse
 * response) gets that input read whole, once, when it is made
 * (create_aux), bounded by its class's max_seconds (what validation
 * allows); the insert keeps its own copy.
 *
 * A strip whose spec has a "decode" reads input 0 straight from the source
 * file's bytes, at the session rate (mf_source_signal.h); every other
 * input is a signal blob,
 * or the signal of a strip the channel runs itself (t->inlined: a bus of an
 * embedded render), a block at a time as the channel reads it through a
 * pipe (mf_pcm_reader_open_pipe) exactly as it would read the blob.
 * This file is the input side, the inserts and the loop; pan, fader and the
 * outputs are channel_out.c. */
#include "channel_int.h"
#include "mf_gain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TAIL_S 60.0 /* bound on reverb/delay tails */

/* A channel's run: its state and how far its loop is, so that a strip run
 * inside its reader goes one block further whenever the reader wants more
 * of its signal (through a pipe: mf_pipe.h). */
struct chan_run {
    chan_t c;
    int64_t start, end, tail, latency, stop, skip, f;
    mf_pipe_t *pipe;          /* an inlined strip's: where its output goes */
    mf_task_result_t own;     /* an inlined strip's: its error in words */
    mf_task_result_t *parent; /* an inlined strip's: its reader's result */
};

static void s_chan_fini(chan_t *c);
static mf_err_t s_run_open(chan_run_t *run, mf_store_t *s, const mf_task_t *t, mf_task_result_t *r);
static mf_err_t s_run_step(chan_run_t *run);

/* The frames a run writes to each output: its span, less the look-ahead
 * dropped at the start. */
static int64_t s_run_frames(const chan_run_t *run)
{
    const int64_t n = run->stop - run->start - run->latency;
    return n > 0 ? n : 0;
}

static void s_run_free(chan_run_t *run)
{
    if (!run) return;
    s_chan_fini(&run->c);
    mf_task_result_fini(&run->own);
    mf_pipe_free(&run->pipe);
    free(run);
}

static void s_chan_fini(chan_t *c)
{
    for (size_t i = 0; c->in && i < c->n_in; i++) {
        mf_pcm_reader_free(&c->in[i].pcm); /* before the pipe it may read */
        mf_source_signal_free(&c->in[i].src);
        s_run_free(c->in[i].inl);
    }
    for (size_t i = 0; c->ins && i < c->spec.n_inserts; i++) {
        insert_rt_t *it = &c->ins[i];
        if (it->st) it->spec->cls->destroy(it->st);
        for (size_t j = 0; it->envs && j < it->spec->n_autos; j++) mf_envelope_fini(&it->envs[j]);
        free(it->envs);
        free(it->values);
    }
    for (size_t i = 0; c->outs && i < c->spec.n_outputs; i++) {
        mf_pcm_writer_abort(c->outs[i]);
        if (c->out_envs) mf_envelope_fini(&c->out_envs[i]);
    }
    mf_envelope_fini(&c->gain_env);
    mf_envelope_fini(&c->pan_env);
    free(c->in);
    free(c->ins);
    free(c->out_envs);
    free(c->outs);
    free(c->panned);
    free(c->buf);
    free(c->tmp);
    free(c->key);
    free(c->pre);
    free(c->post);
    free(c->ga);
    free(c->gb);
    free(c->gc);
    mf_chan_spec_fini(&c->spec);
}

static const mf_pcm_info_t *s_info(const chan_t *c, size_t k)
{
    return c->in[k].src ? mf_source_signal_info(c->in[k].src) : mf_pcm_reader_info(c->in[k].pcm);
}

/* Frames [t, t + n) of input k in its own channel count. */
static mf_err_t s_read_span(chan_t *c, size_t k, int64_t t, size_t n, float *dst)
{
    if (!c->in[k].src) return mf_pcm_reader_read_span(c->in[k].pcm, t, n, dst);
    char why[400] = "";
    mf_err_t err = mf_source_signal_read_span(c->in[k].src, t, n, dst, why, sizeof why);
    return err == MF_OK ? MF_OK : mf_exec_fail_source(c->r, err, why);
}

/* Input k (a decoded impulse response) read whole, for create_aux(). */
static mf_err_t s_read_aux(chan_t *c, size_t k, double max_s, mf_proc_aux_t *a, float **data,
                           mf_task_result_t *r)
{
    char what[48];
    snprintf(what, sizeof what, "auxiliary input %zu", k);
    if (!c->in[k].pcm) return mf_exec_fail(r, MF_ERR_INVALID, "%s: not a signal", what);
    return mf_exec_read_aux(c->in[k].pcm, max_s, c->spec.rate, what, a, data, r);
}

static mf_err_t s_open_inserts(chan_t *c, mf_task_result_t *r)
{
    mf_proc_env_t env = {
        .sample_rate = c->spec.rate, .channels = c->ch, .tempo_bpm = c->spec.tempo_bpm};
    c->ins = calloc(c->spec.n_inserts + 1, sizeof *c->ins);
    if (!c->ins) return MF_ERR_NOMEM;
    for (size_t i = 0; i < c->spec.n_inserts; i++) {
        insert_rt_t *it = &c->ins[i];
        it->spec = &c->spec.inserts[i];
        env.automated = it->spec->n_autos > 0;
        it->values = malloc((it->spec->n_values + 1) * sizeof *it->values);
        it->envs = calloc(it->spec->n_autos + 1, sizeof *it->envs);
        if (!it->values || !it->envs) return MF_ERR_NOMEM;
        memcpy(it->values, it->spec->values, it->spec->n_values * sizeof *it->values);
        for (size_t j = 0; j < it->spec->n_autos; j++) {
            if (mf_chan__env(&it->envs[j], &it->spec->autos[j].curve, c->spec.rate, MF_ENV_VALUE))
                return MF_ERR_NOMEM;
            /* Start from the automated value, not the static one. */
            it->values[it->spec->autos[j].param] = mf_envelope_value_at(&it->envs[j], 0);
        }
        if (it->spec->aux >= 0) {
            mf_proc_aux_t a;
            float *data = NULL;
            const mf_aux_desc_t *desc = it->spec->cls->aux;
            mf_err_t err =
                s_read_aux(c, (size_t)it->spec->aux, desc ? desc->max_seconds : 0, &a, &data, r);
            if (err == MF_OK)
                it->st = it->spec->cls->create_aux(it->values, it->spec->nbands, &env, &a);
            free(data);
            if (err != MF_OK)
                return r->error ? err : mf_exec_fail(r, err, "insert %zu: %s", i, mf_strerror(err));
        } else {
            it->st = it->spec->cls->create(it->values, it->spec->nbands, &env);
        }
        if (!it->st)
            return mf_exec_fail(r, MF_ERR_NOMEM, "insert %zu (%s): cannot create", i,
                                it->spec->cls->type);
    }
    return MF_OK;
}

/* Frames of tail and latency the inserts add, summed along the chain. */
static void s_chain_extent(const chan_t *c, int64_t *tail, int64_t *latency)
{
    *tail = *latency = 0;
    for (size_t i = 0; i < c->spec.n_inserts; i++) {
        const mf_processor_class_t *cls = c->ins[i].spec->cls;
        if (cls->tail_frames) *tail += (int64_t)cls->tail_frames(c->ins[i].st);
        if (cls->latency_frames) *latency += (int64_t)cls->latency_frames(c->ins[i].st);
    }
    int64_t max_tail = (int64_t)(MAX_TAIL_S * c->spec.rate);
    if (*tail > max_tail) *tail = max_tail;
}

/* Reads input k's span [t, t+n) as c->ch channels into dst (overwrite). */
static mf_err_t s_read_as(chan_t *c, size_t k, int64_t t, size_t n, float *dst)
{
    const int ich = s_info(c, k)->channels;
    if (ich == c->ch) return s_read_span(c, k, t, n, dst);
    mf_err_t err = s_read_span(c, k, t, n, c->tmp);
    for (size_t i = 0; i < n; i++) dst[2 * i] = dst[2 * i + 1] = c->tmp[i]; /* mono -> both */
    return err;
}

static mf_err_t s_sum_inputs(chan_t *c, int64_t t, size_t n)
{
    const size_t len = n * (size_t)c->ch;
    memset(c->buf, 0, len * sizeof(float));
    for (size_t k = 0; k < c->spec.sum; k++) {
        /* A signal of the channel's width adds itself in (no pass through c->key). */
        if (!c->in[k].src && s_info(c, k)->channels == c->ch) {
            mf_err_t err = mf_pcm_reader_add_span(c->in[k].pcm, t, n, c->buf);
            if (err != MF_OK) return err;
            continue;
        }
        mf_err_t err = s_read_as(c, k, t, n, c->key);
        if (err != MF_OK) return err;
        mf_mix_add(c->buf, c->key, len);
    }
    if (c->spec.invert) mf_gain_apply(c->buf, len, -1.0f);
    return MF_OK;
}

/* Runs one insert over the block; with automation, in grid-aligned pieces
 * so new values land on the same frames whatever the block size. */
static mf_err_t s_run_insert(chan_t *c, insert_rt_t *it, int64_t t, size_t n)
{
    const float *key = NULL;
    if (it->spec->key >= 0) {
        mf_err_t err = s_read_as(c, (size_t)it->spec->key, t, n, c->key);
        if (err != MF_OK) return err;
        key = c->key;
    }
    const mf_processor_class_t *cls = it->spec->cls;
    if (it->spec->n_autos == 0) {
        cls->process(it->st, c->buf, n, key);
        return MF_OK;
    }
    for (size_t done = 0; done < n;) {
        int64_t f = t + (int64_t)done;
        size_t piece = MF_ENV_GRID - (size_t)(((f % MF_ENV_GRID) + MF_ENV_GRID) % MF_ENV_GRID);
        if (piece > n - done) piece = n - done;
        int changed = 0;
        for (size_t j = 0; j < it->spec->n_autos; j++) {
            double v = mf_envelope_value_at(&it->envs[j], f);
            double *slot = &it->values[it->spec->autos[j].param];
            if (v != *slot) *slot = v, changed = 1;
        }
        if (changed && cls->update) cls->update(it->st, it->values);
        size_t off = done * (size_t)c->ch;
        cls->process(it->st, c->buf + off, piece, key ? key + off : NULL);
        done += piece;
    }
    return MF_OK;
}

/* Signal input k (open) read through an unpanned strip's pan, fader and
 * level, when it is one. */
static mf_err_t s_view(chan_t *c, size_t k)
{
    const mf_in_gain_t *g = c->spec.in_gains && k < c->spec.sum ? &c->spec.in_gains[k] : NULL;
    if (!g || !g->set) return MF_OK;
    float gains[2][MF_PCM_GAINS];
    mf_chan__gains(mf_pcm_reader_info(c->in[k].pcm)->channels == 2, g->pan, g->pan_law_db,
                   g->fader_db, g->level_db, gains);
    return mf_pcm_reader_view(c->in[k].pcm, gains);
}

/* An inlined strip's failure, in its own words, is its reader's. */
static mf_err_t s_inlined_failed(chan_run_t *run, mf_err_t err)
{
    if (!run->parent->error)
        mf_exec_fail(run->parent, err, "%s", run->own.error ? run->own.error : mf_strerror(err));
    return err;
}

/* The pipe's producer: the strip's next block that writes anything, or,
 * past its last, its end. A look-ahead longer than a block drops whole
 * blocks at the start, which write nothing, and a producer that makes
 * nothing fails its reader: a compressor looking 22 ms ahead at 48 kHz
 * (1056 frames, a block is 1024) failed the render, "data is corrupt". */
static mf_err_t s_produce(void *ctx)
{
    chan_run_t *run = ctx;
    mf_err_t err = MF_OK;
    int wrote = 0;
    while (err == MF_OK && !wrote && run->f < run->stop) {
        const int64_t left = run->stop - run->f;
        wrote = (left < MF_BLOCK ? left : MF_BLOCK) > run->skip;
        err = s_run_step(run);
    }
    if (err == MF_OK && !wrote) {
        mf_hash_t none;
        err = mf_pcm_writer_commit(run->c.outs[0], &none);
        run->c.outs[0] = NULL;
    }
    return err == MF_OK ? MF_OK : s_inlined_failed(run, err);
}

/* Input k is the signal of strip x, which this channel runs itself: read
 * through a pipe exactly as its blob would be. */
static mf_err_t s_open_inlined(chan_t *c, mf_store_t *s, size_t k, const mf_task_t *x)
{
    chan_run_t *run = calloc(1, sizeof *run);
    if (!run) return MF_ERR_NOMEM;
    c->in[k].inl = run;
    run->parent = c->r;
    run->pipe = run->c.pipe = mf_pipe_new(s_produce, run);
    mf_err_t err = run->pipe ? s_run_open(run, s, x, &run->own) : MF_ERR_NOMEM;
    if (err == MF_OK)
        err = mf_pcm_reader_open_pipe(run->pipe, run->c.outs[0], s_run_frames(run), &c->in[k].pcm);
    return err == MF_OK ? MF_OK : s_inlined_failed(run, err);
}

static mf_err_t s_open_input(chan_t *c, mf_store_t *s, const mf_task_t *t, size_t k)
{
    const int inlined = mf_task_inlined_for(t, k);
    if (inlined >= 0) {
        mf_err_t err = s_open_inlined(c, s, k, &t->inlined[inlined]);
        if (err == MF_OK) err = s_view(c, k);
        return err;
    }
    if (k == 0 && c->spec.has_decode) {
        char why[400] = "";
        mf_err_t err = mf_source_signal_open(s, &t->inputs[0], &c->spec.decode, &c->in[0].src, why,
                                             sizeof why);
        return err == MF_OK ? MF_OK : mf_exec_fail_source(c->r, err, why);
    }
    mf_err_t err = mf_pcm_reader_open(s, &t->inputs[k], &c->in[k].pcm);
    if (err == MF_OK) err = s_view(c, k);
    return err == MF_OK ? MF_OK
                        : mf_exec_fail(c->r, err, "input %zu (%.12s): %s", k, t->inputs[k].hex,
                                       mf_strerror(err));
}

static mf_err_t s_open(chan_t *c, mf_store_t *s, const mf_task_t *t, mf_task_result_t *r,
                       int64_t *start, int64_t *end)
{
    const char *why = "";
    if (mf_chan_spec_from_json(t->params, &c->spec, &why) != MF_OK)
        return mf_exec_fail(r, MF_ERR_INVALID, "%s: bad parameters: %s", t->kind, why);
    if (c->spec.sum > t->n_inputs)
        return mf_exec_fail(r, MF_ERR_INVALID, "%s: sums %zu inputs but has %zu", t->kind,
                            c->spec.sum, t->n_inputs);
    for (size_t i = 0; i < c->spec.n_inserts; i++) {
        const mf_insert_spec_t *in = &c->spec.inserts[i];
        if (in->key >= (int)t->n_inputs)
            return mf_exec_fail(r, MF_ERR_INVALID, "%s: sidechain input missing", t->kind);
        if (in->aux >= 0 &&
            (in->aux >= (int)t->n_inputs || (size_t)in->aux < c->spec.sum || !in->cls->create_aux))
            return mf_exec_fail(r, MF_ERR_INVALID, "%s: bad auxiliary input", t->kind);
    }
    c->n_in = t->n_inputs;
    c->in = calloc(c->n_in + 1, sizeof *c->in);
    if (!c->in) return MF_ERR_NOMEM;
    c->ch = 1;
    *start = INT64_MAX, *end = INT64_MIN;
    for (size_t k = 0; k < c->n_in; k++) {
        mf_err_t err = s_open_input(c, s, t, k);
        if (err != MF_OK) return err;
        const mf_pcm_info_t *in = s_info(c, k);
        if (in->rate != c->spec.rate)
            return mf_exec_fail(r, MF_ERR_INVALID, "input %zu is at %d Hz, the channel at %d Hz", k,
                                in->rate, c->spec.rate);
        if (k >= c->spec.sum || in->frames == 0) continue;
        if (in->channels == 2) c->ch = 2;
        if (in->start < *start) *start = in->start;
        if (in->start + in->frames > *end) *end = in->start + in->frames;
    }
    if (*start > *end) *start = *end = 0; /* nothing to sum: an empty signal */
    return MF_OK;
}

static mf_err_t s_alloc(chan_t *c, mf_store_t *s, const mf_task_t *t, int64_t start)
{
    const size_t B = MF_BLOCK;
    c->buf = malloc(B * 2 * sizeof(float));
    c->tmp = malloc(B * 2 * sizeof(float));
    c->key = malloc(B * 2 * sizeof(float));
    c->pre = malloc(B * 2 * sizeof(float));
    c->post = malloc(B * 2 * sizeof(float));
    c->ga = malloc(B * sizeof(float));
    c->gb = malloc(B * sizeof(float));
    c->gc = malloc(B * sizeof(float));
    c->outs = calloc(c->spec.n_outputs + 1, sizeof *c->outs);
    c->panned = calloc(c->spec.n_outputs + 1, sizeof *c->panned);
    c->out_envs = calloc(c->spec.n_outputs + 1, sizeof *c->out_envs);
    if (!c->buf || !c->tmp || !c->key || !c->pre || !c->post || !c->ga || !c->gb || !c->gc ||
        !c->outs || !c->panned || !c->out_envs)
        return MF_ERR_NOMEM;
    return mf_chan__outputs_open(c, s, t, start);
}

static mf_err_t s_run_open(chan_run_t *run, mf_store_t *s, const mf_task_t *t, mf_task_result_t *r)
{
    chan_t *c = &run->c;
    c->r = r;
    mf_err_t err = s_open(c, s, t, r, &run->start, &run->end);
    if (err == MF_OK) err = s_open_inserts(c, r);
    if (err == MF_OK) err = s_alloc(c, s, t, run->start);
    if (err != MF_OK) return err;
    if (run->end > run->start) s_chain_extent(c, &run->tail, &run->latency);
    /* Run latency frames past the end and drop as many at the start, so a
     * look-ahead insert's output stays aligned with the timeline. */
    run->stop = run->end + run->tail + run->latency;
    run->skip = run->latency;
    run->f = run->start;
    return MF_OK;
}

/* One block: inputs summed, the inserts, pan, and every output written. */
static mf_err_t s_run_step(chan_run_t *run)
{
    chan_t *c = &run->c;
    const int64_t f = run->f;
    const size_t n = (size_t)(run->stop - f < MF_BLOCK ? run->stop - f : MF_BLOCK);
    mf_err_t err = s_sum_inputs(c, f, n);
    for (size_t i = 0; err == MF_OK && i < c->spec.n_inserts; i++)
        err = s_run_insert(c, &c->ins[i], f, n);
    if (err != MF_OK) return err;
    if (!c->all_panned) mf_chan__pan(c, f - run->latency, n);
    const size_t sk = run->skip > (int64_t)n ? n : (size_t)run->skip;
    err = mf_chan__outputs_write(c, f - run->latency, n, sk);
    run->skip -= (int64_t)sk;
    run->f += MF_BLOCK;
    return err;
}

static double s_run_seconds(const chan_run_t *run)
{
    return run->c.spec.rate > 0 ? (double)s_run_frames(run) / run->c.spec.rate : 0.0;
}

mf_err_t mf_exec_channel(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r)
{
    chan_run_t run = {0};
    mf_err_t err = s_run_open(&run, s, t, r);
    while (err == MF_OK && run.f < run.stop) {
        err = s_run_step(&run);
        mf_exec_progress(r, (double)(run.f - run.start) / (double)(run.stop - run.start));
    }
    for (size_t o = 0; err == MF_OK && o < run.c.spec.n_outputs; o++) {
        mf_hash_t h;
        err = mf_pcm_writer_commit(run.c.outs[o], &h);
        run.c.outs[o] = NULL;
        if (err == MF_OK) err = mf_exec_add_output(r, &h);
    }
    if (err != MF_OK && !r->error) mf_exec_fail(r, err, "%s: %s", t->kind, mf_strerror(err));
    r->audio_seconds = s_run_seconds(&run);
    for (size_t k = 0; run.c.in && k < run.c.n_in; k++) /* the strips it ran too */
        if (run.c.in[k].inl) r->audio_seconds += s_run_seconds(run.c.in[k].inl);
    s_chan_fini(&run.c);
    return err;
}
