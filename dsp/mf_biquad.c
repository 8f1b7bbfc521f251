#include "mf_biquad.h"

#include <math.h>

void mf_biquad_design(double c[5], mf_bq_kind_t kind, double fs, double f0, double gain_db,
                      double q)
{
    if (f0 > 0.49 * fs) f0 = 0.49 * fs;
    if (f0 < 1.0) f0 = 1.0;
    if (q < 1e-3) q = 1e-3;
    /* Cookbook intermediates: A = 10^(dBgain/40), w0 = 2 pi f0 / Fs,
     * alpha = sin(w0) / (2Q). */
    const double A = pow(10.0, gain_db / 40.0), w0 = 2.0 * M_PI * f0 / fs;
    const double cw = cos(w0), alpha = sin(w0) / (2.0 * q), sa = 2.0 * sqrt(A) * alpha;
    double b0, b1, b2, a0, a1, a2;
    switch (kind) {
    case MF_BQ_LOWPASS: /* H(s) = 1 / (s^2 + s/Q + 1) */
        b0 = (1.0 - cw) / 2.0, b1 = 1.0 - cw, b2 = b0;
        a0 = 1.0 + alpha, a1 = -2.0 * cw, a2 = 1.0 - alpha;
        break;
    case MF_BQ_HIGHPASS: /* H(s) = s^2 / (s^2 + s/Q + 1) */
        b0 = (1.0 + cw) / 2.0, b1 = -(1.0 + cw), b2 = b0;
        a0 = 1.0 + alpha, a1 = -2.0 * cw, a2 = 1.0 - alpha;
        break;
    case MF_BQ_BANDPASS: /* H(s) = (s/Q) / (s^2 + s/Q + 1) */
        b0 = alpha, b1 = 0.0, b2 = -alpha;
        a0 = 1.0 + alpha, a1 = -2.0 * cw, a2 = 1.0 - alpha;
        break;
    case MF_BQ_ALLPASS: /* H(s) = (s^2 - s/Q + 1) / (s^2 + s/Q + 1) */
        b0 = 1.0 - alpha, b1 = -2.0 * cw, b2 = 1.0 + alpha;
        a0 = 1.0 + alpha, a1 = -2.0 * cw, a2 = 1.0 - alpha;
        break;
    case MF_BQ_NOTCH: /* H(s) = (s^2 + 1) / (s^2 + s/Q + 1) */
        b0 = 1.0, b1 = -2.0 * cw, b2 = 1.0;
        a0 = 1.0 + alpha, a1 = -2.0 * cw, a2 = 1.0 - alpha;
        break;
    case MF_BQ_LOWSHELF: /* H(s) = A (s^2 + (sqrt(A)/Q) s + A) / (A s^2 + (sqrt(A)/Q) s + 1) */
        b0 = A * ((A + 1.0) - (A - 1.0) * cw + sa);
        b1 = 2.0 * A * ((A - 1.0) - (A + 1.0) * cw);
        b2 = A * ((A + 1.0) - (A - 1.0) * cw - sa);
        a0 = (A + 1.0) + (A - 1.0) * cw + sa;
        a1 = -2.0 * ((A - 1.0) + (A + 1.0) * cw);
        a2 = (A + 1.0) + (A - 1.0) * cw - sa;
        break;
    case MF_BQ_HIGHSHELF: /* H(s) = A (A s^2 + (sqrt(A)/Q) s + 1) / (s^2 + (sqrt(A)/Q) s + A) */
        b0 = A * ((A + 1.0) + (A - 1.0) * cw + sa);
        b1 = -2.0 * A * ((A - 1.0) + (A + 1.0) * cw);
        b2 = A * ((A + 1.0) + (A - 1.0) * cw - sa);
        a0 = (A + 1.0) - (A - 1.0) * cw + sa;
        a1 = 2.0 * ((A - 1.0) - (A + 1.0) * cw);
        a2 = (A + 1.0) - (A - 1.0) * cw - sa;
        break;
    case MF_BQ_PEAK: /* H(s) = (s^2 + s (A/Q) + 1) / (s^2 + s/(A Q) + 1) */
    default:
        b0 = 1.0 + alpha * A, b1 = -2.0 * cw, b2 = 1.0 - alpha * A;
        a0 = 1.0 + alpha / A, a1 = -2.0 * cw, a2 = 1.0 - alpha / A;
        break;
    }
    c[0] = b0 / a0, c[1] = b1 / a0, c[2] = b2 / a0, c[3] = a1 / a0, c[4] = a2 / a0;
}

double mf_butterworth_q(int order, int k)
{
    return 1.0 / (2.0 * cos((2.0 * k + 1.0) * M_PI / (2.0 * order)));
}

double mf_biquad_mag(const double c[5], double f, double fs)
{
    /* H(z) = (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2), z = e^jw. */
    const double w = 2.0 * M_PI * f / fs;
    const double c1 = cos(w), s1 = sin(w), c2 = cos(2.0 * w), s2 = sin(2.0 * w);
    const double nr = c[0] + c[1] * c1 + c[2] * c2, ni = -(c[1] * s1 + c[2] * s2);
    const double dr = 1.0 + c[3] * c1 + c[4] * c2, di = -(c[3] * s1 + c[4] * s2);
    return sqrt((nr * nr + ni * ni) / (dr * dr + di * di));
}
