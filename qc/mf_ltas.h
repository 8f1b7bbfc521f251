/* The long-term average spectrum of a signal's loudest passages, mid and
 * side apart: what reference comparison and matching look at.
 *
 * Frames of n samples (the next power of two above rate/6: 8192 at 48 kHz),
 * Hann-windowed, not overlapping (as mf_spectrum.h's: over seconds of
 * music the average is as steady with half the transforms, which were
 * most of a QC task's time); mid = (L+R)/2 and side = (L-R)/2 (a mono
 * signal is all mid). Consecutive frames are grouped into passages of about
 * MF_LTAS_PASSAGE_S seconds; each passage's level is its mean-square power
 * (mid + side). The loudest passages are those at or above the quadratic
 * mean of all passages (the rule Matchering uses for its "loudest pieces"),
 * so quiet intros, breaks and fade-outs do not tilt the spectrum.
 *
 * Memory is bounded whatever the length: a finished passage is folded into
 * one of MF_LTAS_CLASSES level classes (1 dB wide), each holding the summed
 * band powers of its passages; the selection is made from the classes at
 * the end. Levels are band powers in dB re full scale, as mf_analysis_t's
 * band_db (a full-scale sine in mid reads -3.01 dB).
 *
 * Two grids: the 31 third-octave bands of mf_qc_band_hz() and a fine grid
 * of 1/12-octave bands from 10 Hz up to Nyquist (for the matching EQ). */
#ifndef MF_LTAS_H
#define MF_LTAS_H

#include "mf_analyze.h"
#include "mf_error.h"

#include <stddef.h>

#define MF_LTAS_PASSAGE_S 3.0
#define MF_LTAS_CLASSES 112 /* 1 dB classes from -110 to +1 dB; below: the lowest */
#define MF_LTAS_PER_OCT 12
#define MF_LTAS_GRID_LO_HZ 10.0
#define MF_LTAS_MAX_GRID 200

typedef struct {
    int channels;
    double rate;
    size_t passages, selected; /* passages in all, and the loudest ones used */
    double level_db;           /* mean-square level of the selected passages (mid + side) */
    double mid_db[MF_QC_BANDS], side_db[MF_QC_BANDS]; /* -INFINITY: no energy */
    size_t n_grid;
    double grid_hz[MF_LTAS_MAX_GRID]; /* centres: 1000 * 2^(k/12) */
    double grid_mid_db[MF_LTAS_MAX_GRID], grid_side_db[MF_LTAS_MAX_GRID];
} mf_ltas_result_t;

typedef struct mf_ltas mf_ltas_t;

/* channels 1 .. MF_QC_MAX_CHANNELS (of more than two, the first two are
 * measured: the front pair), rate 8000 .. 768000; NULL when out of memory
 * or out of range. */
mf_ltas_t *mf_ltas_new(int channels, double rate);
/* frames interleaved frames. */
void mf_ltas_feed(mf_ltas_t *l, const float *buf, size_t frames);
/* Ends the signal (a signal shorter than one frame is measured zero-padded). */
void mf_ltas_finish(mf_ltas_t *l, mf_ltas_result_t *out);
void mf_ltas_free(mf_ltas_t **l);

#endif
