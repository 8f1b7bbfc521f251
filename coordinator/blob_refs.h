/* How many task inputs will still read each intermediate blob, across every
 * job of one coordinator: the farm that keeps no action cache (an embedded
 * render without --state) deletes a blob when its count falls to zero, so
 * the temporary store holds the work in flight, not every signal the
 * render made (128 strips of 20 min at 96 kHz: 59 GB). Keyed by the hash's
 * first 64 bits: two blobs that share them share a count, which can only
 * keep a blob longer, never delete one early. */
#ifndef MF_BLOB_REFS_H
#define MF_BLOB_REFS_H

#include "mf_hash.h"

typedef struct mf_blob_refs mf_blob_refs_t;

mf_blob_refs_t *mf_blob_refs_new(void);
void mf_blob_refs_free(mf_blob_refs_t **r);
/* A count no release brings to zero: a blob that must stay (a file of
 * OUTDIR whose bytes another task's output may share). */
#define MF_BLOB_PINNED (1 << 30)
/* n more readers of blob h. 0, or -1 when out of memory (then nothing is
 * released any more). */
int mf_blob_refs_add(mf_blob_refs_t *r, const mf_hash_t *h, int n);
/* One reader of h is done: 1 when none is left (delete it), else 0. */
int mf_blob_refs_release(mf_blob_refs_t *r, const mf_hash_t *h);
/* Readers left of h (0 when never counted): used as a set by coord_budget.c. */
int mf_blob_refs_count(const mf_blob_refs_t *r, const mf_hash_t *h);

#endif
