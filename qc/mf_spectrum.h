/* Long-term average spectrum (Welch): Hann-windowed frames of (L+R)/2, one
 * real FFT each (FFTW), power averaged over the signal, then summed into
 * the 31 third-octave bands from 20 Hz to 20 kHz (IEC 61260 base-2 centres
 * 1000 * 2^(k/3)). Frames are 8192 samples at 44.1/48 kHz (the next power of
 * two above rate/6, 5.9 Hz bins, enough to split the 20 and 25 Hz bands)
 * and do not overlap: over minutes of music the average is as stable with
 * half the FFTs. Internal to qc/. */
#ifndef MF_SPECTRUM_H
#define MF_SPECTRUM_H

#include "mf_analyze.h"

typedef struct mf_spectrum mf_spectrum_t;

/* stereo: the signal fed will be two channels, measured as (L+R)/2. */
mf_spectrum_t *mf_spectrum_new(double rate, int stereo);
/* n frames of one (r NULL) or two planar channels. */
void mf_spectrum_feed(mf_spectrum_t *s, const float *l, const float *r, size_t n);
/* Band levels in dB (see mf_analysis_t.band_db). A signal shorter than one
 * frame is measured from its zero-padded start. */
void mf_spectrum_bands(mf_spectrum_t *s, double out[MF_QC_BANDS]);
void mf_spectrum_free(mf_spectrum_t **s);

#endif
