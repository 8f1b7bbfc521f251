/* The coordinator's journal: every job and task state change, in SQLite
 * (WAL) under --state. On restart the coordinator reads back the jobs that
 * were not finished and plans them again; the action cache in the blob store
 * then skips every task already computed, so nothing finished is redone.
 *
 * Writes are grouped: mf_journal_begin/commit bracket one turn of the event
 * loop, so the journal costs one fsync-free commit per turn, not per task. */
#ifndef MF_JOURNAL_H
#define MF_JOURNAL_H

#include <stdint.h>

#include "mf_error.h"
#include "mf_hash.h"

typedef struct mf_journal mf_journal_t;

typedef struct {
    uint64_t id;
    char *name;
    char *document;
    char *sources; /* JSON array of SourceRef-like objects */
    int priority;
    char *state;
    char *error;
    double created, updated;
    char *numerics; /* the arithmetic it renders with (mf_journal_job_numerics), or NULL */
} mf_journal_job_t;

/* Opens (creating) DIR/journal.db. NULL on failure, logged. */
mf_journal_t *mf_journal_open(const char *state_dir);
void mf_journal_free(mf_journal_t **j);

void mf_journal_begin(mf_journal_t *j);
/* SQLite's words for the last write failure ("database or disk is full"),
 * without the path: fit for a reply to a client. */
const char *mf_journal_error(const mf_journal_t *j);
void mf_journal_commit(mf_journal_t *j);
/* 1 when the open group holds changes not yet committed. */
int mf_journal_pending(const mf_journal_t *j);

/* A new job, committed before this returns (with the group so far); its
 * id (> 0), or 0 when it could not be recorded (mf_journal_error says why).
 * A failed write (a full disk) is logged once, naming the file; the
 * coordinator goes on and the journal stays consistent, without the
 * changes SQLite could not write. */
uint64_t mf_journal_add_job(mf_journal_t *j, const char *name, const char *document,
                            const char *sources, int priority);
/* A job's state; its end (done, failed, cancelled) is committed at once,
 * with the group so far, before this returns. */
void mf_journal_job_state(mf_journal_t *j, uint64_t job, const char *state, const char *error);
/* The arithmetic a job renders with, once the coordinator pins it
 * (coord_workers.c), so that a restart resumes it with the same one. */
void mf_journal_job_numerics(mf_journal_t *j, uint64_t job, const char *numerics);
/* Appends a task state change: state "running", "done" or "failed";
 * outputs: space-separated hashes or NULL. */
void mf_journal_task(mf_journal_t *j, uint64_t job, uint32_t task, const char *label,
                     const char *state, const char *worker, double seconds, const char *outputs,
                     const char *error);

/* The action cache (task key -> output hashes), in the same database so a
 * result and its cache entry are committed together. get returns the
 * number of outputs (up to max) or -1. */
int mf_journal_action_get(mf_journal_t *j, const mf_hash_t *key, mf_hash_t *outs, int max);
void mf_journal_action_put(mf_journal_t *j, const mf_hash_t *key, const mf_hash_t *outs, int n);

/* Retention, so that the journal grows with the jobs a coordinator holds
 * rather than with every job it ever ran (a catalogue of thousands of
 * albums): the task events of the finished jobs whose ids are below
 * horizon go, and their document and sources are emptied; the job's row
 * (name, state, error, times) stays. Nothing of a queued or running job is
 * touched. At most max events go per call (a journal from before this
 * retention may hold millions: the loop must not stop for them); returns
 * how many went, or -1. */
long mf_journal_prune_jobs(mf_journal_t *j, uint64_t horizon, long max);
/* Visits up to max action-cache entries after cursor (in key order,
 * starting again from the first after the last), deleting those for which
 * gone() says an output is no longer stored; cursor is updated. Returns the
 * entries deleted, or -1. */
typedef int (*mf_journal_gone_fn)(void *ctx, const mf_hash_t *outs, int n);
int mf_journal_prune_cache(mf_journal_t *j, mf_journal_gone_fn gone, void *ctx, int max,
                           unsigned char cursor[MF_HASH_BYTES]);

/* Calls fn for every job whose state is queued or running, oldest first. */
int mf_journal_unfinished(mf_journal_t *j, void (*fn)(void *ctx, const mf_journal_job_t *job),
                          void *ctx);
/* Calls fn for the newest max jobs that are done and still have their
 * document (retention has not emptied it), oldest first. */
int mf_journal_recent_done(mf_journal_t *j, int max,
                           void (*fn)(void *ctx, const mf_journal_job_t *job), void *ctx);

#endif
