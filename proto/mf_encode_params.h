/* Parameters of the encode task, as canonical JSON (the planner writes them,
 * worker/exec_encode.c reads them).
 *
 *  encode {"format": "wav" | "aiff" | "flac" | "mp3" | "opus",
 *          "bits" (16, 24 or 32 = float; 0 for mp3 and opus), "rate" (Hz of
 *          the file), "bitrate_kbps" (mp3 CBR, opus; 0 otherwise),
 *          "vbr_quality" (mp3 VBR 0..9, null for CBR), "noise_shaping",
 *          "ceiling_dbtp" (no decoded sample may exceed it),
 *          "release_ms", "lookahead_ms" (the limiter of a re-encode),
 *          "gain_db" (applied first), "cover" (input 2 is the cover image),
 *          "tags": {"title": "...", ...} (strings, only those present)}
 *         input 0: the signal (a master, from timeline frame 0); input 1: a
 *         JSON report of its loudness ({"integrated_lufs", "lra_lu",
 *         "true_peak_dbtp"}, as the mastering task writes it); input 2: the
 *         cover (JPEG or PNG) when "cover" is true.
 *         output 0: the encoded file's bytes; output 1: a JSON report of the
 *         encoding (what manifest.json and qc.json say of the file). */
#ifndef MF_ENCODE_PARAMS_H
#define MF_ENCODE_PARAMS_H

#include "mf_error.h"

/* Tags, in the order of SESSION.md's metadata; a track's and a disc's
 * totals come from an album. */
typedef enum {
    MF_TAG_TITLE,
    MF_TAG_ARTIST,
    MF_TAG_ALBUM,
    MF_TAG_ALBUM_ARTIST,
    MF_TAG_TRACK,
    MF_TAG_TRACK_TOTAL,
    MF_TAG_DISC,
    MF_TAG_YEAR,
    MF_TAG_GENRE,
    MF_TAG_COMPOSER,
    MF_TAG_COPYRIGHT,
    MF_TAG_COMMENT,
    MF_TAG_ISRC,
    MF_TAG_UPC,
    MF_TAG__COUNT
} mf_tag_t;

/* "title", "artist", ...: the metadata key of a tag. */
const char *mf_tag_key(mf_tag_t t);

typedef struct {
    char format[8];
    int bits;
    int rate;
    int bitrate_kbps;
    double vbr_quality; /* NAN: CBR */
    int noise_shaping;
    double ceiling_dbtp;
    double release_ms, lookahead_ms;
    double gain_db;
    int cover;
    char *tags[MF_TAG__COUNT]; /* NULL when absent */
} mf_encode_spec_t;

/* 1 for mp3 and opus. */
int mf_encode_lossy(const char *format);

/* Canonical JSON (malloc'd), NULL when out of memory. */
char *mf_encode_spec_to_json(const mf_encode_spec_t *e);
/* Parses and checks everything; MF_ERR_INVALID with *why for malformed input. */
mf_err_t mf_encode_spec_from_json(const char *text, mf_encode_spec_t *e, const char **why);
void mf_encode_spec_fini(mf_encode_spec_t *e);

#endif
