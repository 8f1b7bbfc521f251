/* The scheduler of one job: walks a plan's DAG, hands out tasks whose
 * inputs all exist, takes results back, and consults the action cache so a
 * task already computed (by this job or any earlier one) is never run again.
 * It does no I/O of its own beyond the cache and runs on one thread: the
 * farm around it (embedded threads or ZeroMQ workers) is the transport. */
#ifndef MF_SCHED_H
#define MF_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "mf_plan.h"
#include "mf_store.h"
#include "mf_task.h"

typedef struct mf_sched mf_sched_t;

/* The action cache: task key -> output hashes of that work, already done. */
typedef struct {
    /* Fills up to max outputs and returns their count, or -1 on a miss (a
     * hit whose blobs are gone is a miss). */
    int (*get)(void *ctx, const mf_hash_t *key, mf_hash_t *outs, int max);
    void (*put)(void *ctx, const mf_hash_t *key, const mf_hash_t *outs, int n);
    void *ctx;
} mf_action_cache_t;

/* The store's file-backed action cache (actions/ beside the blobs). */
mf_action_cache_t mf_sched_store_cache(mf_store_t *store);

typedef struct {
    size_t total, done, running, failed, cached;
    double audio_s_total, audio_s_done;
} mf_sched_progress_t;

/* plan and the cache's context are borrowed and must outlive the scheduler. */
mf_sched_t *mf_sched_new(const mf_plan_t *plan, const mf_action_cache_t *cache);
void mf_sched_free(mf_sched_t **s);

/* For a farm that keeps no action cache (an embedded render without
 * --state): each intermediate blob this job makes is counted in refs (shared
 * by every job: blob_refs.h) with the task inputs that will read it, and
 * drop() is called once the last of them, in any job, is done with it. A
 * blob that is a file of OUTDIR (or describes one) is never counted. Set it
 * before the first mf_sched_next. refs and ctx are borrowed. */
struct mf_blob_refs;
typedef struct {
    struct mf_blob_refs *refs;
    void (*drop)(void *ctx, const mf_hash_t *blob);
    void *ctx;
} mf_sched_drop_t;
/* 0, or -1 when out of memory (then nothing is dropped). */
int mf_sched_set_drop(mf_sched_t *s, const mf_sched_drop_t *d);

/* For a farm that keeps no blobs (with a drop, above): the strips whose
 * output only one channel reads (a bus, the master or a partial sum that
 * reads nothing but such strips; each strip reading only fixed blobs) run
 * inside that channel's task (mf_task_t.inlined), their signals handed over
 * in memory and never stored (sched_fuse.c). The plan, every key and every
 * output name stay as they are, and so do the bits. A channel's strips then
 * run one after another, so channels are fused, heaviest first, only while
 * a longest-first schedule on `slots` slots ends no later than the strips
 * run one by one would. After mf_sched_set_drop, before the first
 * mf_sched_next; returns how many channels run their strips. */
int mf_sched_set_fuse(mf_sched_t *s, int slots);

/* The arithmetic the job renders with (a worker's Hello.numerics), copied:
 * every task handed out from then on carries it, and its key covers it
 * (mf_task_key), so the job's outputs and its action-cache hits are all of
 * one arithmetic. Set before the first mf_sched_next (the coordinator pins
 * a job when it first has a worker for it: coord_workers.c); 0, or -1 when
 * out of memory. mf_sched_numerics: NULL until set. */
int mf_sched_set_numerics(mf_sched_t *s, const char *numerics);
const char *mf_sched_numerics(const mf_sched_t *s);

/* The next ready task (inputs filled, id = its plan index), or 0 when none
 * is ready now. The caller owns *out (mf_task_fini) and must report it. */
int mf_sched_next(mf_sched_t *s, mf_task_t *out);
/* Placement: the tasks that feed one task and read only the job's sources
 * (the strips of one bus) form a group, and a group has an owner, a token
 * of the caller's (a worker; 0: none yet). mf_sched_next_fitting prefers,
 * among the first few ready tasks, the first whose group's owner fits
 * (fits(ctx, owner) non-zero; a task in no group always fits), else takes
 * the first: so a bus finds its strips on one worker, and no slot idles
 * while a task is ready. mf_sched_owner is 0 for a task in no group, and
 * mf_sched_set_owner does nothing to one. */
