/* The embedded farm: the coordinator's event loop and N workers as threads
 * of this process, over inproc:// in one ZeroMQ context, sharing one blob
 * store in a temporary folder. It is the distributed farm with another
 * transport, not a second code path: the client talks to it exactly as it
 * talks to a remote coordinator. */
#ifndef MF_EMBEDDED_H
#define MF_EMBEDDED_H

#include <stdint.h>

#include "mf_store.h"

typedef struct mf_embedded mf_embedded_t;

/* Starts a coordinator and `workers` one-slot workers, with its journal and
 * blobs in a temporary folder, or in state_dir when given (render --state):
 * kept after the render, so that the next one with the same state_dir
 * reuses every task it already ran (the action cache). One render at a
 * time uses a state_dir: another waits for it (a lock on state_dir/lock).
 * With store_budget > 0 (render --store-budget, with a state_dir), the
 * least recently used blobs of state_dir go first, down to 90 % of it:
 * before the render, while nothing runs; the render itself may then take
 * the store over its budget until the next one. NULL on failure (logged). */
mf_embedded_t *mf_embedded_start(int workers, const char *state_dir, int64_t store_budget);
/* Stops every thread and removes the temporary state (not a state_dir).
 * NULL-safe. */
void mf_embedded_stop(mf_embedded_t **e);
/* Removes a temporary state folder at once, the farm still running: for a
 * process about to die of a signal (a kept --state stays). */
void mf_embedded_discard(mf_embedded_t *e);

void *mf_embedded_zctx(const mf_embedded_t *e);
const char *mf_embedded_endpoint(const mf_embedded_t *e);
/* The coordinator's blob store, which the client shares. */
mf_store_t *mf_embedded_store(const mf_embedded_t *e);

#endif
