/* Filter design for the QC kernels: K-weighting for any sample rate and the
 * true-peak interpolator. Runs once per analyzer, in double precision. */
#include "mf_qc_kernels.h"

#include <math.h>
#include <string.h>

/* One step of the K-weighting cascade in double (TDF-II, same ordering as
 * the kernels). */
static double s_step(double c[2][5], double s[4], double x)
{
    const double u = c[0][0] * x + s[0];
    s[0] = (c[0][1] * x + s[1]) - c[0][3] * u;
    s[1] = c[0][2] * x - c[0][4] * u;
    const double y = c[1][0] * u + s[2];
    s[2] = (c[1][1] * u + s[3]) - c[1][3] * y;
    s[3] = c[1][2] * u - c[1][4] * y;
    return y;
}

/* ITU-R BS.1770-4 gives the K-weighting as biquad coefficients for 48 kHz
 * only. Here both stages are re-derived for the actual rate from their
 * analog prototypes (the high-shelf "pre-filter": f0 1681.97 Hz, gain
 * 3.99984 dB, Q 0.70718; the RLB high-pass: f0 38.1355 Hz, Q 0.50033) by the
 * bilinear transform with pre-warping, K = tan(pi f0 / fs). These prototype
 * values are the ones libebur128 uses; at 48 kHz they reproduce the
 * published coefficients to 1e-8. */
void mf_kw_design(mf_kw_coef_t *k, double rate)
{
    double c[2][5];
    double K = tan(M_PI * 1681.974450955533 / rate), Q = 0.7071752369554196;
    const double vh = pow(10.0, 3.999843853973347 / 20.0), vb = pow(vh, 0.4996667741545416);
    double a0 = 1.0 + K / Q + K * K;
    c[0][0] = (vh + vb * K / Q + K * K) / a0;
    c[0][1] = 2.0 * (K * K - vh) / a0;
    c[0][2] = (vh - vb * K / Q + K * K) / a0;
    c[0][3] = 2.0 * (K * K - 1.0) / a0;
    c[0][4] = (1.0 - K / Q + K * K) / a0;
    K = tan(M_PI * 38.13547087602444 / rate), Q = 0.5003270373238773;
    a0 = 1.0 + K / Q + K * K;
    /* The RLB numerator stays 1, -2, 1 as in BS.1770 (unnormalised). */
    c[1][0] = 1.0, c[1][1] = -2.0, c[1][2] = 1.0;
    c[1][3] = 2.0 * (K * K - 1.0) / a0;
    c[1][4] = (1.0 - K / Q + K * K) / a0;
    memset(k, 0, sizeof *k);
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < 5; i++) k->c[s][i] = (float)c[s][i];
    /* State-space matrices by simulation: the response to each unit state
     * with no input, and to each unit input sample from rest. */
    for (int j = 0; j < 4; j++) {
        double s[4] = {0};
        s[j] = 1.0;
        for (int t = 0; t < 8; t++) k->P[j][t] = (float)s_step(c, s, 0.0);
        for (int i = 0; i < 4; i++) k->Q[j][i] = (float)s[i];
    }
    for (int in = 0; in < 8; in++) {
        double s[4] = {0};
        for (int t = 0; t < 8; t++) k->H[in][t] = (float)s_step(c, s, t == in ? 1.0 : 0.0);
        for (int i = 0; i < 4; i++) k->R[in][i] = (float)s[i];
    }
}

/* Modified Bessel function I0 by its power series. */
static double s_i0(double x)
{
    double sum = 1.0, term = 1.0;
    for (int k = 1; k < 60; k++) {
        term *= (x / (2.0 * k)) * (x / (2.0 * k));
        sum += term;
    }
    return sum;
}

/* Kaiser-windowed sinc interpolation (beta 8, 32 taps per phase, cutoff at
 * the base rate's Nyquist), each phase normalised to unity gain at DC. The
 * response is flat within 0.001 dB up to 0.42 fs and -0.3 dB at 0.44 fs;
 * phase 0 is the sample itself (a Nyquist filter), so it is not computed.
 * BS.1770-4 Annex 2 asks for at least 4x below 96 kHz; 2x is enough from
 * 88.2 kHz and sample peaks from 176.4 kHz. */
void mf_tp_design(mf_tp_coef_t *c, double rate)
{
    memset(c, 0, sizeof *c);
    c->R = rate < 88200.0 ? 4 : rate < 176400.0 ? 2 : 1;
    c->nph = c->R - 1;
    const double half = MF_TP_TAPS / 2, beta = 8.0;
    for (int p = 1; p < c->R; p++) {
        const double f = (double)p / c->R;
        double h[MF_TP_TAPS], sum = 0.0;
        for (int j = 0; j < MF_TP_TAPS; j++) {
            const double d = f - (j - MF_TP_PRE), r = d / half; /* |d| < 16 */
            h[j] = sin(M_PI * d) / (M_PI * d) * s_i0(beta * sqrt(1.0 - r * r)) / s_i0(beta);
            sum += h[j];
        }
        for (int j = 0; j < MF_TP_TAPS; j++) c->c[p - 1][j] = (float)(h[j] / sum);
    }
}
