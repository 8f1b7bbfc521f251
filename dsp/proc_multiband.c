/* multiband: up to 6 bands split by Linkwitz-Riley crossovers of 4th order
 * (24 dB/oct: a crossover at f is two Butterworth sections, Q = 1/sqrt(2),
 * lowpass below and highpass above, in phase with each other), each band
 * compressed by the compressor's own gain path (mf_comp.c), then summed.
 *
 * The split is a tree from the lowest crossover up:
 *   band 0 = LP(f0) x, rest = HP(f0) x; band 1 = LP(f1) rest, rest = HP(f1) rest; ...
 * A lower band has passed fewer crossovers than the bands above it, so it
 * goes through the allpass of every crossover above its own (LP^2 + HP^2 of
 * a Linkwitz-Riley pair is exactly that allpass). Every band then carries
 * the same phase, and with compression off the sum is that product of
 * allpasses: flat in magnitude (Linkwitz and Riley, JAES 1976; the
 * compensation of D'Appolito's "Active realization of multiway all-pass
 * crossover systems", JAES 1987).
 *
 * The number of bands is fixed when the instance is made; the crossover
 * frequencies and every band's parameters follow automation (a crossover
 * move changes coefficients, not state). */
#include "mf_biquad.h"
#include "mf_comp.h"
#include "mf_dsp_util.h"
#include "mf_kernels.h"
#include "mf_processor.h"

#include <stdlib.h>
#include <string.h>

#define MAX_BANDS 6
#define MAX_XO (MAX_BANDS - 1)

extern const mf_processor_class_t mf_proc_multiband;

static const double s_default_xo[] = {200.0, 2000.0};

static const mf_list_param_t s_lists[] = {{
    .item = {"crossovers_hz", "Hz", 0, 20, 20000, NULL,
             "crossover frequencies (Linkwitz-Riley, 24 dB/oct); one band more than crossovers"},
    .defaults = s_default_xo,
    .n_defaults = sizeof s_default_xo / sizeof s_default_xo[0],
    .min_count = 1,
    .max_count = MAX_XO,
    .increasing = 1,
    .sets_bands = 1,
}};

typedef struct {
    const mf_dsp_kernels_t *k;
    int ch, nb;
    double rate;
    size_t xo_at;                     /* position of the crossover list in the values */
    double xo[MAX_XO];                /* frequencies in use */
    mf_biquad_cascade_t low[MAX_XO];  /* band k: LP(f_k)^2, then AP(f_j) for j > k */
    mf_biquad_cascade_t high[MAX_XO]; /* what goes on: HP(f_k)^2 */
    mf_comp_gain_t g[MAX_BANDS];
    float band[MAX_BANDS][2 * MF_DSP_CHUNK], rest[2 * MF_DSP_CHUNK];
} mb_t;

/* One section of a crossover at f. The numerators of the lowpass and the
 * highpass are recomputed from the denominator as rounded to float, so that
 * their gains at DC and Nyquist are exactly 1 with the coefficients the
 * filter really uses: the rounding of a1 and a2 near 1 otherwise costs up to
 * 0.006 dB of flatness at low crossovers. (The allpass numerator is the
 * reversed denominator already.) */
static void s_set(float dst[5], mf_bq_kind_t kind, double rate, double f)
{
    double c[5];
    mf_biquad_design(c, kind, rate, f, 0, M_SQRT1_2);
    for (int j = 0; j < 5; j++) dst[j] = (float)c[j];
    const double a1 = dst[3], a2 = dst[4];
    if (kind == MF_BQ_LOWPASS) {
        const double b = (1.0 + a1 + a2) / 4.0; /* H(1) = 4b / (1 + a1 + a2) */
        dst[0] = dst[2] = (float)b, dst[1] = (float)(2.0 * b);
    } else if (kind == MF_BQ_HIGHPASS) {
        const double b = (1.0 - a1 + a2) / 4.0; /* H(-1) = 4b / (1 - a1 + a2) */
        dst[0] = dst[2] = (float)b, dst[1] = (float)(-2.0 * b);
    }
}

/* Crossover k as the values give it: finite, within range, above the one
 * below; a value that is not there (a caller that did not fill the list)
 * falls back to a geometric spread over 100 Hz .. 10 kHz. */
