/* --store-budget: the coordinator's side of store_budget.h. Every blob the
 * loop touches is marked used; now and then, past the budget, the least
 * recently used blobs go, except those an unfinished job still needs (its
 * sources, and every output its finished tasks made: what its other tasks
 * will read and what its client will fetch) and those used in the last
 * --store-grace seconds (an upload waiting for its submit, a fetch under
 * way, an output whose task result is still on its way). */
#include "blob_refs.h"
#include "coord_internal.h"
#include "mf_log.h"
#include "store_budget.h"

#include <jansson.h>
#include <string.h>

#define TRIM_EVERY_S 1.0   /* between passes that deleted something, while over the budget */
#define TRIM_IDLE_S 5.0    /* after a pass that found nothing it could delete */
#define TRIM_MAX_FILES 512 /* renames per pass: the loop stays responsive */

void mf_coord_budget_close(coord_t *c)
{
    mf_budget_free(&c->budget);
}

int mf_coord_budget_open(coord_t *c)
{
    if (c->opts->store_budget <= 0) return 0;
    const double now = mf_clock_now();
    if (!(c->budget = mf_budget_new(c->store, c->opts->store_budget, now))) return -1;
    if (mf_coord_trash_start(c) != 0) return -1;
    c->metrics.store_budget = c->opts->store_budget;
    mf_info("blob store: %zu blobs, %.2f GB of a %.2f GB budget", mf_budget_blobs(c->budget),
            (double)mf_budget_bytes(c->budget) / 1e9, (double)c->opts->store_budget / 1e9);
    return 0;
}

void mf_coord_budget_use(coord_t *c, const mf_hash_t *h)
{
    if (c->budget) mf_budget_use(c->budget, h, mf_clock_now());
}

static int s_keep_port(mf_blob_refs_t *keep, const job_t *j, mf_port_t port)
{
    const mf_hash_t *h = port.task < 0 ? &port.blob : mf_sched_port(j->sched, port);
    return h ? mf_blob_refs_add(keep, h, 1) : 0;
}

/* Everything the client submitted with the job ([{path, hash, ...}]): its
 * sources, and an album's nested sessions, which no task reads but a
 * restarted coordinator plans the job from again. */
static int s_keep_sources(mf_blob_refs_t *keep, const job_t *j)
{
    json_t *a = j->sources ? json_loads(j->sources, 0, NULL) : NULL;
    int rc = j->sources && !a ? -1 : 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(a); i++) {
        const char *hex = json_string_value(json_object_get(json_array_get(a, i), "hash"));
        mf_hash_t h;
        if (!mf_hash_valid(hex)) continue;
        memcpy(h.hex, hex, MF_HASH_HEX);
        rc = mf_blob_refs_add(keep, &h, 1);
    }
    json_decref(a);
    return rc;
}

/* Every blob an unfinished job has or will read, and its outputs so far. */
static int s_keep_job(mf_blob_refs_t *keep, const job_t *j)
{
    const mf_plan_t *p = j->plan;
    int rc = s_keep_sources(keep, j);
    for (size_t t = 0; p && rc == 0 && t < p->n_tasks; t++)
        for (size_t i = 0; rc == 0 && i < p->tasks[t].n_in; i++)
            rc = s_keep_port(keep, j, p->tasks[t].in[i]);
    for (size_t o = 0; p && rc == 0 && o < p->n_outputs; o++) {
        rc = s_keep_port(keep, j, p->outputs[o].port);
        if (rc == 0 && p->outputs[o].has_info) rc = s_keep_port(keep, j, p->outputs[o].info);
    }
    return rc;
}

static int s_kept(void *ctx, const mf_hash_t *h)
{
    return mf_blob_refs_count(ctx, h) > 0;
}

void mf_coord_budget_tick(coord_t *c, double now)
{
    if (!c->budget || now < c->next_trim ||
        mf_budget_bytes(c->budget) <= mf_budget_limit(c->budget))
        return;
    mf_blob_refs_t *keep = mf_blob_refs_new();
    int rc = keep ? 0 : -1;
    for (const job_t *j = c->jobs; rc == 0 && j; j = j->next)
        if (j->sched && (j->state == JOB_QUEUED || j->state == JOB_RUNNING))
            rc = s_keep_job(keep, j);
    c->next_trim = now + TRIM_IDLE_S;
    if (rc != 0) { /* not knowing what is needed, delete nothing */
        mf_warn("blob store over its budget, and no memory to find what may go");
        mf_blob_refs_free(&keep);
        return;
    }
    const mf_budget_trim_t t =
        mf_budget_trim(c->budget, now, c->opts->store_grace_s, s_kept, keep, TRIM_MAX_FILES);
    mf_blob_refs_free(&keep);
    c->metrics.evicted += t.deleted, c->metrics.evicted_bytes += (uint64_t)t.freed;
    if (t.deleted) {
        mf_coord_trash_poke(c);
        c->next_trim = t.deleted == TRIM_MAX_FILES ? now : now + TRIM_EVERY_S; /* more to go */
        mf_info("blob store: %zu least recently used blobs deleted (%.2f GB) to stay within "
                "--store-budget; %.2f GB left",
                t.deleted, (double)t.freed / 1e9, (double)mf_budget_bytes(c->budget) / 1e9);
    }
    const int over = mf_budget_bytes(c->budget) > mf_budget_limit(c->budget);
    if (over && t.deleted < TRIM_MAX_FILES && !c->budget_warned)
        mf_warn("blob store: %.2f GB, over its %.2f GB budget: %.2f GB are in use by "
                "unfinished jobs or were used in the last %.0f s (--store-grace)",
                (double)mf_budget_bytes(c->budget) / 1e9, (double)mf_budget_limit(c->budget) / 1e9,
                (double)t.kept / 1e9, c->opts->store_grace_s);
    c->budget_warned = over; /* once until it is back under */
}
