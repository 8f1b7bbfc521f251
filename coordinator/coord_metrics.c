/* The published snapshot (http_snap.h): the loop's side, which copies jobs,
 * tasks, workers and counters into it, and the Prometheus text of /metrics.
 * Metric names start with mixfarm_ (docs/operations.md lists them). */
#include "coord_internal.h"
#include "http_snap.h"
#include "mf_log.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double mf_snap_bucket_le[MF_SNAP_BUCKETS] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                   0.5,   1,     2.5,  5,     10,   30,  120};

#define BLOB_MEASURE_EVERY_S 15.0 /* walking the store is not free */

const char *mf_snap_task_state_name(int state)
{
    static const char *const names[] = {"waiting", "ready", "running", "done", "failed"};
    return state >= 0 && state <= MF_TS_FAILED ? names[state] : "?";
}

void mf_metrics_observe(mf_metrics_t *m, double seconds, int failed)
{
    int b = 0;
    while (b < MF_SNAP_BUCKETS && seconds > mf_snap_bucket_le[b]) b++;
    m->bucket[b]++;
    m->count++;
    m->sum += seconds > 0 ? seconds : 0;
    if (failed)
        m->failed++;
    else
        m->done++;
}

mf_snap_t *mf_snap_new(const char *blob_dir, double heartbeat_s)
{
    mf_snap_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (pthread_mutex_init(&s->lock, NULL) != 0 || !(s->blob_dir = strdup(blob_dir))) {
        free(s);
        return NULL;
    }
    s->started = mf_clock_now();
    s->heartbeat_s = heartbeat_s;
    s->blob_measured = -1e9;
    return s;
}

static void s_job_fini(mf_snap_job_t *j)
{
    for (size_t i = 0; i < j->n_tasks; i++) {
        if (j->labels) free(j->labels[i]);
        if (j->kinds) free(j->kinds[i]);
    }
    free(j->labels);
    free(j->kinds);
    free(j->tstate);
    free(j->worker);
    free(j->name);
    free(j->error);
}

void mf_snap_free(mf_snap_t **sp)
{
    if (!sp || !*sp) return;
    mf_snap_t *s = *sp;
    for (size_t i = 0; i < s->n_jobs; i++) s_job_fini(&s->jobs[i]);
    free(s->jobs);
    free(s->workers);
    free(s->blob_dir);
    pthread_mutex_destroy(&s->lock);
    free(s);
    *sp = NULL;
}

/* Binary search: jobs are sorted by id. Returns the index where id is or
 * would go. */
