/* What a render delivers, planned after the mix: the mastering task (when
 * the session has `mastering`), the qc task, and the list of OUTDIR files
 * with where each one's content comes from (CLI.md "Output layout").
 *
 *   master -> mastering -> master/<title>.<ext> per output -> qc.json, qc.html
 *   master ------------------------------------------------> qc (the mix alone)
 */
#include "mf_master_params.h"
#include "mf_plan.h"
#include "mf_qc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mf_plan_task_t *mf_plan_append(mf_plan_t *p, const char *kind, const char *label)
{
    mf_plan_task_t *ts = realloc(p->tasks, (p->n_tasks + 1) * sizeof *ts);
    if (!ts) return NULL;
    p->tasks = ts;
    mf_plan_task_t *t = &ts[p->n_tasks];
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

static int s_add_output(mf_plan_t *p, char *path, mf_port_t port, const char *format, int bits,
                        int aligned)
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
    p->outputs[p->n_outputs++] = (mf_plan_output_t){path, port, fmt, bits, aligned};
    return 0;
}

static mf_port_t s_port(int task, int output)
{
    return (mf_port_t){.task = task, .output = output};
}

/* The target as mastering gives it: a preset name or {lufs, true_peak_dbtp}. */
static mf_target_spec_t s_target(const json_t *mastering)
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

static double s_num_or(const json_t *o, const char *k, double def)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : def;
}

static int s_add_mastering(mf_plan_t *p, const mf_session_t *s, double audio_s)
{
    const json_t *m = s->mastering, *lim = json_object_get(m, "limiter");
    const json_t *ins = json_object_get(m, "inserts");
    mf_mastering_spec_t spec = {
        .rate = s->sample_rate, .channels = 2, .tempo_bpm = s->tempo_bpm, .target = s_target(m)};
    spec.ceiling_dbtp = s_num_or(lim, "ceiling_dbtp", spec.target.true_peak_dbtp);
    spec.release_ms = s_num_or(lim, "release_ms", 80.0);
    spec.lookahead_ms = s_num_or(lim, "lookahead_ms", 5.0);
    size_t n = json_array_size(ins);
    mf_insert_t *parsed = calloc(n + 1, sizeof *parsed);
    spec.inserts = calloc(n + 1, sizeof *spec.inserts);
    int rc = parsed && spec.inserts ? 0 : -1;
    mf_diags_t d; /* validated already: nothing new to say */
    mf_diags_init(&d, s->path);
    for (size_t i = 0; rc == 0 && i < n; i++, spec.n_inserts++) {
        mf_session_parse_insert(json_array_get(ins, i), "mastering.inserts", NULL, &d, &parsed[i]);
        spec.inserts[i] = (mf_master_insert_spec_t){parsed[i].cls, parsed[i].values,
                                                    parsed[i].n_values, parsed[i].nbands};
        if (!parsed[i].cls) rc = -1;
    }
    mf_diags_fini(&d);
    mf_plan_task_t *t = rc == 0 ? mf_plan_append(p, "mastering", "mastering") : NULL;
    if (t) {
        t->params = mf_mastering_spec_to_json(&spec);
        t->in = malloc(sizeof *t->in);
        t->n_out = 2;
        t->audio_s = audio_s;
        if (t->in) t->in[t->n_in++] = p->mix;
    }
    rc = t && t->params && t->in ? 0 : -1;
    for (size_t i = 0; parsed && i < n; i++) mf_session_insert_fini(&parsed[i]);
    free(parsed);
    free(spec.inserts);
    return rc;
}

/* A name usable as a file name: separators and control characters become '_'. */
static void s_clean(char *name)
{
    for (char *c = name; *c; c++)
        if (*c == '/' || *c == '\\' || (unsigned char)*c < 32) *c = '_';
    if (name[0] == '.') name[0] = '_';
}

static int s_bits(const json_t *o, const char *fmt)
{
    const json_t *b = json_object_get(o, "bits");
    if (json_is_string(b)) return 32; /* "32f" */
    if (json_is_integer(b)) return (int)json_integer_value(b);
    (void)fmt;
    return 24;
}

/* master/<title>.<ext> for each lossless output; lossy formats come with the
 * deliverables issue and are left out (the client says so). */
