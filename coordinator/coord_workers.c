/* Workers: registration, pull-based dispatch (a task per free slot, the
 * highest-priority job first), results, heartbeats, and the requeue of a
 * dead worker's tasks. A lost worker never counts against a task; a worker
 * whose tasks keep failing is given no work for a while. */
#include "coord_internal.h"
#include "mf_log.h"
#include "mf_task.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AVOID_AFTER 3    /* consecutive failures before a worker is avoided */
#define AVOID_FOR_S 30.0 /* and for how long */
#define MAX_SLOTS 1024

worker_t *mf_coord_worker(coord_t *c, const mf_peer_t *peer)
{
    for (size_t i = 0; i < c->n_workers; i++)
        if (c->workers[i].peer.n == peer->n && !memcmp(c->workers[i].peer.id, peer->id, peer->n))
            return &c->workers[i];
    return NULL;
}

int mf_coord_worker_runs(coord_t *c, const mf_peer_t *peer, const mf_hash_t *key)
{
    worker_t *w = mf_coord_worker(c, peer);
    for (int i = 0; w && i < w->n_running; i++) {
        job_t *j = mf_coord_job(c, MF_WIRE_JOB(w->running[i]));
        const mf_hash_t *k =
            j && j->sched ? mf_sched_key(j->sched, MF_WIRE_TASK(w->running[i])) : NULL;
        if (k && !strcmp(k->hex, key->hex)) return 1;
    }
    return 0;
}

static void s_remove_worker(coord_t *c, worker_t *w)
{
    free(w->running);
    free(w->held);
    size_t i = (size_t)(w - c->workers);
    memmove(w, w + 1, (c->n_workers - i - 1) * sizeof *w);
    c->n_workers--;
    if (c->next_worker >= c->n_workers) c->next_worker = 0;
}

/* Puts a lost worker's tasks back in their queues; one lost too often
 * fails its job (mf_sched_lost). */
static void s_requeue_all(coord_t *c, worker_t *w)
{
    for (int i = 0; i < w->n_running; i++) {
        job_t *j = mf_coord_job(c, MF_WIRE_JOB(w->running[i]));
        const uint64_t task = MF_WIRE_TASK(w->running[i]);
        if (!j || !j->sched || !mf_sched_lost(j->sched, task)) continue;
        /* Said of the task, as a result's failure is; the job's own line
         * (coord_jobs.c) comes once its other tasks are over. */
        const char *label = mf_sched_label(j->sched, task);
        mf_warn("job %llu: %s failed on %s, lost with it: %s", (unsigned long long)j->id, label,
                w->name, mf_sched_error(j->sched));
        mf_journal_task(c->journal, j->id, (uint32_t)task, label, "failed", w->name, 0, NULL,
                        mf_sched_error(j->sched));
        mf_coord_job_check(c, j);
    }
    w->n_running = 0;
}

void mf_coord_on_hello(coord_t *c, const mf_peer_t *peer, const Mixfarm__Hello *m)
{
    if (m->slots < 1 || m->slots > MAX_SLOTS) {
        mf_warn("dropped a hello with %u slots", m->slots);
        return;
    }
    if (strcmp(m->engine, MF_ENGINE_VERSION) != 0) { /* its bits would differ under our keys */
        char reason[256];
        snprintf(reason, sizeof reason,
                 "worker %.64s renders with %.40s, and this coordinator's tasks are keyed for "
                 "%s: run the same mixfarm version on both",
                 m->name, m->engine[0] ? m->engine : "an older engine", MF_ENGINE_VERSION);
        mf_coord_refuse(c, peer, reason);
        return;
    }
    worker_t *w = mf_coord_worker(c, peer);
    if (w) { /* the same connection saying hello again: start afresh */
        s_requeue_all(c, w);
        s_remove_worker(c, w);
    }
    if (c->n_workers == c->cap_workers) {
        size_t cap = c->cap_workers ? c->cap_workers * 2 : 8;
        worker_t *ws = realloc(c->workers, cap * sizeof *ws);
        if (!ws) return;
        c->workers = ws;
        c->cap_workers = cap;
    }
    w = &c->workers[c->n_workers];
    memset(w, 0, sizeof *w);
    w->running = calloc(m->slots, sizeof *w->running);
    if (!w->running) return;
    c->n_workers++;
    w->peer = *peer;
    if (++c->last_serial == 0) c->last_serial = 1; /* 0 is no group's owner */
    w->serial = c->last_serial;
    snprintf(w->name, sizeof w->name, "%s", m->name[0] ? m->name : "worker");
    w->slots = (int)m->slots;
    w->shared_store = m->shared_store;
    snprintf(w->numerics, sizeof w->numerics, "%s", m->numerics);
    for (char *p = w->numerics; *p; p++) /* it goes into log lines */
        if (*p < 0x20 || *p > 0x7e) *p = '?';
    w->last_recv = w->last_send = mf_clock_now();
    mf_info("worker %s joined with %d slot%s", w->name, w->slots, w->slots == 1 ? "" : "s");
    mf_coord_fd_check(c, 0);
    mf_arith_joined(c, w);
}

