/* The mastering inserts a task runs (mastering, match) as mf_master_run
 * takes them, with each insert's file input (a convolution reverb's "ir")
 * read whole from the task input it names: at most its class's
 * max_seconds at the task's rate, so a worker never allocates from a size
 * nobody checked. */
#ifndef MASTER_INSERTS_H
#define MASTER_INSERTS_H

#include "exec_internal.h"
#include "mf_master.h"
#include "mf_master_params.h"

typedef struct {
    mf_master_insert_t *ins; /* spec->n_inserts of them */
    mf_proc_aux_t *aux;      /* per insert; used by those with a file */
    float **data;            /* per insert: its file's samples, or NULL */
    size_t n;
} mf_master_inserts_t;

/* Makes out from spec (which must outlive it). An insert's file is task
 * input first_aux + its aux (file inputs follow the task's signals). On
 * failure r says why; out is then released already. */
mf_err_t mf_master_inserts_load(mf_store_t *s, const mf_task_t *t, const mf_mastering_spec_t *spec,
                                size_t first_aux, mf_master_inserts_t *out, mf_task_result_t *r);
void mf_master_inserts_fini(mf_master_inserts_t *m);

#endif
