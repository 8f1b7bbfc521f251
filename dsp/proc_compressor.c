/* compressor: feed-forward, stereo-linked, gain computed in dB.
 *
 * Per chunk: sidechain (key or the input, optionally high-passed) -> linked
 * detector (peak: max |x| over channels; rms: mean square over channels,
 * averaged with a 10 ms time constant) -> static curve with soft knee
 * (kernel gain_computer) -> attack/release smoothing of the gain reduction
 * in dB (the "smooth decoupled" peak detector of Giannoulis, Massberg and
 * Reiss, JAES 2012, eq. 17: an instant-attack peak hold that releases with
 * release_ms, smoothed by a one-pole with attack_ms; so attack_ms is exactly
 * the 63 % rise time, and a release is that cascade of two one-poles) ->
 * makeup -> linear gain -> applied to the input delayed by the look-ahead.
 * mix blends dry and compressed as one gain, (1 - mix) + mix * g, which is
 * exact because both paths are the same delayed signal.
 *
 * lookahead_ms is fixed when the instance is made: it is the latency the
 * graph compensates, so it cannot move while audio flows. */
#include "mf_biquad.h"
#include "mf_dsp_util.h"
#include "mf_kernels.h"
#include "mf_processor.h"

#include <stdlib.h>
#include <string.h>

enum { P_THR, P_RATIO, P_ATT, P_REL, P_KNEE, P_MAKEUP, P_DET, P_LOOK, P_SCHPF, P_MIX, N_PARAMS };

static const char *const s_detectors[] = {"peak", "rms", NULL};

static const mf_param_desc_t s_params[] = {
    [P_THR] = {"threshold_db", "dB", -20, -80, 0, NULL, "level where compression starts"},
    [P_RATIO] = {"ratio", "ratio", 4, 1, 100, NULL, "input dB over threshold per output dB"},
    [P_ATT] = {"attack_ms", "ms", 10, 0.01, 500, NULL,
               "time for the gain reduction to cover 63 % of a rise"},
    [P_REL] = {"release_ms", "ms", 100, 1, 5000, NULL,
               "time for the gain reduction to cover 63 % of a fall"},
    [P_KNEE] = {"knee_db", "dB", 0, 0, 24, NULL, "soft knee width centred on the threshold"},
    [P_MAKEUP] = {"makeup_db", "dB", 0, -24, 48, NULL, "gain after compression (wet path)"},
    [P_DET] = {"detector", "", 0, 0, 1, s_detectors, "peak or rms (10 ms) level detection"},
    [P_LOOK] = {"lookahead_ms", "ms", 0, 0, 50, NULL, "look-ahead; adds as much latency"},
    [P_SCHPF] = {"sidechain_hpf_hz", "Hz", 0, 0, 2000, NULL,
                 "12 dB/oct highpass on the detector input; 0 is off"},
    [P_MIX] = {"mix", "", 1, 0, 1, NULL, "0 dry ... 1 fully compressed (parallel compression)"},
};

typedef struct {
    const mf_dsp_kernels_t *k;
    int ch;
    double rate;
    mf_gain_curve_t curve;
    int rms, hpf_on;
    float att, rel, rms_c, smooth_c;
    float ms, y1, y, makeup_db, makeup_target, mix, mix_target;
    mf_biquad_cascade_t hpf;
    size_t look, pos; /* look-ahead frames, ring position */
    float *ring;      /* look * ch samples */
    float sc[2 * MF_DSP_CHUNK], lvl[MF_DSP_CHUNK], gr[MF_DSP_CHUNK], mixv[MF_DSP_CHUNK];
} comp_t;

