#include "mf_limits.h"
#include "mf_master_params.h"
#include "mf_params.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17))
#define MAX_FILES 1024
#define MAX_INSERTS MF_LIMIT_INSERTS

static char *s_dump(json_t *j)
{
    char *text = j ? json_dumps(j, DUMP_FLAGS) : NULL;
    json_decref(j);
    return text;
}

static json_t *s_target_json(const mf_target_spec_t *t)
{
    return json_pack("{s:s,s:o,s:f}", "name", t->name, "lufs",
                     isnan(t->lufs) ? json_null() : json_real(t->lufs), "true_peak_dbtp",
                     t->true_peak_dbtp);
}

static int s_num(const json_t *o, const char *k, double *v)
{
    const json_t *x = json_object_get(o, k);
    if (!json_is_number(x)) return -1;
    *v = json_number_value(x);
    return isfinite(*v) ? 0 : -1;
}

static int s_target_from(const json_t *o, mf_target_spec_t *t)
{
    const char *name = json_string_value(json_object_get(o, "name"));
    const json_t *lufs = json_object_get(o, "lufs");
    if (!name || strlen(name) >= sizeof t->name || s_num(o, "true_peak_dbtp", &t->true_peak_dbtp))
        return -1;
    snprintf(t->name, sizeof t->name, "%s", name);
    if (json_is_null(lufs))
        t->lufs = NAN;
    else if (s_num(o, "lufs", &t->lufs) || t->lufs < -70 || t->lufs > 0)
        return -1;
    return t->true_peak_dbtp >= -20 && t->true_peak_dbtp <= 0 ? 0 : -1;
}

char *mf_mastering_spec_to_json(const mf_mastering_spec_t *m)
{
    json_t *ins = json_array();
    for (size_t i = 0; ins && i < m->n_inserts; i++) {
        json_t *values = json_array();
        for (size_t k = 0; k < m->inserts[i].n_values; k++)
            json_array_append_new(values, json_real(m->inserts[i].values[k]));
        json_t *o = json_pack("{s:s,s:o,s:I}", "type", m->inserts[i].cls->type, "values", values,
                              "bands", (json_int_t)m->inserts[i].nbands);
        if (o && m->inserts[i].aux >= 0) /* only then: other task keys stay as they were */
            json_object_set_new(o, "aux", json_integer(m->inserts[i].aux));
        json_array_append_new(ins, o);
    }
    json_t *j = json_pack("{s:i,s:i,s:f,s:o,s:f,s:f,s:f,s:o}", "rate", m->rate, "channels",
                          m->channels, "tempo_bpm", m->tempo_bpm, "target",
                          s_target_json(&m->target), "ceiling_dbtp", m->ceiling_dbtp, "release_ms",
                          m->release_ms, "lookahead_ms", m->lookahead_ms, "inserts", ins);
    if (j && m->levels_entry > 0) /* only albums say it: sessions keep their task keys */
        json_object_set_new(j, "levels_entry", json_integer(m->levels_entry));
    return s_dump(j);
}

char *mf_qc_spec_to_json(const mf_qc_spec_t *q)
{
    json_t *files = json_array();
    for (size_t i = 0; files && i < q->n_files; i++) {
        const mf_qc_file_spec_t *f = &q->files[i];
        json_t *o =
            json_pack("{s:s,s:I,s:i,s:i,s:b,s:s,s:I,s:I,s:i,s:I,s:i}", "path", f->path, "input",
                      (json_int_t)f->input, "rate", f->rate, "bits", f->bits, "lossless",
                      f->lossless, "decode", f->decode, "report", (json_int_t)f->report, "red_book",
                      (json_int_t)f->red_book, "lufs_from", f->lufs_from, "levels",
                      (json_int_t)f->levels, "levels_entry", f->levels_entry);
        if (o && f->compare > 0) /* only then: plans without a reference keep their task keys */
            json_object_set_new(o, "compare", json_integer(f->compare));
        if (o && f->timings >= 0) /* only then, likewise */
            json_object_set_new(o, "timings", json_integer(f->timings));
        if (o && f->song > 0) /* and likewise */
            json_object_set_new(o, "song", json_integer(f->song));
        if (o && f->mono) /* and likewise */
            json_object_set_new(o, "mono", json_true());
        json_array_append_new(files, o);
    }
    json_t *j = json_pack("{s:o,s:o}", "target", s_target_json(&q->target), "files", files);
    if (j && q->source_stats > 0) /* only then: other plans keep their task keys */
        json_object_set_new(j, "source_stats", json_integer(q->source_stats));
    if (j && q->album > 0) /* likewise */
        json_object_set_new(j, "album", json_integer(q->album));
    return s_dump(j);
}

