/* Outputs taken from earlier renders (mf_client__keep_as) on a thread of
 * their own while the watch goes on. A copy reads and writes a file the
 * size of a stem; done in the watch's loop, one after another, it held up
 * every transfer and the job's end for as long (docs/reference.md). One
 * thread: the copies share one disk.
 *
 *   mf_keeper_t *k = mf_keeper_new(o, prev);      // both borrowed until freed
 *   mf_keeper_add(k, id, "stems/Bus2.wav", &how);  // queued; returns at once
 *   while (mf_keeper_done(k, 0, &id, &kept)) ...   // the finished ones, if any
 *   while (mf_keeper_done(k, 1, &id, &kept)) ...   // the rest, waiting for each
 *   mf_keeper_free(&k);                            // drops what has not begun
 */
#ifndef MF_KEEPER_H
#define MF_KEEPER_H

#include "mf_error.h"
#include "mf_outdir.h"
#include "mf_prev.h"

#include <stddef.h>

typedef struct mf_keeper mf_keeper_t;

/* Copies into o from the renders prev knows. NULL when out of memory. */
mf_keeper_t *mf_keeper_new(mf_outdir_t *o, const mf_prev_t *prev);
/* Queues output path, written as how says (its strings are copied); id
 * comes back with its result. MF_ERR_NOMEM, or MF_ERR_IO when the thread
 * cannot be started: the caller leaves the file to the fetch. */
mf_err_t mf_keeper_add(mf_keeper_t *k, size_t id, const char *path, const mf_prev_how_t *how);
/* One finished output: 1, with *id and *kept (MF_KEPT_HERE, MF_KEPT_COPIED,
 * or 0 when it could not be taken). 0 when none is finished; with wait,
 * waits for one, and 0 only once every queued one has been returned. */
int mf_keeper_done(mf_keeper_t *k, int wait, size_t *id, int *kept);
/* Waits for the output being copied, drops the queued ones and their
 * results. NULL-safe. */
void mf_keeper_free(mf_keeper_t **k);

#endif
