/* How a file's channels are laid out, for measuring it (mixfarm qc,
 * compare): the BS.1770 loudness weight of each channel and, for an Ogg
 * file, the reordering that puts its frames into the WAV order the
 * analyzer assumes (front left and right first, then centre, LFE,
 * surrounds). Mono and stereo files need neither. */
#ifndef CMD_LAYOUT_H
#define CMD_LAYOUT_H

#include "mf_analyze.h"

#include <sndfile.h>
#include <stddef.h>

typedef struct {
    int channels;
    float weight[MF_QC_MAX_CHANNELS];
    const int *order; /* the WAV order's channel i is the file's order[i]; NULL: as stored */
} mf_cli_layout_t;

/* The layout of the file at path, which libsndfile opened with info
 * (1 .. MF_QC_MAX_CHANNELS channels). */
void mf_cli_layout(const char *path, const SF_INFO *info, mf_cli_layout_t *out);
/* Puts frames interleaved frames into the WAV order, in place. */
void mf_cli_layout_apply(const mf_cli_layout_t *l, float *buf, size_t frames);

#endif