#define FAIL(msg)                                                                                  \
    do {                                                                                           \
        *why = (msg);                                                                              \
        goto fail;                                                                                 \
    } while (0)

/* An insert; its "aux" file input is checked against the task's inputs by
 * the worker, which knows how many it has. */
static int s_insert_from(const json_t *o, mf_master_insert_spec_t *in)
{
    in->aux = -1;
    if (mf_params_insert_values(o, &in->cls, &in->values, &in->n_values, &in->nbands)) return -1;
    const json_t *aux = json_object_get(o, "aux");
    if (!aux) return 0;
    if (!json_is_integer(aux) || json_integer_value(aux) < 0 ||
        json_integer_value(aux) >= MAX_INSERTS || !in->cls->aux)
        return -1;
    in->aux = (int)json_integer_value(aux);
    return 0;
}

mf_err_t mf_mastering_spec_from_json(const char *text, mf_mastering_spec_t *m, const char **why)
{
    memset(m, 0, sizeof *m);
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    double rate, ch;
    if (!json_is_object(o)) FAIL("parameters are not a JSON object");
    if (s_num(o, "rate", &rate) || s_num(o, "channels", &ch) ||
        s_num(o, "tempo_bpm", &m->tempo_bpm) || s_num(o, "ceiling_dbtp", &m->ceiling_dbtp) ||
        s_num(o, "release_ms", &m->release_ms) || s_num(o, "lookahead_ms", &m->lookahead_ms))
        FAIL("missing or bad number");
    if (rate < MF_LIMIT_RATE_MIN || rate > MF_LIMIT_RATE_MAX || (ch != 1 && ch != 2))
        FAIL("bad rate or channels");
    m->rate = (int)rate;
    m->channels = (int)ch;
    const json_t *le = json_object_get(o, "levels_entry");
    m->levels_entry = json_is_integer(le) ? (int)json_integer_value(le) : 0;
    if (le && (!json_is_integer(le) || m->levels_entry < 1 || m->levels_entry > 100000))
        FAIL("bad levels_entry");
    if (s_target_from(json_object_get(o, "target"), &m->target)) FAIL("bad target");
    const json_t *ins = json_object_get(o, "inserts");
    if (!json_is_array(ins) || json_array_size(ins) > MAX_INSERTS) FAIL("bad inserts");
    m->inserts = calloc(json_array_size(ins) + 1, sizeof *m->inserts);
    if (!m->inserts) FAIL("out of memory");
    for (; m->n_inserts < json_array_size(ins); m->n_inserts++)
        if (s_insert_from(json_array_get(ins, m->n_inserts), &m->inserts[m->n_inserts]))
            FAIL("bad insert");
    json_decref(o);
    return MF_OK;
fail:
    json_decref(o);
    if (m->inserts) free(m->inserts[m->n_inserts].values); /* the one that failed */
    mf_mastering_spec_fini(m);
    return MF_ERR_INVALID;
}

