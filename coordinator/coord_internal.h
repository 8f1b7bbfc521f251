/* Private to the coordinator: its state and the handlers of coord_*.c.
 * Everything here runs on the coordinator's one thread. */
#ifndef MF_COORD_INTERNAL_H
#define MF_COORD_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "mf_coord.h"
#include "mf_clock.h"
#include "mf_album.h"
#include "mf_journal.h"
#include "mf_msg.h"
#include "mf_plan.h"
#include "mf_sched.h"
#include "mf_session.h"
#include "http_snap.h"
#include "mf_store.h"
#include "mf_store_guard.h"

/* A task on the wire is named by its job and its index in the job's plan. */
#define MF_TASK_BITS 24
#define MF_WIRE_ID(job, task) (((uint64_t)(job) << MF_TASK_BITS) | (uint64_t)(task))
#define MF_WIRE_JOB(id) ((id) >> MF_TASK_BITS)
#define MF_WIRE_TASK(id) ((id) & ((1u << MF_TASK_BITS) - 1))

typedef enum { JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED, JOB_CANCELLED } job_state_t;

typedef struct job {
    uint64_t id;
    int priority;
    char *name;
    char *document, *sources; /* as submitted, for the journal and restarts */
    mf_session_t *session;
    mf_album_t *album; /* instead of session for an album document */
    mf_plan_t *plan;
    mf_sched_t *sched;
    job_state_t state;
    char *error;
    double started, finished; /* monotonic seconds */
    int fetched;              /* a client asked for its outputs once it was done */
    int told_waiting;         /* said it waits for a worker of its arithmetic */
    double waiting_since;     /* since when none is connected (monotonic s), or 0 */
    double sources_since;     /* sources still awaited: since the submit or the last
                                 one that arrived (coord_sources.c), or 0 */
    uint64_t held_round;      /* every ready task waits for its inputs' worker: passed
                                 over by that dispatch round (coord_workers.c) */
    uint64_t waited_round;    /* the round in which first_waiting was put back */
    uint64_t first_waiting;   /* its task: met again, the ready tasks have come round */
    struct job *next;         /* in priority order: higher first, then older */
} job_t;

typedef struct {
    mf_peer_t peer;
    uint32_t serial; /* unique in this coordinator's life, never 0 (a group's owner) */
    char name[64];
    int slots;
    int shared_store;
    char numerics[64]; /* its kernels' arithmetic (Hello.numerics) */
    double last_recv, last_send;
    uint64_t *running; /* wire ids, up to slots */
    int n_running;
    int failures;       /* consecutive failed tasks */
    double avoid_until; /* a worker that keeps failing gets no tasks until then */
    uint64_t *held;     /* blobs it likely has (coord_locality.c) */
} worker_t;

typedef struct {
    mf_peer_t peer;
    mf_hash_t hash;
    mf_blob_writer_t *writer; /* NULL once its last chunk is queued (coord_blob_io.c) */
    uint64_t received;        /* bytes taken, written or queued */
    uint64_t serial;          /* tells a restarted upload's writes from the earlier one's */
    double last;
    int output; /* a task's output (named by its task), not a client's file */
} upload_t;

