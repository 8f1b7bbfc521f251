#include "master_inserts.h"
#include "mf_pcm.h"

#include <stdio.h>
#include <stdlib.h>

/* Input k read whole into *data, for create_aux(). */
static mf_err_t s_read(mf_store_t *s, const mf_task_t *t, size_t k, double max_s, int rate,
                       mf_proc_aux_t *a, float **data, mf_task_result_t *r)
{
    mf_pcm_reader_t *rd;
    char what[64];
    snprintf(what, sizeof what, "mastering: file input %zu", k);
    mf_err_t err = mf_pcm_reader_open(s, &t->inputs[k], &rd);
    if (err != MF_OK) return mf_exec_fail(r, err, "%s: %s", what, mf_strerror(err));
    err = mf_exec_read_aux(rd, max_s, rate, what, a, data, r);
    mf_pcm_reader_free(&rd);
    return err;
}

mf_err_t mf_master_inserts_load(mf_store_t *s, const mf_task_t *t, const mf_mastering_spec_t *spec,
                                size_t first_aux, mf_master_inserts_t *out, mf_task_result_t *r)
{
    const size_t n = spec->n_inserts;
    *out = (mf_master_inserts_t){.ins = calloc(n + 1, sizeof *out->ins),
                                 .aux = calloc(n + 1, sizeof *out->aux),
                                 .data = calloc(n + 1, sizeof *out->data),
                                 .n = n};
    mf_err_t err = out->ins && out->aux && out->data ? MF_OK : MF_ERR_NOMEM;
    for (size_t i = 0; err == MF_OK && i < n; i++) {
        const mf_master_insert_spec_t *in = &spec->inserts[i];
        out->ins[i] = (mf_master_insert_t){in->cls, in->values, in->nbands, NULL};
        if (in->aux < 0) continue;
        const size_t k = first_aux + (size_t)in->aux;
        if (k >= t->n_inputs || !in->cls->aux) {
            err = mf_exec_fail(r, MF_ERR_INVALID, "mastering: insert %zu names input %zu of %zu", i,
                               k, t->n_inputs);
            break;
        }
        err =
            s_read(s, t, k, in->cls->aux->max_seconds, spec->rate, &out->aux[i], &out->data[i], r);
        out->ins[i].aux = &out->aux[i];
    }
    if (err != MF_OK) {
        if (!r->error) mf_exec_fail(r, err, "mastering: %s", mf_strerror(err));
        mf_master_inserts_fini(out);
    }
    return err;
}

void mf_master_inserts_fini(mf_master_inserts_t *m)
{
    for (size_t i = 0; m->data && i < m->n; i++) free(m->data[i]);
    free(m->ins), free(m->aux), free(m->data);
    *m = (mf_master_inserts_t){0};
}
