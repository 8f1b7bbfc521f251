/* Partitioned FFT convolution (mf_conv.h). Spectra are kept split (real
 * parts, imaginary parts) so the multiply-accumulate over partitions is a
 * plain loop the compiler vectorises; this file is compiled with the
 * vectoriser on (dsp/CMakeLists.txt) and the two hot loops are cloned for
 * AVX2 (target_clones: the CPU picks at load time). */
#include "mf_conv.h"
#include "mf_fft.h"

#include <fftw3.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HEAD 64     /* taps done in direct form; also the first level's block */
#define FACTOR 8    /* each level's block is this many times the last */
#define PARTS 7     /* partitions per level (FACTOR - 1: level l starts at its block) */
#define MAX_N 32768 /* the largest block; that level takes every remaining tap */
#define MAX_LEVELS 16

typedef struct {
    size_t n, off, parts; /* block, first tap, partitions */
    float *hre, *him;     /* parts x (n + 1), scaled by 1 / (2n) */
} level_ir_t;

struct mf_conv_ir {
    size_t taps, head_n;
    float head[HEAD];
    level_ir_t lv[MAX_LEVELS];
    int nlv;
};

typedef struct {
    const level_ir_t *ir;
    float *x, *t;     /* 2n: previous block | current block; inverse output */
    fftwf_complex *c; /* n + 1 */
    float *fre, *fim; /* delay line: parts x (n + 1) input spectra */
    float *yre, *yim; /* n + 1 */
    size_t pos;       /* delay line slot of the newest spectrum */
    fftwf_plan fwd, inv;
} level_t;

struct mf_conv {
    const mf_conv_ir_t *ir;
    uint64_t t;           /* samples consumed */
    float hist[2 * HEAD]; /* the last HEAD - 1 inputs, then the segment */
    float *ring;          /* output accumulator, indexed by t & mask */
    size_t mask;
    level_t lv[MAX_LEVELS];
};

/* ---- FFTW planning: one process-wide lock (mf_fft.h) ---- */

static fftwf_plan s_plan(size_t n2, float *x, fftwf_complex *c, int forward)
{
    return forward ? mf_fft_plan_r2c((int)n2, x, c) : mf_fft_plan_c2r((int)n2, c, x);
}

/* ---- the impulse response ---- */

static int s_level_ir(level_ir_t *lv, const float *h, size_t taps, size_t stride, float gain)
{
    const size_t n = lv->n, nb = n + 1;
    float *x = fftwf_alloc_real(2 * n);
    fftwf_complex *c = fftwf_alloc_complex(nb);
    lv->hre = fftwf_alloc_real(lv->parts * nb);
    lv->him = fftwf_alloc_real(lv->parts * nb);
    fftwf_plan p = x && c ? s_plan(2 * n, x, c, 1) : NULL;
    int rc = p && lv->hre && lv->him ? 0 : -1;
    const float scale = gain / (float)(2 * n);
    for (size_t k = 0; rc == 0 && k < lv->parts; k++) {
        memset(x, 0, 2 * n * sizeof *x);
        for (size_t i = 0; i < n; i++) {
            const size_t tap = lv->off + k * n + i;
            if (tap < taps) x[i] = h[tap * stride] * scale;
        }
        fftwf_execute(p);
        for (size_t b = 0; b < nb; b++)
            lv->hre[k * nb + b] = c[b][0], lv->him[k * nb + b] = c[b][1];
    }
    mf_fft_destroy(p);
    fftwf_free(x);
    fftwf_free(c);
    return rc;
}

/* The work per sample (in flops, roughly) of covering taps [off, n) with
 * levels from blocks of blk on, and how many partitions the first of them
 * takes: PARTS and a level FACTOR times larger after it, or every remaining
 * tap when that is cheaper (a level's transforms cost ~10 log2(2 blk) a
 * sample, each partition's multiply-add ~MAC: 8 flops a bin). So a 1 s IR
 * at 48 kHz ends on 11 partitions of 4096 rather than opening a level of
 * 32768 for its last 20000 taps. */
#define MAC 8.0
static size_t s_next(size_t blk)
{
    return blk * FACTOR < MAX_N ? blk * FACTOR : MAX_N;
}

static double s_cost(size_t off, size_t n, size_t blk, size_t *parts)
{
    const size_t need = (n - off + blk - 1) / blk;
    const double fft = 10.0 * log2(2.0 * (double)blk), all = fft + MAC * (double)need;
    *parts = need;
    if (blk >= MAX_N || need <= PARTS) return all;
    size_t next;
    const double split = fft + MAC * PARTS + s_cost(off + PARTS * blk, n, s_next(blk), &next);
    if (all <= split) return all;
    *parts = PARTS;
    return split;
}

