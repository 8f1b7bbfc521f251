/* The coordinator: one ROUTER socket and one event loop. It takes jobs from
 * clients, plans each into a task DAG, sends ready tasks to free worker slots
 * (higher priority first, FIFO within one), takes results back, serves and
 * receives blobs, and journals every state change so a restart resumes every
 * unfinished job. The embedded farm runs this very loop on a thread over
 * inproc://; the daemon runs it over TCP. */
#ifndef MF_COORD_H
#define MF_COORD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    void *zctx;               /* ZeroMQ context to use (shared for inproc) */
    const char *const *binds; /* endpoints to bind, e.g. "tcp://127.0.0.1:5555" */
    size_t n_binds;
    const char *state_dir;                    /* journal.db and blobs/ live here */
    double heartbeat_s;                       /* 1.0 by default (0 = default) */
    int dead_after;                           /* missed heartbeats before a worker is dead (5) */
    size_t bench_noop_tasks;                  /* > 0: start with one job of that many independent
                                                 no-op tasks (dispatch benchmarks only) */
    const char *http;                         /* "127.0.0.1:8080": serve the dashboard, /api/ and
                                                 /metrics there (NULL: no HTTP) */
    const struct mf_http_server *http_server; /* with http: &mf_http_server
                                (http_snap.h, the mf_coord_http library) */
    const char *curve_keys;                   /* NAME: CURVE with NAME.key as the server's key */
    const char *curve_allow;                  /* with curve_keys: the folder of allowed .pub keys */
    int guard_store;        /* the store outlives this process and nothing else guards it:
                               checked after the machine restarted, flushed every few
                               seconds (mf_store_guard.h; the daemon's --state) */
    int drop_unfinished;    /* jobs the journal has unfinished are cancelled, not resumed
                               (an embedded farm's --state: nobody waits for them) */
    int drop_consumed;      /* an intermediate blob is deleted once every task reading it
                               is done (a farm whose store is thrown away at the end: an
                               embedded render without --state; blob_refs.h) */
    int fuse_slots;         /* with drop_consumed, > 0: a channel runs the strips only it
                               reads when that keeps this many slots as busy
                               (mf_sched_set_fuse; the embedded farm's workers) */
    int64_t store_budget;   /* > 0: bytes the blob store may hold; past them the least
                               recently used blobs no unfinished job needs are deleted
                               (store_budget.h) */
    double store_grace_s;   /* with store_budget: a blob used less than this long ago
                               stays whatever the budget (an upload before its submit,
                               a fetch under way) */
    double repin_after_s;   /* a job whose kind of worker (its arithmetic) has been gone
                               this long, while workers of another are there, starts again
                               with theirs (coord_arith.c); 0: 120 s, < 0: never */
    double source_wait_s;   /* a job waiting for sources its client uploads after the
                               submit fails when none has arrived (nor moved) this
                               long; 0: 300 s */
    double locality_wait_s; /* how long a task may wait for a busy worker holding its
                             inputs (1 MiB or more) rather than move them to a free one:
                             0, 1 s; < 0: never (coord_locality.c) */
    int wake_fd;            /* > 0: a descriptor that becomes readable once *stop is set
                               (the host's eventfd), so the loop ends at once rather than
                               at its next tick; 0: none */
} mf_coord_opts_t;

/* Runs until *stop becomes non-zero. Returns 0 on a clean stop, 1 if it
 * could not start (bind, state folder, journal), logged. */
int mf_coord_run(const mf_coord_opts_t *o, atomic_int *stop);

/* Where the coordinator keeps blobs under its state folder (malloc'd). */
char *mf_coord_blob_dir(const char *state_dir);

#endif