typedef struct {
    const mf_coord_opts_t *opts;
    void *sock;
    mf_store_t *store;
    mf_store_guard_t *guard; /* with opts->guard_store */
    mf_journal_t *journal;
    /* Every job: the unfinished in dispatch order (priority, then FIFO),
     * then the finished in the order they ended (coord_jobs.c), so that
     * what scans for work stops at the first finished one instead of
     * walking past up to FINISHED_MAX of them on every dispatch. */
    job_t *jobs;
    worker_t *workers;
    size_t n_workers, cap_workers;
    size_t next_worker; /* round robin start */
    uint64_t dispatch_round;
    job_t *dispatch_from; /* this round: the jobs before it cannot take a task (coord_workers.c) */
    double locality_due;  /* when a task waiting for its inputs' worker goes anywhere */
    uint32_t last_serial;
    upload_t *uploads;
    size_t n_uploads;
    /* At least the number of running jobs that await a source (counted up
     * by mf_coord_hold_sources, recounted by each scan in coord_sources.c):
     * 0 spares those scans of every queued job, which ran on each upload
     * a worker completed (a catalogue holds thousands). */
    size_t awaiting;
    struct mf_status_wait *waits; /* status replies held for a change (coord_watch.c) */
    size_t n_waits;
    struct mf_blob_refs *refs; /* with opts->drop_consumed: readers left per blob */
    struct mf_budget *budget;  /* with opts->store_budget (coord_budget.c) */
    struct mf_trash *trash;    /* its thread that frees what it discards */
    struct mf_bio *bio;        /* the threads that read and write blobs for the wire */
    uint64_t upload_serial;
    double next_trim;  /* when it may delete blobs again */
    int budget_warned; /* said it is over budget with nothing left to delete */
    int prune_jobs;    /* finished jobs were let go: prune their history */
    double next_prune; /* coord_prune.c runs again then */
    unsigned char cache_cursor[MF_HASH_BYTES]; /* where its action-cache pass goes on */
    uint64_t dropped, dropped_bytes;           /* intermediate blobs deleted so far */
    double heartbeat_s;
    double dead_s;
    mf_metrics_t metrics;         /* counters for /metrics */
    mf_snap_t *snap;              /* what --http shows, published from the loop; NULL without it */
    struct mf_http *http;         /* its server, on its own thread */
    struct mf_zap *zap;           /* the CURVE authenticator (--curve-keys), on its own thread */
    long fd_limit;                /* open files it may hold (-1: unknown) */
    double fd_checked, fd_warned; /* when it last counted them, and last warned */
} coord_t;

const char *mf_job_state_name(job_state_t s);

/* coord_jobs.c */
void mf_coord_on_submit(coord_t *c, const mf_peer_t *peer, const Mixfarm__Submit *m);
void mf_coord_on_status(coord_t *c, const mf_peer_t *peer, const Mixfarm__StatusRequest *m);
void mf_coord_on_fetch(coord_t *c, const mf_peer_t *peer, const Mixfarm__FetchRequest *m);
void mf_coord_on_cancel(coord_t *c, const mf_peer_t *peer, const Mixfarm__CancelRequest *m);
job_t *mf_coord_job(coord_t *c, uint64_t id);
/* Sends peer the status of job (or of every job, job 0). */
void mf_coord_reply_status(coord_t *c, const mf_peer_t *peer, uint64_t job);

/* coord_watch.c: status requests held until their job changes. */
/* 1 when the request waits (its reply is sent by mf_coord_status_wake). */
int mf_coord_status_hold(coord_t *c, const mf_peer_t *peer, const Mixfarm__StatusRequest *m);
/* Replies to every held request whose job moved on, ended or timed out. */
void mf_coord_status_wake(coord_t *c);
/* When the next held request times out (INFINITY: none held). */
double mf_coord_status_next(const coord_t *c);
void mf_coord_status_free(coord_t *c);
/* Moves a job to done/failed when its scheduler has finished. */
void mf_coord_job_check(coord_t *c, job_t *j);
/* For a farm that keeps no blobs (opts->drop_consumed): makes j's
 * scheduler delete the intermediates it is done with, and run strips
 * inside the channels that alone read them (opts->fuse_slots); 0, or -1
 * when out of memory. */
int mf_coord_drop_consumed(coord_t *c, job_t *j);
/* Starts j again from its first task, unpinned, on a fresh scheduler over
 * its plan (what the old one finished stays in the store, under keys of its
 * arithmetic). j must have no task running. 0, or -1 when memory ran out
 * (j unchanged). */
int mf_coord_job_restart(coord_t *c, job_t *j);
/* Resumes the jobs the journal has unfinished (or cancels them: drop_unfinished). */
void mf_coord_resume_jobs(coord_t *c);
/* A job of n independent no-op tasks, for measuring dispatch. */
void mf_coord_add_noop_job(coord_t *c, size_t n);
void mf_coord_free_jobs(coord_t *c);

/* coord_album.c: loads an album submitted with its sources (nested
 * sessions as text blobs, their files keyed by mf_album_key) and plans it
 * into *plan (NULL when out of memory). NULL with problems in d. */
mf_album_t *mf_coord_album_load(coord_t *c, const char *name, const char *document, json_t *sources,
                                mf_diags_t *d, mf_plan_t **plan);

