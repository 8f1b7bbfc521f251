/* The worker daemon as a library: one message loop that connects a DEALER
 * to the coordinator, announces its slots, fetches each task's inputs into a
 * local LRU cache, runs the task on a slot thread, uploads the outputs and
 * reports. It keeps nothing the farm needs: kill it at any moment and the
 * coordinator runs its tasks elsewhere.
 *
 * The embedded farm runs it in-process with shared_store set: inputs are
 * then read from and outputs written to that store directly, and no blob
 * travels over the socket. */
#ifndef MF_WORKER_H
#define MF_WORKER_H

#include <stdatomic.h>
#include <stdint.h>

#include "mf_curve.h"
#include "mf_store.h"

#define MF_WORKER_CACHE_BYTES ((int64_t)4 << 30) /* default cache budget */

typedef struct {
    void *zctx;               /* ZeroMQ context (borrowed) */
    const char *endpoint;     /* the coordinator, "tcp://host:5555" or inproc:// */
    const char *name;         /* how the coordinator lists this worker; NULL: "worker" */
    int slots;                /* tasks run at once; < 1: one */
    const char *cache_dir;    /* the local store; unused with shared_store */
    int64_t cache_bytes;      /* its budget; <= 0: MF_WORKER_CACHE_BYTES */
    mf_store_t *shared_store; /* the coordinator's own store, or NULL */
    /* Heartbeat interval, 0: 1000 ms. The coordinator is dead after 5
     * intervals of silence; reconnecting backs off from 1 to 32 intervals.
     * Tests shorten it; daemons leave it 0. */
    int heartbeat_ms;
    /* CURVE keys (and the coordinator's public key), or NULL for none. */
    const mf_curve_keys_t *curve;
    /* > 0: a descriptor that becomes readable once *stop is set (the host's
     * eventfd: an embedded farm's), so the worker stops at once rather than
     * at its next tick; 0: none. */
    int wake_fd;
    /* > 0: a task still running after this many seconds is stuck, and the
     * process exits (status 3) for its supervisor to start it again: a
     * thread cannot be stopped. 0: no limit (an embedded farm's). */
    double task_limit_s;
} mf_worker_opts_t;

/* Runs until *stop becomes non-zero (checked a few times a second, and at
 * once when a signal interrupts the loop) or the coordinator refuses this
 * worker. Tasks still running finish before it returns; their results are
 * dropped (the coordinator requeues them). Returns 0 on a clean stop, 1 when
 * refused or when the worker could not start (both logged). */
int mf_worker_run(const mf_worker_opts_t *o, atomic_int *stop);

#endif
