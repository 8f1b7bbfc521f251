/* eq: up to 16 bands of second-order sections designed with the RBJ Audio EQ
 * Cookbook (mf_biquad.c). Highpass and lowpass take slope_db_oct: 12 is one
 * section with the band's q, 24/36/48 are Butterworth cascades of order
 * 4/6/8 (q ignored). All sections of all bands run as one cascade through the
 * biquad kernel. */
#include "mf_biquad.h"
#include "mf_bqb.h"
#include "mf_dsp_util.h"
#include "mf_kernels.h"
#include "mf_processor.h"

#include <stdlib.h>
#include <string.h>

#define MAX_BANDS 16
#define SECTIONS_PER_BAND 4

enum { P_KIND, P_FREQ, P_GAIN, P_Q, P_SLOPE, N_BAND_PARAMS };

static const char *const s_kinds[] = {"peak",     "lowshelf", "highshelf", "notch",
                                      "bandpass", "highpass", "lowpass",   NULL};

static const mf_param_desc_t s_band_params[] = {
    [P_KIND] = {"kind", "", 0, 0, 6, s_kinds, "filter shape"},
    [P_FREQ] = {"freq_hz", "Hz", 1000, 10, 24000, NULL,
                "centre, corner or shelf midpoint frequency (clamped below 0.49 x sample rate)"},
    [P_GAIN] = {"gain_db", "dB", 0, -48, 48, NULL, "boost or cut (peak and shelves)"},
    [P_Q] = {"q", "", 0.707, 0.05, 40, NULL,
             "bandwidth; shelves: 0.707 is slope S = 1; highpass/lowpass at 12 dB/oct"},
    [P_SLOPE] = {"slope_db_oct", "dB/oct", 12, 12, 48, NULL,
                 "highpass/lowpass steepness, rounded to 12, 24, 36 or 48 (Butterworth)"},
};

typedef struct {
    const mf_dsp_kernels_t *k;
    double rate;
    size_t nbands;
    int layout[MAX_BANDS]; /* sections per band; a change resets the filter state */
    mf_biquad_cascade_t bq;
    mf_bqb_t *blk; /* bq in blocks, while nothing has changed it */
} eq_t;

static int s_sections(const double *b)
{
    const int kind = (int)b[P_KIND];
    if (kind != MF_BQ_HIGHPASS && kind != MF_BQ_LOWPASS) return 1;
    const int order = 2 * (int)mf_dsp_clamp(round(b[P_SLOPE] / 12.0), 1, 4);
    return order / 2;
}

static void eq_update(void *st, const double *v)
{
    eq_t *e = st;
    int n = 0, changed = 0;
    if (e->blk) { /* from here on, recursive: the values may keep moving */
        mf_bqb_state(e->blk, &e->bq);
        mf_bqb_free(&e->blk);
    }
    for (size_t b = 0; b < e->nbands; b++) {
        const double *p = v + b * N_BAND_PARAMS;
        const mf_bq_kind_t kind = (mf_bq_kind_t)mf_dsp_clamp(p[P_KIND], 0, 6);
        const int ns = s_sections(p);
        changed |= ns != e->layout[b];
        e->layout[b] = ns;
        for (int s = 0; s < ns; s++, n++) {
            double c[5];
            const double q = ns == 1 ? p[P_Q] : mf_butterworth_q(2 * ns, s);
            mf_biquad_design(c, kind, e->rate, p[P_FREQ], p[P_GAIN], q);
            for (int j = 0; j < 5; j++) e->bq.c[n][j] = (float)c[j];
        }
    }
    e->bq.nsec = n;
    if (changed) memset(e->bq.z, 0, sizeof e->bq.z);
}

static void *eq_create(const double *v, size_t nbands, const mf_proc_env_t *env)
{
    if (nbands > MAX_BANDS) return NULL;
    eq_t *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->k = mf_dsp_kernels();
    e->rate = env->sample_rate;
    e->nbands = nbands;
    mf_biquad_cascade_reset(&e->bq, env->channels, 0);
    eq_update(e, v);
    if (!env->automated && mf_bqb_suits(&e->bq) && !(e->blk = mf_bqb_new(&e->bq, e->k))) {
        free(e);
        return NULL;
    }
    return e;
}

static void eq_process(void *st, float *buf, size_t frames, const float *key)
{
    (void)key;
    eq_t *e = st;
    const unsigned fp = mf_dsp_denormals_off();
    if (e->blk)
        mf_bqb_run(e->blk, buf, buf, frames);
    else
        e->k->biquad(buf, buf, frames, &e->bq);
    mf_dsp_denormals_restore(fp);
}

static void eq_destroy(void *st)
{
    eq_t *e = st;
    mf_bqb_free(&e->blk);
    free(e);
}

const mf_processor_class_t mf_proc_eq = {
    .type = "eq",
    .summary = "parametric EQ: peak, shelves, notch, bandpass, Butterworth high/lowpass",
    .band_params = s_band_params,
    .n_band_params = N_BAND_PARAMS,
    .max_bands = MAX_BANDS,
    .create = eq_create,
    .update = eq_update,
    .process = eq_process,
    .destroy = eq_destroy,
};
