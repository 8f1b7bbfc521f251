/* mf_cli_layout (cmd_layout.h).
 *
 * Every source of a layout is turned into one thing, the speaker of each of
 * the file's channels as a WAVE_FORMAT_EXTENSIBLE bit (mf_analyze.h), and
 * everything else follows from the speakers: the WAV order is theirs
 * sorted by bit, the weights (mf_qc_speaker_weight) and the name theirs. */
#include "cmd_layout.h"
#include "mf_source_check.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A WAV's mask names its channels in bit order; channels past its bits are
 * unnamed. 0 when the file has no mask. */
static int s_from_mask(const char *path, int ch, int *spk)
{
    const uint32_t mask = mf_source_channel_mask(path);
    if (!mask) return 0;
    int c = 0;
    for (int bit = 0; bit < 32 && c < ch; bit++)
        if (mask >> bit & 1u) spk[c++] = bit;
    while (c < ch) spk[c++] = -1;
    return 1;
}

/* A libsndfile channel map value's speaker; -1 for the ambisonic
 * components, which no loudspeaker plays. */
static int s_speaker(int map)
{
    switch (map) {
    case SF_CHANNEL_MAP_LEFT:
    case SF_CHANNEL_MAP_FRONT_LEFT:
        return 0;
    case SF_CHANNEL_MAP_RIGHT:
    case SF_CHANNEL_MAP_FRONT_RIGHT:
        return 1;
    case SF_CHANNEL_MAP_MONO:
    case SF_CHANNEL_MAP_CENTER:
    case SF_CHANNEL_MAP_FRONT_CENTER:
        return 2;
    case SF_CHANNEL_MAP_LFE:
        return MF_SPK_LFE;
    case SF_CHANNEL_MAP_REAR_LEFT:
        return 4; /* Apple's left surround */
    case SF_CHANNEL_MAP_REAR_RIGHT:
        return 5;
    case SF_CHANNEL_MAP_FRONT_LEFT_OF_CENTER:
        return 6;
    case SF_CHANNEL_MAP_FRONT_RIGHT_OF_CENTER:
        return 7;
    case SF_CHANNEL_MAP_REAR_CENTER:
        return 8;
    case SF_CHANNEL_MAP_SIDE_LEFT:
        return 9;
    case SF_CHANNEL_MAP_SIDE_RIGHT:
        return 10;
    case SF_CHANNEL_MAP_TOP_CENTER:
        return 11;
    case SF_CHANNEL_MAP_TOP_FRONT_LEFT:
        return 12;
    case SF_CHANNEL_MAP_TOP_FRONT_CENTER:
        return 13;
    case SF_CHANNEL_MAP_TOP_FRONT_RIGHT:
        return 14;
    case SF_CHANNEL_MAP_TOP_REAR_LEFT:
        return 15;
    case SF_CHANNEL_MAP_TOP_REAR_CENTER:
        return 16;
    case SF_CHANNEL_MAP_TOP_REAR_RIGHT:
        return 17;
    default:
        return -1;
    }
}

/* The layout libsndfile reads from a CAF 'chan' or an AIFF 'CHAN' chunk,
 * in any order (film order, L C R Ls Rs LFE, is common there), into map.
 * 0 when the file has none. */
static int s_map(SNDFILE *sf, int ch, int *map)
{
    return sf && sf_command(sf, SFC_GET_CHANNEL_MAP_INFO, map, (int)(sizeof *map) * ch) == SF_TRUE;
}

/* The speakers of that map; 0 when it names a channel libsndfile does not
 * know. */
static int s_from_map(const int *map, int ch, int *spk)
{
    for (int c = 0; c < ch; c++) {
        if (map[c] <= SF_CHANNEL_MAP_INVALID || map[c] >= SF_CHANNEL_MAP_MAX) return 0;
        spk[c] = s_speaker(map[c]);
    }
    return 1;
}

/* B-format ambisonics (a CAF's layout, map when there is one, or a WAV's
 * ambisonic subformat) are not loudspeaker feeds: BS.1770 has no weights
 * for W, X, Y and Z. */
static int s_ambisonic(SNDFILE *sf, const int *map, int ch)
{
    if (sf && sf_command(sf, SFC_WAVEX_GET_AMBISONIC, NULL, 0) == SF_AMBISONIC_B_FORMAT) return 1;
    for (int c = 0; map && c < ch; c++)
        if (map[c] >= SF_CHANNEL_MAP_AMBISONIC_B_W && map[c] <= SF_CHANNEL_MAP_AMBISONIC_B_Z)
            return 1;
    return 0;
}

