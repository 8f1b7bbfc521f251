/* width: mid/side. M = (L+R)/2, S = (L-R)/2; S is scaled by amount (0 mono,
 * 1 unchanged, 2 twice as wide) and, when mono_below_hz > 0, high-passed
 * (Butterworth, 24 dB/oct) so the low end is mono. L = M + S, R = M - S.
 * On a mono signal there is no side: the processor does nothing. */
#include "mf_biquad.h"
#include "mf_dsp_util.h"
#include "mf_kernels.h"
#include "mf_processor.h"

#include <stdlib.h>
#include <string.h>

enum { P_AMOUNT, P_MONO, N_PARAMS };

static const mf_param_desc_t s_params[] = {
    [P_AMOUNT] = {"amount", "", 1, 0, 2, NULL, "side level: 0 mono, 1 as is, 2 wide"},
    [P_MONO] = {"mono_below_hz", "Hz", 0, 0, 500, NULL,
                "side removed below this frequency (24 dB/oct); 0 is off"},
};

typedef struct {
    const mf_dsp_kernels_t *k;
    int ch, hpf_on;
    double rate;
    float amount, amount_t, sm;
    mf_biquad_cascade_t hpf;
    float side[MF_DSP_CHUNK];
} width_t;

static void width_update(void *st, const double *v)
{
    width_t *w = st;
    w->amount_t = (float)mf_dsp_clamp(v[P_AMOUNT], 0, 2);
    const int on = v[P_MONO] > 0;
    for (int s = 0; on && s < 2; s++) {
        double c[5];
        mf_biquad_design(c, MF_BQ_HIGHPASS, w->rate, v[P_MONO], 0, mf_butterworth_q(4, s));
        for (int j = 0; j < 5; j++) w->hpf.c[s][j] = (float)c[j];
    }
    if (on && !w->hpf_on) memset(w->hpf.z, 0, sizeof w->hpf.z);
    w->hpf_on = on;
}

static void *width_create(const double *v, size_t nbands, const mf_proc_env_t *env)
{
    (void)nbands;
    width_t *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->k = mf_dsp_kernels();
    w->ch = env->channels;
    w->rate = env->sample_rate;
    w->sm = (float)mf_dsp_time_coef(5.0, w->rate);
    mf_biquad_cascade_reset(&w->hpf, 1, 2);
    width_update(w, v);
    w->amount = w->amount_t;
    return w;
}

static void width_process(void *st, float *buf, size_t frames, const float *key)
{
    (void)key;
    width_t *w = st;
    if (w->ch != 2) return;
    const unsigned fp = mf_dsp_denormals_off();
    for (size_t i = 0; i < frames; i += MF_DSP_CHUNK) {
        const size_t n = frames - i < MF_DSP_CHUNK ? frames - i : MF_DSP_CHUNK;
        float *b = buf + 2 * i;
        for (size_t j = 0; j < n; j++) w->side[j] = 0.5f * (b[2 * j] - b[2 * j + 1]);
        if (w->hpf_on) w->k->biquad(w->side, w->side, n, &w->hpf);
        for (size_t j = 0; j < n; j++) {
            /* Smoothed amount; snaps to the target so 0 gives exact mono. */
            w->amount = w->amount_t + w->sm * (w->amount - w->amount_t);
            if (fabsf(w->amount - w->amount_t) < 1e-6f) w->amount = w->amount_t;
            const float m = 0.5f * (b[2 * j] + b[2 * j + 1]), s = w->amount * w->side[j];
            b[2 * j] = m + s, b[2 * j + 1] = m - s;
        }
    }
    mf_dsp_denormals_restore(fp);
}

const mf_processor_class_t mf_proc_width = {
    .type = "width",
    .summary = "mid/side stereo width with mono bass",
    .params = s_params,
    .n_params = N_PARAMS,
    .create = width_create,
    .update = width_update,
    .process = width_process,
    .destroy = free,
};
