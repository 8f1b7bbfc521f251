#include "mf_loudness.h"

#include <math.h>
#include <stdlib.h>

static double s_lufs(double mean_square)
{
    return mean_square > 0.0 ? -0.691 + 10.0 * log10(mean_square) : -INFINITY;
}

/* Mean square of the window of w hops ending with hop i. */
static double s_window(const double *prefix, size_t i, size_t w, size_t hop)
{
    return (prefix[i + 1] - prefix[i + 1 - w]) / (double)(w * hop);
}

static int s_cmp(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Mean-square power average of the blocks above both gates, the relative
 * gate rel_lu below the average of those above the absolute one. Returns
 * how many passed; *mean receives their mean square. */
static size_t s_gate(const double *z, size_t n, double rel_lu, double *mean)
{
    const double abs_ms = pow(10.0, (-70.0 + 0.691) / 10.0);
    double sum = 0.0;
    size_t cnt = 0;
    for (size_t i = 0; i < n; i++)
        if (z[i] > abs_ms) sum += z[i], cnt++;
    *mean = 0.0;
    if (!cnt) return 0;
    const double rel_ms = sum / (double)cnt * pow(10.0, rel_lu / 10.0);
    sum = 0.0, cnt = 0;
    for (size_t i = 0; i < n; i++)
        if (z[i] > abs_ms && z[i] > rel_ms) sum += z[i], cnt++;
    *mean = cnt ? sum / (double)cnt : 0.0;
    return cnt;
}

int mf_loudness_compute(const double *e, size_t n, size_t hop, float *momentary, float *short_term,
                        mf_loudness_t *out)
{
    *out = (mf_loudness_t){-INFINITY, 0.0, -INFINITY, -INFINITY};
    /* Prefix sums in long double: over an hour, the difference of two large
     * sums must keep the quiet windows' precision. */
    double *prefix = malloc((n + 1) * sizeof *prefix), *z = calloc(n + 1, sizeof *z);
    long double acc = 0.0L;
    if (!prefix || !z) {
        free(prefix), free(z);
        return -1;
    }
    prefix[0] = 0.0;
    for (size_t i = 0; i < n; i++) acc += e[i], prefix[i + 1] = (double)acc;
    /* Momentary blocks (400 ms = 4 hops) are also the gating blocks. */
    size_t nz = 0;
    for (size_t i = 0; i < n; i++) {
        const double ms = i >= 3 ? s_window(prefix, i, 4, hop) : NAN;
        if (i >= 3) {
            z[nz++] = ms;
            out->momentary_max = fmax(out->momentary_max, s_lufs(ms));
        }
        if (momentary) momentary[i] = i >= 3 ? (float)s_lufs(ms) : NAN;
    }
    double mean;
    if (s_gate(z, nz, -10.0, &mean)) out->integrated = s_lufs(mean);
    /* Short-term blocks (3 s = 30 hops), every hop. */
    nz = 0;
    for (size_t i = 0; i < n; i++) {
        const double ms = i >= 29 ? s_window(prefix, i, 30, hop) : NAN;
        if (i >= 29) {
            z[nz++] = ms;
            out->short_term_max = fmax(out->short_term_max, s_lufs(ms));
        }
        if (short_term) short_term[i] = i >= 29 ? (float)s_lufs(ms) : NAN;
    }
    /* LRA: keep the short-term blocks above both gates, then the spread of
     * their loudness between the 10th and 95th percentiles (nearest rank). */
    const double abs_ms = pow(10.0, (-70.0 + 0.691) / 10.0);
    if (s_gate(z, nz, -20.0, &mean)) {
        double sum = 0.0;
        size_t cnt = 0, k = 0;
        for (size_t i = 0; i < nz; i++)
            if (z[i] > abs_ms) sum += z[i], cnt++;
        const double rel_ms = sum / (double)cnt * 0.01; /* -20 LU */
        for (size_t i = 0; i < nz; i++)
            if (z[i] > abs_ms && z[i] > rel_ms) z[k++] = z[i];
        qsort(z, k, sizeof *z, s_cmp);
        const size_t lo = (size_t)((double)(k - 1) * 0.10 + 0.5);
        const size_t hi = (size_t)((double)(k - 1) * 0.95 + 0.5);
        out->lra = s_lufs(z[hi]) - s_lufs(z[lo]);
    }
    free(prefix), free(z);
    return 0;
}
