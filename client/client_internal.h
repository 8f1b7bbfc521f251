/* Private to client/. */
#ifndef MF_CLIENT_INTERNAL_H
#define MF_CLIENT_INTERNAL_H

#include "mf_client.h"
#include "mf_outdir.h"
#include "mf_prev.h"
#include "mf_xfer.h"

void *mf_client__socket(mf_client_t *c);
/* Of blobs[0..n_blobs) and extra (NULL: none), those the coordinator lacks
 * (BlobHave), into *missing (malloc'd, *n of them). A job that awaits one
 * it has takes it then (mf_client__tell_arrived). */
mf_err_t mf_client__missing(mf_client_t *c, const mf_hash_t *blobs, size_t n_blobs,
                            const mf_hash_t *extra, mf_hash_t **missing, size_t *n);
/* Tells the coordinator that blob h is in its store now, put there through
 * a shared store (client_shared.c): the tasks that waited for it run.
 * MF_ERR_IO when the coordinator does not find it there. */
mf_err_t mf_client__tell_arrived(mf_client_t *c, const mf_hash_t *h);
mf_store_t *mf_client__store(const mf_client_t *c);
/* 1 when that store is the embedded farm's (mf_client_shares_farm_store). */
int mf_client__farm_store(const mf_client_t *c);
/* A monotonic clock in ms. */
long long mf_client__now_ms(void);
/* How long a call waits for its reply (MIXFARM_TIMEOUT_MS), in ms. */
int mf_client__timeout_ms(const mf_client_t *c);
/* Transfers on the client's socket that run while it makes calls: replies
 * to them that arrive during a call go to x (NULL: none). Borrowed. */
void mf_client__set_xfer(mf_client_t *c, mf_xfer_t *x);
/* Submits doc, named by path's file name, and uploads the sources the
 * coordinator lacks (hashes[i] is the blob of refs[i], in the client's
 * store, or the file files[i] names when that is not NULL: put into the
 * store only if the coordinator lacks it): with follow after the submit,
 * so the farm starts on what it has (a job whose upload then fails is
 * cancelled), else before it; problems are printed as "mixfarm: PATH:
 * ...". files may be NULL (every blob in the store). */
mf_err_t mf_client__submit_doc(mf_client_t *c, const char *path, const char *doc,
                               Mixfarm__SourceRef **refs, const mf_hash_t *hashes,
                               const char **files, size_t n, int priority, int follow,
                               uint64_t *job);

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

/* ---- writing OUTDIR (client_fetch.c) ---- */
/* Whether an earlier render wrote output o exactly so, over frames
 * (mf_prev.h; MF_PREV_ANY_FRAMES while the job runs). qc.json never counts:
 * its verdict is read from the fetched blob. */
int mf_client__had(const mf_prev_t *prev, const Mixfarm__OutputRef *o, int64_t frames);
/* How an output a recent render in another folder wrote the same way is
 * taken from there rather than fetched (mf_prev.h, MF_PREV_*): copied (by
 * a clone where the file system can) when the outputs cross a network;
 * only by a clone from a coordinator on this machine (loopback, ipc),
 * whose store is as near as that folder and warmer: there a copy costs
 * more than the fetch it saves (docs/reference.md); never for the farm's
 * own store. MIXFARM_REUSE=0: never; MIXFARM_REUSE=1: copies from a
 * coordinator on this machine too. */
int mf_client__reuse(mf_client_t *c);
/* How output out is written over frames (mf_client__written_frames; its
 * strings are out's). */
mf_prev_how_t mf_client__how(const Mixfarm__OutputRef *out, int64_t frames);
/* Stages the output at path, written as how says, in o from the earlier
 * render that wrote it so: MF_KEPT_HERE (OUTDIR's file, linked),
 * MF_KEPT_COPIED (another folder's, cloned or copied), or 0 when none did
 * or the file failed on the way (the caller fetches it). Safe beside other
 * writers of o: the fetch runs it on several threads, the watch on the
 * keeper's (mf_keeper.h). */
enum { MF_KEPT_HERE = 1, MF_KEPT_COPIED = 2 };
int mf_client__keep_as(mf_outdir_t *o, const mf_prev_t *prev, const char *path,
                       const mf_prev_how_t *how);
/* Writes output out of reply r (its blobs in s) into o's staging folder;
 * with qc_pass, qc.json's verdict is read into it. */
mf_err_t mf_client__write_output(mf_outdir_t *o, mf_store_t *s, const Mixfarm__FetchReply *r,
                                 const Mixfarm__OutputRef *out, int *qc_pass);

/* ---- outputs staged while the job runs (client_early.c) ---- */
typedef struct mf_early mf_early_t;
/* release: a staged file's blob leaves the store (the client's own; never
 * the farm's, whose tasks may still read it); store: the client's. */
mf_early_t *mf_early_new(const char *outdir, int release, const mf_store_t *store);
/* Frees, removing whatever it staged and nobody took. NULL-safe. */
void mf_early_free(mf_early_t **e);
const char *mf_early_outdir(const mf_early_t *e);
/* The outputs known ready: a partial FetchReply envelope, taken over. */
void mf_early_offer(mf_early_t *e, Mixfarm__Envelope *ready);
/* Stages one offered output: from an earlier render that wrote it so
 * (handed to a thread that copies it, mf_keeper.h: prev must stay until
 * mf_early_drain), else once its blobs have arrived; or ends one whose
 * signal came before the mix's length was known, now that it is; 1 when
 * it wrote or handed over one. */
int mf_early_step(mf_early_t *e, mf_store_t *s, const mf_prev_t *prev);
/* Waits for the outputs being taken from earlier renders (finish), or
 * only for the one being copied, dropping the rest (their files are left
 * to the fetch): before prev, which the step was given, goes. */
void mf_early_drain(mf_early_t *e, int finish);
/* How many outputs it took from earlier renders: [MF_KEPT_HERE] and
 * [MF_KEPT_COPIED]. */
void mf_early_kept(const mf_early_t *e, size_t kept[3]);
/* Writes output o of the partial reply r into OUTDIR as its blob arrives
 * through x, instead of into the client's store first: a signal, when it
 * is one mf_outdir_stream_signal can write and the reply says what its
 * trailer holds (one write instead of two); a file with a report (a
 * listening copy); either hashed for the manifest on the way.
 * An aligned signal (a stem, the mix) comes as soon as its task is done:
 * its file is ended once the mix's length is known (a step, or
 * mf_early_settle). 1 when it does or already does, 0 when the caller
 * should fetch it into the store. A stream that fails leaves the file to
 * the fetch at the end. */
int mf_early_stream(mf_early_t *e, mf_xfer_t *x, const Mixfarm__FetchReply *r,
                    const Mixfarm__OutputRef *o);
/* Ends every output still waiting for the mix's length with the length r
 * (the job's final reply) gives, or, when it gives none, removes it for
 * the fetch to write: before the fetch writes anything. */
void mf_early_settle(mf_early_t *e, const Mixfarm__FetchReply *r);
/* Whether output o is staged already, exactly as it would be over frames. */
int mf_early_staged(const mf_early_t *e, const Mixfarm__OutputRef *o, int64_t frames);
/* The staging it wrote into (NULL when it wrote nothing), for the caller. */
mf_outdir_t *mf_early_take_outdir(mf_early_t *e);
/* A watch leaves its early staging to the fetch that follows (taken over;
 * NULL: none). */
void mf_client__set_early(mf_client_t *c, mf_early_t *e);
mf_early_t *mf_client__take_early(mf_client_t *c);

#endif