mf_err_t mf_qc_spec_from_json(const char *text, size_t n_inputs, mf_qc_spec_t *q, const char **why)
{
    memset(q, 0, sizeof *q);
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    if (!json_is_object(o)) FAIL("parameters are not a JSON object");
    if (s_target_from(json_object_get(o, "target"), &q->target)) FAIL("bad target");
    const json_t *files = json_object_get(o, "files");
    if (!json_is_array(files) || json_array_size(files) > MAX_FILES) FAIL("bad files");
    q->files = calloc(json_array_size(files) + 1, sizeof *q->files);
    if (!q->files) FAIL("out of memory");
    for (; q->n_files < json_array_size(files); q->n_files++) {
        const json_t *f = json_array_get(files, q->n_files);
        mf_qc_file_spec_t *fs = &q->files[q->n_files];
        const char *path = json_string_value(json_object_get(f, "path"));
        double input, rate, bits;
        if (!path || s_num(f, "input", &input) || s_num(f, "rate", &rate) ||
            s_num(f, "bits", &bits) || input < 0 || input >= (double)n_inputs || rate < 1 ||
            rate > 1e6 || bits < 0 || bits > 64) /* before any conversion to int */
            FAIL("bad file");
        fs->path = strdup(path);
        fs->input = (size_t)input;
        fs->rate = (int)rate;
        fs->bits = (int)bits;
        fs->lossless = json_is_true(json_object_get(f, "lossless"));
        const char *decode = json_string_value(json_object_get(f, "decode"));
        const json_t *report = json_object_get(f, "report");
        fs->report = json_is_integer(report) ? (long)json_integer_value(report) : -1;
        const json_t *rb = json_object_get(f, "red_book");
        fs->red_book = json_is_integer(rb) ? (long)json_integer_value(rb) : -1;
        const json_t *lf = json_object_get(f, "lufs_from"), *lv = json_object_get(f, "levels");
        const json_t *le = json_object_get(f, "levels_entry");
        fs->lufs_from = json_is_integer(lf) ? (int)json_integer_value(lf) : 0;
        fs->levels = json_is_integer(lv) ? (long)json_integer_value(lv) : -1;
        fs->levels_entry = json_is_integer(le) ? (int)json_integer_value(le) : 0;
        const json_t *cmp = json_object_get(f, "compare");
        fs->compare = json_is_integer(cmp) ? (long)json_integer_value(cmp) : 0;
        const json_t *tmg = json_object_get(f, "timings");
        fs->timings = json_is_integer(tmg) ? (long)json_integer_value(tmg) : -1;
        const json_t *mono = json_object_get(f, "mono");
        fs->mono = json_is_true(mono);
        const json_t *song = json_object_get(f, "song");
        fs->song = json_is_integer(song) && json_integer_value(song) > 0 &&
                           json_integer_value(song) <= MAX_FILES
                       ? (int)json_integer_value(song)
                       : 0;
        if (!fs->path) FAIL("out of memory");
        if ((decode && strlen(decode) >= sizeof fs->decode) || fs->report < -1 ||
            fs->report >= (long)n_inputs || fs->red_book < -1 || fs->red_book >= (long)n_inputs ||
            fs->lufs_from < 0 || fs->lufs_from > 2 ||
            (fs->lufs_from == 2 &&
             (fs->levels < 0 || fs->levels >= (long)n_inputs || fs->levels_entry < 1)) ||
            (cmp && !json_is_integer(cmp)) || fs->compare < 0 || fs->compare > (long)n_inputs ||
            (tmg && !json_is_integer(tmg)) || fs->timings < -1 || fs->timings >= (long)n_inputs ||
            (song && !fs->song) || (mono && !json_is_boolean(mono)))
            FAIL("bad file");
        snprintf(fs->decode, sizeof fs->decode, "%s", decode ? decode : "");
    }
    const json_t *ss = json_object_get(o, "source_stats");
    q->source_stats = json_is_integer(ss) ? (long)json_integer_value(ss) : 0;
    if ((ss && !json_is_integer(ss)) || q->source_stats < 0 || q->source_stats > (long)q->n_files ||
        (q->source_stats > 0 && q->files[q->source_stats - 1].decode[0]))
        FAIL("bad source_stats");
    const json_t *album = json_object_get(o, "album");
    const json_int_t av = json_is_integer(album) ? json_integer_value(album) : 0;
    if ((album && !json_is_integer(album)) || av < 0 || av > 3) FAIL("bad album");
    q->album = (int)av;
    json_decref(o);
    return MF_OK;
fail:
    json_decref(o);
    if (q->files) free(q->files[q->n_files].path); /* the one that failed */
    mf_qc_spec_fini(q);
    return MF_ERR_INVALID;
}

void mf_mastering_spec_fini(mf_mastering_spec_t *m)
{
    for (size_t i = 0; m->inserts && i < m->n_inserts; i++) free(m->inserts[i].values);
    free(m->inserts);
    memset(m, 0, sizeof *m);
}

void mf_qc_spec_fini(mf_qc_spec_t *q)
{
    for (size_t i = 0; q->files && i < q->n_files; i++) free(q->files[i].path);
    free(q->files);
    memset(q, 0, sizeof *q);
}
