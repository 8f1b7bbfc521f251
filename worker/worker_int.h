/* The worker daemon's inner parts: the local blob cache, the slot threads
 * and the loop's state. Only the worker library uses them. */
#ifndef MF_WORKER_INT_H
#define MF_WORKER_INT_H

#include <stdint.h>

#include "farm.pb-c.h"
#include "mf_store.h"
#include "mf_task.h"
#include "mf_worker.h"
#include "mf_xfer.h"

/* ---- cache.c: the local store as an LRU cache with a byte budget. ----
 * Blobs pinned by a queued or running task are never evicted; the rest go
 * least-recently-used first whenever the total passes the budget. The order
 * survives a restart through the files' modification times (touched on
 * use). One worker per cache folder: open takes a lock on it. */
typedef struct mf_cache mf_cache_t;

/* Opens (creating) the store under dir, locks it, clears tmp/ and scans
 * objects/. NULL (with the reason logged) on failure. */
mf_cache_t *mf_cache_open(const char *dir, int64_t budget);
void mf_cache_free(mf_cache_t **c);
mf_store_t *mf_cache_store(mf_cache_t *c);
/* Pins a blob (present or soon to be) and marks it used. */
void mf_cache_pin(mf_cache_t *c, const mf_hash_t *h);
void mf_cache_unpin(mf_cache_t *c, const mf_hash_t *h);
/* A blob has arrived in (or been used from) the store: counts its size,
 * marks it used, then evicts what the budget requires. */
void mf_cache_added(mf_cache_t *c, const mf_hash_t *h);
/* Bytes the cache holds now. */
int64_t mf_cache_bytes(const mf_cache_t *c);
/* Deletes a blob no task will read here (a file of OUTDIR, which the
 * client fetches from the coordinator), unless a task has it pinned. */
void mf_cache_drop(mf_cache_t *c, const mf_hash_t *h);

/* ---- slots.c: N threads, each running one task at a time. ----
 * The loop lends a slot a task and collects results without waiting; an
 * eventfd says when to look. A slot thread stops when asked, after the
 * task it holds. */
typedef struct mf_slots mf_slots_t;

/* Starts n threads running tasks against store. NULL on failure (logged). */
mf_slots_t *mf_slots_start(int n, mf_store_t *store);
/* Stops and joins every thread (each finishes its current task first). */
void mf_slots_stop(mf_slots_t **s);
/* The descriptor to poll for results (readable: look). */
int mf_slots_fd(const mf_slots_t *s);
/* A free slot, or -1 when all are busy. */
int mf_slots_free(const mf_slots_t *s);
/* Hands t to a free slot (from mf_slots_free). t is borrowed, not copied:
 * it must stay, unchanged, until its result has been taken. */
void mf_slots_run(mf_slots_t *s, int slot, const mf_task_t *t);
/* Receives one result without waiting: 1 (slot and r filled, the slot is
 * free again), 0 when there is none. */
int mf_slots_result(mf_slots_t *s, int *slot, mf_task_result_t *r);
/* How far slot's task is, in millionths (mf_exec_progress; 0 at its start). */
uint32_t mf_slots_progress(mf_slots_t *s, int slot);

/* ---- mf_worker.c (the connection) and tasks.c (each task's way through
 * fetch, run, upload and report) share the loop's state. ---- */
typedef enum { MF_WT_FETCH, MF_WT_READY, MF_WT_RUNNING, MF_WT_UPLOAD } mf_tstate_t;

#define MF_LIVE_OUTPUTS 4 /* outputs of a task that may go up while written */

typedef struct mf_wtask {
    struct mf_wtask *next;
    struct mf_wloop *w;
    mf_task_t t;
    mf_task_result_t r; /* once run */
    mf_tstate_t state;
    int pending;      /* transfers not yet over */
    char *error;      /* the first failure outside the executor */
    int orphan;       /* running for a lost connection: drop its result */
    mf_hash_t *reads; /* the blobs it reads (s_reads): pinned while it lives */
    int inputs_pinned, outputs_pinned;
    unsigned live;                        /* outputs (bits) being uploaded while they are written */
    int expects;                          /* its first outputs' names are followed (mf_writes.h) */
    mf_hash_t out_names[MF_LIVE_OUTPUTS]; /* those names, hashed once */
    double started;                       /* when it went to a slot (mf_clock_now) */
    double limit_s; /* how long it may run, once past --task-limit (0: not yet known) */
} mf_wtask_t;

typedef struct mf_wloop {
    const mf_worker_opts_t *o;
    const char *name;
    int n_slots, hb_ms;
    mf_store_t *store;         /* where tasks read and write: the cache's or the shared one */
    mf_cache_t *cache;         /* NULL with a shared store */
    int links_outputs;         /* a shared store the client links files from: an embedded
                                  farm's, without --state (mf_task_t.as_file) */
    mf_writes_t *writes;       /* the cache's named writes, for live uploads */
    unsigned long writes_seen; /* mf_writes_opened_count at the last look */
    mf_slots_t *slots;
    mf_wtask_t **on_slot;
    mf_wtask_t *tasks; /* in arrival order */
    void *sock;        /* NULL while disconnected */
    mf_xfer_t *xfer;
    int heard, refused, fatal;
    int64_t last_send, last_recv;
    int64_t last_progress; /* when running tasks' progress was last sent */
    uint32_t *told;        /* per slot: the progress last sent for its task */
} mf_wloop_t;

/* Sends env on the current connection (nothing while disconnected). */
void mf_wloop_send(mf_wloop_t *w, Mixfarm__Envelope *env);
/* A Task envelope's body: fetches its inputs, then queues it for a slot. */
void mf_tasks_on_task(mf_wloop_t *w, const Mixfarm__Task *m);
/* Takes in every result the slots have finished. */
void mf_tasks_drain_slots(mf_wloop_t *w);
/* Starts the live upload of every output a running task has begun to write
 * (the first MF_LIVE_OUTPUTS of each) and moves those under way along.
 * Returns 1 while one of them waits for bytes (poll again soon). */
int mf_tasks_live(mf_wloop_t *w);
/* The connection is gone (mf_xfer_reset already called): forgets every
 * task but the running ones, whose results will be dropped. */
void mf_tasks_drop(mf_wloop_t *w);
/* A task running longer than its limit (said): the process must go. */
int mf_tasks_stuck(mf_wloop_t *w);
/* Frees every task (once the slots have stopped). */
void mf_tasks_free_all(mf_wloop_t *w);

#endif