/* Without a layout in the file: the WAV order by the channel count
 * (mf_qc_speakers), FLAC's too; an Ogg Vorbis or Opus file
 * (mapping family 1) stores the centre second and the LFE last (5.1: L C R
 * Ls Rs LFE), and libsndfile hands its channels over as stored. 0 for a
 * count that names no usual layout (9, 11, 13 or more channels). */
static int s_by_count(int ch, int ogg, int *spk)
{
    int wav[MF_QC_MAX_CHANNELS];
    if (!mf_qc_speakers(ch, wav)) return 0;
    /* The file's channel of each WAV-order one. */
    static const signed char vorbis[MF_QC_MAX_CHANNELS + 1][MF_QC_MAX_CHANNELS] = {
        [3] = {0, 2, 1},
        [5] = {0, 2, 1, 3, 4},
        [6] = {0, 2, 1, 5, 3, 4},
        [7] = {0, 2, 1, 6, 5, 3, 4},
        [8] = {0, 2, 1, 7, 5, 6, 3, 4},
    };
    const int shuffled = ogg && vorbis[ch][1];
    for (int c = 0; c < ch; c++) spk[shuffled ? vorbis[ch][c] : c] = wav[c];
    return 1;
}

/* "5.1", "3.1", "5.1.2" (the top channels third); "N channels" when
 * nothing names them. */
static void s_name(const int *spk, int ch, char *name, size_t size)
{
    int main = 0, lfe = 0, top = 0, named = 0;
    for (int c = 0; c < ch; c++) {
        named += spk[c] >= 0;
        if (spk[c] == MF_SPK_LFE)
            lfe++;
        else if (spk[c] >= MF_SPK_TOP_FIRST && spk[c] <= MF_SPK_TOP_LAST)
            top++;
        else
            main++;
    }
    if (!named)
        snprintf(name, size, "%d channels", ch);
    else if (top)
        snprintf(name, size, "%d.%d.%d", main, lfe, top);
    else
        snprintf(name, size, "%d.%d", main, lfe);
}

int mf_cli_layout(const char *path, SNDFILE *sf, const SF_INFO *info, mf_cli_layout_t *out)
{
    memset(out, 0, sizeof *out);
    const int ch = info->channels;
    out->channels = ch;
    if (ch <= 2) {
        mf_qc_channel_weights(ch, out->weight);
        snprintf(out->name, sizeof out->name, "%s", ch == 1 ? "mono" : "stereo");
        return 0;
    }
    int map[MF_QC_MAX_CHANNELS] = {0};
    const int have_map = s_map(sf, ch, map);
    if (s_ambisonic(sf, have_map ? map : NULL, ch)) {
        fprintf(stderr,
                "mixfarm: %s: ambisonics (B-format): BS.1770 measures loudspeaker feeds; decode "
                "it to a speaker layout (5.1, 7.1.4...) first\n",
                path);
        return -1;
    }
    int spk[MF_QC_MAX_CHANNELS];
    if (!s_from_mask(path, ch, spk) && !(have_map && s_from_map(map, ch, spk)) &&
        !s_by_count(ch, (info->format & SF_FORMAT_TYPEMASK) == SF_FORMAT_OGG, spk)) {
        fprintf(stderr,
                "mixfarm: %s: %d channels, and no WAV channel mask or CAF/AIFF channel layout "
                "says which speakers they feed (past 8 channels only 10, as 5.1.4, and 12, as "
                "7.1.4, are taken without one)\n",
                path, ch);
        return -1;
    }
    /* The WAV order: by bit, unnamed channels last, ties as stored. */
    for (int i = 0; i < ch; i++) out->order[i] = i;
    for (int i = 1; i < ch; i++)
        for (int j = i; j > 0; j--) {
            const int a = spk[out->order[j - 1]], b = spk[out->order[j]];
            if ((unsigned)a <= (unsigned)b) break; /* -1 sorts after every bit */
            const int t = out->order[j - 1];
            out->order[j - 1] = out->order[j], out->order[j] = t;
        }
    for (int i = 0; i < ch; i++) {
        out->reorder |= out->order[i] != i;
        out->weight[i] = mf_qc_speaker_weight(spk[out->order[i]]);
    }
    s_name(spk, ch, out->name, sizeof out->name);
    return 0;
}

void mf_cli_layout_apply(const mf_cli_layout_t *l, float *buf, size_t frames)
{
    if (!l->reorder) return;
    const int ch = l->channels;
    float f[MF_QC_MAX_CHANNELS];
    for (size_t i = 0; i < frames; i++) {
        float *x = buf + i * (size_t)ch;
        for (int c = 0; c < ch; c++) f[c] = x[l->order[c]];
        memcpy(x, f, (size_t)ch * sizeof *f);
    }
}
