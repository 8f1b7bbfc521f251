#include "mf_source_signal.h"
#include "mf_exec.h"
#include "mf_source_reader.h"

#include <math.h>
#include <soxr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mf_source_signal {
    mf_source_reader_t *src;
    soxr_t soxr; /* NULL: the file is at the session rate, read straight */
    mf_pcm_info_t info;
    int64_t fed;    /* source frames given to soxr */
    int drained;    /* soxr has given its last frames */
    float *in;      /* MF_BLOCK source frames */
    float *held;    /* resampled frames [held_t, held_t + held_n) of the signal */
    int64_t held_t; /* signal frame (0 at info.start) of held[0] */
    size_t held_n, cap;
    size_t room;  /* the most frames one call of soxr may give */
    int64_t made; /* frames of the signal produced so far */
};

const mf_pcm_info_t *mf_source_signal_info(const mf_source_signal_t *g)
{
    return g->soxr ? &g->info : mf_source_reader_info(g->src);
}

double mf_source_signal_seconds(const mf_source_signal_t *g)
{
    const mf_pcm_info_t *in = mf_source_reader_info(g->src);
    return (double)in->frames / in->rate;
}

void mf_source_signal_free(mf_source_signal_t **g)
{
    if (!g || !*g) return;
    mf_source_reader_free(&(*g)->src);
    if ((*g)->soxr) soxr_delete((*g)->soxr);
    free((*g)->in);
    free((*g)->held);
    free(*g);
    *g = NULL;
}

mf_err_t mf_source_signal_open(const mf_store_t *s, const mf_hash_t *h,
                               const mf_decode_spec_t *spec, mf_source_signal_t **out, char *why,
                               size_t why_size)
{
    *out = NULL;
    mf_source_signal_t *g = calloc(1, sizeof *g);
    if (!g) return MF_ERR_NOMEM;
    mf_err_t err = mf_source_reader_open(s, h, spec, &g->src, why, why_size);
    if (err != MF_OK) {
        mf_source_signal_free(&g);
        return err;
    }
    const mf_pcm_info_t *in = mf_source_reader_info(g->src);
    if (in->rate != spec->rate) {
        soxr_error_t se = NULL;
        soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
        soxr_quality_spec_t q = soxr_quality_spec(SOXR_VHQ, 0);
        soxr_runtime_spec_t rt = soxr_runtime_spec(1); /* one thread: same bits everywhere */
        g->soxr = soxr_create(in->rate, spec->rate, (unsigned)in->channels, &se, &io, &q, &rt);
        if (se) {
            snprintf(why, why_size, "resampler: %s", se);
            mf_source_signal_free(&g);
            return MF_ERR_INVALID;
        }
        g->info = (mf_pcm_info_t){.channels = in->channels,
                                  .rate = spec->rate,
                                  .start = llround(spec->start_s * spec->rate),
                                  .frames = llround((double)in->frames * spec->rate / in->rate)};
        g->cap = g->room = (size_t)((double)MF_BLOCK * spec->rate / in->rate) + 64;
        g->in = malloc(sizeof(float) * MF_BLOCK * (size_t)in->channels);
        g->held = malloc(sizeof(float) * g->cap * (size_t)in->channels);
        if (!g->in || !g->held) {
            mf_source_signal_free(&g);
            return MF_ERR_NOMEM;
        }
    }
    *out = g;
    return MF_OK;
}

/* Room for n more held frames, dropping those before keep. */
static mf_err_t s_room(mf_source_signal_t *g, int64_t keep, size_t n)
{
    const size_t ch = (size_t)g->info.channels;
    size_t drop = keep > g->held_t ? (size_t)(keep - g->held_t) : 0;
    if (drop > g->held_n) drop = g->held_n;
    if (drop) {
        memmove(g->held, g->held + drop * ch, (g->held_n - drop) * ch * sizeof *g->held);
        g->held_n -= drop, g->held_t += (int64_t)drop;
    }
    if (g->held_n + n <= g->cap) return MF_OK;
    const size_t cap = g->held_n + n;
    float *p = realloc(g->held, cap * ch * sizeof *p);
    if (!p) return MF_ERR_NOMEM;
    g->held = p, g->cap = cap;
    return MF_OK;
}

/* Gives soxr n_in frames (NULL: drain), *used of which it took, and keeps
 * its output after dropping what precedes keep; frames past the signal's
 * length are not kept. */
static mf_err_t s_take(mf_source_signal_t *g, int64_t keep, const float *in, size_t n_in,
                       size_t *used)
{
    const size_t ch = (size_t)g->info.channels, room = g->room;
    mf_err_t err = s_room(g, keep, room);
    if (err != MF_OK) return err;
    size_t done = 0;
    if (soxr_process(g->soxr, in, n_in, used, g->held + g->held_n * ch, room, &done))
        return MF_ERR_INVALID;
    if (!in && done < room) g->drained = 1;
    if (g->made + (int64_t)done > g->info.frames) done = (size_t)(g->info.frames - g->made);
    g->held_n += done, g->made += (int64_t)done;
    return MF_OK;
}

static mf_err_t s_resampler_failed(mf_err_t err, char *why, size_t n)
{
    snprintf(why, n, "the resampler failed: %s", mf_strerror(err));
    return err;
}

/* Resamples until the signal is made up to frame upto (or its end). */
static mf_err_t s_make(mf_source_signal_t *g, int64_t keep, int64_t upto, char *why, size_t n)
{
    const mf_pcm_info_t *src = mf_source_reader_info(g->src);
    while (g->made < upto && !g->drained) {
        if (g->fed < src->frames) {
            const size_t k =
                src->frames - g->fed < MF_BLOCK ? (size_t)(src->frames - g->fed) : MF_BLOCK;
            mf_err_t err =
                mf_source_reader_read_span(g->src, src->start + g->fed, k, g->in, why, n);
            if (err != MF_OK) return err;
            g->fed += (int64_t)k;
            for (size_t off = 0; off < k && err == MF_OK;) {
                size_t used = 0;
                err = s_take(g, keep, g->in + off * (size_t)src->channels, k - off, &used);
                off += used;
            }
            if (err != MF_OK) return s_resampler_failed(err, why, n);
        } else {
            size_t used = 0;
            mf_err_t err = s_take(g, keep, NULL, 0, &used);
            if (err != MF_OK) return s_resampler_failed(err, why, n);
        }
    }
    return MF_OK;
}

mf_err_t mf_source_signal_read_span(mf_source_signal_t *g, int64_t t, size_t n, float *out,
                                    char *why, size_t why_size)
{
    if (!g->soxr) return mf_source_reader_read_span(g->src, t, n, out, why, why_size);
    const size_t ch = (size_t)g->info.channels;
    int64_t from = t - g->info.start, to = from + (int64_t)n;
    if (from < 0) from = 0;
    if (to > g->info.frames) to = g->info.frames;
    memset(out, 0, n * ch * sizeof *out);
    if (from >= to) return MF_OK;
    if (from < g->held_t) return MF_ERR_INVALID; /* sequential readers only */
    mf_err_t err = s_make(g, from, to, why, why_size);
    if (err != MF_OK) return err;
    /* Fewer frames than the count promised: zeros (soxr gives the count;
     * the hold is a guard). */
    const int64_t have = g->held_t + (int64_t)g->held_n < to ? g->held_t + (int64_t)g->held_n : to;
    if (have > from)
        memcpy(out + (size_t)(g->info.start + from - t) * ch,
               g->held + (size_t)(from - g->held_t) * ch, (size_t)(have - from) * ch * sizeof *out);
    return MF_OK;
}
