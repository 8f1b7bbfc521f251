#include "mf_gain.h"

void mf_pan_gains(double pan, double law_db, double *left, double *right)
{
    if (pan < -1.0) pan = -1.0;
    if (pan > 1.0) pan = 1.0;
    /* Constant power, centre sin(pi/4) = -3.01 dB. sin() of both sides (not
     * cos and sin) so each far side is exactly 0 at the extremes. */
    double pl = sin((1.0 - pan) * (M_PI / 4.0)), pr = sin((1.0 + pan) * (M_PI / 4.0));
    /* Linear (constant voltage), centre 0.5 = -6.02 dB. */
    double ll = (1.0 - pan) * 0.5, lr = (1.0 + pan) * 0.5;
    /* -3 and -6 name the two laws; a law between blends them geometrically
     * with the weight that puts the centre exactly at law_db (-4.5 dB). */
    const double cp_db = 20.0 * log10(M_SQRT1_2), lin_db = 20.0 * log10(0.5);
    double a = law_db >= -3.0 ? 1.0 : law_db <= -6.0 ? 0.0 : (law_db - lin_db) / (cp_db - lin_db);
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
