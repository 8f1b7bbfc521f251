#include "mf_analysis_blob.h"
#include "mf_le.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "MFAN"
#define VERSION 1u

/* The double fields, in the blob's order. */
static const size_t s_doubles[] = {
    offsetof(mf_analysis_t, rate),
    offsetof(mf_analysis_t, duration_s),
    offsetof(mf_analysis_t, integrated_lufs),
    offsetof(mf_analysis_t, lra_lu),
    offsetof(mf_analysis_t, momentary_max_lufs),
    offsetof(mf_analysis_t, short_term_max_lufs),
    offsetof(mf_analysis_t, true_peak_dbtp),
    offsetof(mf_analysis_t, true_peak_at_s),
    offsetof(mf_analysis_t, sample_peak_dbfs),
    offsetof(mf_analysis_t, sample_peak_at_s),
    offsetof(mf_analysis_t, plr_db),
    offsetof(mf_analysis_t, crest_db),
    offsetof(mf_analysis_t, rms_dbfs),
    offsetof(mf_analysis_t, dc_offset_db),
    offsetof(mf_analysis_t, clip_at_s),
    offsetof(mf_analysis_t, correlation),
    offsetof(mf_analysis_t, mono_drop_db),
    offsetof(mf_analysis_t, side_peak_dbfs),
    offsetof(mf_analysis_t, worst_correlation),
    offsetof(mf_analysis_t, worst_correlation_at_s),
    offsetof(mf_analysis_t, head_silence_s),
    offsetof(mf_analysis_t, tail_silence_s),
    offsetof(mf_analysis_t, hop_s),
};
#define N_DOUBLES (sizeof s_doubles / sizeof *s_doubles)

/* The series, each n_hops long but the last (n_seconds). */
static const size_t s_series[] = {
    offsetof(mf_analysis_t, momentary), offsetof(mf_analysis_t, short_term),
    offsetof(mf_analysis_t, peak),      offsetof(mf_analysis_t, true_peak),
    offsetof(mf_analysis_t, rms),       offsetof(mf_analysis_t, correlation_s),
};
#define N_SERIES (sizeof s_series / sizeof *s_series)
#define N_INTS 9 /* channels, frames, clips, runs, identical, gaps, hops, seconds, series mask */

static double *s_dbl(mf_analysis_t *a, size_t i)
{
    return (double *)(void *)((char *)a + s_doubles[i]);
}

static float **s_ser(mf_analysis_t *a, size_t i)
{
    return (float **)(void *)((char *)a + s_series[i]);
}

static size_t s_ser_len(const mf_analysis_t *a, size_t i)
{
    return i + 1 == N_SERIES ? a->n_seconds : a->n_hops;
}

/* ---- writing ---- */

static unsigned char *s_put(unsigned char *p, uint64_t v, int n)
{
    mf_le_put(p, v, n);
    return p + n;
}

static unsigned char *s_f64(unsigned char *p, double x)
{
    uint64_t v;
    memcpy(&v, &x, sizeof v);
    return s_put(p, v, 8);
}

static unsigned char *s_f32(unsigned char *p, float x)
{
    uint32_t v;
    memcpy(&v, &x, sizeof v);
    return s_put(p, v, 4);
}

mf_err_t mf_analysis_pack(const mf_analysis_t *a, unsigned char **out, size_t *len)
{
    mf_analysis_t c = *a; /* the tables address a writable struct */
    uint64_t mask = 0;
    size_t floats = 0;
    for (size_t i = 0; i < N_SERIES; i++)
        if (*s_ser(&c, i)) mask |= 1u << i, floats += s_ser_len(&c, i);
    const size_t n = 8 + 8 * N_INTS + 8 * N_DOUBLES + 8 * MF_QC_BANDS + 16 * c.n_gaps + 4 * floats;
    unsigned char *b = malloc(n), *p = b;
    if (!b) return MF_ERR_NOMEM;
    memcpy(p, MAGIC, 4);
    p = s_put(p + 4, VERSION, 4);
    const uint64_t ints[N_INTS] = {(uint64_t)c.channels,
                                   (uint64_t)c.frames,
                                   (uint64_t)c.clipped_samples,
                                   (uint64_t)c.clip_runs,
                                   (uint64_t)c.identical_channels,
                                   c.n_gaps,
                                   c.n_hops,
                                   c.n_seconds,
                                   mask};
    for (size_t i = 0; i < N_INTS; i++) p = s_put(p, ints[i], 8);
    for (size_t i = 0; i < N_DOUBLES; i++) p = s_f64(p, *s_dbl(&c, i));
    for (size_t i = 0; i < MF_QC_BANDS; i++) p = s_f64(p, c.band_db[i]);
    for (size_t i = 0; i < c.n_gaps; i++)
        p = s_f64(s_f64(p, c.gaps[i].start_s), c.gaps[i].length_s);
    for (size_t i = 0; i < N_SERIES; i++)
        for (size_t k = 0; (mask >> i & 1) && k < s_ser_len(&c, i); k++)
            p = s_f32(p, (*s_ser(&c, i))[k]);
    *out = b, *len = n;
    return MF_OK;
}

