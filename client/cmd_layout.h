/* How a file's channels are laid out, for measuring it (mixfarm qc,
 * compare): the BS.1770 loudness weight of each channel, the reordering
 * that puts its frames into the WAV order the analyzer assumes (front left
 * and right first, then centre, LFE, surrounds), and a name for people
 * ("5.1", "3.1"). The speakers come from a WAV's channel mask, else from
 * the channel layout libsndfile reads from a CAF or AIFF file, else from
 * the format (Ogg's own order) and the channel count. Mono and stereo
 * files need none of it. */
#ifndef CMD_LAYOUT_H
#define CMD_LAYOUT_H

#include "mf_analyze.h"

#include <sndfile.h>
#include <stddef.h>

typedef struct {
    int channels;
    float weight[MF_QC_MAX_CHANNELS];
    int reorder;                   /* 0: the frames are read as stored */
    int order[MF_QC_MAX_CHANNELS]; /* the WAV order's channel i is the file's order[i] */
    char name[40];                 /* "mono", "stereo", "5.1", "5.1.2", "4 channels" */
} mf_cli_layout_t;

/* The layout of the file at path, which libsndfile opened as sf with info
 * (1 .. MF_QC_MAX_CHANNELS channels). -1, with why on stderr, for a file
 * that is not loudspeaker feeds (B-format ambisonics) or whose speakers
 * nothing tells: more than 8 channels, no WAV mask or CAF/AIFF layout, and
 * not 10 (5.1.4) or 12 (7.1.4). */
int mf_cli_layout(const char *path, SNDFILE *sf, const SF_INFO *info, mf_cli_layout_t *out);
/* Puts frames interleaved frames into the WAV order, in place. */
void mf_cli_layout_apply(const mf_cli_layout_t *l, float *buf, size_t frames);

#endif
