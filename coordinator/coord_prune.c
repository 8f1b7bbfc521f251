/* The journal's retention (mf_journal_prune_jobs, _prune_cache), run from
 * the loop at most once a minute: the history of the finished jobs the
 * coordinator no longer holds (coord_jobs.c keeps the last FINISHED_KEPT),
 * and, with a store budget, action-cache entries whose outputs the budget
 * deleted (a miss either way, but a row each). */
#include "coord_internal.h"
#include "mf_log.h"

#include <stdint.h>

#define PRUNE_EVERY_S 60.0
#define EVENTS_PER_PASS 10000    /* about 15 ms of the loop (30 ms per 20,000 here) */
#define CACHE_ROWS_PER_PASS 4000 /* a million entries are visited in about four hours */

static int s_gone(void *ctx, const mf_hash_t *outs, int n)
{
    const coord_t *c = ctx;
    for (int i = 0; i < n; i++)
        if (!mf_store_has(c->store, &outs[i])) return 1;
    return 0;
}

void mf_coord_prune_tick(coord_t *c, double now)
{
    if (now < c->next_prune) return;
    c->next_prune = now + PRUNE_EVERY_S;
    if (c->prune_jobs) {
        uint64_t horizon = UINT64_MAX; /* below every job still held */
        for (const job_t *j = c->jobs; j; j = j->next)
            if (j->id < horizon) horizon = j->id;
        const long n = mf_journal_prune_jobs(c->journal, horizon, EVENTS_PER_PASS);
        if (n > 0) mf_debug("journal: %ld task events of finished jobs let go", n);
        c->prune_jobs = n < 0 || n == EVENTS_PER_PASS; /* failed, or more to go */
        if (n == EVENTS_PER_PASS) c->next_prune = now + 1.0;
    }
    if (c->budget) {
        const int n =
            mf_journal_prune_cache(c->journal, s_gone, c, CACHE_ROWS_PER_PASS, c->cache_cursor);
        if (n > 0) mf_debug("journal: %d action-cache entries whose blobs went deleted", n);
    }
}
