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
 * their loops are skipped, with the same bits as running them.
 *
 * The ballistics are recursive, one frame after another: 12 cycles a frame
 * of latency, the compressor's cost. They run as a prefix scan over groups
 * of MF_BALLISTICS_LANES frames (the kernel's, mf_ballistics_kernel.h).
 * Groups are counted from the first frame, not from the call, and a call
 * that ends inside a group keeps its gain changes to redo the group whole,
 * so the bits never depend on how the signal was cut into blocks. */
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
    mf_ballistics_set(&g->bal, g->att, g->rel);
    g->makeup_target = (float)v[MF_COMP_MAKEUP];
    g->mix_target = (float)mf_dsp_clamp(mix, 0, 1);
}

void mf_comp_gain_settle(mf_comp_gain_t *g)
{
    g->makeup_db = g->makeup_target;
    g->mix = g->mix_target;
}

/* Ballistics on the gain changes gr, in place (the kernel's): whole
 * groups straight from gr; a group the call begins or ends inside of is
 * gathered in g->part and run whole (zeros past its last frame, which no
 * earlier lane sees), its state carried on only once it is complete. */
static void s_ballistics(mf_comp_gain_t *g, float *gr, size_t n)
{
    enum { L = MF_BALLISTICS_LANES };
    float st[2] = {g->y1, g->y};
    size_t i = 0;
    while (i < n) {
        if (g->part_n == 0) {
            const size_t groups = (n - i) / L;
            g->k->ballistics(gr + i, groups, &g->bal, st);
            i += groups * L;
        }
        if (i == n) break;
        /* A group an earlier call began, or one this call ends inside of. */
        const int m = g->part_n;
        const size_t room = (size_t)(L - m);
        const int take = (int)(n - i < room ? n - i : room);
        float r[L] = {0}, part_st[2] = {st[0], st[1]};
        memcpy(r, g->part, (size_t)m * sizeof *r);
        memcpy(r + m, gr + i, (size_t)take * sizeof *r);
        memcpy(g->part, r, sizeof r);
        g->k->ballistics(r, 1, &g->bal, part_st);
        memcpy(gr + i, r + m, (size_t)take * sizeof *r);
        if (m + take == L) { /* the group is whole: carry its end */
            st[0] = part_st[0], st[1] = part_st[1];
            g->part_n = 0;
        } else {
            g->part_n = m + take;
        }
        i += (size_t)take;
    }
    g->y1 = st[0], g->y = st[1];
}

/* Eight floats in GCC's vector type, for the element-wise loops below. */
#define V8 8
typedef float v8f __attribute__((vector_size(V8 * sizeof(float))));
#define SPLAT(x) ((v8f){0} + (x))

/* x[i] = c - x[i], eight at a time: at -O2 GCC keeps a loop of unknown
 * length scalar (its "very cheap" cost model), and this one ran on every
 * sample of every compressor. Element-wise, so the same bits. */
static void s_sub_from(float *x, float c, size_t n)
{
    const v8f cv = SPLAT(c);
    size_t i = 0;
    for (; i + V8 <= n; i += V8) {
        v8f v;
        memcpy(&v, x + i, sizeof v);
        v = cv - v;
        memcpy(x + i, &v, sizeof v);
    }
    for (; i < n; i++) x[i] = c - x[i];
}

/* x[i] = (1 - mix) + mix * x[i], the same way. */
static void s_blend(float *x, float mix, size_t n)
{
    const v8f dry = SPLAT(1.0f - mix), wet = SPLAT(mix);
    size_t i = 0;
    for (; i + V8 <= n; i += V8) {
        v8f v;
        memcpy(&v, x + i, sizeof v);
        v = dry + wet * v;
        memcpy(x + i, &v, sizeof v);
    }
    for (; i < n; i++) x[i] = (1.0f - mix) + mix * x[i];
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
    s_ballistics(g, g->gr, n);
    const float sm = g->smooth_c;
    /* Makeup: gr = makeup - y, gliding while it moves. */
    float mk = g->makeup_db;
    const float mkt = g->makeup_target;
    if (mk == mkt) {
        s_sub_from(g->gr, mk, n);
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
        if (mx != 1.0f) s_blend(g->lvl, mx, n);
    } else {
        for (size_t i = 0; i < n; i++) {
            mx = mxt + sm * (mx - mxt);
            g->lvl[i] = (1.0f - mx) + mx * g->lvl[i];
        }
        g->mix = mx;
    }
    return g->lvl;
}
