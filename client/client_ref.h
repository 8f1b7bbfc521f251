/* Private to client/: the reference track of a session (mastering.reference) as one of the
 * sources a submission sends: its blob and audio header, so the
 * coordinator can validate the session and plan the compare and match
 * tasks (client_ref.c). Private to client/. */
#ifndef MF_CLIENT_REF_H
#define MF_CLIENT_REF_H

#include "farm.pb-c.h"
#include "mf_outdir.h"
#include "mf_session.h"
#include "mf_store.h"

/* When s names a reference: puts it into store, fills *ref (its path as the
 * session writes it, borrowed from s) and *hash, and sets *added. */
mf_err_t mf_client__reference_source(const mf_session_t *s, mf_store_t *store,
                                     Mixfarm__SourceRef *ref, mf_hash_t *hash, int *added);

/* render.json (client_render.c): what a fetched render was, for mixfarm
 * diff: {"mixfarm": 1, "session_name", "session": the document as
 * rendered (null when too large to send), "tasks": [{"label", "kind",
 * "key", "outputs": [hash...]}], "tasks_complete", "outputs": [{"path",
 * "blob", "format", "bits", "frames"}]}. Staged into o like any other file
 * (and so in manifest.json). */
mf_err_t mf_client__write_render(mf_outdir_t *o, mf_store_t *s, const Mixfarm__FetchReply *r);
/* The frames an output is written over: the mix's length for an aligned
 * signal, else -1 (its own length). */
int64_t mf_client__written_frames(const Mixfarm__FetchReply *r, const Mixfarm__OutputRef *o);

#endif