static size_t s_find(const mf_snap_t *s, uint64_t id)
{
    size_t lo = 0, hi = s->n_jobs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->jobs[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

mf_snap_job_t *mf_snap_job(mf_snap_t *s, uint64_t id)
{
    size_t i = s_find(s, id);
    return i < s->n_jobs && s->jobs[i].id == id ? &s->jobs[i] : NULL;
}

/* A new entry for j with its task labels (which never change). */
static mf_snap_job_t *s_add_job(mf_snap_t *s, const job_t *j)
{
    if (s->n_jobs == s->cap_jobs) {
        size_t cap = s->cap_jobs ? s->cap_jobs * 2 : 16;
        mf_snap_job_t *a = realloc(s->jobs, cap * sizeof *a);
        if (!a) return NULL;
        s->jobs = a;
        s->cap_jobs = cap;
    }
    mf_snap_job_t e = {.id = j->id, .priority = j->priority};
    size_t n = j->plan ? j->plan->n_tasks : 0;
    e.name = strdup(j->name ? j->name : "");
    e.labels = calloc(n + 1, sizeof *e.labels);
    e.kinds = calloc(n + 1, sizeof *e.kinds);
    e.tstate = calloc(n + 1, 1);
    e.worker = calloc(n + 1, sizeof *e.worker);
    int ok = e.name && e.labels && e.kinds && e.tstate && e.worker;
    for (size_t i = 0; ok && i < n; i++) {
        e.labels[i] = strdup(j->plan->tasks[i].label);
        e.kinds[i] = strdup(j->plan->tasks[i].kind);
        e.n_tasks = i + 1;
        ok = e.labels[i] && e.kinds[i];
    }
    if (!ok) {
        s_job_fini(&e);
        return NULL;
    }
    size_t at = s_find(s, j->id);
    memmove(&s->jobs[at + 1], &s->jobs[at], (s->n_jobs - at) * sizeof *s->jobs);
    s->jobs[at] = e;
    s->n_jobs++;
    return &s->jobs[at];
}

static void s_update_job(mf_snap_job_t *e, const job_t *j, double now)
{
    mf_sched_progress_t p = mf_sched_progress(j->sched);
    e->state = mf_job_state_name(j->state);
    if (j->error && !e->error) e->error = strdup(j->error);
    e->cached = p.cached;
    e->sources_awaited = j->state == JOB_RUNNING ? mf_sched_awaited(j->sched, NULL) : 0;
    e->audio_s_done = p.audio_s_done;
    e->audio_s_total = p.audio_s_total;
    e->elapsed_s = (j->finished > 0 ? j->finished : now) - j->started;
    double frac = p.audio_s_total > 0 ? p.audio_s_done / p.audio_s_total : 1.0;
    e->eta_s = j->state == JOB_RUNNING && frac > 0 ? e->elapsed_s * (1 - frac) / frac : 0;
    memset(e->count, 0, sizeof e->count);
    for (size_t i = 0; i < e->n_tasks; i++) {
        mf_task_state_t st = mf_sched_task_state(j->sched, i);
        e->tstate[i] = (unsigned char)st;
        e->count[st]++;
        e->worker[i] = -1;
    }
    if (j->state == JOB_DONE && j->plan) {
        for (size_t i = 0; i < j->plan->n_outputs; i++) {
            const mf_hash_t *h = mf_sched_port(j->sched, j->plan->outputs[i].port);
            if (h && !strcmp(j->plan->outputs[i].path, "qc.html"))
                memcpy(e->qc_html, h->hex, MF_HASH_HEX);
        }
    }
    const char *n = mf_sched_numerics(j->sched);
    snprintf(e->numerics, sizeof e->numerics, "%s", n ? n : "");
    e->final = j->state >= JOB_DONE && p.running == 0;
}

static void s_publish_workers(mf_snap_t *s, const coord_t *c, double now)
{
    if (c->n_workers > s->cap_workers) {
        mf_snap_worker_t *a = realloc(s->workers, c->n_workers * sizeof *a);
        if (!a) return;
        s->workers = a;
        s->cap_workers = c->n_workers;
    }
    s->n_workers = c->n_workers;
    for (size_t i = 0; i < c->n_workers; i++) {
        const worker_t *w = &c->workers[i];
        mf_snap_worker_t *o = &s->workers[i];
        snprintf(o->name, sizeof o->name, "%s", w->name);
        o->slots = w->slots;
        o->running = w->n_running;
        o->failures = w->failures;
        o->shared_store = w->shared_store;
        snprintf(o->numerics, sizeof o->numerics, "%s", w->numerics);
        o->avoided = w->avoid_until > now;
        o->avoid_s = o->avoided ? w->avoid_until - now : 0;
        o->idle_s = now - w->last_recv;
        for (int k = 0; k < w->n_running; k++) {
            mf_snap_job_t *e = mf_snap_job(s, MF_WIRE_JOB(w->running[k]));
            uint64_t t = MF_WIRE_TASK(w->running[k]);
            if (e && !e->final && t < e->n_tasks) e->worker[t] = (int)i;
        }
    }
}

void mf_coord_snap_publish(coord_t *c)
{
    mf_snap_t *s = c->snap;
    double now = mf_clock_now();
    pthread_mutex_lock(&s->lock);
    int order = 0;
    for (const job_t *j = c->jobs; j; j = j->next, order++) {
        mf_snap_job_t *e = mf_snap_job(s, j->id);
        if (!e && !(e = s_add_job(s, j))) continue;
        e->order = order;
        if (!e->final && j->sched) s_update_job(e, j, now);
    }
    s_publish_workers(s, c, now);
    s->m = c->metrics;
    s->published = now;
    pthread_mutex_unlock(&s->lock);
}

/* ---- /metrics ---- */

static _Thread_local int64_t s_walk_bytes, s_walk_count;

static int s_walk(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (flag == FTW_F) {
        s_walk_bytes += st->st_size;
        s_walk_count++;
    }
    return 0;
}

/* The store's size; walked at most every BLOB_MEASURE_EVERY_S (HTTP thread,
 * outside the lock: the files are immutable and the walk reads only them). */
static void s_measure_blobs(mf_snap_t *s)
{
    double now = mf_clock_now();
    if (now - s->blob_measured < BLOB_MEASURE_EVERY_S) return;
    char objects[4200];
    snprintf(objects, sizeof objects, "%s/objects", s->blob_dir);
    s_walk_bytes = s_walk_count = 0;
    nftw(objects, s_walk, 16, FTW_PHYS);
    s->blob_bytes = s_walk_bytes;
    s->blob_count = s_walk_count;
    s->blob_measured = now;
}

typedef struct {
    char *p;
    size_t n, cap;
    int oom;
} text_t;

static void s_put(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_put(text_t *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = t->oom ? 0 : vsnprintf(t->p + t->n, t->cap - t->n, fmt, ap);
        va_end(ap);
        if (t->oom || k < 0) return;
        if ((size_t)k < t->cap - t->n) {
            t->n += (size_t)k;
            return;
        }
        char *q = realloc(t->p, t->cap * 2 + (size_t)k);
        if (!q) {
            t->oom = 1;
            return;
        }
        t->p = q;
        t->cap = t->cap * 2 + (size_t)k;
    }
}

static void s_head(text_t *t, const char *name, const char *type, const char *help)
{
    s_put(t, "# HELP mixfarm_%s %s\n# TYPE mixfarm_%s %s\n", name, help, name, type);
}

char *mf_snap_prometheus(mf_snap_t *s)
{
    text_t t = {.p = malloc(8192), .cap = 8192};
    if (!t.p) return NULL;
    t.p[0] = 0;
    s_measure_blobs(s);
    pthread_mutex_lock(&s->lock);
    size_t tasks[MF_TS_FAILED + 1] = {0}, jobs[5] = {0}, cached = 0, ready = 0;
    static const char *const job_states[] = {"queued", "running", "done", "failed", "cancelled"};
    for (size_t i = 0; i < s->n_jobs; i++) {
        const mf_snap_job_t *e = &s->jobs[i];
        for (int k = 0; k <= MF_TS_FAILED; k++) tasks[k] += e->count[k];
        for (int k = 0; k < 5; k++) jobs[k] += e->state && !strcmp(e->state, job_states[k]);
        cached += e->cached;
        if (e->state && !strcmp(e->state, "running")) ready += e->count[MF_TS_READY];
    }
    int slots = 0, busy = 0, avoided = 0;
    for (size_t i = 0; i < s->n_workers; i++) {
        slots += s->workers[i].slots;
        busy += s->workers[i].running;
        avoided += s->workers[i].avoided;
    }
    s_head(&t, "info", "gauge", "The coordinator's version.");
    s_put(&t, "mixfarm_info{version=\"%s\"} 1\n", MF_VERSION);
    s_head(&t, "uptime_seconds", "gauge", "Seconds since the coordinator started.");
    s_put(&t, "mixfarm_uptime_seconds %.3f\n", mf_clock_now() - s->started);
    s_head(&t, "queue_depth", "gauge", "Tasks ready to run, waiting for a free worker slot.");
    s_put(&t, "mixfarm_queue_depth %zu\n", ready);
    s_head(&t, "tasks", "gauge", "Tasks of the jobs this coordinator holds, by state.");
    for (int k = 0; k <= MF_TS_FAILED; k++)
        s_put(&t, "mixfarm_tasks{state=\"%s\"} %zu\n", mf_snap_task_state_name(k), tasks[k]);
    s_head(&t, "jobs", "gauge", "Jobs this coordinator holds, by state.");
    for (int k = 0; k < 5; k++)
        s_put(&t, "mixfarm_jobs{state=\"%s\"} %zu\n", job_states[k], jobs[k]);
    s_head(&t, "task_duration_seconds", "histogram", "Wall time of tasks run by workers.");
    uint64_t cum = 0;
    for (int b = 0; b < MF_SNAP_BUCKETS; b++) {
        cum += s->m.bucket[b];
        s_put(&t, "mixfarm_task_duration_seconds_bucket{le=\"%g\"} %llu\n", mf_snap_bucket_le[b],
              (unsigned long long)cum);
    }
    s_put(&t, "mixfarm_task_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
          (unsigned long long)s->m.count);
    s_put(&t, "mixfarm_task_duration_seconds_sum %.6f\n", s->m.sum);
    s_put(&t, "mixfarm_task_duration_seconds_count %llu\n", (unsigned long long)s->m.count);
    s_head(&t, "task_results_total", "counter", "Task results received from workers.");
    s_put(&t, "mixfarm_task_results_total{result=\"done\"} %llu\n", (unsigned long long)s->m.done);
    s_put(&t, "mixfarm_task_results_total{result=\"failed\"} %llu\n",
          (unsigned long long)s->m.failed);
    s_head(&t, "workers", "gauge", "Workers connected.");
    s_put(&t, "mixfarm_workers %zu\n", s->n_workers);
    s_head(&t, "workers_avoided", "gauge", "Workers given no work for failing too often.");
    s_put(&t, "mixfarm_workers_avoided %d\n", avoided);
    s_head(&t, "worker_slots", "gauge", "Task slots of the connected workers.");
    s_put(&t, "mixfarm_worker_slots %d\n", slots);
    s_head(&t, "worker_slots_busy", "gauge", "Task slots running a task.");
    s_put(&t, "mixfarm_worker_slots_busy %d\n", busy);
    s_head(&t, "cache_hits_total", "counter", "Tasks answered by the action cache, not run.");
    s_put(&t, "mixfarm_cache_hits_total %zu\n", cached);
    s_head(&t, "cache_hit_ratio", "gauge",
           "Share of tasks answered by the action cache (hits / (hits + tasks run)).");
    double looked = (double)cached + (double)s->m.count;
    s_put(&t, "mixfarm_cache_hit_ratio %.6f\n", looked > 0 ? (double)cached / looked : 0.0);
    s_head(&t, "blob_store_bytes", "gauge", "Bytes in the blob store (measured every 15 s).");
    s_put(&t, "mixfarm_blob_store_bytes %lld\n", (long long)s->blob_bytes);
    s_head(&t, "blob_store_blobs", "gauge", "Blobs in the blob store (measured every 15 s).");
    s_put(&t, "mixfarm_blob_store_blobs %lld\n", (long long)s->blob_count);
    s_head(&t, "blob_store_budget_bytes", "gauge", "--store-budget (0: none).");
    s_put(&t, "mixfarm_blob_store_budget_bytes %lld\n", (long long)s->m.store_budget);
    s_head(&t, "blob_store_evicted_total", "counter",
           "Blobs deleted to stay within --store-budget.");
    s_put(&t, "mixfarm_blob_store_evicted_total %llu\n", (unsigned long long)s->m.evicted);
    s_head(&t, "blob_store_evicted_bytes_total", "counter",
           "Bytes deleted to stay within --store-budget.");
    s_put(&t, "mixfarm_blob_store_evicted_bytes_total %llu\n",
          (unsigned long long)s->m.evicted_bytes);
    pthread_mutex_unlock(&s->lock);
    if (t.oom) {
        free(t.p);
        return NULL;
    }
    return t.p;
}
