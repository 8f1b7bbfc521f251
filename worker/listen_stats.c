#include "listen_stats.h"
#include "exec_internal.h"
#include "mf_compare.h"

#include <math.h>
#include <stdlib.h>

static json_t *s_db_array(const double *db, int n)
{
    json_t *a = json_array();
    for (int b = 0; a && b < n; b++) json_array_append_new(a, mf_json_db(db[b]));
    return a;
}

json_t *mf_listen_copy_stats(const mf_analysis_t *a, int ch)
{
    const double lufs = a->integrated_lufs + (ch == 1 ? 10.0 * log10(2.0) : 0.0);
    return json_pack("{s:i, s:o, s:o, s:o, s:o}", "channels", ch, "integrated_lufs",
                     mf_json_db(lufs), "correlation", mf_json_db(a->correlation), "mono_drop_db",
                     mf_json_db(a->mono_drop_db), "band_db", s_db_array(a->band_db, MF_QC_BANDS));
}

static json_t *s_source_stats(const mf_analysis_t *a, const mf_ltas_result_t *l)
{
    return json_pack(
        "{s:i, s:o, s:o, s:o, s:o, s:o, s:o}", "channels", a->channels, "integrated_lufs",
        mf_json_db(a->integrated_lufs), "correlation", mf_json_db(a->correlation), "mono_drop_db",
        mf_json_db(a->mono_drop_db), "band_db", s_db_array(a->band_db, MF_QC_BANDS), "mid_db",
        s_db_array(l->mid_db, MF_QC_BANDS), "side_db", s_db_array(l->side_db, MF_QC_BANDS));
}

mf_err_t mf_listen_put_source_stats(mf_store_t *s, const mf_analysis_t *a, mf_ltas_t *ltas,
                                    mf_task_result_t *r)
{
    mf_ltas_result_t *l = ltas ? calloc(1, sizeof *l) : NULL;
    if (!l) return MF_ERR_NOMEM;
    mf_ltas_finish(ltas, l);
    const mf_err_t err = mf_exec_put_json(s, s_source_stats(a, l), r);
    free(l);
    return err;
}
