/* qc.json. */
#include "mf_qc_report.h"

#include "mf_fs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mf_qc_report_pass(const mf_qc_file_t *files, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (files[i].problems && files[i].problems->count) return 0;
    return 1;
}

/* A dB value or similar: rounded to 0.01, "-inf" / "inf" as strings, NAN as null. */
static json_t *s_num(double x)
{
    if (isnan(x)) return json_null();
    if (isinf(x)) return json_string(x < 0 ? "-inf" : "inf");
    return json_real(round(x * 100.0) / 100.0);
}

static json_t *s_file(const mf_qc_file_t *f)
{
    const mf_analysis_t *a = f->analysis;
    json_t *o = json_object(), *probs = json_array(), *gaps = json_array(), *bands = json_array();
    if (!o || !probs || !gaps || !bands) {
        json_decref(o), json_decref(probs), json_decref(gaps), json_decref(bands);
        return NULL;
    }
    json_object_set_new(o, "path", json_string(f->path));
    json_object_set_new(o, "integrated_lufs", s_num(a->integrated_lufs));
    json_object_set_new(o, "lra_lu", s_num(a->lra_lu));
    json_object_set_new(o, "true_peak_dbtp", s_num(a->true_peak_dbtp));
    json_object_set_new(o, "sample_peak_dbfs", s_num(a->sample_peak_dbfs));
    json_object_set_new(o, "plr_db", s_num(a->plr_db));
    json_object_set_new(o, "clipped_samples", json_integer(a->clipped_samples));
    json_object_set_new(o, "dc_offset_db", s_num(a->dc_offset_db));
    json_object_set_new(o, "correlation", s_num(a->correlation));
    json_object_set_new(o, "head_silence_s", s_num(a->head_silence_s));
    json_object_set_new(o, "tail_silence_s", s_num(a->tail_silence_s));
    const int pass = !f->problems || f->problems->count == 0;
    json_object_set_new(o, "pass", json_boolean(pass));
    for (size_t i = 0; f->problems && i < f->problems->count; i++) {
        const mf_qc_problem_t *p = &f->problems->items[i];
        json_array_append_new(probs, json_pack("{s:s, s:s, s:o}", "check", p->check, "message",
                                               p->message, "at_s", s_num(p->at_s)));
    }
    json_object_set_new(o, "problems", probs);
    /* More than CLI.md lists: */
    json_object_set_new(o, "duration_s", s_num(a->duration_s));
    json_object_set_new(o, "sample_rate", json_integer((json_int_t)a->rate));
    json_object_set_new(o, "channels", json_integer(a->channels));
    if (f->layout) json_object_set_new(o, "layout", json_string(f->layout));
    if (a->channels > 2) { /* surround: what the loudness weighed each channel with */
        json_t *w = json_array();
        for (int c = 0; c < a->channels; c++)
            json_array_append_new(w, json_real(round(a->loudness_weight[c] * 100.0) / 100.0));
        json_object_set_new(o, "loudness_weights", w);
    }
    json_object_set_new(o, "momentary_max_lufs", s_num(a->momentary_max_lufs));
    json_object_set_new(o, "short_term_max_lufs", s_num(a->short_term_max_lufs));
    json_object_set_new(o, "true_peak_at_s", s_num(a->true_peak_at_s));
    json_object_set_new(o, "crest_db", s_num(a->crest_db));
    json_object_set_new(o, "rms_dbfs", s_num(a->rms_dbfs));
    json_object_set_new(o, "mono_drop_db", s_num(a->mono_drop_db));
    json_object_set_new(o, "side_peak_dbfs", s_num(a->side_peak_dbfs));
    json_object_set_new(o, "clipped_runs", json_integer(a->clip_runs));
    for (size_t i = 0; i < a->n_gaps; i++)
        json_array_append_new(gaps, json_pack("{s:o, s:o}", "start_s", s_num(a->gaps[i].start_s),
                                              "length_s", s_num(a->gaps[i].length_s)));
    json_object_set_new(o, "silence_gaps", gaps);
    for (int b = 0; b < MF_QC_BANDS && !isnan(a->band_db[b]); b++)
        json_array_append_new(bands, json_pack("{s:o, s:o}", "freq_hz", json_real(mf_qc_band_hz(b)),
                                               "db", s_num(a->band_db[b])));
    json_object_set_new(o, "bands", bands);
    if (f->reference) json_object_set(o, "reference", f->reference);
    return o;
}

json_t *mf_qc_report_json(const mf_qc_target_t *t, const mf_qc_file_t *files, size_t n)
{
    json_t *root = json_object(), *arr = json_array();
    json_t *tg = json_pack("{s:s, s:o, s:o}", "name", t->name, "lufs", s_num(t->lufs),
                           "true_peak_dbtp", s_num(t->true_peak_dbtp));
    if (!root || !arr || !tg) goto fail;
    json_object_set_new(root, "target", tg);
    tg = NULL;
    json_object_set_new(root, "pass", json_boolean(mf_qc_report_pass(files, n)));
    for (size_t i = 0; i < n; i++) {
        json_t *f = s_file(&files[i]);
        if (!f || json_array_append_new(arr, f)) goto fail;
    }
    json_object_set_new(root, "files", arr);
    return root;
fail:
    json_decref(root), json_decref(arr), json_decref(tg);
    return NULL;
}

mf_err_t mf_qc_report_write_json(const char *path, const mf_qc_target_t *t,
                                 const mf_qc_file_t *files, size_t n)
{
    json_t *doc = mf_qc_report_json(t, files, n);
    char *s = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(doc);
    if (!s) return MF_ERR_NOMEM;
    const size_t len = strlen(s);
    char *t2 = realloc(s, len + 2);
    if (!t2) {
        free(s);
        return MF_ERR_NOMEM;
    }
    t2[len] = '\n', t2[len + 1] = '\0';
    const mf_err_t err = mf_fs_write_atomic(path, t2, len + 1);
    free(t2);
    return err;
}
