#include "mf_playback.h"
#include "mf_bqb.h"
#include "mf_dsp_util.h"
#include "mf_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Butterworth Qs for a 4th-order cascade: 1/(2 cos(pi/8)), 1/(2 cos(3 pi/8)). */
#define BW4_Q0 0.5411961
#define BW4_Q1 1.3065630
#define BW2_Q 0.7071068
/* Frames per compressor gain (and detector) update: 0.67 ms at 48 kHz. */
#define GAIN_STEP 32

static const mf_playback_model_t s_models[] = {
    {.name = "phone",
     .what = "a phone's own speaker: mono, nothing below ~300 Hz, a bright peak, protection "
             "compression",
     .mono = 1,
     .width = 1.0,
     .sec = {{MF_BQ_HIGHPASS, 300, 0, BW4_Q0},
             {MF_BQ_HIGHPASS, 300, 0, BW4_Q1},
             {MF_BQ_PEAK, 2500, 4.0, 1.2},
             {MF_BQ_LOWPASS, 11000, 0, BW2_Q}},
     .nsec = 4,
     .comp_threshold_db = -24,
     .comp_ratio = 3,
     .comp_attack_ms = 5,
     .comp_release_ms = 150},
    {.name = "earbuds",
     .what = "unsealed earbuds: weak deep bass, the ear-canal peak near 3 kHz, soft top",
     .width = 1.0,
     .sec = {{MF_BQ_HIGHPASS, 50, 0, BW2_Q},
             {MF_BQ_PEAK, 2800, 3.0, 1.0},
             {MF_BQ_HIGHSHELF, 9000, -3.0, BW2_Q}},
     .nsec = 3},
    {.name = "laptop",
     .what = "laptop speakers: nothing below ~200 Hz, a boxy resonance, a narrow image, "
             "compression",
     .width = 0.4,
     .sec = {{MF_BQ_HIGHPASS, 200, 0, BW4_Q0},
             {MF_BQ_HIGHPASS, 200, 0, BW4_Q1},
             {MF_BQ_PEAK, 900, 4.0, 1.5},
             {MF_BQ_LOWPASS, 14000, 0, BW2_Q}},
     .nsec = 4,
     .comp_threshold_db = -22,
     .comp_ratio = 2.5,
     .comp_attack_ms = 5,
     .comp_release_ms = 120},
    {.name = "car",
     .what = "a car: cabin gain lifts the bass, upholstery soaks up the top",
     .width = 1.0,
     .sec = {{MF_BQ_HIGHPASS, 35, 0, BW2_Q},
             {MF_BQ_LOWSHELF, 90, 6.0, BW2_Q},
             {MF_BQ_HIGHSHELF, 7000, -4.0, BW2_Q}},
     .nsec = 3},
    {.name = "club",
     .what = "a club system: mono, subs to ~35 Hz tuned hot, air absorption, a system limiter",
     .mono = 1,
     .width = 1.0,
     .sec = {{MF_BQ_HIGHPASS, 35, 0, BW4_Q0},
             {MF_BQ_HIGHPASS, 35, 0, BW4_Q1},
             {MF_BQ_LOWSHELF, 100, 6.0, BW2_Q},
             {MF_BQ_HIGHSHELF, 10000, -3.0, BW2_Q}},
     .nsec = 4,
     .comp_threshold_db = -12,
     .comp_ratio = 4,
     .comp_attack_ms = 10,
     .comp_release_ms = 200},
    {.name = "mono",
     .what = "the master summed to mono, (L+R)/2, nothing else",
     .mono = 1,
     .width = 1.0},
};

const mf_playback_model_t *mf_playback_models(size_t *count)
{
    *count = sizeof s_models / sizeof s_models[0];
    return s_models;
}

struct mf_playback {
    const mf_playback_model_t *m;
    const mf_dsp_kernels_t *k;
    int in_ch, out_ch;
    mf_biquad_cascade_t bq;
    mf_bqb_t *blk;              /* bq in blocks, when that suits it */
    float env;                  /* compressor (m->comp_threshold_db < 0): smoothed mean square */
    double att, rel;            /* its coefficients (per sample) */
    float att_block, rel_block; /* att and rel over GAIN_STEP frames */
    float thr_ms, half_slope;   /* the threshold as a mean square; (1/ratio - 1) / 2 */
    float gain;                 /* the compressor's last gain */
};

