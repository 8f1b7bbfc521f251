#include "coord_render.h"
#include "mf_msg.h"

#include <stdlib.h>
#include <string.h>

/* Leaves room for the outputs and the envelope. */
#define BUDGET (MF_MSG_MAX / 2)

void mf_coord_fetch_render(coord_t *c, const job_t *j, Mixfarm__FetchReply *r,
                           mf_fetch_render_t *keep)
{
    (void)c;
    memset(keep, 0, sizeof *keep);
    const mf_plan_t *p = j->plan;
    size_t used = strlen(j->document), n_hashes = 0;
    if (used < BUDGET / 2)
        r->document = j->document;
    else
        used = 0;
    for (size_t i = 0; i < p->n_tasks; i++) n_hashes += 1 + p->tasks[i].n_out;
    keep->refs = calloc(p->n_tasks + 1, sizeof *keep->refs);
    keep->ptrs = calloc(p->n_tasks + 1, sizeof *keep->ptrs);
    keep->hashes = calloc(n_hashes + 1, sizeof *keep->hashes);
    keep->outs = calloc(n_hashes + 1, sizeof *keep->outs);
    if (!keep->refs || !keep->ptrs || !keep->hashes || !keep->outs) return;
    size_t h = 0, o = 0, i = 0;
    for (; i < p->n_tasks; i++) {
        const mf_plan_task_t *pt = &p->tasks[i];
        used += strlen(pt->label) + strlen(pt->kind) + (1 + pt->n_out) * (MF_HASH_HEX + 4) + 16;
        if (used > BUDGET) break;
        Mixfarm__TaskRef *t = &keep->refs[i];
        mixfarm__task_ref__init(t);
        t->label = pt->label;
        t->kind = pt->kind;
        const mf_hash_t *key = mf_sched_key(j->sched, i); /* as the scheduler computed it */
        if (key) {
            keep->hashes[h] = *key;
            t->key = keep->hashes[h++].hex;
        }
        t->outputs = &keep->outs[o];
        for (size_t k = 0; k < pt->n_out; k++) {
            const mf_hash_t *x =
                mf_sched_port(j->sched, (mf_port_t){.task = (int)i, .output = (int)k});
            if (!x) continue;
            keep->hashes[h] = *x;
            keep->outs[o++] = keep->hashes[h++].hex;
            t->n_outputs++;
        }
        keep->ptrs[i] = t;
    }
    r->tasks = keep->ptrs;
    r->n_tasks = i;
    r->tasks_complete = i == p->n_tasks;
}

void mf_coord_fetch_render_free(mf_fetch_render_t *keep)
{
    free(keep->refs), free(keep->ptrs), free(keep->hashes), free(keep->outs);
    memset(keep, 0, sizeof *keep);
}