static void comp_update(void *st, const double *v)
{
    comp_t *c = st;
    c->curve.threshold_db = (float)v[P_THR];
    c->curve.slope = (float)(1.0 / mf_dsp_clamp(v[P_RATIO], 1, 100) - 1.0);
    c->curve.knee_db = (float)mf_dsp_clamp(v[P_KNEE], 0, 48);
    c->rms = v[P_DET] >= 0.5;
    c->curve.db_scale = c->rms ? 10.0f : 20.0f;
    c->att = (float)mf_dsp_time_coef(v[P_ATT], c->rate);
    c->rel = (float)mf_dsp_time_coef(v[P_REL], c->rate);
    c->makeup_target = (float)v[P_MAKEUP];
    c->mix_target = (float)mf_dsp_clamp(v[P_MIX], 0, 1);
    const int on = v[P_SCHPF] > 0;
    if (on) {
        double k[5];
        mf_biquad_design(k, MF_BQ_HIGHPASS, c->rate, v[P_SCHPF], 0, M_SQRT1_2);
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
    c->k = mf_dsp_kernels();
    c->ch = env->channels;
    c->rate = env->sample_rate;
    c->rms_c = (float)mf_dsp_time_coef(10.0, c->rate);
    c->smooth_c = (float)mf_dsp_time_coef(5.0, c->rate);
    mf_biquad_cascade_reset(&c->hpf, c->ch, 1);
    c->look = mf_dsp_ms_frames(mf_dsp_clamp(v[P_LOOK], 0, 50), c->rate);
    if (c->look) {
        c->ring = calloc(c->look * (size_t)c->ch, sizeof *c->ring);
        if (!c->ring) goto fail;
    }
    comp_update(c, v);
    c->makeup_db = c->makeup_target;
    c->mix = c->mix_target;
    return c;
fail:
    comp_destroy(c);
    return NULL;
}

static void comp_chunk(comp_t *c, float *buf, size_t n, const float *key)
{
    const float *src = key ? key : buf;
    if (c->hpf_on) {
        c->k->biquad(c->sc, src, n, &c->hpf);
        src = c->sc;
    }
    c->k->detect(c->lvl, src, n, c->ch, c->rms);
    if (c->rms) {
        float ms = c->ms;
        for (size_t i = 0; i < n; i++) c->lvl[i] = ms = c->lvl[i] + c->rms_c * (ms - c->lvl[i]);
        c->ms = ms;
    }
    c->k->gain_computer(c->gr, c->lvl, n, &c->curve);
    /* Ballistics on the gain reduction (recursive, so scalar), with makeup
     * and mix smoothed over ~5 ms so automation steps do not click. */
    float y1 = c->y1, y = c->y, mk = c->makeup_db, mx = c->mix;
    const float att = c->att, rel = c->rel, sm = c->smooth_c;
    for (size_t i = 0; i < n; i++) {
        /* Reduction r = -gr >= 0: y1 = max(r, release-decayed y1) holds the
         * peaks, then y follows y1 with the attack time constant. */
        const float r = -c->gr[i];
        y1 = fmaxf(r, r + rel * (y1 - r));
        y = y1 + att * (y - y1);
        mk = c->makeup_target + sm * (mk - c->makeup_target);
        mx = c->mix_target + sm * (mx - c->mix_target);
        c->gr[i] = mk - y;
        c->mixv[i] = mx;
    }
    c->y1 = y1, c->y = y, c->makeup_db = mk, c->mix = mx;
    c->k->db_to_gain(c->lvl, c->gr, n);
    for (size_t i = 0; i < n; i++) c->lvl[i] = (1.0f - c->mixv[i]) + c->mixv[i] * c->lvl[i];
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
    c->k->gain_apply(buf, buf, c->lvl, n, c->ch);
}

static void comp_process(void *st, float *buf, size_t frames, const float *key)
{
    comp_t *c = st;
    const unsigned fp = mf_dsp_denormals_off();
    for (size_t i = 0; i < frames; i += MF_DSP_CHUNK) {
        const size_t n = frames - i < MF_DSP_CHUNK ? frames - i : MF_DSP_CHUNK;
        const size_t off = i * (size_t)c->ch;
        comp_chunk(c, buf + off, n, key ? key + off : NULL);
    }
    mf_dsp_denormals_restore(fp);
}

static size_t comp_latency(const void *st)
{
    return ((const comp_t *)st)->look;
}

const mf_processor_class_t mf_proc_compressor = {
    .type = "compressor",
    .summary = "feed-forward compressor, stereo linked, soft knee, look-ahead, parallel mix",
    .params = s_params,
    .n_params = N_PARAMS,
    .has_sidechain = 1,
    .create = comp_create,
    .update = comp_update,
    .process = comp_process,
    .latency_frames = comp_latency,
    .destroy = comp_destroy,
};