mf_conv_ir_t *mf_conv_ir_new(const float *h, size_t n, size_t stride, float gain)
{
    if (n == 0) return NULL;
    mf_conv_ir_t *ir = calloc(1, sizeof *ir);
    if (!ir) return NULL;
    ir->taps = n;
    ir->head_n = n < HEAD ? n : HEAD;
    for (size_t i = 0; i < ir->head_n; i++) ir->head[i] = h[i * stride] * gain;
    size_t off = HEAD, blk = HEAD;
    while (off < n && ir->nlv < MAX_LEVELS) {
        level_ir_t *lv = &ir->lv[ir->nlv++];
        lv->n = blk, lv->off = off;
        s_cost(off, n, blk, &lv->parts);
        if (s_level_ir(lv, h, n, stride, gain)) {
            mf_conv_ir_free(&ir);
            return NULL;
        }
        off += lv->parts * blk;
        blk = s_next(blk);
    }
    return ir;
}

void mf_conv_ir_free(mf_conv_ir_t **irp)
{
    mf_conv_ir_t *ir = irp ? *irp : NULL;
    if (!ir) return;
    for (int l = 0; l < ir->nlv; l++) fftwf_free(ir->lv[l].hre), fftwf_free(ir->lv[l].him);
    free(ir);
    *irp = NULL;
}

size_t mf_conv_ir_taps(const mf_conv_ir_t *ir)
{
    return ir->taps;
}

/* ---- running ---- */

mf_conv_t *mf_conv_new(const mf_conv_ir_t *ir)
{
    mf_conv_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->ir = ir;
    size_t reach = 2 * HEAD;
    for (int l = 0; l < ir->nlv; l++) {
        const level_ir_t *li = &ir->lv[l];
        level_t *lv = &c->lv[l];
        const size_t n = li->n, nb = n + 1;
        lv->ir = li;
        lv->x = fftwf_alloc_real(2 * n);
        lv->t = fftwf_alloc_real(2 * n);
        lv->c = fftwf_alloc_complex(nb);
        lv->fre = fftwf_alloc_real(li->parts * nb);
        lv->fim = fftwf_alloc_real(li->parts * nb);
        lv->yre = fftwf_alloc_real(nb);
        lv->yim = fftwf_alloc_real(nb);
        if (!lv->x || !lv->t || !lv->c || !lv->fre || !lv->fim || !lv->yre || !lv->yim) goto fail;
        memset(lv->x, 0, 2 * n * sizeof *lv->x);
        memset(lv->fre, 0, li->parts * nb * sizeof *lv->fre);
        memset(lv->fim, 0, li->parts * nb * sizeof *lv->fim);
        lv->fwd = s_plan(2 * n, lv->x, lv->c, 1);
        lv->inv = s_plan(2 * n, lv->t, lv->c, 0);
        if (!lv->fwd || !lv->inv) goto fail;
        if (li->off + n + HEAD > reach) reach = li->off + n + HEAD;
    }
    size_t r = 1;
    while (r < reach) r *= 2;
    c->ring = calloc(r, sizeof *c->ring);
    c->mask = r - 1;
    if (!c->ring) goto fail;
    return c;
fail:
    mf_conv_free(&c);
    return NULL;
}

