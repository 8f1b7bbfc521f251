/* The coordinator's blob store held to a disk budget (--store-budget): every
 * blob in objects/ with its size and when it was last used, so that past the
 * budget the least recently used blobs nobody needs can go (ARCHITECTURE.md,
 * "A store with a budget"). The action cache then misses on a task whose
 * outputs went (coord_jobs.c checks a hit's blobs) and the work is done
 * again if it is asked for again. Which blobs are still needed is the
 * caller's to say (coord_budget.c); this file only counts and deletes.
 * Times are the caller's monotonic seconds; a blob found on disk at start
 * counts as used when its file was last modified. */
#ifndef MF_STORE_BUDGET_H
#define MF_STORE_BUDGET_H

#include <stddef.h>
#include <stdint.h>

#include "mf_store.h"

typedef struct mf_budget mf_budget_t;

/* Scans the store (objects/ab/<hash>). NULL when out of memory or the store
 * cannot be read (logged). store is borrowed. */
mf_budget_t *mf_budget_new(mf_store_t *store, int64_t budget, double now);
void mf_budget_free(mf_budget_t **b);

/* Blob h is in the store and was used now: made, read, fetched, or found
 * in the action cache. A blob not known yet is measured on disk (nothing
 * happens when there is no such file). */
void mf_budget_use(mf_budget_t *b, const mf_hash_t *h, double now);

int64_t mf_budget_bytes(const mf_budget_t *b);
size_t mf_budget_blobs(const mf_budget_t *b);
int64_t mf_budget_limit(const mf_budget_t *b);

/* Whether a blob must stay (it belongs to unfinished work). */
typedef int (*mf_budget_keep_fn)(void *ctx, const mf_hash_t *h);

typedef struct {
    size_t deleted;
    int64_t freed;
    int64_t kept; /* bytes over the low-water mark that keep() or the grace held */
} mf_budget_trim_t;

/* When over the budget: discards (mf_store_discard: into the store's trash,
 * for the caller to empty) the least recently used blobs that keep() (NULL:
 * none is kept)
 * lets go and that were not used in the last grace_s seconds, until the
 * store is under 90 % of the budget (room for the next few blobs before
 * the next pass), or max_files are gone (a bound on the time one call
 * takes: each is a rename). */
mf_budget_trim_t mf_budget_trim(mf_budget_t *b, double now, double grace_s, mf_budget_keep_fn keep,
                                void *ctx, size_t max_files);

#endif
