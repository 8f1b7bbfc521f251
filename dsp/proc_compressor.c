/* compressor: feed-forward, stereo-linked, gain computed in dB.
 *
 * Per chunk: sidechain (key or the input, optionally high-passed) -> the
 * shared gain path of mf_comp.c (detector, static curve with soft knee,
 * ballistics, makeup, parallel mix) -> applied to the input delayed by the
 * look-ahead. mix blends dry and compressed as one gain, which is exact
 * because both paths are the same delayed signal.
 *
 * lookahead_ms is fixed when the instance is made: it is the latency the
 * graph compensates, so it cannot move while audio flows. */
#include "mf_biquad.h"
#include "mf_comp.h"
#include "mf_dsp_util.h"
#include "mf_kernels.h"
#include "mf_processor.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    mf_comp_gain_t g;
    int ch, hpf_on;
    mf_biquad_cascade_t hpf;
    size_t look, pos; /* look-ahead frames, ring position */
    float *ring;      /* look * ch samples */
    float sc[2 * MF_DSP_CHUNK];
} comp_t;

static void comp_update(void *st, const double *v)
{
    comp_t *c = st;
    mf_comp_gain_set(&c->g, v, v[MF_COMP_DETECTOR] >= 0.5, v[MF_COMP_MIX]);
    const int on = v[MF_COMP_SCHPF] > 0;
    if (on) {
        double k[5];
        mf_biquad_design(k, MF_BQ_HIGHPASS, c->g.rate, v[MF_COMP_SCHPF], 0, M_SQRT1_2);
        for (int j = 0; j < 5; j++) c->hpf.c[0][j] = (float)k[j];
    }
    if (on && !c->hpf_on) memset(c->hpf.z, 0, sizeof c->hpf.z);
    c->hpf_on = on;
}

static void comp_destroy(void *st)
{
    comp_t *c = st;
    if (!c) return;
    free(c->ring);
    free(c);
}

static void *comp_create(const double *v, size_t nbands, const mf_proc_env_t *env)
{
    (void)nbands;
    comp_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->ch = env->channels;
    mf_comp_gain_init(&c->g, c->ch, env->sample_rate);
    mf_biquad_cascade_reset(&c->hpf, c->ch, 1);
    c->look = mf_dsp_ms_frames(mf_dsp_clamp(v[MF_COMP_LOOKAHEAD], 0, 50), env->sample_rate);
    if (c->look) {
        c->ring = calloc(c->look * (size_t)c->ch, sizeof *c->ring);
        if (!c->ring) goto fail;
    }
    comp_update(c, v);
    mf_comp_gain_settle(&c->g);
    return c;
fail:
    comp_destroy(c);
    return NULL;
}

static void comp_chunk(void *st, float *buf, size_t n, const float *key)
{
    comp_t *c = st;
    const float *src = key ? key : buf;
    if (c->hpf_on) {
        c->g.k->biquad(c->sc, src, n, &c->hpf);
        src = c->sc;
    }
    const float *gain = mf_comp_gain_run(&c->g, src, n);
    if (c->look) { /* the audio runs late by look frames: swap through the ring */
        const size_t ch = (size_t)c->ch;
        for (size_t i = 0; i < n; i++) {
            float *r = c->ring + c->pos * ch;
            for (size_t j = 0; j < ch; j++) {
                const float t = r[j];
                r[j] = buf[i * ch + j];
                buf[i * ch + j] = t;
            }
            if (++c->pos == c->look) c->pos = 0;
        }
    }
    c->g.k->gain_apply(buf, buf, gain, n, c->ch);
}

static void comp_process(void *st, float *buf, size_t frames, const float *key)
{
    mf_dsp_in_chunks(st, ((comp_t *)st)->ch, buf, frames, key, MF_DSP_CHUNK, comp_chunk);
}

static size_t comp_latency(const void *st)
{
    return ((const comp_t *)st)->look;
}

const mf_processor_class_t mf_proc_compressor = {
    .type = "compressor",
    .summary = "feed-forward compressor, stereo linked, soft knee, look-ahead, parallel mix",
    .params = mf_comp_params,
    .n_params = MF_COMP_N_PARAMS,
    .has_sidechain = 1,
    .create = comp_create,
    .update = comp_update,
    .process = comp_process,
    .latency_frames = comp_latency,
    .destroy = comp_destroy,
};
