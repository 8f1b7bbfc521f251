/* Writing a render's OUTDIR (CLI.md "Output layout"): every file is written
 * into a hidden folder inside OUTDIR and renamed into place when whole, so
 * OUTDIR never holds a half-written file; manifest.json comes last and lists
 * what the render wrote (size, SHA-256, format, duration). */
#ifndef MF_OUTDIR_H
#define MF_OUTDIR_H

#include <stdint.h>

#include "mf_store.h"

typedef struct mf_outdir mf_outdir_t;

/* Creates OUTDIR if needed and a staging folder in it. NULL on failure
 * (logged, naming the folder). */
mf_outdir_t *mf_outdir_open(const char *outdir);
/* Writes a signal blob as a 32-bit float WAV at relpath ("stems/Drums.wav"),
 * placed on a timeline [0, frames): zeros where the signal is silent. */
mf_err_t mf_outdir_write_signal(mf_outdir_t *o, const char *relpath, const mf_store_t *s,
                                const mf_hash_t *blob, int64_t frames);
/* Writes manifest.json, moves every staged file into place and removes the
 * staging folder. On any failure nothing further is renamed. */
mf_err_t mf_outdir_commit(mf_outdir_t *o, const char *session_name);
/* Removes whatever is staged (after a failure) and frees. */
void mf_outdir_free(mf_outdir_t **o);

#endif
