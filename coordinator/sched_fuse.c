/* Strips run inside the channel that reads them (mf_sched_set_fuse), for a
 * farm that keeps no blobs: the channel's task goes out with its strips'
 * tasks inlined (Task.inlined), and the worker hands each strip's signal
 * to the channel in memory. No strip blob is written, read back, sent or
 * deleted: in an embedded render of 16 tracks x 240 s that is 737 MB
 * written and read again, and a fifth of the render's CPU. The plan, each
 * task's key and each output's name are those of the strips run one by
 * one, so the bits and render.json are too (tested: a fused render equals
 * one with --state, which keeps every strip).
 *
 * The cost is parallelism: a channel's strips run one after another on one
 * worker. So channels are fused only while the schedule, longest first,
 * keeps the farm's slots as busy as the strips alone would.
 *
 * A channel may also read strips it cannot run itself: one with a send is
 * read by the bus it sends to as well. Those run as tasks of their own,
 * their outputs stored; the channel goes out with its other strips inside
 * once they are done (its strips taken before then are parked). A channel
 * that reads a task that waits for others (a bus, a sum) is not fused: its
 * strips would wait as long. A send on every eighth track used to keep
 * every partial sum of a 128-track session from fusing: 8.9 GB of strips
 * written and read back for 3 minutes at 96 kHz. */
#include "sched_int.h"

#include <stdlib.h>
#include <string.h>

/* Whether task m can run inside its only reader: a strip reading nothing
 * but fixed blobs (its source, an impulse response), with one output that
 * one input of one task reads, and that no file of OUTDIR is. */
static int s_member_ok(const mf_sched_t *s, size_t m)
{
    const mf_plan_task_t *t = &s->plan->tasks[m];
    const tnode_t *n = &s->nodes[m];
    return !strcmp(t->kind, "strip") && t->n_out == 1 && n->deps_left == 0 && n->readers &&
           n->readers[0] == 1; /* one input reads it: it has one dependent */
}

/* Whether channel g (a bus, the master or a partial sum) reads such
 * strips, and how long they run in all (their audio seconds). Its other
 * inputs must wait for nothing either (a strip with a send): its strips
 * wait for them, and a bus or a sum as an input would hold them back
 * until late in the job, where they could have run beside its strips. */
static int s_channel_ok(const mf_sched_t *s, size_t g, double *weight)
{
    const mf_plan_task_t *t = &s->plan->tasks[g];
    if (strcmp(t->kind, "sum") && strcmp(t->kind, "bus") && strcmp(t->kind, "master")) return 0;
    size_t members = 0;
    *weight = 0.0;
    for (size_t k = 0; k < t->n_in; k++) {
        const int m = t->in[k].task;
        if (m < 0) continue;
        if (!s_member_ok(s, (size_t)m)) {
            if (s->nodes[m].deps_left) return 0;
            continue;
        }
        *weight += s->plan->tasks[m].audio_s;
        members++;
    }
    return members > 0;
}

/* Whether input m of channel g is a strip g runs itself. */
static int s_member(const mf_sched_t *s, size_t g, int m)
{
    return m >= 0 && s->nodes[m].fused_into == (int)g + 1;
}

/* Whether every input of channel g that it does not run itself is done. */
static int s_others_done(const mf_sched_t *s, size_t g)
{
    const mf_plan_task_t *t = &s->plan->tasks[g];
    for (size_t k = 0; k < t->n_in; k++) {
        const int m = t->in[k].task;
        if (m >= 0 && !s_member(s, g, m) && s->nodes[m].state != T_DONE) return 0;
    }
    return 1;
}

