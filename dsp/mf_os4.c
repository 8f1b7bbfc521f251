#include "mf_os4.h"

#include <math.h>
#include <string.h>

/* Modified Bessel function I0 by its power series (converges fast for the
 * arguments a Kaiser window needs). */
static double s_i0(double x)
{
    double sum = 1.0, term = 1.0;
    for (int k = 1; k < 50; k++) {
        term *= (x / (2.0 * k)) * (x / (2.0 * k));
        sum += term;
    }
    return sum;
}

void mf_os4_filter_init(mf_os4_filter_t *f, const mf_dsp_kernels_t *k)
{
    const int n = MF_OS4_TAPS, mid = (MF_OS4_TAPS - 1) / 2;
    const double fc = 0.125, beta = 9.0; /* cycles per high-rate sample */
    double h[MF_OS4_TAPS], sum = 0.0;
    for (int i = 0; i < n; i++) {
        const double t = i - mid, r = (double)(i - mid) / mid;
        const double sinc = t == 0 ? 2.0 * fc : sin(2.0 * M_PI * fc * t) / (M_PI * t);
        h[i] = sinc * s_i0(beta * sqrt(1.0 - r * r)) / s_i0(beta);
        sum += h[i];
    }
    for (int i = 0; i < n; i++) h[i] /= sum; /* unity gain at DC */
    memset(f, 0, sizeof *f);
    f->k = k ? k : mf_dsp_kernels();
    /* The 4x signal at 4n + p is 4 sum_j h[4j + p] x[n - j] (the zero-stuffed
     * input filtered, times 4 for the stuffing's loss); the taps are stored
     * reversed so that the oldest of the K inputs comes first. */
    for (int p = 0; p < 4; p++)
        for (int m = 0; m < MF_OS4_K; m++) {
            const int j = 4 * (MF_OS4_K - 1 - m) + p;
            f->up[p][m] = j < n ? (float)(4.0 * h[j]) : 0.0f;
        }
    /* The output at n is sum_j h[j] v[4n + 4 - 132 + j'] over the last 132
     * 4x samples v, oldest first, with tap h[128 - j']; sample j' = 4q + p
     * is y_p[n - 32 + q]. */
    for (int q = 0; q < MF_OS4_K; q++)
        for (int p = 0; p < 4; p++) {
            const int j = 128 - (4 * q + p);
            f->down[p][q] = j >= 0 && j < n ? (float)h[j] : 0.0f;
        }
}

void mf_os4_up(const mf_os4_filter_t *f, mf_os4_chan_t *c, const float *x, size_t stride, size_t n)
{
    enum { H = MF_OS4_K - 1 };
    if (c->n) { /* the last block's end becomes the history */
        memmove(c->x, c->x + c->n, H * sizeof *c->x);
        for (int p = 0; p < 4; p++) memmove(c->y[p], c->y[p] + c->n, H * sizeof *c->x);
    }
    for (size_t i = 0; i < n; i++) c->x[H + i] = x[i * stride];
    for (int p = 0; p < 4; p++) f->k->fir(c->y[p] + H, c->x, n, f->up[p], MF_OS4_K, 0);
    c->n = n;
}

void mf_os4_down(const mf_os4_filter_t *f, const mf_os4_chan_t *c, float *out)
{
    for (int p = 0; p < 4; p++) f->k->fir(out, c->y[p], c->n, f->down[p], MF_OS4_K, p > 0);
}
