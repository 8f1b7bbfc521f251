#include "mf_gain.h"

void mf_pan_gains(double pan, double law_db, double *left, double *right)
{
    if (pan < -1.0) pan = -1.0;
    if (pan > 1.0) pan = 1.0;
    /* Constant power: theta from 0 (left) to pi/2 (right); centre cos(pi/4) = -3.01 dB. */
    double theta = (pan + 1.0) * (M_PI / 4.0);
    double pl = cos(theta), pr = sin(theta);
    /* Linear: centre 0.5 = -6.02 dB. */
    double ll = (1.0 - pan) * 0.5, lr = (1.0 + pan) * 0.5;
    /* a = 1 at -3 dB, 0 at -6 dB; geometric blend of the two laws. */
    double a = (law_db - 20.0 * log10(0.5)) / (20.0 * log10(M_SQRT1_2) - 20.0 * log10(0.5));
    if (a >= 1.0) {
        *left = pl, *right = pr;
    } else if (a <= 0.0) {
        *left = ll, *right = lr;
    } else {
        *left = pow(pl, a) * pow(ll, 1.0 - a);
        *right = pow(pr, a) * pow(lr, 1.0 - a);
    }
}

void mf_balance_gains(double pan, double *left, double *right)
{
    if (pan < -1.0) pan = -1.0;
    if (pan > 1.0) pan = 1.0;
    *left = pan > 0.0 ? 1.0 - pan : 1.0;
    *right = pan < 0.0 ? 1.0 + pan : 1.0;
}

void mf_gain_apply(float *buf, size_t n, float g)
{
    for (size_t i = 0; i < n; i++) buf[i] *= g;
}

void mf_mix_add(float *restrict out, const float *restrict in, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] += in[i];
}
