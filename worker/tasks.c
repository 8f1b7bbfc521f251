/* A task's way through the worker: FETCH (inputs arriving through mf_xfer,
 * pinned in the cache) -> READY (waiting for a slot) -> RUNNING (its
 * outputs already going up as they are written: mf_tasks_live) -> UPLOAD
 * (the rest of its outputs leaving) -> reported and forgotten. A failure
 * anywhere becomes the TaskResult's error. */
#include "mf_clock.h"
#include "mf_log.h"
#include "mf_pcm.h"
#include "mf_writes.h"
#include "worker_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_fail(mf_wtask_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_fail(mf_wtask_t *t, const char *fmt, ...)
{
    if (t->error) return; /* the first failure says the most */
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    t->error = strdup(msg);
}

static void s_task_free(mf_wloop_t *w, mf_wtask_t *t)
{
    for (unsigned i = 0; t->expects && i < MF_LIVE_OUTPUTS; i++)
        mf_writes_forget(w->writes, &t->out_names[i]);
    for (mf_wtask_t **pp = &w->tasks; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    for (int i = 0; w->cache && i < t->inputs_pinned; i++) mf_cache_unpin(w->cache, &t->reads[i]);
    free(t->reads);
    for (int i = 0; w->cache && i < t->outputs_pinned; i++)
        mf_cache_unpin(w->cache, &t->r.outputs[i]);
    mf_task_fini(&t->t);
    mf_task_result_fini(&t->r);
    free(t->error);
    free(t);
}

static void s_send_result(mf_wloop_t *w, const mf_task_result_t *res)
{
    Mixfarm__TaskResult m;
    if (mf_task_result_to_pb(res, &m) == 0) {
        Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
        env.body_case = MIXFARM__ENVELOPE__BODY_RESULT;
        env.result = &m;
        mf_wloop_send(w, &env);
    }
    free(m.outputs);
}

/* Reports t to the coordinator (while connected) and forgets it. */
static void s_reply(mf_wloop_t *w, mf_wtask_t *t)
{
    mf_task_result_t res = t->r; /* borrowed */
    res.id = t->t.id;
    res.error = t->error ? t->error : t->r.error;
    if (res.error) {
        res.n_outputs = 0;
        mf_info("task %llu (%s) failed: %s", (unsigned long long)res.id, t->t.kind, res.error);
    } else {
        mf_debug("task %llu (%s) done in %.2f s", (unsigned long long)res.id, t->t.kind,
                 res.seconds);
    }
    s_send_result(w, &res);
    /* Outputs no task of the job reads (the files the client fetches from
     * the coordinator, which holds them now) leave the cache: it keeps
     * what may be read here again, and their pages are free at once. */
    mf_hash_t drop[32];
    size_t n_drop = 0;
    for (size_t i = 0; w->cache && !res.error && i < t->r.n_outputs && i < 32; i++)
        if (t->t.unread & (1u << i)) drop[n_drop++] = t->r.outputs[i];
    mf_cache_t *cache = w->cache;
    s_task_free(w, t); /* unpins them */
    for (size_t i = 0; i < n_drop; i++) mf_cache_drop(cache, &drop[i]);
}

/* The length of t's longest input signal, from the trailers of its inputs
 * in the store (0 when none is a signal). */
static double s_audio_s(const mf_wloop_t *w, const mf_task_t *t)
{
    double audio_s = 0;
    for (size_t i = 0; i < t->n_inputs; i++) {
        mf_pcm_info_t info;
        if (mf_pcm_info(w->store, &t->inputs[i], &info) == MF_OK && info.rate > 0) {
            const double s = (double)(info.start + info.frames) / info.rate;
            if (s > audio_s) audio_s = s;
        }
    }
    return audio_s;
}

static void s_dispatch(mf_wloop_t *w)
{
    for (mf_wtask_t *t = w->tasks, *next; t; t = next) {
        next = t->next;
        if (t->state != MF_WT_READY) continue;
        int slot = mf_slots_free(w->slots);
        if (slot < 0) return;
        /* Its outputs go up as they are written (mf_tasks_live). */
        t->expects = w->writes && w->xfer;
        for (unsigned i = 0; t->expects && i < MF_LIVE_OUTPUTS; i++) {
            mf_task_output_name(&t->t.key, i, &t->out_names[i]);
            mf_writes_expect(w->writes, &t->out_names[i]);
        }
        t->t.as_file = w->links_outputs ? t->t.unread : 0;
        mf_slots_run(w->slots, slot, &t->t); /* t stays until its result is taken */
        t->state = MF_WT_RUNNING;
        w->on_slot[slot] = t;
        t->started = mf_clock_now(), t->limit_s = 0;
        mf_debug("task %llu (%s) started", (unsigned long long)t->t.id, t->t.kind);
    }
}

int mf_tasks_stuck(mf_wloop_t *w)
{
    const double now = mf_clock_now(), base = w->o->task_limit_s;
    for (mf_wtask_t *t = w->tasks; base > 0 && t; t = t->next) {
        if (t->state != MF_WT_RUNNING || now - t->started <= base) continue;
        /* Past --task-limit: a second more per second of its audio (a
         * day's recording encoded five times over is no loop), read only
         * now, off the dispatch path. */
        if (t->limit_s == 0) t->limit_s = base + s_audio_s(w, &t->t);
        if (now - t->started > t->limit_s) {
            mf_error("task %llu (%s) has run for %.0f s, over its limit of %.0f s (--task-limit "
                     "%g s and a second per second of its audio): stuck; this worker exits so "
                     "that it stops, and the task runs elsewhere (a task stuck on eight workers "
                     "fails its job)",
                     (unsigned long long)t->t.id, t->t.kind, now - t->started, t->limit_s, base);
            return 1;
        }
    }
    return 0;
}

/* Moves t on once its transfers are over. */
static void s_advance(mf_wloop_t *w, mf_wtask_t *t)
{
    if (t->pending > 0) return;
    if (!w->sock && t->state != MF_WT_RUNNING) {
        s_task_free(w, t); /* its connection is gone */
        return;
    }
    if (t->state == MF_WT_FETCH) {
        if (t->error) {
            s_reply(w, t);
            return;
        }
        t->state = MF_WT_READY;
        s_dispatch(w);
    } else if (t->state == MF_WT_UPLOAD) {
        s_reply(w, t);
    }
}

static void s_on_fetched(void *ctx, const mf_hash_t *hash, mf_err_t err)
{
    mf_wtask_t *t = ctx;
    if (err == MF_OK)
        mf_cache_added(t->w->cache, hash);
    else
        s_fail(t, "input %.12s: cannot fetch it: %s", hash->hex, mf_strerror(err));
    t->pending--;
    s_advance(t->w, t);
}

static void s_on_uploaded(void *ctx, const mf_hash_t *hash, mf_err_t err)
{
    mf_wtask_t *t = ctx;
    if (err != MF_OK) s_fail(t, "output %.12s: cannot upload it: %s", hash->hex, mf_strerror(err));
    t->pending--;
    s_advance(t->w, t);
}

static void s_reply_error(mf_wloop_t *w, uint64_t id, const char *why)
{
    mf_task_result_t res = {.id = id, .error = (char *)why};
    s_send_result(w, &res);
}

/* The blobs task x reads: its inputs, but for the signals of the strips it
 * runs itself (inlined), whose own inputs it reads instead. NULL when out
 * of memory. */
static mf_hash_t *s_reads(const mf_task_t *x, size_t *n)
{
    size_t cap = x->n_inputs;
    for (size_t j = 0; j < x->n_inlined; j++) cap += x->inlined[j].n_inputs;
    mf_hash_t *v = malloc((cap + 1) * sizeof *v);
    *n = 0;
    for (size_t k = 0; v && k < x->n_inputs; k++)
        if (mf_task_inlined_for(x, k) < 0) v[(*n)++] = x->inputs[k];
    for (size_t j = 0; v && j < x->n_inlined; j++)
        for (size_t k = 0; k < x->inlined[j].n_inputs; k++) v[(*n)++] = x->inlined[j].inputs[k];
    return v;
}

void mf_tasks_on_task(mf_wloop_t *w, const Mixfarm__Task *m)
{
    int active = 0;
    for (mf_wtask_t *t = w->tasks; t; t = t->next) active += !t->orphan;
    mf_wtask_t *t = calloc(1, sizeof *t);
    mf_err_t err = t ? mf_task_from_pb(m, &t->t) : MF_ERR_NOMEM;
    if (err != MF_OK || active >= 2 * w->n_slots + 16) {
        const char *why = err == MF_ERR_PROTOCOL ? "the worker received a malformed task"
                          : err != MF_OK         ? "the worker is out of memory"
                                                 : "the worker has too many tasks";
        mf_warn("task %llu: %s", (unsigned long long)m->id, why);
        s_reply_error(w, m->id, why);
        if (t) mf_task_fini(&t->t);
        free(t);
        return;
    }
    t->w = w;
    mf_wtask_t **pp = &w->tasks;
    while (*pp) pp = &(*pp)->next;
    *pp = t;
    t->pending = 1; /* held while the fetches start: some finish at once */
    size_t n_reads = 0;
    if (w->cache && !(t->reads = s_reads(&t->t, &n_reads))) s_fail(t, "out of memory");
    for (size_t i = 0; i < n_reads; i++) {
        mf_cache_pin(w->cache, &t->reads[i]);
        t->inputs_pinned++;
        t->pending++;
        mf_xfer_get(w->xfer, &t->reads[i], s_on_fetched, t);
    }
    t->pending--;
    s_advance(w, t);
}

static void s_on_result(mf_wloop_t *w, int slot, mf_task_result_t *r)
{
    mf_wtask_t *t = w->on_slot[slot];
    w->on_slot[slot] = NULL;
    if (!t) {
        mf_task_result_fini(r);
        return;
    }
    t->r = *r;
    if (t->orphan || !w->sock) {
        s_task_free(w, t);
    } else if (t->r.error || !w->cache || t->r.n_outputs == 0) {
        s_reply(w, t);
    } else {
        t->state = MF_WT_UPLOAD;
        t->pending = 1;
        const mf_hash_t *key = &t->t.key; /* checked when the task arrived */
        mf_hash_t derived;
        for (size_t i = 0; i < t->r.n_outputs; i++) {
            mf_cache_pin(w->cache, &t->r.outputs[i]);
            t->outputs_pinned++;
            mf_cache_added(w->cache, &t->r.outputs[i]);
            t->pending++;
            /* An output named after the task goes up as the task's. */
            mf_task_output_name(key, i, &derived);
            if (!strcmp(derived.hex, t->r.outputs[i].hex))
                mf_xfer_put_output(w->xfer, &t->r.outputs[i], key, (uint32_t)i, s_on_uploaded, t);
            else
                mf_xfer_put(w->xfer, &t->r.outputs[i], s_on_uploaded, t);
        }
        t->pending--;
        s_advance(w, t);
    }
    s_dispatch(w);
}

static void s_on_live(void *ctx, const mf_hash_t *hash, mf_err_t err)
{
    (void)ctx; /* the task's own put, when its result comes, joins or follows */
    if (err != MF_OK) mf_debug("blob %.12s: live upload: %s", hash->hex, mf_strerror(err));
}

int mf_tasks_live(mf_wloop_t *w)
{
    if (!w->xfer || !w->writes) return 0;
    /* Only when a write began since the last look: a scan is a lookup per
     * output of every running task. */
    const unsigned long opened = mf_writes_opened_count(w->writes);
    const int scan = opened != w->writes_seen;
    w->writes_seen = opened;
    int running = 0;
    for (mf_wtask_t *t = w->tasks; t; t = t->next) {
        if (t->state != MF_WT_RUNNING || t->orphan || !t->expects) continue;
        running = 1;
        for (unsigned i = 0; scan && i < MF_LIVE_OUTPUTS; i++) {
            const mf_hash_t *name = &t->out_names[i];
            int64_t written;
            if (t->live & (1u << i) ||
                mf_writes_state(w->writes, name, &written, NULL) != MF_WRITE_OPEN)
                continue;
            t->live |= 1u << i;
            mf_xfer_put_live(w->xfer, w->writes, name, &t->t.key, i, s_on_live, NULL);
        }
    }
    mf_xfer_poke(w->xfer);
    return running || mf_xfer_live(w->xfer);
}

void mf_tasks_drain_slots(mf_wloop_t *w)
{
    int slot;
    mf_task_result_t r;
    while (mf_slots_result(w->slots, &slot, &r)) s_on_result(w, slot, &r);
}

void mf_tasks_drop(mf_wloop_t *w)
{
    for (mf_wtask_t *t = w->tasks, *next; t; t = next) {
        next = t->next;
        if (t->state == MF_WT_RUNNING)
            t->orphan = 1;
        else
            s_task_free(w, t);
    }
}

void mf_tasks_free_all(mf_wloop_t *w)
{
    while (w->tasks) s_task_free(w, w->tasks);
}
