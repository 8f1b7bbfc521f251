/* A connection to a coordinator, and the client's side of the protocol:
 * submit (uploading only the blobs the coordinator lacks), status, watch,
 * fetch (writing OUTDIR exactly as an embedded render does) and cancel.
 * The embedded farm is reached the same way, over inproc://. */
#ifndef MF_CLIENT_H
#define MF_CLIENT_H

#include <stdint.h>

#include "farm.pb-c.h"
#include "mf_curve.h"
#include "mf_error.h"
#include "mf_album.h"
#include "mf_session.h"
#include "mf_store.h"

typedef struct mf_client mf_client_t;

/* zctx: the ZeroMQ context (the embedded farm's, for inproc). local: where
 * blobs are staged for upload and fetched into (borrowed). */
mf_client_t *mf_client_new(void *zctx, const char *endpoint, mf_store_t *local);
/* The same with CURVE keys (curve NULL: none; copied). Over tcp:// it also
 * watches the handshake: a refused key or CURVE on one side only makes a
 * call fail at once (MF_ERR_UNREACHABLE, the reason logged). */
mf_client_t *mf_client_new_secure(void *zctx, const char *endpoint, mf_store_t *local,
                                  const mf_curve_keys_t *curve);
void mf_client_free(mf_client_t **c);
/* local is the farm's own store (an embedded farm's, or a coordinator's
 * mounted here): nothing needs fetching
 * into it, and a blob in it is the farm's to delete, not the client's. */
void mf_client_shares_farm_store(mf_client_t *c);
const char *mf_client_endpoint(const mf_client_t *c);
/* With local the coordinator's own store mounted here (--shared-store,
 * after mf_client_shares_farm_store): checks that it is, by a small blob
 * written into it and looked for by the coordinator (then removed).
 * MF_ERR_INVALID when it is not (said why); MF_ERR_UNREACHABLE. */
mf_err_t mf_client_check_shared_store(mf_client_t *c);

/* Sends req and waits for a reply of the wanted kind. MF_ERR_UNREACHABLE
 * when nothing comes back in time. The caller frees *reply with
 * mixfarm__envelope__free_unpacked. */
mf_err_t mf_client_call(mf_client_t *c, Mixfarm__Envelope *req, Mixfarm__Envelope__BodyCase want,
                        Mixfarm__Envelope **reply);

/* Submits a session validated locally (s, loaded from its file): every
 * audio file is first checked whole where it is (MF_ERR_INVALID, each short
 * one named), then uploaded as a blob where the coordinator lacks it. On
 * refusal the coordinator's problems are printed as "mixfarm: FILE: ..." and
 * MF_ERR_INVALID is returned; a refusal with no problem in the input (its
 * disk is full) is MF_ERR_IO. */
mf_err_t mf_client_submit(mf_client_t *c, const mf_session_t *s, int priority, uint64_t *job);
/* The same for an album (mf_album.h): its nested sessions, their files,
 * the mix files and the cover go over as sources. */
mf_err_t mf_client_submit_album(mf_client_t *c, const mf_album_t *a, int priority, uint64_t *job);
/* Asks the coordinator to cancel job. MF_ERR_INVALID when it refuses (a
 * job already ended, or none such: its reason in why, n bytes). A caught
 * Ctrl-C does not stop it: it is how a command tidies up after one. */
mf_err_t mf_client_cancel(mf_client_t *c, uint64_t job, char *why, size_t n);
/* Polls the job until it ends, drawing progress on stderr when show is set.
 * Returns MF_OK when done, MF_ERR_TASK when it failed (error printed),
 * MF_ERR_INVALID when it failed on a source file this client submitted
 * (truncated, corrupt: the error names the file and its track),
 * MF_ERR_CANCELLED when cancelled. With prefetch_for (the OUTDIR the
 * outputs are for; NULL: none), the outputs ready so far are fetched into
 * the client's store (an embedded farm's are there already) and written
 * into OUTDIR's staging folder while the job runs, so that mf_client_fetch
 * at the end has little left to move or write; those OUTDIR's previous
 * render likely holds already are left to it. */
typedef struct {
    uint32_t total, cached; /* the job's tasks, and those the action cache answered */
} mf_job_tally_t;
/* ... and, when tally is not NULL, fills it from the last status seen. */
mf_err_t mf_client_watch(mf_client_t *c, uint64_t job, int show, const char *prefetch_for,
                         mf_job_tally_t *tally);
/* Fetches a finished job's outputs into outdir; a file of outdir's previous
 * render that would be written the same way, and still holds its bytes,
 * is kept instead (mf_prev.h). On success *summary (if
 * given) holds a one-line description to free(), and *qc_pass (if given)
 * whether qc.json passed; its problems are printed as warnings. */
mf_err_t mf_client_fetch(mf_client_t *c, uint64_t job, const char *outdir, char **summary,
                         int *qc_pass);

#endif
