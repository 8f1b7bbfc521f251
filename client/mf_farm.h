/* The embedded farm: a job's scheduler driven from the calling thread, its
 * tasks run by N worker threads through the same executors a worker daemon
 * uses. */
#ifndef MF_FARM_H
#define MF_FARM_H

#include "mf_sched.h"
#include "mf_store.h"

typedef void (*mf_progress_fn)(const mf_sched_progress_t *p, void *ctx);

/* Runs every task of sched to completion (or the first failure) on
 * `workers` threads. progress (may be NULL) is called after each task.
 * Returns MF_OK, or MF_ERR_TASK with mf_sched_error() saying why. */
mf_err_t mf_farm_run_embedded(mf_sched_t *sched, mf_store_t *store, int workers,
                              mf_progress_fn progress, void *ctx);

#endif
