/* Sources still being uploaded. A client submits first and uploads the
 * sources the store lacked after (Submit.sources_follow), so a render's
 * first strips run while its last files are still on the wire: at real
 * sizes (128 tracks of 20 minutes at 96 kHz is 42 GB of 24-bit audio) the
 * upload is most of a first render. A task reading a source that is not
 * there yet waits for it (mf_sched_hold_missing); a completed upload
 * releases the tasks of every job that waited for that blob; a job whose
 * sources stop arriving fails, naming the file, instead of waiting for
 * ever. */
#include "coord_internal.h"
#include "mf_log.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define SOURCE_WAIT_S 300.0

static int s_has(void *ctx, const mf_hash_t *blob)
{
    return mf_store_has(((coord_t *)ctx)->store, blob);
}

int mf_coord_hold_sources(coord_t *c, job_t *j)
{
    const int n = mf_sched_hold_missing(j->sched, s_has, c);
    if (n > 0) j->sources_since = mf_clock_now(), c->awaiting++;
    return n < 0 ? -1 : 0;
}

/* How many sources j awaits (none once it is not running). */
static size_t s_awaited(const job_t *j, const mf_hash_t **first)
{
    return j->state == JOB_RUNNING ? mf_sched_awaited(j->sched, first) : 0;
}

int mf_coord_awaits_sources(coord_t *c)
{
    for (const job_t *j = c->jobs; c->awaiting && j && j->state < JOB_DONE; j = j->next)
        if (s_awaited(j, NULL)) return 1;
    c->awaiting = 0;
    return 0;
}

void mf_coord_source_arrived(coord_t *c, const mf_hash_t *blob)
{
    size_t awaiting = 0;
    for (job_t *j = c->jobs; c->awaiting && j && j->state < JOB_DONE; j = j->next) {
        const size_t before = s_awaited(j, NULL);
        if (!before) continue;
        const size_t released = mf_sched_arrived(j->sched, blob);
        const size_t left = mf_sched_awaited(j->sched, NULL);
        awaiting += left > 0;
        if (left == before) continue; /* not one of its files */
        /* Progress even when its tasks still wait for another file. */
        j->sources_since = left ? mf_clock_now() : 0;
        mf_debug("job %llu: source %.12s arrived, %zu task%s ready, %zu source%s to come",
                 (unsigned long long)j->id, blob->hex, released, released == 1 ? "" : "s", left,
                 left == 1 ? "" : "s");
    }
    c->awaiting = awaiting;
}

/* When a chunk of one of j's awaited sources last arrived, or 0. */
static double s_last_chunk(const coord_t *c, const job_t *j)
{
    double last = 0;
    const mf_hash_t *awaited = NULL;
    const size_t n = mf_sched_awaited(j->sched, &awaited);
    for (size_t u = 0; u < c->n_uploads; u++)
        for (size_t k = 0; k < n; k++)
            if (!strcmp(c->uploads[u].hash.hex, awaited[k].hex) && c->uploads[u].last > last)
                last = c->uploads[u].last;
    return last;
}

/* The path the session gives blob (the job's sources), or its hash. */
static void s_source_name(const job_t *j, const mf_hash_t *blob, char *out, size_t n)
{
    json_t *sources = json_loads(j->sources, 0, NULL);
    snprintf(out, n, "blob %.12s", blob->hex);
    for (size_t i = 0; i < json_array_size(sources); i++) {
        const json_t *s = json_array_get(sources, i);
        const char *hash = json_string_value(json_object_get(s, "hash"));
        const char *path = json_string_value(json_object_get(s, "path"));
        if (hash && path && !strcmp(hash, blob->hex)) {
            snprintf(out, n, "\"%s\"", path);
            break;
        }
    }
    json_decref(sources);
}

void mf_coord_expire_sources(coord_t *c, double now)
{
    const double wait = c->opts->source_wait_s > 0 ? c->opts->source_wait_s : SOURCE_WAIT_S;
    size_t awaiting = 0;
    /* A job that fails goes to the end of c->jobs, and its end may free the
     * oldest finished job: the next unfinished one is kept before. */
    for (job_t *j = c->jobs, *next; c->awaiting && j && j->state < JOB_DONE; j = next) {
        next = j->next && j->next->state < JOB_DONE ? j->next : NULL;
        const mf_hash_t *first = NULL;
        const size_t n = s_awaited(j, &first);
        if (!n) continue;
        awaiting++; /* counted before it may fail: the next scan drops it */
        const double chunk = s_last_chunk(c, j);
        const double since = chunk > j->sources_since ? chunk : j->sources_since;
        if (now - since < wait) continue;
        char name[600], why[900];
        s_source_name(j, first, name, sizeof name);
        snprintf(why, sizeof why,
                 "its source %s%s never finished uploading: nothing of it arrived for %.0f s "
                 "(did the client that submitted the job stop? resubmit it)",
                 name, n > 1 ? " (and others)" : "", wait);
        mf_sched_fail(j->sched, why);
        mf_coord_job_check(c, j);
    }
    c->awaiting = awaiting;
}
