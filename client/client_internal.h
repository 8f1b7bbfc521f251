/* Private to client/. */
#ifndef MF_CLIENT_INTERNAL_H
#define MF_CLIENT_INTERNAL_H

#include "mf_client.h"
#include "mf_xfer.h"

void *mf_client__socket(mf_client_t *c);
mf_store_t *mf_client__store(mf_client_t *c);
/* Transfers on the client's socket that run while it makes calls: replies
 * to them that arrive during a call go to x (NULL: none). Borrowed. */
void mf_client__set_xfer(mf_client_t *c, mf_xfer_t *x);
/* Uploads the sources the coordinator lacks (hashes[i] is the blob of
 * refs[i], in the client's store) and submits doc, named by path's file
 * name; problems are printed as "mixfarm: PATH: ...". */
mf_err_t mf_client__submit_doc(mf_client_t *c, const char *path, const char *doc,
                               Mixfarm__SourceRef **refs, const mf_hash_t *hashes, size_t n,
                               int priority, uint64_t *job);

/* What this client calls each source it sent ("tracks[2] \"Kick\"
 * (audio/kick.wav)" in document doc), so that an error about a blob can
 * name the file instead; the first name a hash gets stays. */
mf_err_t mf_client__name_source(mf_client_t *c, const mf_hash_t *h, const char *doc,
                                const char *name);
/* The name of the source whose hash starts with the n hex digits at prefix,
 * with *doc its document; NULL when this client sent no such source. */
const char *mf_client__source_name(const mf_client_t *c, const char *prefix, size_t n,
                                   const char **doc);

/* Checks, before anything is uploaded, that every audio file the session
 * names holds all the audio its header declares (mf_source_check.h); each
 * one that does not is reported as "mixfarm: SESSION: tracks[2] \"Kick\"
 * (audio/kick.wav): header says 20.000 s, data holds 7.300 s".
 * MF_ERR_INVALID when any is short (bad input: exit 2). */
mf_err_t mf_client__check_sources(const mf_session_t *s);
/* The same for one file: doc and what name it in the message, resolved is
 * its path. 0 when whole, -1 (reported) otherwise. */
int mf_client__check_audio(const char *doc, const char *what, const char *resolved);

#endif