mf_playback_t *mf_playback_new(const mf_playback_model_t *m, double rate, int in_channels)
{
    if (in_channels != 1 && in_channels != 2) return NULL;
    mf_playback_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->m = m, p->k = mf_dsp_kernels(), p->in_ch = in_channels;
    p->out_ch = m->mono ? 1 : in_channels;
    p->gain = 1.0f;
    mf_biquad_cascade_reset(&p->bq, p->out_ch, m->nsec);
    for (int s = 0; s < m->nsec; s++) {
        double c[5];
        mf_biquad_design(c, m->sec[s].kind, rate, m->sec[s].f0, m->sec[s].gain_db, m->sec[s].q);
        for (int i = 0; i < 5; i++) p->bq.c[s][i] = (float)c[i];
    }
    if (m->comp_threshold_db < 0) {
        p->att = exp(-1.0 / (m->comp_attack_ms * 1e-3 * rate));
        p->rel = exp(-1.0 / (m->comp_release_ms * 1e-3 * rate));
        p->thr_ms = (float)pow(10.0, m->comp_threshold_db / 10.0);
        p->half_slope = (float)((1.0 / m->comp_ratio - 1.0) / 2.0);
        p->att_block = (float)pow(p->att, GAIN_STEP);
        p->rel_block = (float)pow(p->rel, GAIN_STEP);
    }
    if (mf_bqb_suits(&p->bq) && !(p->blk = mf_bqb_new(&p->bq, p->k))) mf_playback_free(&p);
    return p;
}

int mf_playback_channels(const mf_playback_t *p)
{
    return p->out_ch;
}

/* Feed-forward: the detector runs at the gain's rate. Every GAIN_STEP
 * frames it takes the block's mean square (over its frames and channels) and
 * moves the smoothed level toward it by the attack or release coefficient
 * raised to the block's length, which keeps the per-sample time constants
 * (a per-sample loop is serial and cost more than the filters). Above the
 * threshold the level is cut by (1 - 1/ratio) of the excess (a hard knee);
 * the gain is ramped linearly between blocks. */
#define SUM_LANES 8 /* independent partial sums: the block's sum vectorises */
static float s_block_ms(const float *b, size_t n)
{
    float acc[SUM_LANES] = {0};
    size_t i = 0;
    for (; i + SUM_LANES <= n; i += SUM_LANES)
        for (int l = 0; l < SUM_LANES; l++) acc[l] += b[i + l] * b[i + l];
    for (; i < n; i++) acc[0] += b[i] * b[i];
    float s = 0.0f;
    for (int l = 0; l < SUM_LANES; l++) s += acc[l];
    return s / (float)n;
}

static void s_compress(mf_playback_t *p, float *x, size_t frames)
{
    const int ch = p->out_ch;
    for (size_t i0 = 0; i0 < frames; i0 += GAIN_STEP) {
        const size_t n = frames - i0 < GAIN_STEP ? frames - i0 : GAIN_STEP;
        float *b = x + i0 * (size_t)ch;
        const float ms = s_block_ms(b, n * (size_t)ch);
        const int full = n == GAIN_STEP;
        const float coef = ms > p->env ? (full ? p->att_block : (float)pow(p->att, (double)n))
                                       : (full ? p->rel_block : (float)pow(p->rel, (double)n));
        p->env = ms + coef * (p->env - ms);
        /* 10^(slope (10 log10(env) - thr) / 20) without a log: one power in
         * float, and none at all under the threshold. */
        const float g1 = p->env > p->thr_ms ? powf(p->env / p->thr_ms, p->half_slope) : 1.0f;
        p->k->gain_ramp(b, b, n, ch, p->gain, g1);
        p->gain = g1;
    }
}

void mf_playback_process(mf_playback_t *p, float *restrict out, const float *restrict in,
                         size_t frames)
{
    const mf_playback_model_t *m = p->m;
    /* As inside every processor: a decaying filter state must not crawl
     * through subnormals (tests/dsp/test_denormal.c). */
    const unsigned fp = mf_dsp_denormals_off();
    if (p->in_ch == 1) {
        memcpy(out, in, frames * sizeof *out);
    } else if (p->out_ch == 1) {
        for (size_t i = 0; i < frames; i++) out[i] = 0.5f * (in[2 * i] + in[2 * i + 1]);
    } else {
        const float w = (float)m->width;
        for (size_t i = 0; i < frames; i++) {
            const float mid = 0.5f * (in[2 * i] + in[2 * i + 1]);
            const float side = 0.5f * (in[2 * i] - in[2 * i + 1]) * w;
            out[2 * i] = mid + side, out[2 * i + 1] = mid - side;
        }
    }
    if (p->blk)
        mf_bqb_run(p->blk, out, out, frames);
    else if (m->nsec)
        p->k->biquad(out, out, frames, &p->bq);
    if (m->comp_threshold_db < 0) s_compress(p, out, frames);
    mf_dsp_denormals_restore(fp);
}

void mf_playback_free(mf_playback_t **pp)
{
    if (!pp || !*pp) return;
    mf_bqb_free(&(*pp)->blk);
    free(*pp);
    *pp = NULL;
}
