/* 4x oversampling: a 129-tap linear-phase FIR (Kaiser-windowed sinc,
 * beta 9, about -90 dB stopband, cutoff at the base rate's Nyquist) run as a
 * polyphase interpolator and as a decimator. Passband to ~0.41 fs, stopband
 * from ~0.59 fs of the base rate, so what folds back lands above 0.41 fs.
 * Used for saturation (against aliasing) and for the limiter's true-peak
 * estimate (ITU-R BS.1770-4 Annex 2 also interpolates by 4). */
#ifndef MF_OS4_H
#define MF_OS4_H

#define MF_OS4_TAPS 129
#define MF_OS4_K 33                   /* taps per phase, rounded up */
#define MF_OS4_UP_DELAY 16            /* base frames: interpolator group delay */
#define MF_OS4_LATENCY 32             /* base frames: up then down */
#define MF_OS4_HIST (MF_OS4_TAPS + 3) /* 4x samples the decimator keeps */

typedef struct {
    float up[4][MF_OS4_K];   /* phase p, reversed, times 4 (the zero-stuffing gain) */
    float down[MF_OS4_HIST]; /* reversed taps, aligned so output n sits on sample 4n */
} mf_os4_filter_t;

typedef struct { /* one channel's history */
    float x[2 * MF_OS4_K];
    float v[2 * MF_OS4_HIST];
    int xq, vp;
} mf_os4_chan_t;

void mf_os4_filter_init(mf_os4_filter_t *f);
/* Pushes one base-rate sample; y receives the 4 samples of its interval,
 * MF_OS4_UP_DELAY frames late: y[p] is at time n - 16 + p/4. */
void mf_os4_up(const mf_os4_filter_t *f, mf_os4_chan_t *c, float x, float y[4]);
/* Pushes 4 samples at the high rate; returns one base-rate sample. */
float mf_os4_down(const mf_os4_filter_t *f, mf_os4_chan_t *c, const float v[4]);

#endif
