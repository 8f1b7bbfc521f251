/* Runs fn(ctx, i) for i in [0, n) on a few threads, each taking the next
 * index, until all are done or one fails: the client's way of using the
 * cores the farm left idle once a job is done (writing OUTDIR, hashing it
 * for the manifest). fn must be safe to run concurrently for distinct i. */
#ifndef MF_PARALLEL_H
#define MF_PARALLEL_H

#include <stddef.h>

#include "mf_error.h"

/* MF_OK, or the first failure's code (indices not yet taken are skipped). */
mf_err_t mf_parallel_for(size_t n, mf_err_t (*fn)(void *ctx, size_t i), void *ctx);

#endif
