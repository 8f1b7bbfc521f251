/* Progress events: a status request that names a job and says what its
 * client saw (tasks done + failed) may wait, up to wait_ms, for the job to
 * change. Its reply is held here and sent from the loop as soon as the job
 * moves on or ends, so a client watching a render learns of every finished
 * task, and of the end, at once, without asking every few milliseconds. */
#include "coord_internal.h"

#include <math.h>
#include <stdlib.h>

#define MAX_WAIT_MS 1000
#define MAX_HELD 1024 /* beyond this, a request is answered at once */

struct mf_status_wait {
    mf_peer_t peer;
    uint64_t job;
    uint32_t seen;
    double deadline;
};

/* What a client compares: the tasks that have finished, one way or the other. */
static uint32_t s_progress(const job_t *j)
{
    const mf_sched_progress_t p = mf_sched_progress(j->sched);
    return (uint32_t)(p.done + p.failed);
}

static int s_moved(const job_t *j, uint32_t seen)
{
    return !j || (j->state != JOB_QUEUED && j->state != JOB_RUNNING) || s_progress(j) != seen;
}

int mf_coord_status_hold(coord_t *c, const mf_peer_t *peer, const Mixfarm__StatusRequest *m)
{
    if (!m->job || !m->wait_ms || c->n_waits >= MAX_HELD) return 0;
    if (s_moved(mf_coord_job(c, m->job), m->seen)) return 0;
    struct mf_status_wait *w = realloc(c->waits, (c->n_waits + 1) * sizeof *w);
    if (!w) return 0;
    c->waits = w;
    const double ms = m->wait_ms < MAX_WAIT_MS ? m->wait_ms : MAX_WAIT_MS;
    c->waits[c->n_waits++] =
        (struct mf_status_wait){*peer, m->job, m->seen, mf_clock_now() + ms / 1000.0};
    return 1;
}

void mf_coord_status_wake(coord_t *c)
{
    const double now = mf_clock_now();
    for (size_t i = 0; i < c->n_waits;) {
        const struct mf_status_wait w = c->waits[i];
        if (now < w.deadline && !s_moved(mf_coord_job(c, w.job), w.seen)) {
            i++;
            continue;
        }
        c->waits[i] = c->waits[--c->n_waits]; /* the order of replies to different peers is free */
        mf_coord_reply_status(c, &w.peer, w.job);
    }
}

double mf_coord_status_next(const coord_t *c)
{
    double next = INFINITY;
    for (size_t i = 0; i < c->n_waits; i++) next = fmin(next, c->waits[i].deadline);
    return next;
}

void mf_coord_status_free(coord_t *c)
{
    free(c->waits);
    c->waits = NULL;
    c->n_waits = 0;
}
