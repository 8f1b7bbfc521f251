/* Locality: a task goes to the free worker that already holds most of its
 * inputs, so a bus summing eight strips reads them from its own cache
 * instead of fetching them through the coordinator. The coordinator does
 * not know worker caches exactly; it remembers what it sent each worker and
 * what each worker produced, in a direct-mapped table of hash prefixes per
 * worker (a collision forgets a blob: the cost of a wrong guess is only the
 * fetch every task paid before).
 *
 * Tasks that read only sources (strips) hold nothing anywhere yet; for them
 * the scheduler's groups (mf_sched.h) decide: the strips of one bus go to
 * the worker that took the first of them, its owner, while it has a free
 * slot, so the bus later finds all of them there.
 *
 * A task whose inputs are all on one busy worker, offered a free worker
 * that holds none of them, waits for the busy one (delay scheduling,
 * Zaharia et al., EuroSys 2010): the six listening copies and the QC of a
 * master read the master, which its worker has and another would fetch
 * through the coordinator. The wait is at most 1 s (--locality-wait), as
 * Spark's is 3 s: a busy worker's slot frees within a task's time, which
 * is mostly shorter; then the task goes anywhere, so no slot idles for
 * long. Inputs under 1 MiB are not worth a wait, and a worker on the
 * coordinator's store moves nothing. */
#include "coord_internal.h"
#include "mf_log.h"

#include <math.h>
#include <stdlib.h>

void mf_locality_note(worker_t *w, const mf_hash_t *blobs, size_t n)
{
    if (!w->held && !(w->held = calloc(MF_HELD_SLOTS, sizeof *w->held))) return;
    for (size_t i = 0; i < n; i++) {
        const uint64_t p = mf_hash_prefix64(&blobs[i]);
        w->held[p % MF_HELD_SLOTS] = p;
    }
}

static size_t s_score(const worker_t *w, const uint64_t *prefix, size_t n)
{
    size_t hits = 0;
    for (size_t i = 0; w->held && i < n; i++)
        hits += w->held[prefix[i] % MF_HELD_SLOTS] == prefix[i];
    return hits;
}

static worker_t *s_by_serial(coord_t *c, uint32_t serial)
{
    for (size_t k = 0; serial && k < c->n_workers; k++)
        if (c->workers[k].serial == serial) return &c->workers[k];
    return NULL;
}

int mf_locality_fits(void *ctx, uint32_t owner)
{
    const locality_fit_t *f = ctx;
    const worker_t *w = s_by_serial(f->c, owner);
    return !w || mf_worker_free(w, f->now);
}

/* The task's input prefixes are parsed once, not once per worker. */
#define STACK_INPUTS 64

#define WAIT_S 1.0               /* without --locality-wait */
#define MIN_MOVE_BYTES (1 << 20) /* less is not worth a wait */

/* The worker other than w that holds all of t's inputs and could take it
 * once a slot frees (busy, serving j, not avoided); NULL when none. */
static const worker_t *s_holder(const coord_t *c, const job_t *j, const worker_t *w,
                                const uint64_t *prefix, size_t n, double now)
{
    for (size_t k = 0; k < c->n_workers; k++) {
        const worker_t *v = &c->workers[k];
        if (v != w && v->avoid_until <= now && mf_worker_serves(v, j) && s_score(v, prefix, n) == n)
            return v;
    }
    return NULL;
}

/* How long t may wait for its inputs' worker: 0 when they are too small
 * to matter. */
static double s_patience(const coord_t *c, const mf_task_t *t)
{
    double bytes = 0;
    for (size_t i = 0; i < t->n_inputs && bytes < MIN_MOVE_BYTES; i++) {
        const int64_t size = mf_store_size(c->store, &t->inputs[i]);
        if (size > 0) bytes += (double)size;
    }
    const double wait = c->opts->locality_wait_s > 0 ? c->opts->locality_wait_s : WAIT_S;
    return bytes < MIN_MOVE_BYTES ? 0 : wait;
}

/* Whether t, offered best (holding none of its inputs), waits for a busy
 * worker that holds them all; raises c->locality_due to when it goes. */
static int s_waits(coord_t *c, job_t *j, const worker_t *best, const mf_task_t *t,
                   const uint64_t *prefix, size_t n, double now)
{
    if (c->opts->locality_wait_s < 0 || best->shared_store || t->n_inlined || n == 0 ||
        n > STACK_INPUTS)
        return 0;
    const worker_t *v = s_holder(c, j, best, prefix, n, now);
    const double patience = v ? s_patience(c, t) : 0;
    if (patience <= 0) return 0;
    double from;
    if (mf_sched_wait_begin(j->sched, t->id, now, &from))
        mf_debug("job %llu: %s waits up to %.3f s for %s, which holds its inputs",
                 (unsigned long long)j->id, mf_sched_label(j->sched, t->id), patience, v->name);
    const double until = from + patience;
    if (now >= until) return 0;
    c->locality_due = fmin(c->locality_due, until);
    return 1;
}

worker_t *mf_locality_pick(coord_t *c, job_t *j, const mf_task_t *t, double now, int *wait)
{
    uint64_t stack[STACK_INPUTS];
    uint64_t *prefix = t->n_inputs <= STACK_INPUTS ? stack : malloc(t->n_inputs * sizeof *prefix);
    const size_t n = prefix ? t->n_inputs : 0; /* out of memory: any free worker */
    for (size_t i = 0; i < n; i++) prefix[i] = mf_hash_prefix64(&t->inputs[i]);
    const uint32_t owner = mf_sched_owner(j->sched, t->id);
    worker_t *best = NULL;
    size_t best_score = 0;
    int owner_here = 0; /* among the workers, free or not */
    for (size_t k = 0; k < c->n_workers; k++) {
        worker_t *w = &c->workers[(c->next_worker + k) % c->n_workers];
        const int owns = owner && w->serial == owner;
        owner_here |= owns;
        if (!mf_worker_free(w, now) || !mf_worker_serves(w, j)) continue;
        /* An input held counts two, the group's owner one: a tie-break. */
        const size_t score = 2 * s_score(w, prefix, n) + (size_t)owns;
        if (!best || score > best_score) best = w, best_score = score;
        if (best_score >= 2 * n + (owner != 0)) break; /* cannot do better */
    }
    /* best_score < 2: the free worker holds none of the inputs. */
    const int waits = best && best_score < 2 && s_waits(c, j, best, t, prefix, n, now);
    if (wait) *wait = waits;
    if (prefix != stack) free(prefix);
    /* The loop stopped early only at the owner itself: not seeing it means
     * it is gone (or there is none). */
    if (best && !owner_here) mf_sched_set_owner(j->sched, t->id, best->serial);
    return best;
}
