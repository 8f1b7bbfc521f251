/* Reference matching: the tonal-balance EQ that brings a mix's spectrum to a
 * reference's, as linear-phase FIR filters for mid and side, and the FFT
 * convolution that applies them to a stream.
 *
 * Design (mf_match_design): both signals' loudest-passage spectra on the
 * 1/12-octave grid (mf_ltas.h), each normalised by its own level (so the
 * curve changes balance, not loudness: loudness is matched afterwards);
 * correction(f) = reference - mix in dB, for mid and for side with the same
 * normalisation (so the side/mid balance, the width, follows the
 * reference's too); grid points where either signal is more than
 * MF_MATCH_FLOOR_DB under its own loudest point are left out (held from
 * their neighbours), the curve is smoothed with a Gaussian on the log-
 * frequency axis (MF_MATCH_SMOOTH_OCT standard deviation) and limited to
 * +-MF_MATCH_MAX_DB. Side is left alone when either signal has none.
 *
 * FIR (mf_match_fir): frequency sampling of the curve (interpolated in
 * log-frequency, held beyond the grid), inverse real FFT, a periodic Hann
 * window: linear phase, taps = the next power of two above rate/3 (16384
 * at 48 kHz), delay taps/2.
 *
 * Convolution (mf_fftconv): uniformly partitioned overlap-save (FFTW): the
 * filter is cut into partitions of P taps, each transformed once (2P-point
 * real FFT); every P input samples cost one forward and one inverse FFT and
 * a multiply-accumulate over the frequency-domain delay line. Latency P
 * samples (plus the filter's own delay). Memory: O(taps), whatever the
 * signal's length. */
#ifndef MF_MATCH_H
#define MF_MATCH_H

#include "mf_ltas.h"

#include <stddef.h>

#define MF_MATCH_MAX_DB 12.0
#define MF_MATCH_SMOOTH_OCT (1.0 / 6.0)
#define MF_MATCH_FLOOR_DB 80.0

typedef struct {
    size_t n;
    double hz[MF_LTAS_MAX_GRID];
    double mid_db[MF_LTAS_MAX_GRID], side_db[MF_LTAS_MAX_GRID];
    int side; /* 0: side left alone */
} mf_match_curve_t;

/* The correction that takes mix to ref (both measured at the same rate). */
void mf_match_design(const mf_ltas_result_t *mix, const mf_ltas_result_t *ref,
                     mf_match_curve_t *out);
/* The number of taps used at a rate. */
size_t mf_match_taps(double rate);
/* A linear-phase FIR (taps = mf_match_taps(rate)) with the magnitude of
 * curve db (side: 1 for the side curve) into h; 0, or -1 when out of memory. */
int mf_match_fir(const mf_match_curve_t *c, int side, double rate, float *h, size_t taps);

typedef struct mf_fftconv mf_fftconv_t;

/* h (copied) of any length; partition P a power of two (0: a default).
 * NULL when out of memory. */
mf_fftconv_t *mf_fftconv_new(const float *h, size_t taps, size_t partition);
/* out[i] = (h * in)[i - latency]: one channel, any n; out may equal in. */
void mf_fftconv_process(mf_fftconv_t *c, float *out, const float *in, size_t n);
size_t mf_fftconv_latency(const mf_fftconv_t *c);
/* Forgets the signal (as new). */
void mf_fftconv_reset(mf_fftconv_t *c);
void mf_fftconv_free(mf_fftconv_t **c);

#endif
