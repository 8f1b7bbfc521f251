/* Level arithmetic shared by the strip, buses and processors: dB conversion,
 * pan laws and the block kernels that apply them. Pure functions. */
#ifndef MF_GAIN_H
#define MF_GAIN_H

#include <math.h>
#include <stddef.h>

/* Levels at or below this are silence. "-inf" in a session becomes this
 * value wherever it must be a number (task parameters, automation), so a
 * fade from "-inf" is linear in dB from the floor of 24-bit audio. */
#define MF_DB_SILENT -144.0

/* 20*log10 convention. */
static inline double mf_db_to_gain(double db)
{
    return db <= MF_DB_SILENT ? 0.0 : pow(10.0, db / 20.0);
}
static inline double mf_gain_to_db(double g)
{
    return g <= 0.0 ? -INFINITY : 20.0 * log10(g);
}

/* Pan law for a mono source: pan in [-1, 1], law_db the centre level.
 * -3 is constant power (centre -3.01 dB), -6 is linear (centre -6.02 dB),
 * and a law between them (-4.5) is their geometric blend with the centre
 * exactly at law_db. At the extremes the near side is 0 dB and the far side
 * exactly silent. */
void mf_pan_gains(double pan, double law_db, double *left, double *right);
/* Balance for a stereo source: centre leaves both sides at unity; turning
 * towards one side lowers the other linearly to silence at the extreme. */
void mf_balance_gains(double pan, double *left, double *right);

/* buf[i] *= g for n samples. */
void mf_gain_apply(float *buf, size_t n, float g);
/* out[i] += in[i] for n samples. */
void mf_mix_add(float *restrict out, const float *restrict in, size_t n);

#endif
