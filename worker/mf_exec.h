/* Task executors: the pure functions a worker runs. One table maps a task
 * kind to its executor; each reads its inputs from the store by hash,
 * streams its work in blocks, and writes its outputs back as blobs.
 * An executor never reads a path named in a session: only blobs. */
#ifndef MF_EXEC_H
#define MF_EXEC_H

#include "mf_store.h"
#include "mf_task.h"

/* Runs t against the store and fills r (outputs, timings). On failure
 * r->error says why in words and the return code says what kind. A task
 * whose numerics are not this process's is refused: its key promises bits
 * of that arithmetic. */
mf_err_t mf_exec_run(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r);
/* The same, the task saying how far it is in *progress (millionths of its
 * work, from 0) as it runs; r->progress is progress until it returns. */
mf_err_t mf_exec_run_progress(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r,
                              _Atomic uint32_t *progress);
/* Says that done (0 to 1) of the task's work is done, for the progress its
 * worker reports while it runs (Progress in proto/farm.proto); a share
 * below one said before is ignored. */
void mf_exec_progress(mf_task_result_t *r, double done);

/* The arithmetic this process computes with: the family of its DSP and QC
 * kernel tables, the machine when one is plain C, and a digest of the
 * libraries' versions (lib_versions.h): "dsp=x86 qc=x86 libs=af2cb201". A
 * worker says it in its Hello, and the coordinator runs each job on
 * workers of one (docs/farm.md, Determinism). */
const char *mf_exec_numerics(void);

/* Frames per processing block: cache-sized, so the whole chain runs on
 * data in L1/L2 rather than one processor over a whole buffer. */
#define MF_BLOCK 1024

#endif
