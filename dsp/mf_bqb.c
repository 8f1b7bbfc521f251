#include "mf_bqb.h"

#include <stdlib.h>
#include <string.h>

#define N MF_BQB_N
#define S MF_BQB_S
#define SEC (MF_BQB_S / 2) /* sections per group */
#define CHUNK 512          /* frames per pass: a multiple of N that stays in L1 */

struct mf_bqb {
    const mf_dsp_kernels_t *k;
    int ch, nsec, ngroups;
    float c[MF_BIQUAD_MAX_SECTIONS][5];
    mf_bqb_group_t *g;
    double (*s)[2][S]; /* per group and channel: the state at the current block's start */
    int fill;          /* frames of the current block run so far */
    float pend[2][N];  /* their inputs */
    float *w;          /* 2 x CHUNK planar frames */
};

/* Runs n frames through sections c[0..nsec) in double, z = {z1, z2} each. */
static void s_sections(const float (*c)[5], int nsec, double *z, const double *in, double *out,
                       int n)
{
    for (int i = 0; i < n; i++) {
        double u = in[i];
        for (int k = 0; k < nsec; k++) {
            const double y = (double)c[k][0] * u + z[2 * k];
            z[2 * k] = ((double)c[k][1] * u + z[2 * k + 1]) - (double)c[k][3] * y;
            z[2 * k + 1] = (double)c[k][2] * u - (double)c[k][4] * y;
            u = y;
        }
        out[i] = u;
    }
}

/* The group's matrices by simulation: a unit impulse on each input and on
 * each state, one block each. */
static void s_design(mf_bqb_group_t *g, const float (*c)[5], int nsec)
{
    memset(g, 0, sizeof *g);
    for (int j = 0; j < N + 2 * nsec; j++) {
        double z[S] = {0}, in[N] = {0}, out[N];
        if (j < N)
            in[j] = 1.0;
        else
            z[j - N] = 1.0;
        s_sections(c, nsec, z, in, out, N);
        for (int i = 0; i < N; i++) {
            if (j < N)
                g->t[j][i] = (float)out[i];
            else
                g->o[j - N][i] = (float)out[i];
        }
        for (int m = 0; m < 2 * nsec; m++) {
            if (j < N)
                g->c[j][m] = z[m];
            else
                g->a[j - N][m] = z[m];
        }
    }
}

int mf_bqb_suits(const mf_biquad_cascade_t *st)
{
    return st->nsec > 0 && st->nsec <= SEC;
}

mf_bqb_t *mf_bqb_new(const mf_biquad_cascade_t *st, const mf_dsp_kernels_t *k)
{
    mf_bqb_t *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->k = k ? k : mf_dsp_kernels();
    b->ch = st->channels, b->nsec = st->nsec;
    b->ngroups = (st->nsec + SEC - 1) / SEC;
    memcpy(b->c, st->c, sizeof b->c);
    const size_t ng = b->ngroups ? (size_t)b->ngroups : 1;
    b->g = aligned_alloc(64, ng * sizeof *b->g);
    b->s = calloc(ng, sizeof *b->s);
    b->w = aligned_alloc(64, 2 * CHUNK * sizeof *b->w);
    if (!b->g || !b->s || !b->w) {
        mf_bqb_free(&b);
        return NULL;
    }
    for (int gi = 0; gi < b->ngroups; gi++) {
        const int s0 = gi * SEC, ns = st->nsec - s0 < SEC ? st->nsec - s0 : SEC;
        s_design(&b->g[gi], (const float(*)[5])b->c[s0], ns);
        for (int ch = 0; ch < b->ch; ch++)
            for (int m = 0; m < 2 * ns; m++) b->s[gi][ch][m] = st->z[s0 + m / 2][ch][m % 2];
    }
    return b;
}

/* One channel's frames w[0..total), the first fill of them already output
 * last time: whole blocks move the state on; an unfinished one is run from
 * a copy of it, zero-padded. */
static void s_channel(mf_bqb_t *b, int ch, float *w, size_t total)
{
    const size_t full = total / N * N, rem = total - full;
    for (int gi = 0; gi < b->ngroups; gi++) {
        if (full) b->k->biquad_block(&b->g[gi], w, full / N, b->s[gi][ch]);
        if (rem) {
            float t[N] = {0};
            double s[S];
            memcpy(s, b->s[gi][ch], sizeof s);
            memcpy(t, w + full, rem * sizeof *t);
            b->k->biquad_block(&b->g[gi], t, 1, s);
            memcpy(w + full, t, rem * sizeof *t);
        }
    }
}

/* Planar and back; stride 1 or 2 known to the compiler, so both vectorise. */
static void s_split(float *restrict l, float *restrict r, const float *in, size_t n, size_t ch)
{
    if (ch == 1) {
        memcpy(l, in, n * sizeof *l);
        return;
    }
    for (size_t i = 0; i < n; i++) l[i] = in[2 * i], r[i] = in[2 * i + 1];
}

static void s_join(float *out, const float *restrict l, const float *restrict r, size_t n,
                   size_t ch)
{
    if (ch == 1) {
        memcpy(out, l, n * sizeof *out);
        return;
    }
    for (size_t i = 0; i < n; i++) out[2 * i] = l[i], out[2 * i + 1] = r[i];
}

void mf_bqb_run(mf_bqb_t *b, float *out, const float *in, size_t frames)
{
    const size_t C = (size_t)b->ch;
    if (!b->ngroups) {
        if (out != in) memmove(out, in, frames * C * sizeof *out);
        return;
    }
    while (frames) {
        const size_t fill = (size_t)b->fill;
        const size_t k = frames < CHUNK - fill ? frames : CHUNK - fill;
        const size_t total = fill + k, rem = total % N;
        float *w0 = b->w, *w1 = b->w + CHUNK;
        s_split(w0 + fill, w1 + fill, in, k, C);
        for (size_t c = 0; c < C; c++) { /* the unfinished block's inputs before, after */
            float *w = b->w + c * CHUNK;
            memcpy(w, b->pend[c], fill * sizeof *w);
            memcpy(b->pend[c], w + (total - rem), rem * sizeof *w);
            s_channel(b, (int)c, w, total);
        }
        s_join(out, w0 + fill, w1 + fill, k, C);
        b->fill = (int)rem;
        in += k * C, out += k * C, frames -= k;
    }
}

void mf_bqb_state(const mf_bqb_t *b, mf_biquad_cascade_t *st)
{
    st->channels = b->ch, st->nsec = b->nsec;
    memcpy(st->c, b->c, sizeof st->c);
    for (int ch = 0; ch < b->ch; ch++) {
        double z[2 * MF_BIQUAD_MAX_SECTIONS] = {0}, in[N], out[N];
        for (int gi = 0; gi < b->ngroups; gi++) /* a short last group's spare states stay 0 */
            memcpy(z + gi * S, b->s[gi][ch], sizeof b->s[gi][ch]);
        for (int i = 0; i < b->fill; i++) in[i] = b->pend[ch][i];
        s_sections((const float(*)[5])b->c, b->nsec, z, in, out, b->fill);
        for (int s = 0; s < b->nsec; s++)
            st->z[s][ch][0] = (float)z[2 * s], st->z[s][ch][1] = (float)z[2 * s + 1];
    }
}

void mf_bqb_free(mf_bqb_t **bp)
{
    mf_bqb_t *b = bp ? *bp : NULL;
    if (!b) return;
    free(b->g), free(b->s), free(b->w);
    free(b);
    *bp = NULL;
}