static int s_add_deliverables(mf_plan_t *p, const mf_session_t *s, mf_port_t master,
                              mf_qc_spec_t *qc)
{
    json_t *def = NULL; /* no outputs: one 24-bit WAV */
    const json_t *outs = s->outputs;
    if (!outs || json_array_size(outs) == 0)
        outs = def = json_pack("[{s:s,s:i}]", "format", "wav", "bits", 24);
    const char *title = json_string_value(json_object_get(s->metadata, "title"));
    char base[256];
    snprintf(base, sizeof base, "%s", title ? title : s->name);
    s_clean(base);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(outs); i++) {
        const json_t *o = json_array_get(outs, i);
        const char *fmt = json_string_value(json_object_get(o, "format"));
        if (!fmt || (strcmp(fmt, "wav") && strcmp(fmt, "aiff") && strcmp(fmt, "flac"))) continue;
        int bits = s_bits(o, fmt), same = 0;
        for (size_t k = 0; k < json_array_size(outs); k++) {
            const char *f2 = json_string_value(json_object_get(json_array_get(outs, k), "format"));
            same += f2 && !strcmp(f2, fmt);
        }
        const char *own = json_string_value(json_object_get(o, "name"));
        char file[400];
        if (own) {
            int has_ext = strchr(own, '.') != NULL;
            snprintf(file, sizeof file, "master/%s%s%s", own, has_ext ? "" : ".",
                     has_ext ? "" : fmt);
            s_clean(file + 7);
        } else if (same > 1) {
            snprintf(file, sizeof file, "master/%s %d-%d.%s", base, bits, s->sample_rate, fmt);
        } else {
            snprintf(file, sizeof file, "master/%s.%s", base, fmt);
        }
        rc = s_add_output(p, strdup(file), master, fmt, bits, 0);
        mf_qc_file_spec_t *f = realloc(qc->files, (qc->n_files + 1) * sizeof *f);
        if (rc || !f) {
            rc = -1;
            break;
        }
        qc->files = f;
        qc->files[qc->n_files++] = (mf_qc_file_spec_t){strdup(file), 0, s->sample_rate, bits, 1};
    }
    json_decref(def);
    return rc;
}

int mf_plan_outputs(mf_plan_t *p, const mf_session_t *s)
{
    if (p->mix.task < 0) return -1;
    double audio_s = p->tasks[p->mix.task].audio_s;
    int rc = s_add_output(p, strdup("mix.wav"), p->mix, "wav", 32, 1);
    for (size_t i = 0; rc == 0 && i < p->n_stems; i++)
        rc = s_add_output(p, mf_plan_stem_path(p->stems[i].name), p->stems[i].port, "wav", 32, 1);
    mf_qc_spec_t qc = {.target = s_target(s->mastering)};
    mf_port_t checked = p->mix;
    if (rc == 0 && s->mastering) {
        p->mastered = 1;
        rc = s_add_mastering(p, s, audio_s);
        checked = s_port((int)p->n_tasks - 1, 0);
        if (rc == 0) rc = s_add_deliverables(p, s, checked, &qc);
    } else if (rc == 0) {
        qc.files = calloc(1, sizeof *qc.files);
        if (!qc.files) return -1;
        qc.files[qc.n_files++] = (mf_qc_file_spec_t){strdup("mix.wav"), 0, s->sample_rate, 32, 1};
    }
    mf_plan_task_t *t = rc == 0 ? mf_plan_append(p, "qc", "qc") : NULL;
    if (t) {
        t->params = mf_qc_spec_to_json(&qc);
        t->in = malloc(sizeof *t->in);
        t->n_out = 2;
        t->audio_s = audio_s;
        if (t->in) t->in[t->n_in++] = checked;
        int qc_task = (int)p->n_tasks - 1;
        rc = t->params && t->in ? 0 : -1;
        if (rc == 0) rc = s_add_output(p, strdup("qc.json"), s_port(qc_task, 0), "raw", 0, 0);
        if (rc == 0) rc = s_add_output(p, strdup("qc.html"), s_port(qc_task, 1), "raw", 0, 0);
    } else {
        rc = -1;
    }
    mf_qc_spec_fini(&qc);
    return rc;
}