typedef int (*mf_sched_fits_fn)(void *ctx, uint32_t owner);
int mf_sched_next_fitting(mf_sched_t *s, mf_sched_fits_fn fits, void *ctx, mf_task_t *out);
uint32_t mf_sched_owner(const mf_sched_t *s, uint64_t task);
void mf_sched_set_owner(mf_sched_t *s, uint64_t task, uint32_t owner);
/* Placement: since when task has waited for a busy worker that holds its
 * inputs (coord_locality.c), in *from: now at the first call, which
 * returns 1; the same after, which return 0. */
int mf_sched_wait_begin(mf_sched_t *s, uint64_t task, double now, double *from);
/* Records a finished task. A failed task is tried again, up to three runs
 * in all; then it fails the job. */
void mf_sched_complete(mf_sched_t *s, const mf_task_result_t *r);
/* A running task goes back to the ready ones (its worker was not told of
 * it after all). */
void mf_sched_requeue(mf_sched_t *s, uint64_t task);
/* A running task's worker was lost: the task is ready again, and the loss
 * does not count as one of its failures; but the eighth loss fails it, and
 * its job (a task that crashes its workers). 1 then, else 0. */
int mf_sched_lost(mf_sched_t *s, uint64_t task);
/* Stops handing out tasks; running ones may still report. */
void mf_sched_cancel(mf_sched_t *s);
/* Fails the job with why (as the first failure, unless there is one) and
 * stops handing out tasks. */
void mf_sched_fail(mf_sched_t *s, const char *why);

/* Sources that are still being uploaded (a client submits before it
 * uploads, so the farm starts on the files that are there): every task
 * reading a fixed blob for which has(ctx, blob) is 0 waits, whatever else
 * it waits for, until mf_sched_arrived says the blob is there. Call before
 * the first mf_sched_next. Returns how many distinct blobs are awaited (0:
 * nothing waits), or -1 when out of memory (then nothing waits either). */
int mf_sched_hold_missing(mf_sched_t *s, int (*has)(void *ctx, const mf_hash_t *blob), void *ctx);
/* blob is in the store now: the tasks that waited only for it are ready.
 * Returns how many tasks it released (0 for a blob nobody awaited). */
size_t mf_sched_arrived(mf_sched_t *s, const mf_hash_t *blob);
/* How many blobs are still awaited; *blobs (when not NULL) points to them
 * (valid until the next call on s), or is NULL when none is. */
size_t mf_sched_awaited(const mf_sched_t *s, const mf_hash_t **blobs);
/* Whether mf_sched_next might return a task now. */
int mf_sched_has_ready(const mf_sched_t *s);
/* "strip Kick" */
const char *mf_sched_label(const mf_sched_t *s, uint64_t task);
/* A task's action key, once it has been handed out or found in the action
 * cache (its inputs were known); NULL before. */
const mf_hash_t *mf_sched_key(const mf_sched_t *s, uint64_t task);

int mf_sched_finished(const mf_sched_t *s); /* every task done, or failed */
/* The first failure as words ("strip Kick: ..."), or NULL. */
const char *mf_sched_error(const mf_sched_t *s);
/* audio_s_done counts the finished tasks' audio seconds and, of each
 * running task, the share its worker says it has done. */
mf_sched_progress_t mf_sched_progress(const mf_sched_t *s);
/* A running task's worker says done (0 to 1) of it is done; ignored for a
 * task not running. Reset each time the task is handed out. */
void mf_sched_set_progress(mf_sched_t *s, uint64_t task, float done);
/* One task's state (for the dashboard); MF_TS_WAITING for an index out of range. */
typedef enum {
    MF_TS_WAITING,
    MF_TS_READY,
    MF_TS_RUNNING,
    MF_TS_DONE,
    MF_TS_FAILED
} mf_task_state_t;
mf_task_state_t mf_sched_task_state(const mf_sched_t *s, size_t task);
/* The blob a port resolved to, once its task is done (NULL before). */
const mf_hash_t *mf_sched_port(const mf_sched_t *s, mf_port_t port);

#endif
