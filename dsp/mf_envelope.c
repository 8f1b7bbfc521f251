#include "mf_envelope.h"
#include "mf_gain.h"

#include <stdlib.h>
#include <string.h>

int mf_envelope_init(mf_envelope_t *e, const mf_point_t *pts, size_t n, double rate,
                     mf_env_mode_t mode)
{
    memset(e, 0, sizeof *e);
    e->rate = rate;
    e->mode = mode;
    if (n == 0) return 0;
    e->pts = malloc(n * sizeof *pts);
    if (!e->pts) return -1;
    memcpy(e->pts, pts, n * sizeof *pts);
    e->n = n;
    /* A step (dt below the ramp time) becomes a short ramp ending at the
     * later point's time, unless that would cross the previous point. */
    for (size_t i = 1; i < n; i++) {
        if (e->pts[i].t - e->pts[i - 1].t < MF_ENV_STEP_S) {
            double lo = i >= 2 ? e->pts[i - 2].t : -1e300;
            double t = e->pts[i].t - MF_ENV_STEP_S;
            e->pts[i - 1].t = t > lo ? t : lo;
        }
    }
    return 0;
}

void mf_envelope_fini(mf_envelope_t *e)
{
    free(e->pts);
    memset(e, 0, sizeof *e);
}

static double s_value_at_time(const mf_envelope_t *e, double t)
{
    const mf_point_t *p = e->pts;
    if (t <= p[0].t) return p[0].v;
    if (t >= p[e->n - 1].t) return p[e->n - 1].v;
    size_t lo = 0, hi = e->n - 1; /* p[lo].t < t < p[hi].t */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (p[mid].t <= t)
            lo = mid;
        else
            hi = mid;
    }
    double dt = p[hi].t - p[lo].t;
    double f = dt > 0 ? (t - p[lo].t) / dt : 1.0;
    return p[lo].v + (p[hi].v - p[lo].v) * f;
}

double mf_envelope_value_at(const mf_envelope_t *e, int64_t frame)
{
    return s_value_at_time(e, (double)frame / e->rate);
}

static double s_mode_map(double v, void *ctx)
{
    const mf_envelope_t *e = ctx;
    return e->mode == MF_ENV_DB ? mf_db_to_gain(v) : v;
}

void mf_envelope_render(const mf_envelope_t *e, int64_t start, size_t n, float *out)
{
    mf_envelope_render_map(e, start, n, out, s_mode_map, (void *)e);
}

void mf_envelope_render_map(const mf_envelope_t *e, int64_t start, size_t n, float *out,
                            double (*map)(double v, void *ctx), void *ctx)
{
    int64_t end = start + (int64_t)n;
    /* Grid points g0 <= frame < g0 + GRID; floor division for negative frames. */
    int64_t g0 = start >= 0 ? start / MF_ENV_GRID * MF_ENV_GRID
                            : -((-start + MF_ENV_GRID - 1) / MF_ENV_GRID) * MF_ENV_GRID;
    double a = map(mf_envelope_value_at(e, g0), ctx);
    size_t i = 0;
    for (int64_t g = g0; g < end; g += MF_ENV_GRID) {
        double b = map(mf_envelope_value_at(e, g + MF_ENV_GRID), ctx);
        int64_t from = g > start ? g : start;
        int64_t to = g + MF_ENV_GRID < end ? g + MF_ENV_GRID : end;
        if (a == b) {
            for (int64_t f = from; f < to; f++) out[i++] = (float)a;
        } else {
            double step = (b - a) / MF_ENV_GRID;
            for (int64_t f = from; f < to; f++) out[i++] = (float)(a + step * (double)(f - g));
        }
        a = b;
    }
}
