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
/* The same with fn on other threads only, while the calling thread calls
 * done(ctx, i) for each i whose fn succeeded, as each does: for what must
 * be said of each from one thread (a message on a socket). A failure of
 * done stops the rest as one of fn does. */
mf_err_t mf_parallel_for_done(size_t n, mf_err_t (*fn)(void *ctx, size_t i),
                              mf_err_t (*done)(void *ctx, size_t i), void *ctx);

#endif
