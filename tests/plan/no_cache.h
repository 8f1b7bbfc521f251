/* An action cache that knows nothing and keeps nothing, for scheduler
 * tests that look at order and placement, not at reuse. */
#ifndef MF_TEST_NO_CACHE_H
#define MF_TEST_NO_CACHE_H

#include "mf_sched.h"

static inline int no_cache_get(void *ctx, const mf_hash_t *key, mf_hash_t *outs, int max)
{
    (void)ctx, (void)key, (void)outs, (void)max;
    return -1;
}

static inline void no_cache_put(void *ctx, const mf_hash_t *key, const mf_hash_t *outs, int n)
{
    (void)ctx, (void)key, (void)outs, (void)n;
}

static inline mf_action_cache_t no_cache(void)
{
    return (mf_action_cache_t){.get = no_cache_get, .put = no_cache_put};
}

#endif