/* coord_workers.c */
void mf_coord_on_hello(coord_t *c, const mf_peer_t *peer, const Mixfarm__Hello *m);
void mf_coord_on_result(coord_t *c, const mf_peer_t *peer, const Mixfarm__TaskResult *m);
/* A worker says how far its running tasks are (Progress). */
void mf_coord_on_progress(coord_t *c, const mf_peer_t *peer, const Mixfarm__Progress *m);
worker_t *mf_coord_worker(coord_t *c, const mf_peer_t *peer);
/* Whether peer is a worker running a task with this key. */
int mf_coord_worker_runs(coord_t *c, const mf_peer_t *peer, const mf_hash_t *key);
void mf_coord_dispatch(coord_t *c);
void mf_coord_heartbeats(coord_t *c);

/* coord_locality.c: which worker likely holds which blobs, so a task goes
 * where its inputs already are. */
#define MF_HELD_SLOTS 4096
void mf_locality_note(worker_t *w, const mf_hash_t *blobs, size_t n);
/* Whether w may take a task now: a slot open, not avoided. */
static inline int mf_worker_free(const worker_t *w, double now)
{
    return w->avoid_until <= now && w->n_running < w->slots;
}
/* Whether w computes with the arithmetic j renders with (any, until j is
 * pinned): a job's tasks all run on one (docs/farm.md, Determinism). */
static inline int mf_worker_serves(const worker_t *w, const job_t *j)
{
    const char *n = mf_sched_numerics(j->sched);
    return !n || !strcmp(n, w->numerics);
}
/* coord_arith.c: each job runs on workers of one arithmetic. The kinds of
 * the workers that may take tasks (not avoided), with their free slots and
 * their slots, tallied once per dispatched task; past MF_ARITH_KINDS kinds,
 * `more` (those are asked worker by worker, and never pinned to). */
#define MF_ARITH_KINDS 8
typedef struct {
    const char *kind; /* a worker's numerics */
    int free, slots;
} mf_arith_kind_t;
typedef struct {
    mf_arith_kind_t k[MF_ARITH_KINDS];
    int n, more;
    int free; /* free slots of every kind */
} mf_arith_kinds_t;
void mf_arith_tally(const coord_t *c, double now, mf_arith_kinds_t *f);
/* Whether a free worker may take j's tasks (any, while j is not pinned). */
int mf_arith_served(const coord_t *c, const mf_arith_kinds_t *f, const job_t *j, double now);
/* Pins j, if it is not yet, to the kind in f with the most free slots, then
 * the most slots (an idle farm gives a job its largest kind; a busy one
 * spreads a catalogue over every kind), and journals it. 0, or -1 when
 * there is none or memory ran out. */
int mf_arith_pin(coord_t *c, const mf_arith_kinds_t *f, job_t *j);
/* Notes which jobs have no worker of their kind connected, and says once of
 * each that it waits while others are there; when a worker joins, also that
 * it computes otherwise. */
void mf_arith_tell_waiting(coord_t *c, double now);
void mf_arith_joined(coord_t *c, const worker_t *w);
/* Starts again, unpinned, each job that has waited opts->repin_after_s for
 * its kind of worker while workers of another are connected. */
void mf_arith_repin_tick(coord_t *c, double now);

/* The free worker (a slot open, not avoided) for t, handed out by j's
 * scheduler: the one holding most of its inputs; among equals its group's
 * owner, which it becomes when its group has none (or lost it); other ties
 * go round robin from c->next_worker. NULL when none is free. With wait
 * (may be NULL), whether t should rather wait for a busy worker that holds
 * all its inputs where that one holds none (delay scheduling; then
 * c->locality_due is raised to when it goes at the latest). */
worker_t *mf_locality_pick(coord_t *c, job_t *j, const mf_task_t *t, double now, int *wait);
/* For mf_sched_next_fitting, ctx a locality_fit_t: whether the owner is
 * free, or gone, or there is none. */
typedef struct {
    coord_t *c;
    double now;
} locality_fit_t;
int mf_locality_fits(void *ctx, uint32_t owner);

/* coord_blobs.c */
void mf_coord_on_blob_get(coord_t *c, const mf_peer_t *peer, const Mixfarm__BlobGet *m);
/* chunk: the frame m's data arrived in, which the upload may take. */
void mf_coord_on_blob_put(coord_t *c, const mf_peer_t *peer, const Mixfarm__BlobPut *m,
                          mf_chunk_t *chunk);
void mf_coord_on_blob_have(coord_t *c, const mf_peer_t *peer, const Mixfarm__BlobHave *m);
void mf_coord_expire_uploads(coord_t *c);
/* A read for a get is done: its chunk (spent here) and the chunk's XXH3
 * checksum, or why not. */
