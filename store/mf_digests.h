/* What a store handle remembers of the blobs it wrote around the page
 * cache (mf_blob_writer_new_direct): the SHA-256 of their bytes, hashed on
 * the way, so that whoever makes a file of such a blob in this process (an
 * embedded farm's client linking a listening copy into OUTDIR) need not
 * read it back to hash it. In memory only, the last MF_DIGESTS of them:
 * another process, or a blob written before, is simply not known. Safe
 * for several threads. Internal to store/ (mf_store.h gives the API). */
#ifndef MF_DIGESTS_H
#define MF_DIGESTS_H

#include "mf_hash.h"

#define MF_DIGESTS 256

typedef struct mf_digests mf_digests_t;

mf_digests_t *mf_digests_new(void);
void mf_digests_free(mf_digests_t **d);
void mf_digests_put(mf_digests_t *d, const mf_hash_t *blob, const mf_hash_t *sha);
/* 1 and *sha, or 0 when blob is not known. NULL-safe. */
int mf_digests_get(mf_digests_t *d, const mf_hash_t *blob, mf_hash_t *sha);

#endif
