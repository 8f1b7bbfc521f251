/* A thread working through OUTDIR's staged files while the job still runs,
 * in the order they were staged. mf_outdir.c keeps two: one puts each file
 * on disk (fsync), so that commit waits only for what was staged last
 * instead of for the whole render's writeback; one hashes each file for
 * manifest.json, so that the thread receiving the job's outputs does not
 * (on a farm, the client's receiving was the end of every render).
 * Internal to client/.
 *
 *   outdir_queue_t *q = mf_outdir__queue_new(mf_hash_file); // NULL: none
 *   mf_outdir__queue_add(q, "OUT/.stage/mix.wav");  // at once, returns
 *   mf_outdir__queue_wait(q, &failed);              // every one added done?
 *   mf_outdir__queue_stop(q);                       // or: the one under way
 *   mf_outdir__queue_done(q, path, &hash);          // path's last add done?
 *   mf_outdir__queue_free(&q);
 */
#ifndef MF_OUTDIR_QUEUE_H
#define MF_OUTDIR_QUEUE_H

#include "mf_hash.h"

typedef struct outdir_queue outdir_queue_t;

/* What the thread does with a path: 0, or -1 with errno set. *out is the
 * job's result (a hash; untouched by a job that has none). */
typedef int (*outdir_job_t)(const char *path, mf_hash_t *out);

/* The thread and its queue; NULL when it cannot start. */
outdir_queue_t *mf_outdir__queue_new(outdir_job_t job);
/* Queues path (copied). Does nothing when q is NULL or out of memory:
 * commit does whatever was not done. */
void mf_outdir__queue_add(outdir_queue_t *q, const char *path);
/* Waits until every path added so far is done. 0; or -1 with errno set and
 * *failed the first path whose job failed (owned by q), not counting a
 * path gone by then (ENOENT: staged again, so added again). */
int mf_outdir__queue_wait(outdir_queue_t *q, const char **failed);
/* Stops the thread once the job under way is done; the rest are left
 * undone. */
void mf_outdir__queue_stop(outdir_queue_t *q);
/* Whether the job of path's last mf_outdir__queue_add succeeded (call it
 * after a wait or a stop); its result in *out when out is not NULL. */
int mf_outdir__queue_done(const outdir_queue_t *q, const char *path, mf_hash_t *out);
/* Stops the thread and frees. */
void mf_outdir__queue_free(outdir_queue_t **q);

#endif
