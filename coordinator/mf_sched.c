#include "mf_sched.h"
#include "blob_refs.h"
#include "sched_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mf_sched__make_ready(mf_sched_t *s, size_t i)
{
    s->nodes[i].state = T_READY;
    s->ready[(s->ready_head + s->ready_count++) % (s->plan->n_tasks + 1)] = (int)i;
}

void mf_sched__make_ready_first(mf_sched_t *s, size_t i)
{
    const size_t cap = s->plan->n_tasks + 1;
    s->nodes[i].state = T_READY;
    s->ready_head = (s->ready_head + cap - 1) % cap;
    s->ready[s->ready_head] = (int)i;
    s->ready_count++;
}

static int s_store_get(void *ctx, const mf_hash_t *key, mf_hash_t *outs, int max)
{
    return mf_store_action_get(ctx, key, outs, max);
}

static void s_store_put(void *ctx, const mf_hash_t *key, const mf_hash_t *outs, int n)
{
    mf_store_action_put(ctx, key, outs, n);
}

mf_action_cache_t mf_sched_store_cache(mf_store_t *store)
{
    return (mf_action_cache_t){.get = s_store_get, .put = s_store_put, .ctx = store};
}

/* A leaf task's group: past the tasks that are each one another's only
 * link (a decode and the strip that alone reads it), the first consumer
 * (the bus, or partial sum); -1 when nothing consumes it. Before any task
 * is done (deps_left is the count of task inputs). */
static int s_group(const mf_sched_t *s, size_t i)
{
    const tnode_t *n = &s->nodes[i];
    while (n->n_dependents == 1 && s->nodes[n->dependents[0]].deps_left == 1)
        n = &s->nodes[n->dependents[0]];
    int g = -1;
    for (size_t k = 0; k < n->n_dependents; k++)
        if (g < 0 || n->dependents[k] < g) g = n->dependents[k];
    return g;
}

/* A task's dependents, costliest first (plan order among equals): they
 * become ready in this order when it is done, so of the tasks one output
 * feeds (a master's MP3, Opus, FLAC and WAV encodings, its listening
 * copies), the longest starts first and the job does not end waiting for
 * it on one core while the others idle. Insertion sort: a few each. */
static void s_costliest_first(const mf_plan_t *plan, tnode_t *n)
{
    for (size_t k = 1; k < n->n_dependents; k++) {
        const int d = n->dependents[k];
        size_t j = k;
        for (; j > 0 && plan->tasks[n->dependents[j - 1]].cost < plan->tasks[d].cost; j--)
            n->dependents[j] = n->dependents[j - 1];
        n->dependents[j] = d;
    }
}

mf_sched_t *mf_sched_new(const mf_plan_t *plan, const mf_action_cache_t *cache)
{
    mf_sched_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->plan = plan;
    s->cache = *cache;
    s->nodes = calloc(plan->n_tasks + 1, sizeof *s->nodes);
    s->ready = calloc(plan->n_tasks + 1, sizeof *s->ready);
    if (!s->nodes || !s->ready) goto fail;
    s->prog.total = plan->n_tasks;
    for (size_t i = 0; i < plan->n_tasks; i++) {
        const mf_plan_task_t *t = &plan->tasks[i];
        s->prog.audio_s_total += t->audio_s;
        s->nodes[i].outputs = calloc(t->n_out + 1, sizeof(mf_hash_t));
        if (!s->nodes[i].outputs) goto fail;
        for (size_t k = 0; k < t->n_in; k++) {
            if (t->in[k].task < 0) continue;
            tnode_t *src = &s->nodes[t->in[k].task];
            int *d = realloc(src->dependents, (src->n_dependents + 1) * sizeof *d);
            if (!d) goto fail;
            src->dependents = d;
            d[src->n_dependents++] = (int)i;
            if (t->in[k].output < 32) src->read |= 1u << t->in[k].output;
            s->nodes[i].deps_left++;
        }
    }
    for (size_t i = 0; i < plan->n_tasks; i++) s_costliest_first(plan, &s->nodes[i]);
    for (size_t i = 0; i < plan->n_tasks; i++) {
        s->nodes[i].group = s->nodes[i].deps_left == 0 ? s_group(s, i) : -1;
        if (s->nodes[i].deps_left == 0) mf_sched__make_ready(s, i);
    }
    return s;
fail:
    mf_sched_free(&s);
    return NULL;
}

