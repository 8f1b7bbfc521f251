/* A spill file: samples written once, then read from the start as often as
 * needed, on disk so that memory does not grow with the length of the
 * signal (the mastering passes read the inserts' output again: mf_master.h).
 * The file has no name (O_TMPFILE, else unlinked at once): it is gone when
 * closed or when the process dies.
 *
 *   mf_spill_t *s = mf_spill_new(dir);
 *   mf_spill_append(s, x, n) ...;
 *   mf_spill_rewind(s); while (mf_spill_read(s, buf, max, &got) == MF_OK && got) ...;
 *   mf_spill_free(&s); */
#ifndef MF_SPILL_H
#define MF_SPILL_H

#include <stddef.h>

#include "mf_error.h"

typedef struct mf_spill mf_spill_t;

/* A new, empty spill in folder dir; NULL (errno set) when it cannot be made. */
mf_spill_t *mf_spill_new(const char *dir);
void mf_spill_free(mf_spill_t **s);
/* n samples at the end; MF_ERR_IO when the disk refuses them. */
mf_err_t mf_spill_append(mf_spill_t *s, const float *x, size_t n);
/* Ends writing (if it was) and goes back to the first sample. */
mf_err_t mf_spill_rewind(mf_spill_t *s);
/* Up to max samples from where reading is; *got = 0 at the end. */
mf_err_t mf_spill_read(mf_spill_t *s, float *x, size_t max, size_t *got);

#endif
