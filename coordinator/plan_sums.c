/* Partial sums: a bus or the master with many inputs sums them through a
 * tree of "sum" tasks of MF_SUM_FANIN consecutive inputs each. A partial
 * sum runs as soon as its own inputs are done, on any worker, while other
 * strips still run; the channel's own pass (and its inserts, after the sum)
 * then reads MF_SUM_FANIN signals instead of all of them; and a revision
 * that changes one strip re-runs one partial sum per level, the others
 * coming from the action cache. A sum task is a channel with no inserts, a
 * centred balance and 0 dB (gains of exactly 1), so its output is the
 * float sum of its inputs in their order: the tree fixes the order of
 * every addition, and the bits never depend on who ran what. An input
 * from an unpanned strip keeps its gains (mf_plan.h): whichever sum reads
 * it first applies them. */
#include "mf_params.h"
#include "plan_int.h"

#include <stdio.h>
#include <stdlib.h>

/* One sum task over in[0..n), which together cover the channel's inputs
 * first..last (1-based): labelled "sum NAME FIRST-LAST". */
static int s_sum_task(mf_plan_t *p, const char *name, size_t first, size_t last,
                      const mf_port_t *in, size_t n, int rate, double audio_s, mf_port_t *out)
{
    char label[320];
    snprintf(label, sizeof label, "sum %.200s %zu-%zu", name, first, last);
    mf_chan_out_t unity = {0};
    mf_chan_spec_t spec = {.rate = rate, .sum = n, .outputs = &unity, .n_outputs = 1};
    mf_plan_task_t *t = mf_plan_append(p, "sum", label);
    if (!t || mf_plan_in_gains(&spec, in) != 0) return -1;
    t->params = mf_chan_spec_to_json(&spec);
    free(spec.in_gains);
    if (!t->params) return -1;
    if (!(t->in = malloc(n * sizeof *t->in))) return -1;
    for (size_t i = 0; i < n; i++) t->in[i] = in[i];
    t->n_in = n;
    t->n_out = 1;
    t->audio_s = audio_s;
    *out = (mf_port_t){.task = (int)p->n_tasks - 1, .output = 0};
    return 0;
}

int mf_plan_in_gains(mf_chan_spec_t *spec, const mf_port_t *in)
{
    size_t any = 0;
    for (size_t i = 0; i < spec->sum; i++) any += in[i].gain.set != 0;
    if (!any) return 0;
    if (!(spec->in_gains = calloc(spec->sum, sizeof *spec->in_gains))) return -1;
    for (size_t i = 0; i < spec->sum; i++) spec->in_gains[i] = in[i].gain;
    return 0;
}

int mf_plan_sum_tree(mf_plan_t *p, const char *name, int rate, double audio_s,
                     mf_port_list_t *ports)
{
    if (ports->n <= MF_SUM_FANIN) return 0;
    /* first[i]: the first of the channel's inputs that port i covers. */
    size_t *first = malloc(ports->n * sizeof *first), total = ports->n;
    if (!first) return -1;
    for (size_t i = 0; i < ports->n; i++) first[i] = i + 1;
    int rc = 0;
    while (rc == 0 && ports->n > MF_SUM_FANIN) {
        size_t out = 0;
        for (size_t i = 0; rc == 0 && i < ports->n; i += MF_SUM_FANIN) {
            const size_t n = ports->n - i < MF_SUM_FANIN ? ports->n - i : MF_SUM_FANIN;
            const size_t last = i + n < ports->n ? first[i + n] - 1 : total;
            mf_port_t sum = ports->v[i];
            if (n > 1)
                rc = s_sum_task(p, name, first[i], last, ports->v + i, n, rate, audio_s, &sum);
            first[out] = first[i];
            ports->v[out++] = sum; /* out <= i: nothing unread is overwritten */
        }
        ports->n = out;
    }
    free(first);
    return rc;
}