void mf_conv_free(mf_conv_t **cp)
{
    mf_conv_t *c = cp ? *cp : NULL;
    if (!c) return;
    for (int l = 0; l < c->ir->nlv; l++) {
        level_t *lv = &c->lv[l];
        mf_fft_destroy(lv->fwd);
        mf_fft_destroy(lv->inv);
        fftwf_free(lv->x), fftwf_free(lv->t), fftwf_free(lv->c);
        fftwf_free(lv->fre), fftwf_free(lv->fim), fftwf_free(lv->yre), fftwf_free(lv->yim);
    }
    free(c->ring);
    free(c);
    *cp = NULL;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HOT __attribute__((target_clones("avx2", "default")))
#else
#define HOT
#endif

/* y += h * a over n complex bins, split form. */
HOT static void s_cmac(float *restrict yr, float *restrict yi, const float *restrict hr,
                       const float *restrict hi, const float *restrict ar, const float *restrict ai,
                       size_t n)
{
    for (size_t b = 0; b < n; b++) {
        yr[b] += hr[b] * ar[b] - hi[b] * ai[b];
        yi[b] += hr[b] * ai[b] + hi[b] * ar[b];
    }
}

/* y[i] = sum over k < nh of h[k] x[i - k], i < m (x[-k] readable for k < nh),
 * each sum taken in the order of k. */
typedef float v8f __attribute__((vector_size(32)));

HOT static void s_fir(float *restrict y, const float *restrict h, size_t nh, const float *x,
                      size_t m)
{
    size_t i0 = 0;
    for (; i0 + 32 <= m; i0 += 32) { /* 32 sums held in registers over the taps */
        v8f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        const float *xi = x + i0;
        for (size_t k = 0; k < nh; k++) {
            const v8f hk = (v8f){0} + h[k];
            v8f x0, x1, x2, x3;
            memcpy(&x0, xi - k, sizeof x0), memcpy(&x1, xi - k + 8, sizeof x1);
            memcpy(&x2, xi - k + 16, sizeof x2), memcpy(&x3, xi - k + 24, sizeof x3);
            a0 = a0 + hk * x0, a1 = a1 + hk * x1, a2 = a2 + hk * x2, a3 = a3 + hk * x3;
        }
        memcpy(y + i0, &a0, sizeof a0), memcpy(y + i0 + 8, &a1, sizeof a1);
        memcpy(y + i0 + 16, &a2, sizeof a2), memcpy(y + i0 + 24, &a3, sizeof a3);
    }
    for (size_t i = i0; i < m; i++) y[i] = 0.0f;
    for (size_t k = 0; k < nh; k++) {
        const float hk = h[k], *xk = x - k;
        for (size_t i = i0; i < m; i++) y[i] += hk * xk[i];
    }
}

/* ring[at ...] += y[0 .. n), in the (at most two) runs the ring's wrap
 * leaves, so that the adds vectorise. */
HOT static void s_ring_add(mf_conv_t *c, uint64_t at, const float *restrict y, size_t n)
{
    const size_t size = c->mask + 1, start = (size_t)(at & c->mask);
    const size_t first = n < size - start ? n : size - start;
    float *restrict r = c->ring + start;
    for (size_t i = 0; i < first; i++) r[i] += y[i];
    r = c->ring;
    for (size_t i = first; i < n; i++) r[i - first] += y[i];
}

/* A block of level lv is complete at time t: its output for the block's
 * samples, delayed by its first tap, is added to the ring. */
static void s_level_step(mf_conv_t *c, level_t *lv, uint64_t t)
{
    const level_ir_t *li = lv->ir;
    const size_t n = li->n, nb = n + 1, parts = li->parts;
    fftwf_execute(lv->fwd);
    lv->pos = lv->pos + 1 == parts ? 0 : lv->pos + 1;
    float *restrict xr = lv->fre + lv->pos * nb, *restrict xi = lv->fim + lv->pos * nb;
    for (size_t b = 0; b < nb; b++) xr[b] = lv->c[b][0], xi[b] = lv->c[b][1];
    float *restrict yr = lv->yre, *restrict yi = lv->yim;
    memset(yr, 0, nb * sizeof *yr);
    memset(yi, 0, nb * sizeof *yi);
    for (size_t p = 0; p < parts; p++) {
        /* Partition p meets the input spectrum of p blocks ago. */
        const size_t slot = (lv->pos + parts - p) % parts;
        const float *restrict hr = li->hre + p * nb, *restrict hi = li->him + p * nb;
        s_cmac(yr, yi, hr, hi, lv->fre + slot * nb, lv->fim + slot * nb, nb);
    }
    for (size_t b = 0; b < nb; b++) lv->c[b][0] = yr[b], lv->c[b][1] = yi[b];
    fftwf_execute(lv->inv);
    /* Overlap-save: the second half is the block [t - n, t) of the output. */
    s_ring_add(c, t - n + li->off, lv->t + n, n);
    memcpy(lv->x, lv->x + n, n * sizeof *lv->x);
}

void mf_conv_process(mf_conv_t *c, const float *in, float *out, size_t n, size_t stride)
{
    const mf_conv_ir_t *ir = c->ir;
    float *const seg = c->hist + HEAD - 1;
    while (n > 0) {
        /* A segment ends at the next multiple of HEAD, where blocks end. */
        size_t m = HEAD - (size_t)(c->t & (HEAD - 1));
        if (m > n) m = n;
        for (size_t i = 0; i < m; i++) seg[i] = in[i * stride];
        for (int l = 0; l < ir->nlv; l++) {
            level_t *lv = &c->lv[l];
            memcpy(lv->x + lv->ir->n + (size_t)(c->t & (lv->ir->n - 1)), seg, m * sizeof *seg);
        }
        float y[HEAD];
        s_fir(y, ir->head, ir->head_n, seg, m);
        for (size_t i = 0; i < m; i++) {
            float *r = &c->ring[(c->t + i) & c->mask];
            out[i * stride] = y[i] + *r;
            *r = 0.0f;
        }
        memmove(c->hist, c->hist + m, (HEAD - 1) * sizeof *c->hist);
        c->t += m;
        for (int l = 0; l < ir->nlv; l++)
            if ((c->t & (c->lv[l].ir->n - 1)) == 0) s_level_step(c, &c->lv[l], c->t);
        in += m * stride;
        out += m * stride;
        n -= m;
    }
}
