/* Playback systems: simple models of how a master sounds on a phone,
 * earbuds, a laptop, in a car, in a club and summed to mono, for the
 * listen/ outputs (docs/reference.md lists every parameter and why).
 *
 * A model is data: whether it sums to mono ((L+R)/2), a stereo width (side
 * gain: laptop speakers sit close together), a chain of biquad sections
 * (band limits as Butterworth high/low-pass cascades, resonances as peaks,
 * cabin gain and air absorption as shelves; RBJ cookbook designs) and an
 * optional compressor (small speakers and club systems protect their
 * drivers): a feed-forward RMS detector, hard knee. Pure: no I/O, no
 * allocation while processing. */
#ifndef MF_PLAYBACK_H
#define MF_PLAYBACK_H

#include <stddef.h>

#include "mf_biquad.h"

#define MF_PB_MAX_SECTIONS 8

typedef struct {
    mf_bq_kind_t kind;
    double f0, gain_db, q;
} mf_pb_section_t;

typedef struct {
    const char *name; /* file name: listen/<name>.wav */
    const char *what; /* one line for people */
    int mono;         /* output is one channel: (L+R)/2 */
    double width;     /* side gain of a stereo model (1: as is) */
    mf_pb_section_t sec[MF_PB_MAX_SECTIONS];
    int nsec;
    double comp_threshold_db; /* RMS level where compression starts; 0: none */
    double comp_ratio, comp_attack_ms, comp_release_ms;
} mf_playback_model_t;

/* Every model, in a fixed order (phone, earbuds, laptop, car, club, mono). */
const mf_playback_model_t *mf_playback_models(size_t *count);

typedef struct mf_playback mf_playback_t;

/* in_channels 1 or 2; NULL when out of memory. */
mf_playback_t *mf_playback_new(const mf_playback_model_t *m, double rate, int in_channels);
/* Channels of what process() writes: 1 for mono models, else in_channels. */
int mf_playback_channels(const mf_playback_t *p);
/* frames interleaved in_channels frames in, mf_playback_channels() out
 * (at most 4096 frames per call; out must not alias in). */
void mf_playback_process(mf_playback_t *p, float *out, const float *in, size_t frames);
void mf_playback_free(mf_playback_t **p);

#endif