void mf_sched_free(mf_sched_t **sp)
{
    if (!sp || !*sp) return;
    mf_sched_t *s = *sp;
    for (size_t i = 0; s->nodes && i < s->plan->n_tasks; i++) {
        free(s->nodes[i].dependents);
        free(s->nodes[i].outputs);
        free(s->nodes[i].readers);
    }
    free(s->nodes);
    free(s->ready);
    free(s->error);
    free(s->numerics);
    free(s->awaited);
    free(s);
    *sp = NULL;
}

int mf_sched_set_numerics(mf_sched_t *s, const char *numerics)
{
    char *copy = strdup(numerics);
    if (!copy) return -1;
    free(s->numerics);
    s->numerics = copy;
    return 0;
}

const char *mf_sched_numerics(const mf_sched_t *s)
{
    return s->numerics;
}

int mf_sched__fill(mf_sched_t *s, size_t i, mf_task_t *out)
{
    const mf_plan_task_t *t = &s->plan->tasks[i];
    memset(out, 0, sizeof *out);
    out->id = i;
    out->kind = strdup(t->kind);
    out->params = strdup(t->params);
    out->numerics = s->numerics ? strdup(s->numerics) : NULL;
    out->unread = (t->n_out >= 32 ? UINT32_MAX : (1u << t->n_out) - 1) & ~s->nodes[i].read;
    out->inputs = calloc(t->n_in + 1, sizeof *out->inputs);
    out->n_inputs = t->n_in;
    if (!out->kind || !out->params || !out->inputs || (s->numerics && !out->numerics)) {
        mf_task_fini(out);
        return -1;
    }
    for (size_t k = 0; k < t->n_in; k++)
        out->inputs[k] =
            t->in[k].task < 0 ? t->in[k].blob : s->nodes[t->in[k].task].outputs[t->in[k].output];
    mf_task_key(out, &out->key);
    s->nodes[i].key = out->key;
    return 0;
}

static void s_keep(mf_sched_t *s, const mf_port_t *port)
{
    if (port->task >= 0) s->nodes[port->task].readers[port->output] = -1;
}

int mf_sched_set_drop(mf_sched_t *s, const mf_sched_drop_t *d)
{
    const mf_plan_t *p = s->plan;
    for (size_t i = 0; i < p->n_tasks; i++)
        if (!(s->nodes[i].readers = calloc(p->tasks[i].n_out + 1, sizeof(int)))) return -1;
    for (size_t i = 0; i < p->n_tasks; i++)
        for (size_t k = 0; k < p->tasks[i].n_in; k++)
            if (p->tasks[i].in[k].task >= 0)
                s->nodes[p->tasks[i].in[k].task].readers[p->tasks[i].in[k].output]++;
    /* OUTDIR's files stay, and the mix and the stems (a fetch reads the
     * mix's length; an album's mix is no file of its own). */
    s_keep(s, &p->mix);
    for (size_t i = 0; i < p->n_stems; i++) s_keep(s, &p->stems[i].port);
    for (size_t o = 0; o < p->n_outputs; o++) {
        s_keep(s, &p->outputs[o].port);
        if (p->outputs[o].has_info) s_keep(s, &p->outputs[o].info);
    }
    s->drop = *d;
    return 0;
}

/* Task i is done with its inputs (it ran, or the cache had it): its
 * outputs are counted, then each input nothing else will read goes. In
 * that order: an output may be an input's very bytes (a content-named
 * blob: mastering that changed nothing), which must stay; so must a blob
 * that is also, by its bytes, a file of OUTDIR (two identical JSON
 * reports). */
static void s_count_reads(mf_sched_t *s, size_t i, const mf_hash_t *outs)
{
    const mf_plan_task_t *t = &s->plan->tasks[i];
    for (size_t o = 0; o < t->n_out && !s->nodes[i].unstored; o++) /* OUTDIR's: pinned */
        if (s->nodes[i].readers[o] != 0)
            mf_blob_refs_add(s->drop.refs, &outs[o],
                             s->nodes[i].readers[o] > 0 ? s->nodes[i].readers[o] : MF_BLOB_PINNED);
    for (size_t k = 0; k < t->n_in; k++) {
        const mf_port_t *in = &t->in[k];
        if (in->task < 0 || s->nodes[in->task].readers[in->output] < 0 ||
            s->nodes[in->task].unstored)
            continue;
        const mf_hash_t *h = &s->nodes[in->task].outputs[in->output];
        if (mf_blob_refs_release(s->drop.refs, h)) s->drop.drop(s->drop.ctx, h);
    }
}