/* Where task id is in w's running tasks, or -1. */
static int s_running_at(const worker_t *w, uint64_t id)
{
    for (int i = 0; i < w->n_running; i++)
        if (w->running[i] == id) return i;
    return -1;
}

static int s_take_running(worker_t *w, uint64_t id)
{
    const int i = s_running_at(w, id);
    if (i >= 0) w->running[i] = w->running[--w->n_running];
    return i >= 0;
}

void mf_coord_on_progress(coord_t *c, const mf_peer_t *peer, const Mixfarm__Progress *m)
{
    worker_t *w = mf_coord_worker(c, peer);
    if (!w || m->n_task != m->n_done) {
        char name[80];
        mf_warn("dropped a progress message from %s: %s", mf_peer_name(peer, name, sizeof name),
                w ? "its tasks and shares do not pair up" : "not a worker");
        return;
    }
    for (size_t i = 0; i < m->n_task; i++) {
        if (s_running_at(w, m->task[i]) < 0) continue; /* over meanwhile, or never its */
        job_t *j = mf_coord_job(c, MF_WIRE_JOB(m->task[i]));
        if (j && j->state == JOB_RUNNING)
            mf_sched_set_progress(j->sched, MF_WIRE_TASK(m->task[i]), m->done[i]);
    }
}

static char *s_hash_list(const mf_task_result_t *r)
{
    char *s = malloc(r->n_outputs * MF_HASH_HEX + 1);
    if (!s) return NULL;
    s[0] = 0;
    for (size_t i = 0; i < r->n_outputs; i++) {
        if (i) strcat(s, " ");
        strcat(s, r->outputs[i].hex);
    }
    return s;
}

void mf_coord_on_result(coord_t *c, const mf_peer_t *peer, const Mixfarm__TaskResult *m)
{
    worker_t *w = mf_coord_worker(c, peer);
    mf_task_result_t r;
    if (!w || mf_task_result_from_pb(m, &r) != MF_OK || !s_take_running(w, r.id)) {
        mf_warn("dropped a result nobody was waiting for");
        if (w) mf_task_result_fini(&r);
        return;
    }
    job_t *j = mf_coord_job(c, MF_WIRE_JOB(r.id));
    uint64_t task = MF_WIRE_TASK(r.id);
    r.id = task;
    if (!j) { /* gone meanwhile */
        mf_task_result_fini(&r);
        return;
    }
    if (j->state != JOB_RUNNING) { /* cancelled: the task is over, its result unused */
        mf_sched_complete(j->sched, &r);
        mf_task_result_fini(&r);
        return;
    }
    /* A worker with its own store uploaded its outputs before reporting. */
    for (size_t i = 0; !r.error && i < r.n_outputs; i++)
        if (!mf_store_has(c->store, &r.outputs[i])) r.error = strdup("an output was not uploaded");
    const char *label = mf_sched_label(j->sched, task);
    if (r.error && r.input_fault) { /* the file's fault: the job fails, the worker did right */
        mf_info("job %llu: %s failed on %s, for good: %s", (unsigned long long)j->id, label,
                w->name, r.error);
    } else if (r.error) {
        if (++w->failures >= AVOID_AFTER) {
            w->avoid_until = mf_clock_now() + AVOID_FOR_S;
            mf_warn("worker %s failed %d tasks in a row; no work for it for %.0f s", w->name,
                    w->failures, AVOID_FOR_S);
        }
        mf_warn("job %llu: %s failed on %s: %s", (unsigned long long)j->id, label, w->name,
                r.error);
    } else {
        w->failures = 0;
        mf_locality_note(w, r.outputs, r.n_outputs);
        /* Counted once in the store (a worker on the shared store wrote them itself). */
        for (size_t i = 0; i < r.n_outputs; i++) mf_coord_budget_use(c, &r.outputs[i]);
    }
    mf_debug("job %llu: %s %s on %s in %.3f s", (unsigned long long)j->id, label,
             r.error ? "failed" : "done", w->name, r.seconds);
    char *outs = s_hash_list(&r);
    mf_journal_task(c->journal, j->id, (uint32_t)task, label, r.error ? "failed" : "done", w->name,
                    r.seconds, outs, r.error);
    free(outs);
    mf_sched_complete(j->sched, &r);
    mf_task_result_fini(&r);
    mf_coord_job_check(c, j);
}