static int s_desc(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* How long the busiest of slots works when the n items, longest first,
 * each go to the least busy one (LPT). Sorts w. */
static double s_makespan(double *w, size_t n, double *load, int slots)
{
    qsort(w, n, sizeof *w, s_desc);
    memset(load, 0, (size_t)slots * sizeof *load);
    double most = 0.0;
    for (size_t i = 0; i < n; i++) {
        int least = 0;
        for (int k = 1; k < slots; k++)
            if (load[k] < load[least]) least = k;
        load[least] += w[i];
        if (load[least] > most) most = load[least];
    }
    return most;
}

typedef struct {
    size_t channel;
    double weight;
    int fused;
} cand_t;

static int s_heavier(const void *a, const void *b)
{
    const cand_t *x = a, *y = b;
    return (x->weight < y->weight) - (x->weight > y->weight);
}

/* The schedule's length with the candidates marked fused as one item each
 * (the strips they run) and every other input as an item of its own. */
static double s_plan_makespan(const mf_sched_t *s, const cand_t *c, size_t nc, double *w,
                              double *load, int slots)
{
    size_t n = 0;
    for (size_t i = 0; i < nc; i++) {
        if (c[i].fused) w[n++] = c[i].weight;
        const mf_plan_task_t *t = &s->plan->tasks[c[i].channel];
        for (size_t k = 0; k < t->n_in; k++) {
            const int m = t->in[k].task;
            if (m >= 0 && !(c[i].fused && s_member_ok(s, (size_t)m)))
                w[n++] = s->plan->tasks[m].audio_s;
        }
    }
    return s_makespan(w, n, load, slots);
}

int mf_sched_set_fuse(mf_sched_t *s, int slots)
{
    if (!s->drop.refs || slots < 1) return 0; /* a kept strip may be read again */
    const size_t n = s->plan->n_tasks;
    cand_t *c = calloc(n + 1, sizeof *c);
    double *w = calloc(n + 1, sizeof *w), *load = calloc((size_t)slots, sizeof *load);
    size_t nc = 0;
    int fused = 0;
    for (size_t g = 0; c && w && load && g < n; g++)
        if (s_channel_ok(s, g, &c[nc].weight)) c[nc++].channel = g;
    if (nc) {
        qsort(c, nc, sizeof *c, s_heavier);
        const double alone = s_plan_makespan(s, c, nc, w, load, slots);
        for (size_t i = 0; i < nc; i++) {
            c[i].fused = 1;
            if (s_plan_makespan(s, c, nc, w, load, slots) > alone * (1.0 + 1e-9)) c[i].fused = 0;
        }
    }
    for (size_t i = 0; i < nc; i++) {
        if (!c[i].fused) continue;
        const mf_plan_task_t *t = &s->plan->tasks[c[i].channel];
        for (size_t k = 0; k < t->n_in; k++) {
            const int m = t->in[k].task;
            if (m < 0 || !s_member_ok(s, (size_t)m)) continue;
            s->nodes[m].fused_into = (int)c[i].channel + 1;
            s->nodes[c[i].channel].fused_members++;
        }
        fused++;
    }
    free(c), free(w), free(load);
    s->fused = fused;
    return fused;
}

/* Channel g's strips go out one by one after all (a parked one at once). */
static void s_unfuse(mf_sched_t *s, size_t g)
{
    const mf_plan_task_t *t = &s->plan->tasks[g];
    for (size_t k = 0; k < t->n_in; k++) {
        const int m = t->in[k].task;
        if (!s_member(s, g, m)) continue;
        s->nodes[m].fused_into = 0;
        if (s->nodes[m].parked) {
            s->nodes[m].parked = 0;
            mf_sched__make_ready(s, (size_t)m);
        }
    }
    s->nodes[g].fused_members = 0;
}

/* Takes task m out of the ready queue (it is in it). */
static void s_unqueue(mf_sched_t *s, size_t m)
{
    const size_t cap = s->plan->n_tasks + 1;
    size_t kept = 0;
    for (size_t k = 0; k < s->ready_count; k++) {
        const int i = s->ready[(s->ready_head + k) % cap];
        if ((size_t)i != m) s->ready[(s->ready_head + kept++) % cap] = i;
    }
    s->ready_count = kept;
}

/* Channel g's strips as tasks, each with its key, and its output's name
 * (the one it has whoever runs it) recorded as its node's: 1; 0 when they
 * cannot run inside it now (one is not ready, the cache has one, two would
 * give the same name); -1 when out of memory. */
static int s_members(mf_sched_t *s, size_t g, size_t popped, mf_task_t *inl, size_t *n)
{
    const mf_plan_task_t *t = &s->plan->tasks[g];
    mf_hash_t cached[MF_TASK_MAX_OUTPUTS];
    for (size_t k = 0; k < t->n_in; k++) {
        const int m = t->in[k].task;
        if (!s_member(s, g, m)) continue; /* done: its output is stored */
        if (((size_t)m != popped && s->nodes[m].state != T_READY) || s->nodes[m].blobs_left)
            return 0;
        mf_task_t *x = &inl[*n];
        if (mf_sched__fill(s, (size_t)m, x) != 0) return -1;
        (*n)++;
        if (s->cache.get(s->cache.ctx, &x->key, cached, MF_TASK_MAX_OUTPUTS) >= 0) return 0;
        mf_hash_t *name = &s->nodes[m].outputs[0];
        mf_task_output_name(&x->key, 0, name);
        for (size_t p = 0; p < k; p++) /* two strips of one name would be one blob */
            if (t->in[p].task >= 0 && !strcmp(s->nodes[t->in[p].task].outputs[0].hex, name->hex))
                return 0;
    }
    return 1;
}

int mf_sched__fuse_next(mf_sched_t *s, size_t i, mf_task_t *out)
{
    const size_t g = (size_t)s->nodes[i].fused_into - 1;
    const mf_plan_task_t *t = &s->plan->tasks[g];
    if (!s_others_done(s, g)) {
        s->nodes[i].state = T_WAITING;
        s->nodes[i].parked = 1;
        return 2;
    }
    mf_task_t *inl = calloc(t->n_in + 1, sizeof *inl);
    size_t n = 0;
    int ok = inl ? s_members(s, g, i, inl, &n) : -1;
    if (ok == 1 && mf_sched__fill(s, g, out) != 0) ok = -1;
    if (ok != 1) {
        for (size_t j = 0; j < n; j++) mf_task_fini(&inl[j]);
        free(inl);
        if (ok == 0) s_unfuse(s, g);
        return ok;
    }
    out->inlined = inl, out->n_inlined = n; /* not in its key */
    for (size_t k = 0; k < t->n_in; k++) {
        const int m = t->in[k].task;
        if (!s_member(s, g, m)) continue;
        if ((size_t)m != i) s_unqueue(s, (size_t)m);
        s->nodes[m].state = T_RUNNING;
        s->nodes[m].progress = 0.0f;
        s->prog.running++;
    }
    s->nodes[g].state = T_RUNNING;
    s->nodes[g].progress = 0.0f;
    s->nodes[g].inline_run = 1;
    s->prog.running++;
    return 1;
}

void mf_sched__fuse_done(mf_sched_t *s, size_t g)
{
    const mf_plan_task_t *t = &s->plan->tasks[g];
    s->nodes[g].inline_run = 0;
    for (size_t k = 0; k < t->n_in; k++) {
        const int m = t->in[k].task;
        if (!s_member(s, g, m)) continue;
        const mf_hash_t name = s->nodes[m].outputs[0];
        s->nodes[m].unstored = 1;
        s->prog.running--;
        mf_sched__done(s, (size_t)m, &name);
    }
}

void mf_sched__fuse_undo(mf_sched_t *s, size_t g)
{
    const mf_plan_task_t *t = &s->plan->tasks[g];
    s->nodes[g].inline_run = 0;
    s->nodes[g].state = T_WAITING;
    s->prog.running--;
    for (size_t k = 0; k < t->n_in; k++) {
        const int m = t->in[k].task;
        if (!s_member(s, g, m)) continue;
        s->prog.running--;
        mf_sched__make_ready(s, (size_t)m);
    }
}

void mf_sched__fuse_wake(mf_sched_t *s, size_t i)
{
    if (!s->fused) return; /* a farm keeping its blobs: every task done pays nothing */
    const tnode_t *n = &s->nodes[i];
    for (size_t d = 0; d < n->n_dependents; d++) {
        const size_t g = (size_t)n->dependents[d];
        if (!s->nodes[g].fused_members || !s_others_done(s, g)) continue;
        const mf_plan_task_t *t = &s->plan->tasks[g];
        for (size_t k = 0; k < t->n_in; k++) {
            const int m = t->in[k].task;
            if (!s_member(s, g, m) || !s->nodes[m].parked) continue;
            s->nodes[m].parked = 0;
            mf_sched__make_ready_first(s, (size_t)m);
        }
    }
}
