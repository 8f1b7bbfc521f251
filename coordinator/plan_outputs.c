/* What a render delivers, planned after the mix: the mastering task (when
 * the session has `mastering`), an encode task per deliverable
 * (plan_deliver.c), the comparison with mastering.reference (plan_listen.c),
 * the qc task, and the list of OUTDIR files with where each one's content
 * comes from (CLI.md "Output layout").
 *
 *   master -> mastering -> encode per output -> master/<title>.<ext>
 *                                            -> qc (each file decoded) -> qc.json, qc.html
 *                       -> compare with the reference ---------^
 *   master -> qc (the mix alone, when there is no mastering)
 */
#include "mf_qc.h"
#include "plan_int.h"
#include "plan_listen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mf_plan_task_t *mf_plan_append(mf_plan_t *p, const char *kind, const char *label)
{
    if (p->n_tasks >= p->cap_tasks) {
        const size_t cap = p->n_tasks < 8 ? 16 : 2 * p->n_tasks;
        mf_plan_task_t *ts = realloc(p->tasks, cap * sizeof *ts);
        if (!ts) return NULL;
        p->tasks = ts;
        p->cap_tasks = cap;
    }
    mf_plan_task_t *t = &p->tasks[p->n_tasks];
    memset(t, 0, sizeof *t);
    t->kind = strdup(kind);
    t->label = strdup(label);
    if (!t->kind || !t->label) {
        free(t->kind);
        free(t->label);
        return NULL;
    }
    p->n_tasks++;
    return t;
}

int mf_plan_add_output(mf_plan_t *p, char *path, mf_port_t port, const char *format, int bits,
                       int aligned, const mf_port_t *info)
{
    mf_plan_output_t *o = realloc(p->outputs, (p->n_outputs + 1) * sizeof *o);
    char *fmt = strdup(format);
    if (!o || !path || !fmt) {
        if (o) p->outputs = o;
        free(path);
        free(fmt);
        return -1;
    }
    p->outputs = o;
    p->outputs[p->n_outputs++] = (mf_plan_output_t){
        path, port, fmt, bits, aligned, info ? *info : (mf_port_t){.task = -1}, info != NULL};
    return 0;
}

mf_target_spec_t mf_plan_target(const json_t *mastering)
{
    mf_target_spec_t t = {.lufs = NAN, .true_peak_dbtp = -1.0};
    snprintf(t.name, sizeof t.name, "none");
    const json_t *j = mastering ? json_object_get(mastering, "target") : NULL;
    const mf_qc_target_t *pre = json_is_string(j) ? mf_qc_preset(json_string_value(j)) : NULL;
    if (pre) {
        snprintf(t.name, sizeof t.name, "%s", pre->name);
        t.lufs = pre->lufs;
        t.true_peak_dbtp = pre->true_peak_dbtp;
    } else if (json_is_object(j)) {
        snprintf(t.name, sizeof t.name, "custom");
        t.lufs = json_number_value(json_object_get(j, "lufs"));
        t.true_peak_dbtp = json_number_value(json_object_get(j, "true_peak_dbtp"));
    }
    return t;
}

double mf_plan_num_or(const json_t *o, const char *k, double def)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : def;
}

int mf_plan_mastering_aux(const mf_session_t *s, const json_t *insert)
{
    const mf_processor_class_t *cls =
        mf_processor_find(json_string_value(json_object_get(insert, "type")));
    const char *file =
        cls && cls->aux ? json_string_value(json_object_get(insert, cls->aux->name)) : NULL;
    for (size_t k = 0; file && k < s->n_aux; k++)
        if (!strcmp(s->aux[k].written, file)) return (int)k;
    return -1;
}

/* The output of task dec (an impulse response's decode) as one of the
 * mastering task t's file inputs, which follow its first base inputs (once
 * per file): which one, or -1 when out of memory. */
static int s_mastering_file(mf_plan_task_t *t, size_t base, int dec)
{
    for (size_t j = base; j < t->n_in; j++)
        if (t->in[j].task == dec) return (int)(j - base);
    mf_port_t *in = realloc(t->in, (t->n_in + 1) * sizeof *in);
    if (!in) return -1;
    t->in = in;
    t->in[t->n_in++] = (mf_port_t){.task = dec, .output = 0};
    return (int)(t->n_in - 1 - base);
}