/* The job that should run next: the first in priority order with a ready
 * task and a free worker of its arithmetic. A job passed over stays so for
 * the rest of the dispatch round (no task becomes ready, no slot frees and
 * a held job stays held), so the round's next call starts where this one
 * found its job: a catalogue's thousands of queued jobs, each held while
 * the worker with its inputs is busy, were walked again from the first at
 * every call, a round quadratic in the jobs. */
static job_t *s_next_job(coord_t *c, const mf_arith_kinds_t *f, double now)
{
    job_t *j = c->dispatch_from && c->dispatch_from->state < JOB_DONE ? c->dispatch_from : c->jobs;
    for (; j && j->state < JOB_DONE; j = j->next)
        if (j->state == JOB_RUNNING && j->held_round != c->dispatch_round &&
            mf_sched_has_ready(j->sched) && mf_arith_served(c, f, j, now))
            return c->dispatch_from = j;
    return NULL;
}

/* t waits for the worker that holds its inputs (mf_locality_pick): back
 * into j's ready tasks; once they have all come round, j is passed over
 * until the next dispatch. */
static void s_wait(coord_t *c, job_t *j, mf_task_t *t)
{
    if (j->waited_round != c->dispatch_round)
        j->waited_round = c->dispatch_round, j->first_waiting = t->id;
    else if (j->first_waiting == t->id)
        j->held_round = c->dispatch_round;
    mf_sched_requeue(j->sched, t->id);
}

static int s_send_task(coord_t *c, worker_t *w, job_t *j, mf_task_t *t)
{
    uint64_t task = t->id;
    t->id = MF_WIRE_ID(j->id, task);
    Mixfarm__Task m;
    mf_hash_t key;
    if (mf_task_to_pb(t, &m, &key) != 0) return -1;
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_TASK;
    env.task = &m;
    mf_coord_send(c, w->peer.n ? &w->peer : NULL, &env);
    mf_task_pb_fini(&m);
    w->running[w->n_running++] = t->id;
    mf_locality_note(w, t->inputs, t->n_inputs); /* it fetches what it lacks */
    w->last_send = mf_clock_now();
    mf_journal_task(c->journal, j->id, (uint32_t)task, mf_sched_label(j->sched, task), "running",
                    w->name, 0, NULL, NULL);
    mf_debug("job %llu: %s sent to %s", (unsigned long long)j->id, mf_sched_label(j->sched, task),
             w->name);
    return 0;
}

/* Ready tasks in job order (the strips of a bus whose worker is busy wait
 * for it while another bus's can go), each to the free worker holding most
 * of its inputs, while any worker has a free slot; a task whose inputs a
 * busy worker holds may wait for it a while. */
void mf_coord_dispatch(coord_t *c)
{
    const double now = mf_clock_now();
    locality_fit_t fit = {c, now};
    c->dispatch_round++;
    c->dispatch_from = NULL;
    c->locality_due = INFINITY;
    mf_arith_kinds_t f;
    for (mf_arith_tally(c, now, &f); f.free; mf_arith_tally(c, now, &f)) {
        job_t *j = s_next_job(c, &f, now);
        mf_task_t t;
        if (j && mf_arith_pin(c, &f, j)) return;            /* out of memory: next turn */
        if (j && !mf_arith_served(c, &f, j, now)) continue; /* pinned to a kind now full */
        if (!j || !mf_sched_next_fitting(j->sched, mf_locality_fits, &fit, &t)) {
            if (j) mf_coord_job_check(c, j); /* it may have finished from the cache */
            if (!j || !s_next_job(c, &f, now)) return;
            continue;
        }
        int wait;
        worker_t *w = mf_locality_pick(c, j, &t, now, &wait);
        if (wait)
            s_wait(c, j, &t);
        else
            s_send_task(c, w, j, &t);
        mf_task_fini(&t);
        c->next_worker = (size_t)(w - c->workers + 1) % c->n_workers; /* ties: round robin */
    }
}

void mf_coord_heartbeats(coord_t *c)
{
    double now = mf_clock_now();
    for (size_t i = 0; i < c->n_workers;) {
        worker_t *w = &c->workers[i];
        if (now - w->last_recv > c->dead_s) {
            mf_warn("worker %s lost (silent for %.1f s); %d task%s requeued", w->name,
                    now - w->last_recv, w->n_running, w->n_running == 1 ? "" : "s");
            s_requeue_all(c, w);
            s_remove_worker(c, w);
            mf_arith_tell_waiting(c, now);
            continue;
        }
        if (now - w->last_send >= c->heartbeat_s) {
            Mixfarm__Heartbeat hb = MIXFARM__HEARTBEAT__INIT;
            Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
            env.body_case = MIXFARM__ENVELOPE__BODY_HEARTBEAT;
            env.heartbeat = &hb;
            mf_coord_send(c, &w->peer, &env);
            w->last_send = now;
        }
        i++;
    }
}
