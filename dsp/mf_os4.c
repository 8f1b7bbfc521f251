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

void mf_os4_filter_init(mf_os4_filter_t *f)
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
    /* y[4n+p] = 4 sum_k h[4k+p] x[n-k]: stored reversed so the history,
     * oldest first, is a plain dot product. */
    for (int p = 0; p < 4; p++)
        for (int m = 0; m < MF_OS4_K; m++) {
            const int j = 4 * (MF_OS4_K - 1 - m) + p;
            f->up[p][m] = j < n ? (float)(4.0 * h[j]) : 0.0f;
        }
    /* z[n] = sum_j h[j] v[4n - j], with v[4n] three samples before the
     * newest: down[m] pairs with the m-th oldest of the last HIST samples. */
    for (int m = 0; m < MF_OS4_HIST; m++) {
        const int j = MF_OS4_HIST - 4 - m;
        f->down[m] = j >= 0 && j < n ? (float)h[j] : 0.0f;
    }
}

static float s_dot(const float *a, const float *b, int n)
{
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i], s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2], s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

void mf_os4_up(const mf_os4_filter_t *f, mf_os4_chan_t *c, float x, float y[4])
{
    c->x[c->xq] = c->x[c->xq + MF_OS4_K] = x;
    if (++c->xq == MF_OS4_K) c->xq = 0;
    const float *hist = c->x + c->xq; /* the last K samples, oldest first */
    for (int p = 0; p < 4; p++) y[p] = s_dot(f->up[p], hist, MF_OS4_K);
}

float mf_os4_down(const mf_os4_filter_t *f, mf_os4_chan_t *c, const float v[4])
{
    for (int i = 0; i < 4; i++) {
        c->v[c->vp] = c->v[c->vp + MF_OS4_HIST] = v[i];
        if (++c->vp == MF_OS4_HIST) c->vp = 0;
    }
    return s_dot(f->down, c->v + c->vp, MF_OS4_HIST);
}
