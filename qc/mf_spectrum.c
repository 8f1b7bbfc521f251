#include "mf_spectrum.h"
#include "mf_fft.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct mf_spectrum {
    double rate;
    size_t n, fill;
    int frames; /* frames transformed */
    float *win, *buf;
    fftwf_complex *out;
    fftwf_plan plan;
    double *power; /* n/2 + 1 bins, summed over frames */
};

double mf_qc_band_hz(int i)
{
    static const double nominal[MF_QC_BANDS] = {20,   25,   31.5, 40,    50,    63,    80,   100,
                                                125,  160,  200,  250,   315,   400,   500,  630,
                                                800,  1000, 1250, 1600,  2000,  2500,  3150, 4000,
                                                5000, 6300, 8000, 10000, 12500, 16000, 20000};
    return i >= 0 && i < MF_QC_BANDS ? nominal[i] : NAN;
}

mf_spectrum_t *mf_spectrum_new(double rate, int stereo)
{
    mf_spectrum_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->rate = rate;
    s->n = 256;
    while ((double)s->n < rate / 6.0) s->n *= 2;
    s->win = malloc(s->n * sizeof *s->win);
    s->buf = fftwf_alloc_real(s->n);
    s->out = fftwf_alloc_complex(s->n / 2 + 1);
    s->power = calloc(s->n / 2 + 1, sizeof *s->power);
    if (!s->win || !s->buf || !s->out || !s->power) goto fail;
    s->plan = mf_fft_plan_r2c((int)s->n, s->buf, s->out);
    if (!s->plan) goto fail;
    for (size_t i = 0; i < s->n; i++) /* periodic Hann, halved for (L+R)/2 */
        s->win[i] = (float)((stereo ? 0.5 : 1.0) *
                            (0.5 - 0.5 * cos(2.0 * M_PI * (double)i / (double)s->n)));
    return s;
fail:
    mf_spectrum_free(&s);
    return NULL;
}

static void s_transform(mf_spectrum_t *s)
{
    fftwf_execute(s->plan);
    for (size_t k = 0; k <= s->n / 2; k++)
        s->power[k] += (double)s->out[k][0] * s->out[k][0] + (double)s->out[k][1] * s->out[k][1];
    s->frames++;
    s->fill = 0;
}

void mf_spectrum_feed(mf_spectrum_t *s, const float *l, const float *r, size_t n)
{
    while (n) {
        const size_t m = n < s->n - s->fill ? n : s->n - s->fill;
        /* Windowed as it is copied; win holds 0.5 * Hann for two channels. */
        float *restrict d = s->buf + s->fill;
        const float *restrict w = s->win + s->fill;
        if (r)
            for (size_t i = 0; i < m; i++) d[i] = (l[i] + r[i]) * w[i];
        else
            for (size_t i = 0; i < m; i++) d[i] = l[i] * w[i];
        s->fill += m, l += m, n -= m;
        if (r) r += m;
        if (s->fill == s->n) s_transform(s);
    }
}

void mf_spectrum_bands(mf_spectrum_t *s, double out[MF_QC_BANDS])
{
    if (!s->frames && s->fill) {
        memset(s->buf + s->fill, 0, (s->n - s->fill) * sizeof *s->buf); /* already windowed */
        s_transform(s);
    }
    const double df = s->rate / (double)s->n, nyq = s->rate / 2.0;
    /* Parseval with the Hann window (sum w^2 = 3n/8), one-sided: a bin's
     * share of the mean square is 2 |X|^2 / (n * 3n/8). */
    const double scale = s->frames ? 16.0 / (3.0 * (double)s->n * (double)s->n * s->frames) : 0.0;
    for (int b = 0; b < MF_QC_BANDS; b++) {
        const double fc = 1000.0 * pow(2.0, (b - 17) / 3.0);
        const double lo = fc * pow(2.0, -1.0 / 6.0), hi = fmin(fc * pow(2.0, 1.0 / 6.0), nyq);
        if (lo >= nyq || !s->frames) {
            out[b] = s->frames ? -INFINITY : NAN;
            continue;
        }
        double sum = 0.0;
        /* Each bin k covers [k - 1/2, k + 1/2) df; count the part inside the band. */
        const size_t k0 = (size_t)floor(lo / df + 0.5), k1 = (size_t)floor(hi / df + 0.5);
        for (size_t k = k0 ? k0 : 1; k <= k1 && k <= s->n / 2; k++) {
            const double a = fmax(lo, ((double)k - 0.5) * df), z = fmin(hi, ((double)k + 0.5) * df);
            if (z > a) sum += s->power[k] * (z - a) / df;
        }
        out[b] = sum > 0.0 ? 10.0 * log10(sum * scale) : -INFINITY;
    }
}

void mf_spectrum_free(mf_spectrum_t **sp)
{
    mf_spectrum_t *s = sp ? *sp : NULL;
    if (!s) return;
    mf_fft_destroy(s->plan);
    free(s->win), fftwf_free(s->buf), fftwf_free(s->out), free(s->power);
    free(s);
    *sp = NULL;
}
