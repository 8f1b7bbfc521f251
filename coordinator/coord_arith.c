/* One arithmetic per job: x86 SIMD, NEON and plain C kernels give a task
 * other last bits, and outputs are named after their task's key, so each
 * job is pinned to one kind of worker (its Hello.numerics), which its keys
 * name, and runs on workers of that kind only (docs/farm.md,
 * "Determinism"). Which job a free worker may serve, which kind a job is
 * pinned to, when a job whose kind is gone starts again with another, and
 * what the log says about it. */
#include "coord_internal.h"
#include "mf_log.h"

#include <stdio.h>
#include <string.h>

void mf_arith_tally(const coord_t *c, double now, mf_arith_kinds_t *f)
{
    f->n = f->more = f->free = 0;
    for (size_t k = 0; k < c->n_workers; k++) {
        const worker_t *w = &c->workers[k];
        if (w->avoid_until > now) continue;
        const int free = w->slots - w->n_running;
        f->free += free;
        int i = 0;
        while (i < f->n && strcmp(f->k[i].kind, w->numerics)) i++;
        if (i == MF_ARITH_KINDS) {
            f->more = 1; /* a ninth kind: asked worker by worker, never a pin */
            continue;
        }
        if (i == f->n) f->k[f->n++] = (mf_arith_kind_t){w->numerics, 0, 0};
        f->k[i].free += free;
        f->k[i].slots += w->slots;
    }
}

/* Whether a worker of j's arithmetic is connected (free: and free now). */
static int s_has_server(const coord_t *c, const job_t *j, int free, double now)
{
    for (size_t k = 0; k < c->n_workers; k++)
        if (mf_worker_serves(&c->workers[k], j) && (!free || mf_worker_free(&c->workers[k], now)))
            return 1;
    return 0;
}

int mf_arith_served(const coord_t *c, const mf_arith_kinds_t *f, const job_t *j, double now)
{
    const char *n = mf_sched_numerics(j->sched);
    if (!n) return f->free > 0;
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->k[i].kind, n)) return f->k[i].free > 0;
    return f->more && s_has_server(c, j, 1, now);
}

int mf_arith_pin(coord_t *c, const mf_arith_kinds_t *f, job_t *j)
{
    if (mf_sched_numerics(j->sched)) return 0;
    const mf_arith_kind_t *best = NULL;
    for (int i = 0; i < f->n; i++)
        if (!best || f->k[i].free > best->free ||
            (f->k[i].free == best->free && f->k[i].slots > best->slots))
            best = &f->k[i];
    if (!best || mf_sched_set_numerics(j->sched, best->kind)) return -1;
    mf_journal_job_numerics(c->journal, j->id, best->kind);
    mf_debug("job %llu renders with %s arithmetic", (unsigned long long)j->id,
             best->kind[0] ? best->kind : "unknown");
    return 0;
}

void mf_arith_tell_waiting(coord_t *c, double now)
{
    for (job_t *j = c->jobs; j; j = j->next) {
        if (j->state != JOB_RUNNING || !mf_sched_numerics(j->sched) || s_has_server(c, j, 0, now)) {
            j->told_waiting = 0, j->waiting_since = 0; /* told again if it is lost again */
            continue;
        }
        if (!j->waiting_since) j->waiting_since = now;
        if (j->told_waiting || !c->n_workers) continue;
        mf_warn("job %llu waits for a worker that computes with %s, the arithmetic it began "
                "with (docs/farm.md, Determinism)",
                (unsigned long long)j->id, mf_sched_numerics(j->sched));
        j->told_waiting = 1;
    }
}

/* How long a job waits for its kind of worker to come back (a restarted
 * machine, a rolling upgrade) before starting again with another. */
#define REPIN_AFTER_S 120.0

void mf_arith_repin_tick(coord_t *c, double now)
{
    const double after = c->opts->repin_after_s ? c->opts->repin_after_s : REPIN_AFTER_S;
    if (after < 0 || !c->n_workers) return;
    for (job_t *j = c->jobs; j; j = j->next) {
        if (!j->waiting_since || now - j->waiting_since < after || j->state != JOB_RUNNING)
            continue;
        /* Its tasks were requeued when their workers were lost, so none runs. */
        const char *was = mf_sched_numerics(j->sched);
        char old[64];
        snprintf(old, sizeof old, "%s", was ? was : "");
        if (mf_coord_job_restart(c, j) != 0) continue; /* out of memory: the next tick */
        mf_warn("job %llu: no worker that computes with %s for %.0f s; it starts again with the "
                "arithmetic of the workers there are, and its finished tasks are computed "
                "again (docs/farm.md, Determinism)",
                (unsigned long long)j->id, old, after);
    }
}

void mf_arith_joined(coord_t *c, const worker_t *w)
{
    for (size_t k = 0; k < c->n_workers; k++) {
        const worker_t *o = &c->workers[k];
        if (o == w || !strcmp(o->numerics, w->numerics)) continue;
        mf_warn("worker %s computes with other arithmetic (%s) than worker %s (%s): their last "
                "bits differ, so each job runs on workers of one arithmetic only "
                "(docs/farm.md, Determinism)",
                w->name, w->numerics[0] ? w->numerics : "unknown", o->name,
                o->numerics[0] ? o->numerics : "unknown");
        break;
    }
    mf_arith_tell_waiting(c, w->last_recv);
}
