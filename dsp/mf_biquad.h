/* Second-order section design from Robert Bristow-Johnson's "Cookbook
 * formulae for audio EQ biquad filter coefficients" (the Audio EQ Cookbook,
 * W3C Audio WG note, 2021 edition), and Butterworth cascades built from it. */
#ifndef MF_BIQUAD_H
#define MF_BIQUAD_H

typedef enum {
    MF_BQ_PEAK,
    MF_BQ_LOWSHELF,
    MF_BQ_HIGHSHELF,
    MF_BQ_NOTCH,
    MF_BQ_BANDPASS,
    MF_BQ_HIGHPASS,
    MF_BQ_LOWPASS,
    MF_BQ_ALLPASS, /* not an eq kind: for crossovers' phase compensation */
} mf_bq_kind_t;

/* c = {b0, b1, b2, a1, a2}, normalised by a0. f0 is clamped below 0.49 fs.
 * gain_db matters for peak and the shelves only; q is the cookbook's Q (for
 * the shelves, Q = 1/sqrt(2) is the cookbook's shelf slope S = 1). The
 * bandpass has 0 dB gain at f0 (the cookbook's "constant 0 dB peak gain").
 * With q = 1/sqrt(2), lowpass^2 + highpass^2 = allpass exactly (the
 * Linkwitz-Riley identity, which the bilinear transform preserves). */
void mf_biquad_design(double c[5], mf_bq_kind_t kind, double fs, double f0, double gain_db,
                      double q);
/* The Q of section k (0-based) of an order-n Butterworth filter (n even):
 * Q_k = 1 / (2 cos((2k+1) pi / (2n))). */
double mf_butterworth_q(int order, int k);
/* |H(e^jw)| of one section at frequency f. */
double mf_biquad_mag(const double c[5], double f, double fs);

#endif
