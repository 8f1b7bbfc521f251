/* saturation: y = tanh(drive * x), computed at 4x the sample rate (mf_os4)
 * so the harmonics above Nyquist are filtered out instead of folding back.
 * Small signals pass at unity gain; the output never exceeds full scale.
 * The dry path is delayed to match the oversampler, so mix blends
 * time-aligned signals; latency is MF_OS4_LATENCY frames. */
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
    mf_os4_filter_init(&s->f);
    sat_update(s, v);
    s->drive = s->drive_t, s->mix = s->mix_t;
    return s;
}

static void sat_process(void *st, float *buf, size_t frames, const float *key)
{
    (void)key;
    sat_t *s = st;
    const unsigned fp = mf_dsp_denormals_off();
    for (size_t i = 0; i < frames; i++) {
        s->drive = s->drive_t + s->sm * (s->drive - s->drive_t);
        s->mix = s->mix_t + s->sm * (s->mix - s->mix_t);
        for (int c = 0; c < s->ch; c++) {
            float *x = buf + i * (size_t)s->ch + (size_t)c, y[4];
            mf_os4_up(&s->f, &s->os[c], *x, y);
            for (int p = 0; p < 4; p++) y[p] = tanhf(s->drive * y[p]);
            const float wet = mf_os4_down(&s->f, &s->os[c], y);
            const float dry = s->dry[s->dpos][c];
            s->dry[s->dpos][c] = *x;
            *x = dry + s->mix * (wet - dry);
        }
        if (++s->dpos == MF_OS4_LATENCY) s->dpos = 0;
    }
    mf_dsp_denormals_restore(fp);
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
