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
 * of latency, the compressor's cost. Both one-poles are maps of the form
 * y -> max(A, P*y + B) (the attack's with A = 0), and such maps compose into
 * the same form, so MF_COMP_LANES frames at a time are a prefix scan over
 * vector lanes (Hillis and Steele: log2(8) = 3 shifted steps) and only the
 * group's last value carries to the next group. Groups are counted from the
 * first frame, not from the call, and a call that ends inside a group keeps
 * its reductions to redo the group whole, so the bits never depend on how
 * the signal was cut into blocks. Written with GCC vector types and no FMA,
 * so every x86-64 (SSE2 and up) gives the same bits. */
#include "mf_comp.h"

#include <string.h>

typedef float v8f __attribute__((vector_size(4 * MF_COMP_LANES)));
typedef int v8i __attribute__((vector_size(4 * MF_COMP_LANES)));

/* (Macros: a function taking or returning v8f would have an ABI that
 * depends on whether AVX is on.) Lanes of v shifted up by 1, 2 or 4, zeros
 * in: a composed map's identity. */
#define UP1(v) __builtin_shufflevector((v8f){0}, (v), 0, 8, 9, 10, 11, 12, 13, 14)
#define UP2(v) __builtin_shufflevector((v8f){0}, (v), 0, 1, 8, 9, 10, 11, 12, 13)
#define UP4(v) __builtin_shufflevector((v8f){0}, (v), 0, 1, 2, 3, 8, 9, 10, 11)
/* Lane-wise max, exact (a select by bits). */
#define VMAX(a, b) ((v8f)(((v8i)(a) & ((a) > (b))) | ((v8i)(b) & ~((a) > (b)))))

/* The scan of one group: from the reductions a (>= 0; zeros past the last
 * frame, which no earlier lane sees) and the state (Y1, Y) at the group's
 * start (broadcast), the outputs of both one-poles in every lane. For the
 * release map f(y) = max(r, rel*y + (1-rel)*r), the composition of frames
 * 0..k is max(A_k, rel^(k+1)*y + B_k), and step d composes each lane with
 * the d lanes before it (rel^d, the power of d frames; a shifted-in zero
 * (A, B) = (0, 0) is the identity, as every A >= B >= 0). The attack is
 * linear: y_k = att^(k+1)*y + C_k. */
typedef struct {
    v8f rel1, att1, rp, ap, r1, r2, r4, a1, a2, a4;
} scan_t;

#define SCAN(k, a, Y1, Y, y1_out, y_out)                                                           \
    do {                                                                                           \
        v8f A_ = (a), B_ = (k)->rel1 * (a), t_;                                                    \
        t_ = (k)->r1 * UP1(A_) + B_, A_ = VMAX(A_, t_), B_ = (k)->r1 * UP1(B_) + B_;               \
        t_ = (k)->r2 * UP2(A_) + B_, A_ = VMAX(A_, t_), B_ = (k)->r2 * UP2(B_) + B_;               \
        t_ = (k)->r4 * UP4(A_) + B_, A_ = VMAX(A_, t_), B_ = (k)->r4 * UP4(B_) + B_;               \
        t_ = (k)->rp * (Y1) + B_;                                                                  \
        (y1_out) = VMAX(A_, t_);                                                                   \
        v8f C_ = (k)->att1 * (y1_out);                                                             \
        C_ = (k)->a1 * UP1(C_) + C_;                                                               \
        C_ = (k)->a2 * UP2(C_) + C_;                                                               \
        C_ = (k)->a4 * UP4(C_) + C_;                                                               \
        (y_out) = (k)->ap * (Y) + C_;                                                              \
    } while (0)

#define SPLAT(x) ((v8f){0} + (x))
#define LAST(v) __builtin_shufflevector((v), (v), 7, 7, 7, 7, 7, 7, 7, 7)

static void s_scan_init(const mf_comp_gain_t *g, scan_t *k)
{
    memcpy(&k->rp, g->rel_pow, sizeof k->rp);
    memcpy(&k->ap, g->att_pow, sizeof k->ap);
    k->rel1 = SPLAT(1.0f - g->rel), k->att1 = SPLAT(1.0f - g->att);
    k->r1 = SPLAT(g->rel_pow[0]), k->r2 = SPLAT(g->rel_pow[1]), k->r4 = SPLAT(g->rel_pow[3]);
    k->a1 = SPLAT(g->att_pow[0]), k->a2 = SPLAT(g->att_pow[1]), k->a4 = SPLAT(g->att_pow[3]);
}

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

static void s_powers(float c, float *pow)
{
    float p = c;
    for (int k = 0; k < MF_COMP_LANES; k++) pow[k] = p, p *= c;
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
    s_powers(g->att, g->att_pow);
    s_powers(g->rel, g->rel_pow);
    g->makeup_target = (float)v[MF_COMP_MAKEUP];
    g->mix_target = (float)mf_dsp_clamp(mix, 0, 1);
}

void mf_comp_gain_settle(mf_comp_gain_t *g)
{
    g->makeup_db = g->makeup_target;
    g->mix = g->mix_target;
}

/* Ballistics on the reduction r = -gr >= 0, in place: y1 = max(r,
 * release-decayed y1) holds the peaks, then y follows y1 with the attack
 * time constant; gr[i] becomes y. Whole groups straight from gr; a group
 * the call begins or ends inside of goes through g->part. */
#if defined(__x86_64__) && defined(__GNUC__)
/* Eight lanes are one AVX register, two SSE ones with costly shuffles
 * between them: the same arithmetic either way (no FMA), so the same bits. */
__attribute__((target_clones("avx2", "default")))
#endif
static void
s_ballistics(mf_comp_gain_t *g, float *gr, size_t n)
{
    scan_t k;
    s_scan_init(g, &k);
    v8f Y1 = SPLAT(g->y1), Y = SPLAT(g->y), a, y1, y;
    size_t i = 0;
    while (i < n) {
        /* Whole groups in a loop of their own, reading nothing of g: sharing
         * one loop with the partial groups (and a store through gr, which
         * may alias g) made GCC reload every constant and keep the state
         * in memory, about three times the scan's own cost. */
        if (g->part_n == 0)
            for (; i + MF_COMP_LANES <= n; i += MF_COMP_LANES) {
                memcpy(&a, gr + i, sizeof a);
                a = -a;
                SCAN(&k, a, Y1, Y, y1, y);
                memcpy(gr + i, &y, sizeof y);
                Y1 = LAST(y1), Y = LAST(y);
            }
        if (i == n) break;
        /* A group an earlier call began, or one this call ends inside of. */
        const int m = g->part_n;
        const size_t room = (size_t)(MF_COMP_LANES - m);
        const int take = (int)(n - i < room ? n - i : room);
        float r[MF_COMP_LANES] = {0}, out[MF_COMP_LANES];
        memcpy(r, g->part, (size_t)m * sizeof *r);
        for (int j = 0; j < take; j++) r[m + j] = -gr[i + (size_t)j];
        memcpy(&a, r, sizeof a);
        SCAN(&k, a, Y1, Y, y1, y);
        memcpy(out, &y, sizeof out);
        for (int j = 0; j < take; j++) gr[i + (size_t)j] = out[m + j];
        if (m + take == MF_COMP_LANES) { /* the group is whole: carry its end */
            Y1 = LAST(y1), Y = LAST(y);
            g->part_n = 0;
        } else {
            memcpy(g->part, r, sizeof r);
            g->part_n = m + take;
        }
        i += (size_t)take;
    }
    g->y1 = Y1[0], g->y = Y[0];
}

/* x[i] = c - x[i], eight at a time: at -O2 GCC keeps a loop of unknown
 * length scalar (its "very cheap" cost model), and this one ran on every
 * sample of every compressor. Element-wise, so the same bits. */
static void s_sub_from(float *x, float c, size_t n)
{
    const v8f cv = SPLAT(c);
    size_t i = 0;
    for (; i + MF_COMP_LANES <= n; i += MF_COMP_LANES) {
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
    for (; i + MF_COMP_LANES <= n; i += MF_COMP_LANES) {
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
