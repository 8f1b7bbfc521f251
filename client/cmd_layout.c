/* mf_cli_layout (cmd_layout.h). */
#include "cmd_layout.h"
#include "mf_source_check.h"

#include <stdint.h>
#include <string.h>

/* WAVE_FORMAT_EXTENSIBLE's speaker bits: the LFE, and the surrounds (back,
 * side and top back). As libebur128 and ffmpeg weigh them: the LFE none,
 * a surround 1.41, the rest (front, centre, top front, a channel the mask
 * leaves unnamed) 1. */
#define WAV_LFE 0x8u
#define WAV_SURROUNDS (0x10u | 0x20u | 0x100u | 0x200u | 0x400u | 0x8000u | 0x10000u | 0x20000u)

/* By the speakers a WAV's channel mask names, else by the channel count in
 * the WAV order (mf_qc_channel_weights): FLAC's order too, and an Ogg
 * file's once reordered. */
static void s_weights(const char *path, int ch, float *w)
{
    mf_qc_channel_weights(ch, w);
    const uint32_t mask = ch > 2 ? mf_source_channel_mask(path) : 0;
    for (int bit = 0, c = 0; mask && c < ch; bit++) {
        const uint32_t b = bit < 32 ? 1u << bit : 0;
        if (b && !(mask & b)) continue;
        w[c++] = b == WAV_LFE ? 0.0f : b & WAV_SURROUNDS ? MF_QC_SURROUND_WEIGHT : 1.0f;
    }
}

/* Ogg Vorbis and Opus (mapping family 1) store surround channels their own
 * way, the centre second and the LFE last (5.1: L C R Ls Rs LFE), and
 * libsndfile hands them over as stored. NULL where the orders agree. */
static const int *s_vorbis_order(int channels)
{
    static const int order[MF_QC_MAX_CHANNELS + 1][MF_QC_MAX_CHANNELS] = {
        [3] = {0, 2, 1},
        [5] = {0, 2, 1, 3, 4},
        [6] = {0, 2, 1, 5, 3, 4},
        [7] = {0, 2, 1, 6, 5, 3, 4},
        [8] = {0, 2, 1, 7, 5, 6, 3, 4},
    };
    return channels >= 0 && channels <= MF_QC_MAX_CHANNELS && order[channels][1] ? order[channels]
                                                                                 : NULL;
}

void mf_cli_layout(const char *path, const SF_INFO *info, mf_cli_layout_t *out)
{
    memset(out, 0, sizeof *out);
    out->channels = info->channels;
    s_weights(path, info->channels, out->weight);
    if ((info->format & SF_FORMAT_TYPEMASK) == SF_FORMAT_OGG)
        out->order = s_vorbis_order(info->channels);
}

void mf_cli_layout_apply(const mf_cli_layout_t *l, float *buf, size_t frames)
{
    if (!l->order) return;
    const int ch = l->channels;
    float f[MF_QC_MAX_CHANNELS];
    for (size_t i = 0; i < frames; i++) {
        float *x = buf + i * (size_t)ch;
        for (int c = 0; c < ch; c++) f[c] = x[l->order[c]];
        memcpy(x, f, (size_t)ch * sizeof *f);
    }
}
