/* The JSON API's documents, rendered from the published snapshot
 * (http_snap.h) on the HTTP thread:
 *
 *   /api/jobs       [job, ...] in dispatch order (priority, then age)
 *   /api/jobs/ID    job with "tasks": [{index, kind, label, state, worker}]
 *   /api/workers    [{name, slots, running, load, failures, health, idle_s,
 *                     shared_store, numerics}]
 *
 * A job: {job, name, state, priority, tasks_total, tasks_done,
 * tasks_running, tasks_ready, tasks_waiting, tasks_failed, tasks_cached,
 * sources_awaited (files its client is still uploading), audio_s_done, audio_s_total, progress
 * (0..1), elapsed_s, eta_s, error, qc_html (the report's URL once done, else null), numerics (the
 * arithmetic it renders with, null until a worker took a task)}. */
#include "http_snap.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

static json_t *s_job(const mf_snap_job_t *e)
{
    size_t done = e->count[MF_TS_DONE];
    double progress = e->audio_s_total > 0 ? e->audio_s_done / e->audio_s_total
                      : e->n_tasks         ? (double)done / (double)e->n_tasks
                                           : 1.0;
    char qc[64];
    snprintf(qc, sizeof qc, "/jobs/%llu/qc.html", (unsigned long long)e->id);
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "job", json_integer((json_int_t)e->id));
    json_object_set_new(o, "name", json_string(e->name));
    json_object_set_new(o, "state", json_string(e->state ? e->state : "queued"));
    json_object_set_new(o, "priority", json_integer(e->priority));
    json_object_set_new(o, "tasks_total", json_integer((json_int_t)e->n_tasks));
    json_object_set_new(o, "tasks_done", json_integer((json_int_t)done));
    json_object_set_new(o, "tasks_running", json_integer((json_int_t)e->count[MF_TS_RUNNING]));
    json_object_set_new(o, "tasks_ready", json_integer((json_int_t)e->count[MF_TS_READY]));
    json_object_set_new(o, "tasks_waiting", json_integer((json_int_t)e->count[MF_TS_WAITING]));
    json_object_set_new(o, "tasks_failed", json_integer((json_int_t)e->count[MF_TS_FAILED]));
    json_object_set_new(o, "tasks_cached", json_integer((json_int_t)e->cached));
    json_object_set_new(o, "sources_awaited", json_integer((json_int_t)e->sources_awaited));
    json_object_set_new(o, "audio_s_done", json_real(e->audio_s_done));
    json_object_set_new(o, "audio_s_total", json_real(e->audio_s_total));
    json_object_set_new(o, "progress", json_real(progress > 1 ? 1 : progress));
    json_object_set_new(o, "elapsed_s", json_real(e->elapsed_s));
    json_object_set_new(o, "eta_s", json_real(e->eta_s));
    json_object_set_new(o, "error", e->error ? json_string(e->error) : json_null());
    json_object_set_new(o, "qc_html", e->qc_html[0] ? json_string(qc) : json_null());
    json_object_set_new(o, "numerics", e->numerics[0] ? json_string(e->numerics) : json_null());
    return o;
}

static char *s_dump(json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return text;
}

static int s_by_order(const void *a, const void *b)
{
    const mf_snap_job_t *x = *(const mf_snap_job_t *const *)a,
                        *y = *(const mf_snap_job_t *const *)b;
    return (x->order > y->order) - (x->order < y->order);
}

char *mf_snap_jobs_json(mf_snap_t *s)
{
    pthread_mutex_lock(&s->lock);
    const mf_snap_job_t **order = calloc(s->n_jobs + 1, sizeof *order);
    json_t *a = order ? json_array() : NULL;
    for (size_t i = 0; a && i < s->n_jobs; i++) order[i] = &s->jobs[i];
    if (a) qsort(order, s->n_jobs, sizeof *order, s_by_order);
    for (size_t i = 0; a && i < s->n_jobs; i++) json_array_append_new(a, s_job(order[i]));
    pthread_mutex_unlock(&s->lock);
    free(order);
    return s_dump(a);
}

char *mf_snap_job_json(mf_snap_t *s, uint64_t id, int *found)
{
    pthread_mutex_lock(&s->lock);
    const mf_snap_job_t *e = mf_snap_job(s, id);
    *found = e != NULL;
    json_t *o = e ? s_job(e) : NULL, *tasks = o ? json_array() : NULL;
    for (size_t i = 0; tasks && i < e->n_tasks; i++) {
        int w = e->worker[i];
        json_t *t =
            json_pack("{s:I,s:s,s:s,s:s}", "index", (json_int_t)i, "kind", e->kinds[i], "label",
                      e->labels[i], "state", mf_snap_task_state_name(e->tstate[i]));
        if (t)
            json_object_set_new(t, "worker",
                                w >= 0 && (size_t)w < s->n_workers ? json_string(s->workers[w].name)
                                                                   : json_null());
        json_array_append_new(tasks, t);
    }
    if (tasks) json_object_set_new(o, "tasks", tasks);
    pthread_mutex_unlock(&s->lock);
    return e ? s_dump(o) : NULL;
}

char *mf_snap_workers_json(mf_snap_t *s)
{
    pthread_mutex_lock(&s->lock);
    json_t *a = json_array();
    for (size_t i = 0; a && i < s->n_workers; i++) {
        const mf_snap_worker_t *w = &s->workers[i];
        /* Silent for two heartbeats: it may be lost (it is dropped after five). */
        const char *health = w->avoided                         ? "avoided"
                             : w->idle_s > 2.5 * s->heartbeat_s ? "silent"
                                                                : "ok";
        json_t *o = json_pack("{s:s,s:i,s:i,s:f,s:i,s:s,s:f,s:f,s:b,s:s}", "name", w->name, "slots",
                              w->slots, "running", w->running, "load",
                              w->slots ? (double)w->running / w->slots : 0.0, "failures",
                              w->failures, "health", health, "idle_s", w->idle_s, "avoid_s",
                              w->avoid_s, "shared_store", w->shared_store, "numerics", w->numerics);
        json_array_append_new(a, o);
    }
    pthread_mutex_unlock(&s->lock);
    return s_dump(a);
}