void mf_sched__done(mf_sched_t *s, size_t i, const mf_hash_t *outs)
{
    tnode_t *n = &s->nodes[i];
    if (s->drop.refs) s_count_reads(s, i, outs);
    memcpy(n->outputs, outs, s->plan->tasks[i].n_out * sizeof *outs);
    n->state = T_DONE;
    s->prog.done++;
    s->prog.audio_s_done += s->plan->tasks[i].audio_s;
    /* Ready dependents go first (depth-first: the producer's outputs are
     * hot, often on the same worker), costliest first, then in plan order
     * (s_costliest_first): each goes to the front, so the last is put
     * there first. */
    for (size_t d = n->n_dependents; d-- > 0;) {
        tnode_t *dep = &s->nodes[n->dependents[d]];
        if (--dep->deps_left == 0 && dep->blobs_left == 0 && dep->state == T_WAITING)
            mf_sched__make_ready_first(s, (size_t)n->dependents[d]);
    }
    mf_sched__fuse_wake(s, i);
}

/* Brings to the front the first of the next few ready tasks whose group's
 * owner fits (a task in no group always does); the front stays when none
 * does, so a free slot never waits while something is ready. */
#define LOOKAHEAD 16
static void s_front_fitting(mf_sched_t *s, mf_sched_fits_fn fits, void *ctx)
{
    const size_t cap = s->plan->n_tasks + 1;
    for (size_t k = 0; k < s->ready_count && k < LOOKAHEAD; k++) {
        const int i = s->ready[(s->ready_head + k) % cap], g = s->nodes[i].group;
        if (g >= 0 && !fits(ctx, s->nodes[g].owner)) continue;
        for (size_t m = k; m > 0; m--) /* the ones it passes keep their order */
            s->ready[(s->ready_head + m) % cap] = s->ready[(s->ready_head + m - 1) % cap];
        s->ready[s->ready_head] = i;
        return;
    }
}

int mf_sched_next(mf_sched_t *s, mf_task_t *out)
{
    return mf_sched_next_fitting(s, NULL, NULL, out);
}

int mf_sched_next_fitting(mf_sched_t *s, mf_sched_fits_fn fits, void *ctx, mf_task_t *out)
{
    while (!s->error && s->ready_count > 0) {
        if (fits) s_front_fitting(s, fits, ctx);
        size_t i = (size_t)s->ready[s->ready_head];
        s->ready_head = (s->ready_head + 1) % (s->plan->n_tasks + 1);
        s->ready_count--;
        const int fused = s->nodes[i].fused_into ? mf_sched__fuse_next(s, i, out) : 0;
        if (fused == 2) continue; /* parked until its channel's other inputs are done */
        if (fused > 0) return 1;
        if (fused < 0 || mf_sched__fill(s, i, out) != 0) {
            s->error = strdup("out of memory");
            return 0;
        }
        /* The action cache: a key already computed is never recomputed. */
        mf_hash_t cached[MF_TASK_MAX_OUTPUTS];
        size_t n_out = s->plan->tasks[i].n_out;
        if (s->cache.get(s->cache.ctx, &out->key, cached, MF_TASK_MAX_OUTPUTS) == (int)n_out) {
            mf_task_fini(out);
            s->prog.cached++;
            mf_sched__done(s, i, cached);
            continue;
        }
        s->nodes[i].state = T_RUNNING;
        s->nodes[i].progress = 0.0f;
        s->prog.running++;
        return 1;
    }
    return 0;
}

/* Whether task i runs inside a channel now (it is the channel's to report). */
static int s_inside(const mf_sched_t *s, size_t i)
{
    const int g = s->nodes[i].fused_into;
    return g && s->nodes[g - 1].inline_run;
}

/* Task i has failed for good: so has its job. */
static void s_failed(mf_sched_t *s, size_t i, const mf_task_result_t *r)
{
    const mf_plan_task_t *t = &s->plan->tasks[i];
    s->nodes[i].state = T_FAILED;
    s->prog.failed++;
    if (!s->error) {
        const char *why = r->error ? r->error : "wrong number of outputs";
        size_t n = strlen(t->label) + strlen(why) + 3;
        s->error = malloc(n);
        if (s->error) snprintf(s->error, n, "%s: %s", t->label, why);
    }
}

