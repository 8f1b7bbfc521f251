/* A Bloom filter of action-cache keys: "certainly not cached" without a
 * SQLite lookup. Every task is looked up before it is sent, and a new
 * task's key is a miss; at tens of thousands of tasks a second the B-tree
 * search was a tenth of the coordinator's loop (docs/farm.md).
 *
 * Keys are SHA-256 digests, uniform already: four of their 64-bit words
 * pick the four bits. No false negatives as long as every key written to
 * the cache is added; a deleted key stays in (a lookup then just asks
 * SQLite). Past its capacity the false-positive rate rises: the owner
 * rebuilds a larger one (mf_keyfilter_full). */
#ifndef MF_KEY_FILTER_H
#define MF_KEY_FILTER_H

#include <stddef.h>

#define MF_KEYFILTER_KEY 32 /* bytes */

typedef struct mf_keyfilter mf_keyfilter_t;

/* Room for `keys` keys at about 0.25 % false positives. NULL when out of memory. */
mf_keyfilter_t *mf_keyfilter_new(size_t keys);
void mf_keyfilter_add(mf_keyfilter_t *f, const unsigned char key[MF_KEYFILTER_KEY]);
/* 0: certainly never added; 1: perhaps. */
int mf_keyfilter_maybe(const mf_keyfilter_t *f, const unsigned char key[MF_KEYFILTER_KEY]);
/* Whether more keys were added than it was made for. */
int mf_keyfilter_full(const mf_keyfilter_t *f);
size_t mf_keyfilter_capacity(const mf_keyfilter_t *f);
void mf_keyfilter_free(mf_keyfilter_t **f);

#endif
