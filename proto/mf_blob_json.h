/* The JSON documents tasks pass each other as blobs (reports, statistics,
 * an encode's manifest fields), read back in one place. */
#ifndef MF_BLOB_JSON_H
#define MF_BLOB_JSON_H

#include <jansson.h>

#include "mf_store.h"

/* The blob parsed as JSON (a new reference), or NULL when it is absent or
 * not JSON. */
json_t *mf_blob_json(const mf_store_t *s, const mf_hash_t *h);

#endif