/* The mastering task; aux NULL where no insert may name a file. */
static int s_add_mastering(mf_plan_t *p, const json_t *m, const char *doc, int rate,
                           double tempo_bpm, mf_port_t in, double audio_s, const char *label,
                           int levels_entry, mf_port_t levels, const mf_plan_aux_t *aux)
{
    const json_t *lim = json_object_get(m, "limiter");
    const json_t *ins = json_object_get(m, "inserts");
    mf_mastering_spec_t spec = {.rate = rate,
                                .channels = 2,
                                .tempo_bpm = tempo_bpm,
                                .target = mf_plan_target(m),
                                .levels_entry = levels_entry};
    spec.ceiling_dbtp = mf_plan_num_or(lim, "ceiling_dbtp", spec.target.true_peak_dbtp);
    spec.release_ms = mf_plan_num_or(lim, "release_ms", 80.0);
    spec.lookahead_ms = mf_plan_num_or(lim, "lookahead_ms", 5.0);
    /* A mono record: a width of 0 first, so the master is exactly mono
     * (left and right the same bits) whatever its transfer's channels. */
    json_t *mono = NULL;
    if (json_is_true(json_object_get(m, "mono"))) {
        mono = json_pack("[{s:s, s:f}]", "type", "width", "amount", 0.0);
        if (mono && ins && json_array_extend(mono, (json_t *)ins)) json_decref(mono), mono = NULL;
        if (!mono) return -1;
        ins = mono;
    }
    size_t n = json_array_size(ins);
    mf_insert_t *parsed = calloc(n + 1, sizeof *parsed);
    spec.inserts = calloc(n + 1, sizeof *spec.inserts);
    mf_plan_task_t *t = parsed && spec.inserts ? mf_plan_append(p, "mastering", label) : NULL;
    int rc = t && (t->in = calloc(2, sizeof *t->in)) ? 0 : -1;
    if (rc == 0) {
        t->n_out = 2;
        t->audio_s = audio_s;
        t->in[t->n_in++] = in;
        if (levels_entry) t->in[t->n_in++] = levels;
    }
    mf_diags_t d; /* validated already: nothing new to say */
    mf_diags_init(&d, doc);
    for (size_t i = 0; rc == 0 && i < n; i++, spec.n_inserts++) {
        const json_t *ji = json_array_get(ins, i);
        mf_session_parse_insert(ji, "mastering.inserts", NULL, &d, &parsed[i]);
        spec.inserts[i] = (mf_master_insert_spec_t){parsed[i].cls, parsed[i].values,
                                                    parsed[i].n_values, parsed[i].nbands, -1};
        if (!parsed[i].cls) rc = -1;
        const int k = rc == 0 && aux ? mf_plan_mastering_aux(aux->s, ji) : -1;
        if (k >= 0 &&
            (spec.inserts[i].aux = s_mastering_file(t, levels_entry ? 2 : 1, aux->task[k])) < 0)
            rc = -1;
    }
    mf_diags_fini(&d);
    if (rc == 0) rc = (t->params = mf_mastering_spec_to_json(&spec)) ? 0 : -1;
    for (size_t i = 0; parsed && i < n; i++) mf_session_insert_fini(&parsed[i]);
    free(parsed);
    free(spec.inserts);
    json_decref(mono);
    return rc;
}

int mf_plan_add_mastering(mf_plan_t *p, const json_t *m, const char *doc, int rate,
                          double tempo_bpm, mf_port_t in, double audio_s, const char *label,
                          int levels_entry, mf_port_t levels)
{
    return s_add_mastering(p, m, doc, rate, tempo_bpm, in, audio_s, label, levels_entry, levels,
                           NULL);
}

