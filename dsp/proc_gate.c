/* gate: opens when the linked peak level (max |x| over channels) reaches
 * the threshold, stays open hold_ms after the level last did, then closes to
 * range_db below unity. The gain moves with attack_ms when opening and
 * release_ms when closing (one-pole, 63 % time constants). */
#include "mf_dsp_util.h"
#include "mf_kernels.h"
#include "mf_processor.h"

#include <stdlib.h>

enum { P_THR, P_RANGE, P_ATT, P_HOLD, P_REL, N_PARAMS };

static const mf_param_desc_t s_params[] = {
    [P_THR] = {"threshold_db", "dB", -50, -100, 0, NULL, "peak level that opens the gate"},
    [P_RANGE] = {"range_db", "dB", -80, -120, 0, NULL, "gain when closed"},
    [P_ATT] = {"attack_ms", "ms", 1, 0.01, 500, NULL, "opening time constant"},
    [P_HOLD] = {"hold_ms", "ms", 50, 0, 5000, NULL, "time kept open after the level drops"},
    [P_REL] = {"release_ms", "ms", 100, 1, 5000, NULL, "closing time constant"},
};

typedef struct {
    const mf_dsp_kernels_t *k;
    int ch;
    double rate;
    float thr, closed, att, rel, g;
    size_t hold, left;
    float lvl[MF_DSP_CHUNK];
} gate_t;

static void gate_update(void *st, const double *v)
{
    gate_t *g = st;
    g->thr = (float)pow(10.0, v[P_THR] / 20.0);
    g->closed = (float)pow(10.0, mf_dsp_clamp(v[P_RANGE], -120, 0) / 20.0);
    g->att = (float)mf_dsp_time_coef(v[P_ATT], g->rate);
    g->rel = (float)mf_dsp_time_coef(v[P_REL], g->rate);
    g->hold = mf_dsp_ms_frames(v[P_HOLD], g->rate);
}

static void *gate_create(const double *v, size_t nbands, const mf_proc_env_t *env)
{
    (void)nbands;
    gate_t *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->k = mf_dsp_kernels();
    g->ch = env->channels;
    g->rate = env->sample_rate;
    gate_update(g, v);
    g->g = g->closed;
    return g;
}

static void gate_chunk(void *st, float *b, size_t n, const float *key)
{
    (void)key;
    gate_t *g = st;
    g->k->detect(g->lvl, b, n, g->ch, 0);
    for (size_t j = 0; j < n; j++) {
        if (g->lvl[j] >= g->thr)
            g->left = g->hold + 1;
        else if (g->left)
            g->left--;
        const float t = g->left ? 1.0f : g->closed;
        g->g = t + (t > g->g ? g->att : g->rel) * (g->g - t);
        g->lvl[j] = g->g;
    }
    g->k->gain_apply(b, b, g->lvl, n, g->ch);
}

static void gate_process(void *st, float *buf, size_t frames, const float *key)
{
    mf_dsp_in_chunks(st, ((gate_t *)st)->ch, buf, frames, key, MF_DSP_CHUNK, gate_chunk);
}

const mf_processor_class_t mf_proc_gate = {
    .type = "gate",
    .summary = "noise gate with hold and range",
    .params = s_params,
    .n_params = N_PARAMS,
    .create = gate_create,
    .update = gate_update,
    .process = gate_process,
    .destroy = free,
};
