/* The compressor's gain path, shared by every processor that compresses
 * (compressor, and each band of multiband): linked detector, static curve
 * with soft knee, attack/release ballistics, makeup and parallel mix.
 *
 * The parameter table mf_comp_params is the compressor's; its first
 * MF_COMP_N_CORE entries (threshold_db .. makeup_db) are the parameters a
 * compressor-like band takes, so multiband uses that prefix as its band
 * table and both stay one definition. */
#ifndef MF_COMP_H
#define MF_COMP_H

#include <stddef.h>

#include "mf_dsp_util.h"
#include "mf_kernels.h"
#include "mf_processor.h"

enum {
    MF_COMP_THRESHOLD,
    MF_COMP_RATIO,
    MF_COMP_ATTACK,
    MF_COMP_RELEASE,
    MF_COMP_KNEE,
    MF_COMP_MAKEUP,
    MF_COMP_N_CORE, /* the band parameters of multiband end here */
    MF_COMP_DETECTOR = MF_COMP_N_CORE,
    MF_COMP_LOOKAHEAD,
    MF_COMP_SCHPF,
    MF_COMP_MIX,
    MF_COMP_N_PARAMS,
};

extern const mf_param_desc_t mf_comp_params[MF_COMP_N_PARAMS];

typedef struct {
    const mf_dsp_kernels_t *k;
    int ch;
    double rate;
    mf_gain_curve_t curve;
    int rms;
    float att, rel, rms_c, smooth_c;
    float ms, makeup_db, makeup_target, mix, mix_target;
    /* The ballistics' group of MF_BALLISTICS_LANES frames counted from the
     * first frame: its state at the group's start, the gain changes of the
     * frames of it already seen (a call may end inside a group) and the
     * coefficients' powers the scan uses. */
    float y1, y;
    float part[MF_BALLISTICS_LANES];
    int part_n;
    mf_ballistics_t bal;
    float lvl[MF_DSP_CHUNK], gr[MF_DSP_CHUNK], mixv[MF_DSP_CHUNK];
} mf_comp_gain_t;

/* A gain path for channels (1 or 2) at rate, parameters not yet set. */
void mf_comp_gain_init(mf_comp_gain_t *g, int channels, double rate);
/* New parameters: v holds the MF_COMP_N_CORE core values; rms selects the
 * 10 ms rms detector; mix is 0 (dry) .. 1 (compressed). Makeup and mix
 * glide to new values over ~5 ms. */
void mf_comp_gain_set(mf_comp_gain_t *g, const double *v, int rms, double mix);
/* Makeup and mix jump to their targets (when an instance is made). */
void mf_comp_gain_settle(mf_comp_gain_t *g);
/* The linear gain for n <= MF_DSP_CHUNK frames of detector input det
 * (interleaved, g's channel count); returns g->lvl, valid until the next
 * call. */
const float *mf_comp_gain_run(mf_comp_gain_t *g, const float *det, size_t n);

#endif