void mf_sched_complete(mf_sched_t *s, const mf_task_result_t *r)
{
    if (r->id >= s->plan->n_tasks || s->nodes[r->id].state != T_RUNNING || s_inside(s, r->id))
        return;
    size_t i = (size_t)r->id;
    const int failed = r->error || r->n_outputs != s->plan->tasks[i].n_out;
    /* An input's fault fails the same way anywhere: no second run. */
    const int again = failed && !r->input_fault && s->nodes[i].attempts + 1 < MAX_ATTEMPTS;
    if (failed) s->nodes[i].attempts++;
    if (s->nodes[i].inline_run && failed) {
        mf_sched__fuse_undo(s, i); /* its strips are ready again; it waits for them */
        if (!again) s_failed(s, i, r);
        return;
    }
    if (s->nodes[i].inline_run) mf_sched__fuse_done(s, i);
    s->prog.running--;
    if (again) {
        mf_sched__make_ready(s, i); /* try again, perhaps elsewhere */
        return;
    }
    if (failed) {
        s_failed(s, i, r);
        return;
    }
    s->cache.put(s->cache.ctx, &s->nodes[i].key, r->outputs, (int)r->n_outputs);
    mf_sched__done(s, i, r->outputs);
}

uint32_t mf_sched_owner(const mf_sched_t *s, uint64_t task)
{
    const int g = task < s->plan->n_tasks ? s->nodes[task].group : -1;
    return g >= 0 ? s->nodes[g].owner : 0;
}

void mf_sched_set_owner(mf_sched_t *s, uint64_t task, uint32_t owner)
{
    const int g = task < s->plan->n_tasks ? s->nodes[task].group : -1;
    if (g >= 0) s->nodes[g].owner = owner;
}

int mf_sched_wait_begin(mf_sched_t *s, uint64_t task, double now, double *from)
{
    *from = now;
    if (task >= s->plan->n_tasks) return 0;
    const int first = s->nodes[task].wait_from <= 0;
    if (first) s->nodes[task].wait_from = now;
    *from = s->nodes[task].wait_from;
    return first;
}

int mf_sched_finished(const mf_sched_t *s)
{
    return s->error ? s->prog.running == 0 : s->prog.done == s->prog.total;
}

const char *mf_sched_error(const mf_sched_t *s)
{
    return s->error;
}

mf_sched_progress_t mf_sched_progress(const mf_sched_t *s)
{
    mf_sched_progress_t p = s->prog;
    for (size_t i = 0; s->partial && i < s->plan->n_tasks; i++)
        if (s->nodes[i].state == T_RUNNING)
            p.audio_s_done += s->nodes[i].progress * s->plan->tasks[i].audio_s;
    return p;
}

void mf_sched_set_progress(mf_sched_t *s, uint64_t task, float done)
{
    if (task >= s->plan->n_tasks || s->nodes[task].state != T_RUNNING || !(done >= 0.0f) ||
        !(done <= 1.0f))
        return;
    s->nodes[task].progress = done;
    s->partial = 1;
}

mf_task_state_t mf_sched_task_state(const mf_sched_t *s, size_t task)
{
    /* tstate_t lists the same states in the same order. */
    return task < s->plan->n_tasks ? (mf_task_state_t)s->nodes[task].state : MF_TS_WAITING;
}

const mf_hash_t *mf_sched_port(const mf_sched_t *s, mf_port_t port)
{
    if (port.task < 0) return NULL; /* fixed blobs are not outputs */
    if ((size_t)port.task >= s->plan->n_tasks || s->nodes[port.task].state != T_DONE) return NULL;
    return &s->nodes[port.task].outputs[port.output];
}

void mf_sched_requeue(mf_sched_t *s, uint64_t task)
{
    if (task >= s->plan->n_tasks || s->nodes[task].state != T_RUNNING || s_inside(s, task)) return;
    if (s->nodes[task].inline_run) {
        mf_sched__fuse_undo(s, (size_t)task);
        return;
    }
    s->prog.running--;
    mf_sched__make_ready(s, (size_t)task);
}

