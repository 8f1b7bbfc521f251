/* Automation envelopes: breakpoints [time_s, value], linear between points,
 * held before the first and after the last (SESSION.md).
 *
 * Rendering is sample-accurate and independent of block size: the exact
 * value is computed on a fixed grid of absolute timeline frames (every
 * MF_ENV_GRID frames) and interpolated linearly in between, so a sample's
 * value depends only on its frame number. Steps (two points at one time) are
 * ramped over MF_ENV_STEP_S so they never click. */
#ifndef MF_ENVELOPE_H
#define MF_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#define MF_ENV_GRID 32
#define MF_ENV_STEP_S 0.002

typedef struct {
    double t, v;
} mf_point_t;

typedef enum {
    MF_ENV_VALUE, /* the value itself (pan, a frequency, a ratio) */
    MF_ENV_DB,    /* a level in dB, interpolated in dB, rendered as linear gain */
} mf_env_mode_t;

typedef struct {
    mf_point_t *pts; /* owned, sorted by time, steps already ramped */
    size_t n;
    double rate;
    mf_env_mode_t mode;
} mf_envelope_t;

/* Copies pts (sorted by time, as validation guarantees). Returns 0, or -1
 * when out of memory. n may be 0 only if the caller never renders it. */
int mf_envelope_init(mf_envelope_t *e, const mf_point_t *pts, size_t n, double rate,
                     mf_env_mode_t mode);
void mf_envelope_fini(mf_envelope_t *e);
/* The value at an absolute timeline frame (dB stays dB in MF_ENV_DB mode). */
double mf_envelope_value_at(const mf_envelope_t *e, int64_t frame);
/* out[i] = rendered value for frame start+i (a linear gain in MF_ENV_DB mode). */
void mf_envelope_render(const mf_envelope_t *e, int64_t start, size_t n, float *out);
/* The same with map() applied to the value at each grid point (a pan law,
 * say): out[i] interpolates map(value) linearly between grid points. */
void mf_envelope_render_map(const mf_envelope_t *e, int64_t start, size_t n, float *out,
                            double (*map)(double v, void *ctx), void *ctx);

#endif
