/* What OUTDIR's previous render wrote, for a revision rendered into the
 * same folder: its render.json says from which blob and how each output was
 * written, its manifest.json what bytes each file held. An output the new
 * render would write exactly so, whose file still holds those bytes, is
 * kept instead of being fetched and written again (an unchanged stem of a
 * revised mix). Anything missing, older or unreadable: nothing is kept. */
#ifndef MF_PREV_H
#define MF_PREV_H

#include <stdint.h>

#include <jansson.h>

typedef struct mf_prev mf_prev_t;

/* How an output is written: from which blob, as which format and bits, over
 * how many frames (-1: its own length; MF_PREV_ANY_FRAMES: not known yet,
 * for a guess made while the job runs). */
typedef struct {
    const char *blob, *format;
    int bits;
    int64_t frames;
} mf_prev_how_t;

#define MF_PREV_ANY_FRAMES (-2)

/* NULL when OUTDIR holds no previous render that can be reused from. */
mf_prev_t *mf_prev_load(const char *outdir);
/* Whether the previous render wrote relpath exactly as `how` (reads no
 * audio). NULL-safe: 0. */
int mf_prev_had(const mf_prev_t *p, const char *relpath, const mf_prev_how_t *how);
/* relpath's manifest entry when the file in OUTDIR still holds the bytes
 * the manifest lists (its size, then its SHA-256: read once, then known
 * from the client's hash cache while the file is untouched); NULL
 * otherwise. Borrowed from p. */
const json_t *mf_prev_intact(const mf_prev_t *p, const char *relpath);
void mf_prev_free(mf_prev_t **p);

#endif
