/* Locality: a task goes to the free worker that already holds most of its
 * inputs, so a bus summing eight strips reads them from its own cache
 * instead of fetching them through the coordinator. The coordinator does
 * not know worker caches exactly; it remembers what it sent each worker and
 * what each worker produced, in a direct-mapped table of hash prefixes per
 * worker (a collision forgets a blob: the cost of a wrong guess is only the
 * fetch every task paid before). */
#include "coord_internal.h"

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

/* The task's input prefixes are parsed once, not once per worker. */
#define STACK_INPUTS 64

worker_t *mf_locality_pick(coord_t *c, const mf_task_t *t, double now)
{
    uint64_t stack[STACK_INPUTS];
    uint64_t *prefix = t->n_inputs <= STACK_INPUTS ? stack : malloc(t->n_inputs * sizeof *prefix);
    const size_t n = prefix ? t->n_inputs : 0; /* out of memory: any free worker */
    for (size_t i = 0; i < n; i++) prefix[i] = mf_hash_prefix64(&t->inputs[i]);
    worker_t *best = NULL;
    size_t best_score = 0;
    for (size_t k = 0; k < c->n_workers; k++) {
        worker_t *w = &c->workers[(c->next_worker + k) % c->n_workers];
        if (w->avoid_until > now || w->n_running >= w->slots) continue;
        const size_t score = s_score(w, prefix, n);
        if (!best || score > best_score) best = w, best_score = score;
        if (best_score == n) break; /* cannot do better */
    }
    if (prefix != stack) free(prefix);
    return best;
}
