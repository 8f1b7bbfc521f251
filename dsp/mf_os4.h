/* 4x oversampling: a 129-tap linear-phase FIR (Kaiser-windowed sinc,
 * beta 9, about -90 dB stopband, cutoff at the base rate's Nyquist) run as a
 * polyphase interpolator and as a decimator. Passband to ~0.41 fs, stopband
 * from ~0.59 fs of the base rate, so what folds back lands above 0.41 fs.
 * Used for saturation (against aliasing) and for the limiter's true-peak
 * estimate (ITU-R BS.1770-4 Annex 2 also interpolates by 4).
 *
 * Both run a block at a time through the kernel table's FIR (lanes over
 * consecutive outputs, the same bits on every CPU). The 4x signal is kept
 * as four phases: phase p holds the samples at a quarter p past each base
 * frame, so each phase is a plain FIR of the input, and the decimated
 * output a sum of four plain FIRs of the phases. */
#ifndef MF_OS4_H
#define MF_OS4_H

#include "mf_kernels.h"

#include <stddef.h>

#define MF_OS4_TAPS 129
#define MF_OS4_K 33        /* taps per phase, rounded up */
#define MF_OS4_UP_DELAY 16 /* base frames: interpolator group delay */
#define MF_OS4_LATENCY 32  /* base frames: up then down */
#define MF_OS4_BLOCK 256   /* base frames per call, at most */
#define MF_OS4_SPAN (MF_OS4_K - 1 + MF_OS4_BLOCK)

typedef struct {
    const mf_dsp_kernels_t *k;
    float up[4][MF_OS4_K];   /* y_p[n] = sum_m up[p][m] x[n - 32 + m] (4 h[4(32 - m) + p]) */
    float down[4][MF_OS4_K]; /* z[n] = sum_p sum_q down[p][q] y_p[n - 32 + q] */
} mf_os4_filter_t;

typedef struct {             /* one channel: the last K - 1 frames, then the block */
    float x[MF_OS4_SPAN];    /* input */
    float y[4][MF_OS4_SPAN]; /* the 4x signal, by phase */
    size_t n;                /* frames in the block */
} mf_os4_chan_t;

/* k: the kernel table to run (NULL: mf_dsp_kernels()). */
void mf_os4_filter_init(mf_os4_filter_t *f, const mf_dsp_kernels_t *k);
/* Starts a block: interpolates n <= MF_OS4_BLOCK base-rate samples x[0],
 * x[stride], ... Then mf_os4_phase(c, p)[i] is the 4x sample at time
 * i - MF_OS4_UP_DELAY + p/4 (in base frames from the block's start); a
 * caller may reshape them (a saturation curve) before mf_os4_down. */
void mf_os4_up(const mf_os4_filter_t *f, mf_os4_chan_t *c, const float *x, size_t stride, size_t n);
static inline float *mf_os4_phase(mf_os4_chan_t *c, int p)
{
    return c->y[p] + MF_OS4_K - 1;
}
/* Decimates the block's 4x signal into out[0 .. n-1] (n of the last
 * mf_os4_up): out[i] is at base frame i - MF_OS4_LATENCY. */
void mf_os4_down(const mf_os4_filter_t *f, const mf_os4_chan_t *c, float *out);

#endif
