/* What the executors share inside worker/. */
#ifndef MF_EXEC_INTERNAL_H
#define MF_EXEC_INTERNAL_H

#include "mf_exec.h"
#include "mf_processor.h"

#include <jansson.h>

typedef mf_err_t (*mf_executor_fn)(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r);

mf_err_t mf_exec_decode(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r);
mf_err_t mf_exec_channel(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r);
mf_err_t mf_exec_mastering(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r);
mf_err_t mf_exec_qc(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r);
mf_err_t mf_exec_encode(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r);
mf_err_t mf_exec_album_levels(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r);
mf_err_t mf_exec_sequence(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r);
mf_err_t mf_exec_listen(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r);
mf_err_t mf_exec_listen_report(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r);
mf_err_t mf_exec_compare(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r);
mf_err_t mf_exec_match(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r);
/* Does nothing and produces nothing: for measuring dispatch. */
mf_err_t mf_exec_noop(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r);

/* Sets r->error to a formatted message and returns err. */
mf_err_t mf_exec_fail(mf_task_result_t *r, mf_err_t err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same for an error of mf_source_reader.h or mf_source_signal.h, with
 * its why: marks the result as the inputs' fault when it is the file's
 * (mf_source_fault), so the coordinator neither retries it nor blames the
 * worker. */
mf_err_t mf_exec_fail_source(mf_task_result_t *r, mf_err_t err, const char *why);
/* The name of t's output index (mf_task_output_name): what an executor
 * gives the writer of each signal it outputs. */
void mf_exec_output_name(const mf_task_t *t, size_t index, mf_hash_t *out);
/* Appends one output hash to r. */
mf_err_t mf_exec_add_output(mf_task_result_t *r, const mf_hash_t *h);
/* Stores len bytes of text (a JSON report) as a blob and appends it to r. */
mf_err_t mf_exec_put_text(mf_store_t *s, const char *text, size_t len, mf_task_result_t *r);
/* The same for a JSON document, compact with sorted keys (its bytes, and
 * so its blob, follow from its content alone); takes doc (NULL: out of
 * memory). */
mf_err_t mf_exec_put_json(mf_store_t *s, json_t *doc, mf_task_result_t *r);

/* An auxiliary input (a convolution reverb's impulse response, decoded at
 * the task's rate) read whole from rd for a processor's create_aux(): mono
 * or stereo, not empty, at most max_s seconds at rate, so a worker never
 * allocates from a size nobody checked. *data is malloc'd (free it once
 * the processor is made); a shape refused is said in r, naming it what. */
struct mf_pcm_reader;
mf_err_t mf_exec_read_aux(struct mf_pcm_reader *rd, double max_s, int rate, const char *what,
                          mf_proc_aux_t *a, float **data, mf_task_result_t *r);

#endif
