/* saturation: y = tanh(drive * x), computed at 4x the sample rate (mf_os4)
 * so the harmonics above Nyquist are filtered out instead of folding back.
 * Small signals pass at unity gain; the output never exceeds full scale.
 * The dry path is delayed to match the oversampler, so mix blends
 * time-aligned signals; latency is MF_OS4_LATENCY frames. Runs a block of
 * up to MF_OS4_BLOCK frames at a time: drive and mix are smoothed per
 * frame first, then each channel goes up, through the kernel table's tanh
 * and down. */
#include "mf_dsp_util.h"
#include "mf_os4.h"
#include "mf_processor.h"

#include <stdlib.h>

enum { P_DRIVE, P_MIX, N_PARAMS };

static const mf_param_desc_t s_params[] = {
    [P_DRIVE] = {"drive_db", "dB", 6, 0, 48, NULL, "gain into the tanh curve"},
    [P_MIX] = {"mix", "", 1, 0, 1, NULL, "0 dry ... 1 saturated only"},
};

typedef struct {
    int ch;
    float drive, drive_t, mix, mix_t, sm;
    mf_os4_filter_t f;
    mf_os4_chan_t os[2];
    float dry[MF_OS4_LATENCY][2];
    int dpos;
    float drives[MF_OS4_BLOCK], mixes[MF_OS4_BLOCK], wet[MF_OS4_BLOCK];
} sat_t;

static void sat_update(void *st, const double *v)
{
    sat_t *s = st;
    s->drive_t = (float)pow(10.0, mf_dsp_clamp(v[P_DRIVE], 0, 48) / 20.0);
    s->mix_t = (float)mf_dsp_clamp(v[P_MIX], 0, 1);
}

static void *sat_create(const double *v, size_t nbands, const mf_proc_env_t *env)
{
    (void)nbands;
    sat_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->ch = env->channels;
    s->sm = (float)mf_dsp_time_coef(5.0, env->sample_rate);
    mf_os4_filter_init(&s->f, NULL);
    sat_update(s, v);
    s->drive = s->drive_t, s->mix = s->mix_t;
    return s;
}

/* Up to MF_OS4_BLOCK frames. */
static void sat_block(void *st, float *buf, size_t frames, const float *key)
{
    (void)key;
    sat_t *s = st;
    const size_t ch = (size_t)s->ch;
    for (size_t i = 0; i < frames; i++) {
        s->drive = s->drive_t + s->sm * (s->drive - s->drive_t);
        s->mix = s->mix_t + s->sm * (s->mix - s->mix_t);
        s->drives[i] = s->drive, s->mixes[i] = s->mix;
    }
    for (size_t c = 0; c < ch; c++) {
        mf_os4_chan_t *os = &s->os[c];
        mf_os4_up(&s->f, os, buf + c, ch, frames);
        for (int p = 0; p < 4; p++) {
            float *y = mf_os4_phase(os, p);
            for (size_t i = 0; i < frames; i++) y[i] *= s->drives[i];
            s->f.k->tanh_curve(y, y, frames);
        }
        mf_os4_down(&s->f, os, s->wet);
        int dpos = s->dpos;
        for (size_t i = 0; i < frames; i++) {
            float *x = buf + i * ch + c;
            const float dry = s->dry[dpos][c];
            s->dry[dpos][c] = *x;
            *x = dry + s->mixes[i] * (s->wet[i] - dry);
            if (++dpos == MF_OS4_LATENCY) dpos = 0;
        }
    }
    s->dpos = (int)((size_t)s->dpos + frames) % MF_OS4_LATENCY;
}

static void sat_process(void *st, float *buf, size_t frames, const float *key)
{
    mf_dsp_in_chunks(st, ((sat_t *)st)->ch, buf, frames, key, MF_OS4_BLOCK, sat_block);
}

static size_t sat_latency(const void *st)
{
    (void)st;
    return MF_OS4_LATENCY;
}

const mf_processor_class_t mf_proc_saturation = {
    .type = "saturation",
    .summary = "tanh saturation, 4x oversampled",
    .params = s_params,
    .n_params = N_PARAMS,
    .create = sat_create,
    .update = sat_update,
    .process = sat_process,
    .latency_frames = sat_latency,
    .destroy = free,
};
