/* The coordinator's published snapshot: what the HTTP thread may show.
 *
 * The coordinator's loop owns its jobs and workers and no other thread may
 * touch them. With --http, the loop copies what the dashboard, the JSON API
 * and /metrics need into an mf_snap_t a few times a second
 * (mf_coord_snap_publish, coord_metrics.c); the HTTP thread (coord_http.c)
 * reads only that copy, under its mutex. A job's task labels are copied once;
 * a finished job's entry is then frozen. */
#ifndef MF_HTTP_SNAP_H
#define MF_HTTP_SNAP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "mf_hash.h"
#include "mf_sched.h"

#define MF_SNAP_BUCKETS 14 /* task-duration histogram bounds, mf_snap_bucket_le */
extern const double mf_snap_bucket_le[MF_SNAP_BUCKETS];

/* Counters the loop keeps as it goes (in coord_t), copied at each publish. */
typedef struct {
    uint64_t bucket[MF_SNAP_BUCKETS + 1]; /* per bound, then beyond the last */
    uint64_t count, done, failed;         /* task results received */
    double sum;                           /* their seconds */
    int64_t store_budget;                 /* --store-budget, or 0 */
    uint64_t evicted, evicted_bytes;      /* blobs deleted to stay within it */
} mf_metrics_t;

typedef struct {
    uint64_t id;
    char *name, *error;
    int priority;
    const char *state; /* a static name: "running", "done"... */
    size_t n_tasks;
    size_t count[MF_TS_FAILED + 1]; /* tasks by state */
    size_t cached;
    size_t sources_awaited; /* files its client is still uploading */
    double audio_s_done, audio_s_total, elapsed_s, eta_s;
    char **labels;             /* per task, "strip Kick" */
    char **kinds;              /* per task, "strip" */
    unsigned char *tstate;     /* per task, an mf_task_state_t */
    int *worker;               /* per task, index into the workers, or -1 */
    char qc_html[MF_HASH_HEX]; /* the qc.html blob of a done job, or "" */
    char numerics[64];         /* the arithmetic it renders with, or "" until pinned */
    int order;                 /* position in dispatch order at the last publish */
    int final;                 /* frozen: ended and nothing still running */
} mf_snap_job_t;

typedef struct {
    char name[64];
    char numerics[64]; /* its kernels' arithmetic (Hello.numerics) */
    int slots, running, failures, shared_store;
    int avoided;    /* failing too often: no work for now */
    double idle_s;  /* since its last message */
    double avoid_s; /* left */
} mf_snap_worker_t;

typedef struct {
    pthread_mutex_t lock;
    mf_snap_job_t *jobs; /* sorted by id */
    size_t n_jobs, cap_jobs;
    mf_snap_worker_t *workers;
    size_t n_workers, cap_workers;
    mf_metrics_t m;
    double started, published; /* monotonic seconds */
    double heartbeat_s;
    /* The blob store's size, measured by the HTTP thread now and then. */
    char *blob_dir;
    int64_t blob_bytes, blob_count;
    double blob_measured;
} mf_snap_t;

mf_snap_t *mf_snap_new(const char *blob_dir, double heartbeat_s);
void mf_snap_free(mf_snap_t **s);
/* The job with this id, or NULL (lock held). */
mf_snap_job_t *mf_snap_job(mf_snap_t *s, uint64_t id);
const char *mf_snap_task_state_name(int state);

/* Records a task result (loop thread). */
void mf_metrics_observe(mf_metrics_t *m, double seconds, int failed);

/* Renderers (HTTP thread): each takes the lock itself and returns a
 * malloc'd NUL-terminated text, or NULL when out of memory. */
char *mf_snap_prometheus(mf_snap_t *s); /* coord_metrics.c */
char *mf_snap_jobs_json(mf_snap_t *s);  /* http_api.c */
char *mf_snap_job_json(mf_snap_t *s, uint64_t id, int *found);
char *mf_snap_workers_json(mf_snap_t *s);

/* The server (coord_http.c): listens on spec ("127.0.0.1:8080"; port 0
 * picks a free one, logged) and serves from snap, which must outlive it.
 * NULL when it cannot listen (logged). */
typedef struct mf_http mf_http_t;
mf_http_t *mf_http_start(const char *spec, mf_snap_t *snap);
void mf_http_stop(mf_http_t **h);

/* The same, for mf_coord_opts_t.http_server: the coordinator's loop calls
 * the server through it, so that only a program that serves HTTP links it. */
struct mf_http_server {
    mf_http_t *(*start)(const char *spec, mf_snap_t *snap);
    void (*stop)(mf_http_t **h);
};
extern const struct mf_http_server mf_http_server; /* coord_http.c */

#endif
