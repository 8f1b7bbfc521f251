/* The scheduler's state, shared by mf_sched.c (the DAG walk, the cache,
 * dropping consumed blobs, held sources) and sched_fuse.c (strips run
 * inside the channel that reads them). Internal to coordinator/. */
#ifndef MF_SCHED_INT_H
#define MF_SCHED_INT_H

#include "mf_sched.h"

typedef enum { T_WAITING, T_READY, T_RUNNING, T_DONE, T_FAILED } tstate_t;

#define MAX_ATTEMPTS 3 /* a task that fails this often fails its job */
/* A task whose worker was lost this often while running it fails its job:
 * one that crashes every worker it runs on (a poison task) would otherwise
 * take the farm down one worker after another, for ever. Not 3: workers
 * killed at random (chaos, spot instances reclaimed) met one long strip
 * three times in six kills under the sanitizers. */
#define MAX_LOSSES 8

typedef struct {
    tstate_t state;
    int attempts; /* failed runs (a lost worker does not count) */
    int losses;   /* runs whose worker was lost */
    size_t deps_left;
    size_t blobs_left; /* inputs among the sources still being uploaded (mf_sched_hold_missing) */
    mf_hash_t key;     /* set when the task is handed out */
    int *dependents;   /* tasks consuming an output of this one (with repeats) */
    size_t n_dependents;
    mf_hash_t *outputs;
    int *readers;      /* with a drop: per output, the task inputs reading it; -1 an OUTDIR file */
    uint32_t read;     /* bit o: some task reads output o (else mf_task_t.unread says so) */
    int group;         /* a leaf task: the task whose feeders share one worker (s_group); else -1 */
    uint32_t owner;    /* as a group: the worker its feeders go to (the caller's token), 0 none */
    double wait_from;  /* since when it waits for a busy worker holding its inputs, or 0 */
    int fused_into;    /* a strip a channel runs itself (sched_fuse.c): that channel + 1; 0 none */
    int fused_members; /* a channel: how many of its strips it runs itself */
    int parked;        /* such a strip, taken while its channel's other inputs were not done */
    int inline_run;    /* a channel running with its strips inside it */
    int unstored;      /* done inside its reader: its outputs were never stored */
    float progress;    /* running: the share of it done, as its worker last said (0 to 1) */
} tnode_t;

struct mf_sched {
    const mf_plan_t *plan;
    mf_action_cache_t cache;
    tnode_t *nodes;
    /* Ready task indices, a deque (a task is in it at most once): tasks with
     * nothing to wait for join at the back, tasks whose inputs have just
     * been computed at the front, so a partial sum, a bus or the master
     * runs as soon as it can, among the strips, and the job does not end
     * on a queue of joins after every strip. */
    int *ready;
    size_t ready_head, ready_count;
    mf_sched_progress_t prog;
    char *error;
    mf_sched_drop_t drop; /* refs NULL: keep every blob */
    int fused;            /* channels that run their strips (sched_fuse.c); 0 on a farm */
    char *numerics;       /* the job's arithmetic, or NULL: not pinned yet */
    mf_hash_t *awaited;   /* sources still being uploaded, each once */
    size_t n_awaited;
    int partial; /* a running task has said how far it is (mf_sched_set_progress) */
};

void mf_sched__make_ready(mf_sched_t *s, size_t i);
/* The same at the queue's front: it goes next. */
void mf_sched__make_ready_first(mf_sched_t *s, size_t i);
/* Task i as it is handed out (inputs from its producers' outputs), its key
 * computed and recorded as node i's; -1 (nothing to free) when out of
 * memory. */
int mf_sched__fill(mf_sched_t *s, size_t i, mf_task_t *out);
/* Task i is done with these outputs: its dependents may be ready. */
void mf_sched__done(mf_sched_t *s, size_t i, const mf_hash_t *outs);

/* sched_fuse.c. Task i was just taken from the ready queue: when it is a
 * strip of a fused channel, *out becomes that channel's task with all its
 * strips inside (1); 2 when the channel's other inputs are not done yet (i
 * is parked until they are, mf_sched__fuse_wake); else 0 (i goes out alone;
 * the group is unfused when it cannot be run together), -1 when out of
 * memory. */
int mf_sched__fuse_next(mf_sched_t *s, size_t i, mf_task_t *out);
/* Task i is done: the strips parked for a channel reading it are ready
 * again once every other input of that channel is done. */
void mf_sched__fuse_wake(mf_sched_t *s, size_t i);
/* The channel that ran its strips is done: so are they, their outputs never
 * stored (the channel itself is still to be recorded). */
void mf_sched__fuse_done(mf_sched_t *s, size_t channel);
/* A channel running its strips is given up (its worker was lost, or it
 * failed and is tried again): the strips are ready again, the channel
 * waits for them. */
void mf_sched__fuse_undo(mf_sched_t *s, size_t channel);

#endif