static double s_xo(const mb_t *m, const double *v, int k, double below)
{
    const double count = v[m->xo_at];
    double f = 100.0 * pow(100.0, (k + 1.0) / m->nb);
    if (isfinite(count) && (double)k < count && isfinite(v[m->xo_at + 1 + (size_t)k]))
        f = v[m->xo_at + 1 + (size_t)k];
    f = mf_dsp_clamp(f, 20.0, 0.45 * m->rate);
    return f < below ? below : f;
}

static void s_design(mb_t *m)
{
    for (int k = 0; k < m->nb - 1; k++) {
        mf_biquad_cascade_t *lo = &m->low[k], *hi = &m->high[k];
        s_set(lo->c[0], MF_BQ_LOWPASS, m->rate, m->xo[k]);
        memcpy(lo->c[1], lo->c[0], sizeof lo->c[0]);
        for (int j = k + 1; j < m->nb - 1; j++)
            s_set(lo->c[2 + j - k - 1], MF_BQ_ALLPASS, m->rate, m->xo[j]);
        lo->nsec = 2 + (m->nb - 2 - k);
        s_set(hi->c[0], MF_BQ_HIGHPASS, m->rate, m->xo[k]);
        memcpy(hi->c[1], hi->c[0], sizeof hi->c[0]);
        hi->nsec = 2;
    }
}

static void mb_update(void *st, const double *v)
{
    mb_t *m = st;
    int moved = 0;
    double below = 0.0;
    for (int k = 0; k < m->nb - 1; k++) {
        const double f = s_xo(m, v, k, below);
        moved |= f != m->xo[k];
        m->xo[k] = below = f;
    }
    if (moved) s_design(m);
    for (int b = 0; b < m->nb; b++)
        mf_comp_gain_set(&m->g[b], v + (size_t)b * MF_COMP_N_CORE, 0, 1.0);
}

static void *mb_create(const double *v, size_t nbands, const mf_proc_env_t *env)
{
    mb_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->k = mf_dsp_kernels();
    m->ch = env->channels;
    m->rate = env->sample_rate;
    m->nb = nbands < 1 ? 1 : nbands > MAX_BANDS ? MAX_BANDS : (int)nbands;
    m->xo_at = mf_processor_list_offset(&mf_proc_multiband, nbands, 0);
    for (int k = 0; k < m->nb - 1; k++) {
        mf_biquad_cascade_reset(&m->low[k], m->ch, 0);
        mf_biquad_cascade_reset(&m->high[k], m->ch, 0);
        m->xo[k] = -1.0; /* designed by the first update */
    }
    for (int b = 0; b < m->nb; b++) mf_comp_gain_init(&m->g[b], m->ch, m->rate);
    mb_update(m, v);
    for (int b = 0; b < m->nb; b++) mf_comp_gain_settle(&m->g[b]);
    return m;
}

static void mb_chunk(void *st, float *buf, size_t n, const float *key)
{
    (void)key;
    mb_t *m = st;
    const size_t len = n * (size_t)m->ch;
    const float *src = buf;
    for (int k = 0; k < m->nb - 1; k++) {
        m->k->biquad(m->band[k], src, n, &m->low[k]);
        m->k->biquad(m->rest, src, n, &m->high[k]);
        src = m->rest;
    }
    if (m->nb == 1) memcpy(m->rest, buf, len * sizeof *buf);
    memcpy(m->band[m->nb - 1], m->rest, len * sizeof *buf);
    /* Each band times its own gain, summed in band order. */
    for (int b = 0; b < m->nb; b++) {
        const float *g = mf_comp_gain_run(&m->g[b], m->band[b], n);
        m->k->gain_apply(m->band[b], m->band[b], g, n, m->ch);
    }
    memcpy(buf, m->band[0], len * sizeof *buf);
    for (int b = 1; b < m->nb; b++)
        for (size_t i = 0; i < len; i++) buf[i] += m->band[b][i];
}

static void mb_process(void *st, float *buf, size_t frames, const float *key)
{
    mf_dsp_in_chunks(st, ((mb_t *)st)->ch, buf, frames, key, MF_DSP_CHUNK, mb_chunk);
}

const mf_processor_class_t mf_proc_multiband = {
    .type = "multiband",
    .summary = "multiband compressor: Linkwitz-Riley 24 dB/oct crossovers, phase-compensated, "
               "a compressor per band",
    .band_params = mf_comp_params,
    .n_band_params = MF_COMP_N_CORE,
    .max_bands = MAX_BANDS,
    .create = mb_create,
    .update = mb_update,
    .process = mb_process,
    .destroy = free,
    .lists = s_lists,
    .n_lists = 1,
};
