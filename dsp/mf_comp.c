/* The compressor's gain path (mf_comp.h).
 *
 * Per chunk: linked detector (peak: max |x| over channels; rms: mean square
 * over channels, averaged with a 10 ms time constant) -> static curve with
 * soft knee (kernel gain_computer) -> attack/release smoothing of the gain
 * reduction in dB (the "smooth decoupled" peak detector of Giannoulis,
 * Massberg and Reiss, JAES 2012, eq. 17: an instant-attack peak hold that
 * releases with release_ms, smoothed by a one-pole with attack_ms; so
 * attack_ms is exactly the 63 % rise time, and a release is that cascade of
 * two one-poles) -> makeup -> linear gain. mix blends dry and compressed as
 * one gain, (1 - mix) + mix * g.
 *
 * Makeup and mix glide over ~5 ms; once they have reached their targets
 * (exactly: the glide's arithmetic lands on them) they are constants and
 * their loops are skipped, with the same bits as running them. */
#include "mf_comp.h"

#include <string.h>

static const char *const s_detectors[] = {"peak", "rms", NULL};

const mf_param_desc_t mf_comp_params[MF_COMP_N_PARAMS] = {
    [MF_COMP_THRESHOLD] = {"threshold_db", "dB", -20, -80, 0, NULL,
                           "level where compression starts"},
    [MF_COMP_RATIO] = {"ratio", "ratio", 4, 1, 100, NULL, "input dB over threshold per output dB"},
    [MF_COMP_ATTACK] = {"attack_ms", "ms", 10, 0.01, 500, NULL,
                        "time for the gain reduction to cover 63 % of a rise"},
    [MF_COMP_RELEASE] = {"release_ms", "ms", 100, 1, 5000, NULL,
                         "time for the gain reduction to cover 63 % of a fall"},
    [MF_COMP_KNEE] = {"knee_db", "dB", 0, 0, 24, NULL, "soft knee width centred on the threshold"},
    [MF_COMP_MAKEUP] = {"makeup_db", "dB", 0, -24, 48, NULL, "gain after compression (wet path)"},
    [MF_COMP_DETECTOR] = {"detector", "", 0, 0, 1, s_detectors,
                          "peak or rms (10 ms) level detection"},
    [MF_COMP_LOOKAHEAD] = {"lookahead_ms", "ms", 0, 0, 50, NULL,
                           "look-ahead; adds as much latency"},
    [MF_COMP_SCHPF] = {"sidechain_hpf_hz", "Hz", 0, 0, 2000, NULL,
                       "12 dB/oct highpass on the detector input; 0 is off"},
    [MF_COMP_MIX] = {"mix", "", 1, 0, 1, NULL,
                     "0 dry ... 1 fully compressed (parallel compression)"},
};

void mf_comp_gain_init(mf_comp_gain_t *g, int channels, double rate)
{
    memset(g, 0, sizeof *g);
    g->k = mf_dsp_kernels();
    g->ch = channels;
    g->rate = rate;
    g->rms_c = (float)mf_dsp_time_coef(10.0, rate);
    g->smooth_c = (float)mf_dsp_time_coef(5.0, rate);
}

void mf_comp_gain_set(mf_comp_gain_t *g, const double *v, int rms, double mix)
{
    g->curve.threshold_db = (float)v[MF_COMP_THRESHOLD];
    g->curve.slope = (float)(1.0 / mf_dsp_clamp(v[MF_COMP_RATIO], 1, 100) - 1.0);
    g->curve.knee_db = (float)mf_dsp_clamp(v[MF_COMP_KNEE], 0, 48);
    g->rms = rms;
    g->curve.db_scale = rms ? 10.0f : 20.0f;
    g->att = (float)mf_dsp_time_coef(v[MF_COMP_ATTACK], g->rate);
    g->rel = (float)mf_dsp_time_coef(v[MF_COMP_RELEASE], g->rate);
    g->makeup_target = (float)v[MF_COMP_MAKEUP];
    g->mix_target = (float)mf_dsp_clamp(mix, 0, 1);
}

void mf_comp_gain_settle(mf_comp_gain_t *g)
{
    g->makeup_db = g->makeup_target;
    g->mix = g->mix_target;
}

const float *mf_comp_gain_run(mf_comp_gain_t *g, const float *det, size_t n)
{
    g->k->detect(g->lvl, det, n, g->ch, g->rms);
    if (g->rms) {
        float ms = g->ms;
        for (size_t i = 0; i < n; i++) g->lvl[i] = ms = g->lvl[i] + g->rms_c * (ms - g->lvl[i]);
        g->ms = ms;
    }
    g->k->gain_computer(g->gr, g->lvl, n, &g->curve);
    /* Ballistics on the reduction r = -gr >= 0 (recursive, so scalar):
     * y1 = max(r, release-decayed y1) holds the peaks, then y follows y1
     * with the attack time constant. Each one-pole is written c*y + (1-c)*x
     * so that only a multiply and an add (and the max) lie on the loop's
     * dependency chain: 9 cycles a sample instead of 13 for y + c*(y - x).
     * Plain SSE arithmetic, no FMA, so every x86-64 worker gives the same
     * bits. */
    float y1 = g->y1, y = g->y;
    const float att = g->att, rel = g->rel, sm = g->smooth_c;
    const float att1 = 1.0f - att, rel1 = 1.0f - rel;
    for (size_t i = 0; i < n; i++) {
        const float r = -g->gr[i], t = rel * y1 + rel1 * r;
        y1 = r > t ? r : t;
        y = att * y + att1 * y1;
        g->gr[i] = y;
    }
    g->y1 = y1, g->y = y;
    /* Makeup: gr = makeup - y, gliding while it moves. */
    float mk = g->makeup_db;
    const float mkt = g->makeup_target;
    if (mk == mkt) {
        for (size_t i = 0; i < n; i++) g->gr[i] = mk - g->gr[i];
    } else {
        for (size_t i = 0; i < n; i++) {
            mk = mkt + sm * (mk - mkt);
            g->gr[i] = mk - g->gr[i];
        }
        g->makeup_db = mk;
    }
    g->k->db_to_gain(g->lvl, g->gr, n);
    /* Mix: (1 - mix) + mix * g, which is g itself at mix 1. */
    float mx = g->mix;
    const float mxt = g->mix_target;
    if (mx == mxt) {
        if (mx != 1.0f)
            for (size_t i = 0; i < n; i++) g->lvl[i] = (1.0f - mx) + mx * g->lvl[i];
    } else {
        for (size_t i = 0; i < n; i++) {
            mx = mxt + sm * (mx - mxt);
            g->lvl[i] = (1.0f - mx) + mx * g->lvl[i];
        }
        g->mix = mx;
    }
    return g->lvl;
}
