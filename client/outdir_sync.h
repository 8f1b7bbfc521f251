/* OUTDIR's files put on disk while the job still runs: each staged file is
 * handed to a thread of its own that fsyncs it, so that commit waits only
 * for what was staged last instead of for the whole render's writeback.
 * Internal to client/ (mf_outdir.c).
 *
 *   outdir_sync_t *s = mf_outdir__sync_new();     // NULL: none (commit syncs)
 *   mf_outdir__sync_add(s, "OUT/.stage/mix.wav"); // at once, returns
 *   mf_outdir__sync_wait(s, &failed);             // all added ones on disk?
 *   mf_outdir__sync_free(&s);
 */
#ifndef MF_OUTDIR_SYNC_H
#define MF_OUTDIR_SYNC_H

typedef struct outdir_sync outdir_sync_t;

/* The thread and its queue; NULL when it cannot start. */
outdir_sync_t *mf_outdir__sync_new(void);
/* Queues path (copied) to be synced; a file gone by then (staged again
 * under the same name, so added again) is skipped. Does nothing when s is
 * NULL or out of memory: commit syncs whatever was not. */
void mf_outdir__sync_add(outdir_sync_t *s, const char *path);
/* Waits until every path added so far is synced. 0; or -1 with errno set
 * and *failed the first path that failed (owned by s). */
int mf_outdir__sync_wait(outdir_sync_t *s, const char **failed);
/* Whether path was synced by s (after mf_outdir__sync_wait). */
int mf_outdir__sync_done(const outdir_sync_t *s, const char *path);
/* Stops the thread (what is queued is dropped) and frees. */
void mf_outdir__sync_free(outdir_sync_t **s);

#endif
