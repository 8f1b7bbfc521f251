#include "mf_match.h"
#include "mf_fft.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the correction curve ---- */

static double s_max(const double *db, size_t n)
{
    double m = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isfinite(db[i]) && db[i] > m) m = db[i];
    return m;
}

/* raw[i] (NAN where unusable) -> smoothed, held where nothing is near,
 * limited. Returns 0 when no point was usable. */
static int s_smooth(const double *raw, size_t n, double *out)
{
    const double per_oct = MF_LTAS_PER_OCT, sd = MF_MATCH_SMOOTH_OCT * per_oct;
    const long reach = (long)ceil(3.0 * sd);
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        double sw = 0.0, sv = 0.0;
        for (long j = (long)i - reach; j <= (long)i + reach; j++) {
            if (j < 0 || j >= (long)n || isnan(raw[j])) continue;
            const double d = (double)(j - (long)i) / sd, w = exp(-0.5 * d * d);
            sw += w, sv += w * raw[j];
        }
        out[i] = sw > 0.0 ? sv / sw : NAN;
        any |= sw > 0.0;
    }
    if (!any) return 0;
    for (size_t i = 0; i < n; i++) { /* hold the nearest value over gaps */
        if (!isnan(out[i])) continue;
        for (size_t d = 1; d < n; d++) {
            if (i >= d && !isnan(out[i - d])) {
                out[i] = out[i - d];
                break;
            }
            if (i + d < n && !isnan(out[i + d])) {
                out[i] = out[i + d];
                break;
            }
        }
    }
    for (size_t i = 0; i < n; i++) out[i] = fmax(-MF_MATCH_MAX_DB, fmin(MF_MATCH_MAX_DB, out[i]));
    return 1;
}

static int s_curve(const double *mix, double mix_norm, const double *ref, double ref_norm, size_t n,
                   double mix_max, double ref_max, double *out)
{
    double raw[MF_LTAS_MAX_GRID];
    for (size_t i = 0; i < n; i++) {
        const int ok = isfinite(mix[i]) && isfinite(ref[i]) &&
                       mix[i] > mix_max - MF_MATCH_FLOOR_DB && ref[i] > ref_max - MF_MATCH_FLOOR_DB;
        raw[i] = ok ? (ref[i] - ref_norm) - (mix[i] - mix_norm) : NAN;
    }
    if (s_smooth(raw, n, out)) return 1;
    for (size_t i = 0; i < n; i++) out[i] = 0.0;
    return 0;
}

void mf_match_design(const mf_ltas_result_t *mix, const mf_ltas_result_t *ref,
                     mf_match_curve_t *out)
{
    memset(out, 0, sizeof *out);
    const size_t n = mix->n_grid < ref->n_grid ? mix->n_grid : ref->n_grid;
    out->n = n;
    memcpy(out->hz, mix->grid_hz, n * sizeof *out->hz);
    const double mn = isfinite(mix->level_db) ? mix->level_db : 0.0;
    const double rn = isfinite(ref->level_db) ? ref->level_db : 0.0;
    /* One floor per signal, from its loudest point in mid or side. */
    const double mm = fmax(s_max(mix->grid_mid_db, n), s_max(mix->grid_side_db, n));
    const double rm = fmax(s_max(ref->grid_mid_db, n), s_max(ref->grid_side_db, n));
    s_curve(mix->grid_mid_db, mn, ref->grid_mid_db, rn, n, mm, rm, out->mid_db);
    out->side = mix->channels == 2 && ref->channels == 2 &&
                s_curve(mix->grid_side_db, mn, ref->grid_side_db, rn, n, mm, rm, out->side_db);
    if (!out->side)
        for (size_t i = 0; i < n; i++) out->side_db[i] = 0.0;
}

size_t mf_match_taps(double rate)
{
    size_t n = 1024;
    while ((double)n < rate / 3.0) n *= 2;
    return n;
}

/* The curve at f: linear in log-frequency between grid points, held outside. */
static double s_at(const mf_match_curve_t *c, const double *db, double f)
{
    if (!c->n) return 0.0;
    if (f <= c->hz[0]) return db[0];
    if (f >= c->hz[c->n - 1]) return db[c->n - 1];
    const double x = log2(f / c->hz[0]) * MF_LTAS_PER_OCT;
    size_t i = (size_t)x;
    if (i >= c->n - 1) i = c->n - 2;
    const double t = x - (double)i;
    return db[i] + t * (db[i + 1] - db[i]);
}

int mf_match_fir(const mf_match_curve_t *c, int side, double rate, float *h, size_t taps)
{
    const size_t bins = taps / 2 + 1;
    fftwf_complex *spec = fftwf_alloc_complex(bins);
    float *r = fftwf_alloc_real(taps);
    fftwf_plan p = spec && r ? mf_fft_plan_c2r((int)taps, spec, r) : NULL;
    if (!p) {
        fftwf_free(spec), fftwf_free(r);
        return -1;
    }
    const double *db = side ? c->side_db : c->mid_db;
    for (size_t k = 0; k < bins; k++) {
        const double f = (double)k * rate / (double)taps;
        spec[k][0] = (float)pow(10.0, s_at(c, db, f > 0.0 ? f : 1.0) / 20.0);
        spec[k][1] = 0.0f;
    }
    fftwf_execute(p);
    /* Zero phase -> centred on taps/2, windowed (periodic Hann: w[0] = 0,
     * symmetric about taps/2, so the filter is exactly linear-phase). */
    for (size_t i = 0; i < taps; i++) {
        const double w = 0.5 - 0.5 * cos(2.0 * M_PI * (double)i / (double)taps);
        h[i] = (float)(w * r[(i + taps / 2) % taps] / (double)taps);
    }
    mf_fft_destroy(p);
    fftwf_free(spec), fftwf_free(r);
    return 0;
}