/* ---- reading ---- */

typedef struct {
    const unsigned char *p;
    size_t left;
} rd_t;

static int s_take(rd_t *r, size_t n, const unsigned char **at)
{
    if (n > r->left) return -1;
    *at = r->p, r->p += n, r->left -= n;
    return 0;
}

static int s_get(rd_t *r, int n, uint64_t *v)
{
    const unsigned char *q;
    if (s_take(r, (size_t)n, &q)) return -1;
    *v = mf_le_get(q, n);
    return 0;
}

static int s_get_f64(rd_t *r, double *x)
{
    uint64_t v;
    if (s_get(r, 8, &v)) return -1;
    memcpy(x, &v, sizeof *x);
    return 0;
}

static int s_get_f32(rd_t *r, float *x)
{
    uint64_t v;
    if (s_get(r, 4, &v)) return -1;
    const uint32_t u = (uint32_t)v;
    memcpy(x, &u, sizeof *x);
    return 0;
}

/* The counts, checked against what the blob can hold before anything is
 * allocated for them. */
static mf_err_t s_header(rd_t *r, mf_analysis_t *a, uint64_t *mask)
{
    const unsigned char *q;
    if (s_take(r, 8, &q) || memcmp(q, MAGIC, 4) || mf_le_get(q + 4, 4) != VERSION)
        return MF_ERR_INVALID;
    uint64_t v[N_INTS];
    for (size_t i = 0; i < N_INTS; i++)
        if (s_get(r, 8, &v[i])) return MF_ERR_INVALID;
    if ((v[0] != 1 && v[0] != 2) || v[1] > INT64_MAX || v[2] > INT64_MAX || v[3] > INT64_MAX ||
        v[4] > 1 || v[8] >> N_SERIES)
        return MF_ERR_INVALID;
    const size_t body = r->left;
    if (v[5] > body / 16 || v[6] > body / 4 || v[7] > body / 4) return MF_ERR_INVALID;
    a->channels = (int)v[0], a->frames = (int64_t)v[1];
    for (int c = 0; c < a->channels; c++) a->loudness_weight[c] = 1.0f; /* mono, stereo: not kept */
    a->clipped_samples = (int64_t)v[2], a->clip_runs = (int64_t)v[3];
    a->identical_channels = (int)v[4];
    a->n_gaps = (size_t)v[5], a->n_hops = (size_t)v[6], a->n_seconds = (size_t)v[7];
    *mask = v[8];
    return MF_OK;
}

static mf_err_t s_body(rd_t *r, mf_analysis_t *a, uint64_t mask)
{
    for (size_t i = 0; i < N_DOUBLES; i++)
        if (s_get_f64(r, s_dbl(a, i))) return MF_ERR_INVALID;
    for (size_t i = 0; i < MF_QC_BANDS; i++)
        if (s_get_f64(r, &a->band_db[i])) return MF_ERR_INVALID;
    if (a->n_gaps && !(a->gaps = malloc(a->n_gaps * sizeof *a->gaps))) return MF_ERR_NOMEM;
    for (size_t i = 0; i < a->n_gaps; i++)
        if (s_get_f64(r, &a->gaps[i].start_s) || s_get_f64(r, &a->gaps[i].length_s))
            return MF_ERR_INVALID;
    for (size_t i = 0; i < N_SERIES; i++) {
        if (!(mask >> i & 1)) continue;
        const size_t n = s_ser_len(a, i);
        if (n > r->left / 4) return MF_ERR_INVALID;
        float *x = malloc((n ? n : 1) * sizeof *x);
        if (!(*s_ser(a, i) = x)) return MF_ERR_NOMEM;
        for (size_t k = 0; k < n; k++)
            if (s_get_f32(r, &x[k])) return MF_ERR_INVALID;
    }
    return r->left ? MF_ERR_INVALID : MF_OK;
}

mf_err_t mf_analysis_unpack(const unsigned char *b, size_t len, mf_analysis_t *a)
{
    memset(a, 0, sizeof *a);
    rd_t r = {b, b ? len : 0};
    uint64_t mask = 0;
    mf_err_t err = s_header(&r, a, &mask);
    if (err == MF_OK) err = s_body(&r, a, mask);
    if (err != MF_OK) mf_analysis_fini(a);
    return err;
}