/* master/<title>.<ext> per output: encode tasks over the master. */
static int s_add_deliverables(mf_plan_t *p, const mf_session_t *s, const mf_hash_t *sources,
                              mf_port_t master, mf_qc_spec_t *qc, mf_port_list_t *qc_in)
{
    const json_t *lim = json_object_get(s->mastering, "limiter");
    const char *title = json_string_value(json_object_get(s->metadata, "title"));
    char base[256], *tags[MF_TAG__COUNT];
    snprintf(base, sizeof base, "%s", title ? title : s->name);
    mf_file_name_clean(base);
    mf_target_spec_t tg = mf_plan_target(s->mastering);
    double ceiling = mf_plan_num_or(lim, "ceiling_dbtp", tg.true_peak_dbtp);
    mf_deliver_set_t d = {
        .outputs = s->outputs,
        .dir = "master/",
        .base = base,
        .rate = s->sample_rate,
        .signal = master,
        .report = {.task = master.task, .output = 1},
        .cover =
            json_is_string(json_object_get(s->metadata, "cover")) ? &sources[s->n_tracks] : NULL,
        .ceiling_dbtp = fmin(ceiling, tg.true_peak_dbtp),
        .release_ms = mf_plan_num_or(lim, "release_ms", 80.0),
        .lookahead_ms = mf_plan_num_or(lim, "lookahead_ms", 5.0),
        .tags = tags,
    };
    int rc = mf_plan_tags(s->metadata, s->name, tags);
    if (rc == 0) rc = mf_plan_encodes(p, &d, qc, qc_in);
    mf_plan_tags_free(tags);
    return rc;
}

int mf_plan_outputs(mf_plan_t *p, const mf_session_t *s, const mf_hash_t *sources,
                    const int *aux_task)
{
    const mf_plan_aux_t aux = {s, aux_task};
    if (p->mix.task < 0) return -1;
    double audio_s = p->tasks[p->mix.task].audio_s;
    int rc = mf_plan_add_output(p, strdup("mix.wav"), p->mix, "wav", 32, 1, NULL);
    for (size_t i = 0; rc == 0 && i < p->n_stems; i++)
        rc = mf_plan_add_output(p, mf_plan_stem_path(p->stems[i].name), p->stems[i].port, "wav", 32,
                                1, NULL);
    mf_qc_spec_t qc = {.target = mf_plan_target(s->mastering)};
    mf_port_list_t in = {0};
    if (rc == 0 && s->mastering) {
        p->mastered = 1;
        rc = s_add_mastering(p, s->mastering, s->path, s->sample_rate, s->tempo_bpm, p->mix,
                             audio_s, "mastering", 0, p->mix, &aux);
        mf_port_t master = {.task = (int)p->n_tasks - 1, .output = 0};
        if (rc == 0) rc = s_add_deliverables(p, s, sources, master, &qc, &in);
        for (size_t i = 0; i < qc.n_files; i++) /* every deliverable, so far */
            qc.files[i].mono = json_is_true(json_object_get(s->mastering, "mono"));
        if (rc == 0) rc = mf_plan_reference(p, s, sources, &qc, &in);
    } else if (rc == 0) {
        rc = mf_port_list_add(&in, p->mix) < 0 ||
                     mf_plan_qc_file(&qc, "mix.wav", 0, s->sample_rate, 32, 1, "", -1)
                 ? -1
                 : 0;
        qc.source_stats = 1; /* the listening copies' source: measured once (plan_listen.c) */
    }
    mf_plan_task_t *t = rc == 0 ? mf_plan_append(p, "qc", "qc") : NULL;
    if (t) {
        t->params = mf_qc_spec_to_json(&qc);
        t->in = in.v;
        t->n_in = in.n;
        in.v = NULL;
        t->n_out = qc.source_stats ? 3 : 2;
        t->audio_s = audio_s;
        mf_port_t json = {.task = (int)p->n_tasks - 1, .output = 0};
        mf_port_t html = {.task = (int)p->n_tasks - 1, .output = 1};
        rc = t->params ? 0 : -1;
        if (rc == 0) rc = mf_plan_add_output(p, strdup("qc.json"), json, "raw", 0, 0, NULL);
        if (rc == 0) rc = mf_plan_add_output(p, strdup("qc.html"), html, "raw", 0, 0, NULL);
    } else {
        rc = -1;
    }
    free(in.v);
    mf_qc_spec_fini(&qc);
    if (rc == 0) rc = mf_plan_listen(p, s); /* listen/ (plan_listen.c) */
    return rc;
}