void mf_coord_blob_data(coord_t *c, const mf_peer_t *peer, const char *hash, uint64_t offset,
                        uint64_t total, mf_chunk_t *chunk, uint64_t checksum, const char *error);
/* An upload's chunk is written (received: its bytes so far), and with its
 * last the blob committed as got; or err, with the system's errno. */
void mf_coord_upload_written(coord_t *c, const mf_peer_t *peer, const mf_hash_t *hash,
                             uint64_t serial, uint64_t received, int last, mf_err_t err,
                             int saved_errno, const mf_hash_t *got);

/* coord_blob_io.c: the store's reads and writes for the wire, on threads
 * of their own; the loop polls mf_coord_bio_fd and then calls
 * mf_coord_bio_drain, which hands what is done to the two above. */
int mf_coord_bio_start(coord_t *c); /* 0, or -1 (logged) */
void mf_coord_bio_stop(coord_t *c); /* before mf_coord_free_uploads */
int mf_coord_bio_fd(const coord_t *c);
void mf_coord_bio_drain(coord_t *c);
/* Reads length bytes at offset of blob h (total bytes long) for peer. */
void mf_coord_bio_get(coord_t *c, const mf_peer_t *peer, const mf_hash_t *h, uint64_t offset,
                      uint32_t length, uint64_t total);
/* Writes u's next n bytes p (in data's frame, which it may take), and
 * commits u's writer after them when last. */
mf_err_t mf_coord_bio_write(coord_t *c, const upload_t *u, mf_chunk_t *data, const uint8_t *p,
                            size_t n, int last);
/* Aborts w after the writes queued before (NULL: nothing). */
void mf_coord_bio_abort(coord_t *c, mf_blob_writer_t *w);

/* ---- sources still being uploaded (coord_sources.c) ---- */

/* j's tasks that read a source the store lacks wait for it (a submit with
 * sources_follow, or a job resumed while its upload was cut). 0, or -1
 * when out of memory. */
int mf_coord_hold_sources(coord_t *c, job_t *j);
/* Blob is in the store now (an upload completed, or a client on the store
 * says it copied it there): the tasks waiting for it are ready. */
void mf_coord_source_arrived(coord_t *c, const mf_hash_t *blob);
/* Whether a running job still awaits one of its sources. */
int mf_coord_awaits_sources(coord_t *c);
/* Fails each job whose awaited sources have stopped arriving: none for
 * opts->source_wait_s and no upload of one under way. */
void mf_coord_expire_sources(coord_t *c, double now);
void mf_coord_free_uploads(coord_t *c);

/* coord_budget.c: --store-budget. */
/* 0, or -1 when the store cannot be measured (logged). */
int mf_coord_budget_open(coord_t *c);
void mf_coord_budget_close(coord_t *c);
/* Blob h was made, read or found in the action cache just now. */
void mf_coord_budget_use(coord_t *c, const mf_hash_t *h);
/* Past the budget, deletes what may go (at most every few seconds). */
void mf_coord_budget_tick(coord_t *c, double now);

/* coord_trash.c: a thread that frees discarded blobs (mf_store_discard). */
int mf_coord_trash_start(coord_t *c); /* 0, or -1 (logged) */
void mf_coord_trash_poke(coord_t *c); /* something was discarded */
void mf_coord_trash_stop(coord_t *c);

/* coord_prune.c: the journal's retention, at most once a minute. */
void mf_coord_prune_tick(coord_t *c, double now);

/* coord_loop.c: warns, once a minute at most, when the open files near
 * the limit (each worker and client holds one): past it, peers cannot
 * connect and blobs cannot be opened. Counted every 10 s from the loop's
 * tick (now), and when a worker joins (now = 0) at most once a second. */
void mf_coord_fd_check(coord_t *c, double now);

/* coord_metrics.c: copies jobs, tasks, workers and counters into c->snap. */
void mf_coord_snap_publish(coord_t *c);

/* Sends an envelope, logging a failure. */
void mf_coord_send(coord_t *c, const mf_peer_t *peer, Mixfarm__Envelope *env);
/* Tells a peer why it is not served (Refuse), and logs it. */
void mf_coord_refuse(coord_t *c, const mf_peer_t *peer, const char *reason);
/* The same, with a blob chunk's bytes in a frame of their own (mf_msg.h). */
void mf_coord_send_chunk(coord_t *c, const mf_peer_t *peer, Mixfarm__Envelope *env,
                         mf_chunk_t *chunk);

#endif