int mf_sched_lost(mf_sched_t *s, uint64_t task)
{
    if (task >= s->plan->n_tasks || s->nodes[task].state != T_RUNNING || s_inside(s, task))
        return 0;
    const size_t i = (size_t)task;
    if (++s->nodes[i].losses < MAX_LOSSES) {
        mf_sched_requeue(s, task);
        return 0;
    }
    char why[160];
    snprintf(why, sizeof why,
             "the worker running it was lost %d times (crashed, killed or cut off): it may be "
             "what brings them down; see their logs",
             s->nodes[i].losses);
    const mf_task_result_t r = {.id = task, .error = why};
    if (s->nodes[i].inline_run)
        mf_sched__fuse_undo(s, i);
    else
        s->prog.running--;
    s_failed(s, i, &r);
    return 1;
}

void mf_sched_fail(mf_sched_t *s, const char *why)
{
    if (!s->error) s->error = strdup(why);
    s->ready_count = 0;
}

void mf_sched_cancel(mf_sched_t *s)
{
    mf_sched_fail(s, "cancelled");
}

static int s_is_awaited(const mf_sched_t *s, const mf_hash_t *blob)
{
    for (size_t i = 0; i < s->n_awaited; i++)
        if (!strcmp(s->awaited[i].hex, blob->hex)) return 1;
    return 0;
}

int mf_sched_hold_missing(mf_sched_t *s, int (*has)(void *ctx, const mf_hash_t *blob), void *ctx)
{
    const mf_plan_t *p = s->plan;
    for (size_t i = 0; i < p->n_tasks; i++)
        for (size_t k = 0; k < p->tasks[i].n_in; k++) {
            const mf_port_t *in = &p->tasks[i].in[k];
            if (in->task >= 0) continue;
            if (!s_is_awaited(s, &in->blob)) {
                if (has(ctx, &in->blob)) continue;
                mf_hash_t *a = realloc(s->awaited, (s->n_awaited + 1) * sizeof *a);
                if (!a) {
                    for (size_t t = 0; t < p->n_tasks; t++) s->nodes[t].blobs_left = 0;
                    free(s->awaited), s->awaited = NULL, s->n_awaited = 0;
                    return -1;
                }
                s->awaited = a;
                s->awaited[s->n_awaited++] = in->blob;
            }
            s->nodes[i].blobs_left++;
        }
    if (!s->n_awaited) return 0;
    /* The ready queue keeps its order, without the tasks that now wait. */
    const size_t cap = p->n_tasks + 1;
    size_t kept = 0;
    for (size_t k = 0; k < s->ready_count; k++) {
        const int i = s->ready[(s->ready_head + k) % cap];
        if (s->nodes[i].blobs_left)
            s->nodes[i].state = T_WAITING;
        else
            s->ready[(s->ready_head + kept++) % cap] = i;
    }
    s->ready_count = kept;
    return (int)s->n_awaited;
}

size_t mf_sched_arrived(mf_sched_t *s, const mf_hash_t *blob)
{
    size_t at = s->n_awaited, released = 0;
    for (size_t i = 0; i < s->n_awaited; i++)
        if (!strcmp(s->awaited[i].hex, blob->hex)) at = i;
    if (at == s->n_awaited) return 0;
    s->awaited[at] = s->awaited[--s->n_awaited];
    const mf_plan_t *p = s->plan;
    for (size_t i = 0; i < p->n_tasks; i++) { /* in plan order: the order they would have had */
        tnode_t *n = &s->nodes[i];
        const size_t before = n->blobs_left;
        for (size_t k = 0; n->blobs_left && k < p->tasks[i].n_in; k++)
            if (p->tasks[i].in[k].task < 0 && !strcmp(p->tasks[i].in[k].blob.hex, blob->hex))
                n->blobs_left--;
        if (before && !n->blobs_left && !n->deps_left && n->state == T_WAITING && !s->error) {
            mf_sched__make_ready(s, i);
            released++;
        }
    }
    return released;
}

size_t mf_sched_awaited(const mf_sched_t *s, const mf_hash_t **blobs)
{
    if (blobs) *blobs = s->n_awaited ? s->awaited : NULL;
    return s->n_awaited;
}

int mf_sched_has_ready(const mf_sched_t *s)
{
    return !s->error && s->ready_count > 0;
}

const char *mf_sched_label(const mf_sched_t *s, uint64_t task)
{
    return task < s->plan->n_tasks ? s->plan->tasks[task].label : "?";
}

const mf_hash_t *mf_sched_key(const mf_sched_t *s, uint64_t task)
{
    return task < s->plan->n_tasks && s->nodes[task].key.hex[0] ? &s->nodes[task].key : NULL;
}