/* ---- uniformly partitioned overlap-save convolution ---- */

struct mf_fftconv {
    size_t P, K, N, bins, pos, cur;
    fftwf_complex *H, *X, *spec, *acc; /* H, X: K spectra each */
    float *buf, *tmp, *out;
    fftwf_plan fwd, inv;
};

mf_fftconv_t *mf_fftconv_new(const float *h, size_t taps, size_t partition)
{
    mf_fftconv_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->P = partition ? partition : 4096;
    c->K = taps ? (taps + c->P - 1) / c->P : 1;
    c->N = 2 * c->P, c->bins = c->P + 1;
    c->H = fftwf_alloc_complex(c->K * c->bins);
    c->X = fftwf_alloc_complex(c->K * c->bins);
    c->spec = fftwf_alloc_complex(c->bins);
    c->acc = fftwf_alloc_complex(c->bins);
    c->buf = fftwf_alloc_real(c->N);
    c->tmp = fftwf_alloc_real(c->N);
    c->out = calloc(c->P, sizeof *c->out);
    if (!c->H || !c->X || !c->spec || !c->acc || !c->buf || !c->tmp || !c->out) goto fail;
    c->fwd = mf_fft_plan_r2c((int)c->N, c->buf, c->spec);
    c->inv = mf_fft_plan_c2r((int)c->N, c->acc, c->tmp);
    if (!c->fwd || !c->inv) goto fail;
    for (size_t k = 0; k < c->K; k++) { /* each partition zero-padded to N */
        memset(c->buf, 0, c->N * sizeof *c->buf);
        for (size_t i = 0; i < c->P && k * c->P + i < taps; i++) c->buf[i] = h[k * c->P + i];
        fftwf_execute(c->fwd);
        memcpy(c->H + k * c->bins, c->spec, c->bins * sizeof *c->spec);
    }
    mf_fftconv_reset(c);
    return c;
fail:
    mf_fftconv_free(&c);
    return NULL;
}

void mf_fftconv_reset(mf_fftconv_t *c)
{
    memset(c->X, 0, c->K * c->bins * sizeof *c->X);
    memset(c->buf, 0, c->N * sizeof *c->buf);
    memset(c->out, 0, c->P * sizeof *c->out);
    c->pos = 0, c->cur = 0;
}

size_t mf_fftconv_latency(const mf_fftconv_t *c)
{
    return c->P;
}

static void s_block(mf_fftconv_t *c)
{
    fftwf_execute(c->fwd); /* buf = [previous P | new P] */
    memcpy(c->X + c->cur * c->bins, c->spec, c->bins * sizeof *c->spec);
    memset(c->acc, 0, c->bins * sizeof *c->acc);
    for (size_t k = 0; k < c->K; k++) {
        /* Interleaved re/im as plain floats, so the loop vectorises. */
        const float *restrict x = (const float *)(c->X + ((c->cur + c->K - k) % c->K) * c->bins);
        const float *restrict hh = (const float *)(c->H + k * c->bins);
        float *restrict a = (float *)c->acc;
        for (size_t b = 0; b < 2 * c->bins; b += 2) {
            a[b] += x[b] * hh[b] - x[b + 1] * hh[b + 1];
            a[b + 1] += x[b] * hh[b + 1] + x[b + 1] * hh[b];
        }
    }
    fftwf_execute(c->inv);
    const float g = 1.0f / (float)c->N;
    for (size_t i = 0; i < c->P; i++) c->out[i] = c->tmp[c->P + i] * g;
    memmove(c->buf, c->buf + c->P, c->P * sizeof *c->buf);
    c->cur = (c->cur + 1) % c->K;
    c->pos = 0;
}

void mf_fftconv_process(mf_fftconv_t *c, float *out, const float *in, size_t n)
{
    while (n) {
        const size_t m = c->P - c->pos < n ? c->P - c->pos : n;
        memcpy(c->buf + c->P + c->pos, in, m * sizeof *in); /* before out: they may alias */
        memcpy(out, c->out + c->pos, m * sizeof *out);
        c->pos += m, in += m, out += m, n -= m;
        if (c->pos == c->P) s_block(c);
    }
}

void mf_fftconv_free(mf_fftconv_t **cp)
{
    mf_fftconv_t *c = cp ? *cp : NULL;
    if (!c) return;
    mf_fft_destroy(c->fwd);
    mf_fft_destroy(c->inv);
    fftwf_free(c->H), fftwf_free(c->X), fftwf_free(c->spec), fftwf_free(c->acc);
    fftwf_free(c->buf), fftwf_free(c->tmp);
    free(c->out);
    free(c);
    *cp = NULL;
}
