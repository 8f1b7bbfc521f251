/* Private to client/. */
#ifndef MF_CLIENT_INTERNAL_H
#define MF_CLIENT_INTERNAL_H

#include "mf_client.h"

void *mf_client__socket(mf_client_t *c);
mf_store_t *mf_client__store(mf_client_t *c);
/* Uploads the sources the coordinator lacks (hashes[i] is the blob of
 * refs[i], in the client's store) and submits doc, named by path's file
 * name; problems are printed as "mixfarm: PATH: ...". */
mf_err_t mf_client__submit_doc(mf_client_t *c, const char *path, const char *doc,
                               Mixfarm__SourceRef **refs, const mf_hash_t *hashes, size_t n,
                               int priority, uint64_t *job);

#endif
