/* listen, compare and match tasks (plan_listen.h). */
#include "plan_listen.h"
#include "mf_params.h"
#include "mf_playback.h"
#include "plan_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17))

static int s_add_in(mf_plan_task_t *t, mf_port_t port)
{
    mf_port_t *in = realloc(t->in, (t->n_in + 1) * sizeof *in);
    if (!in) return -1;
    t->in = in;
    t->in[t->n_in++] = port;
    return 0;
}

static char *s_dump(json_t *j)
{
    char *text = j ? json_dumps(j, DUMP_FLAGS) : NULL;
    json_decref(j);
    return text;
}

static int s_find(const mf_plan_t *p, const char *kind)
{
    for (size_t i = p->n_tasks; i-- > 0;)
        if (!strcmp(p->tasks[i].kind, kind)) return (int)i;
    return -1;
}

/* What the compared and listened-to signal is called: the first
 * deliverable of a mastered session, else the mix. */
static const char *s_source_name(const mf_plan_t *p, int mastering)
{
    for (size_t i = 0; mastering >= 0 && i < p->n_outputs; i++)
        if (!strncmp(p->outputs[i].path, "master/", 7)) return p->outputs[i].path;
    return mastering >= 0 ? "master" : "mix.wav";
}

/* The plan's output at path, or NULL. */
static mf_plan_output_t *s_output(mf_plan_t *p, const char *path)
{
    for (size_t i = 0; i < p->n_outputs; i++)
        if (!strcmp(p->outputs[i].path, path)) return &p->outputs[i];
    return NULL;
}

/* The report also completes the QC report: qc.json and qc.html come from
 * it, the qc task's two documents and the playback systems together. */
static int s_report_completes_qc(mf_plan_t *p, mf_plan_task_t *report)
{
    mf_plan_output_t *json = s_output(p, "qc.json"), *html = s_output(p, "qc.html");
    if (!json || !html || s_add_in(report, json->port) || s_add_in(report, html->port)) return -1;
    report->n_out = 3;
    const int self = (int)(report - p->tasks);
    json->port = (mf_port_t){.task = self, .output = 1};
    html->port = (mf_port_t){.task = self, .output = 2};
    return 0;
}

/* One listen task per playback system (they run in parallel), then
 * listen_report over the source's statistics and theirs, which also puts
 * them into qc.json and qc.html. The source's are
 * stats when that is a task's (the qc of an unmastered mix measures it
 * anyway); else the last system (mono, the cheapest) also measures the
 * source, which makes it the longest: it is planned first, so that it
 * starts first. */
static int s_listen(mf_plan_t *p, mf_port_t src, mf_port_t stats, const char *name, double audio_s)
{
    size_t n;
    const mf_playback_model_t *m = mf_playback_models(&n);
    mf_plan_task_t *t;
    const int first = (int)p->n_tasks;
    /* The task of system i: the source's first, then the others in order. */
#define TASK_OF(i) (first + ((size_t)(i) + 1 == n ? 0 : (int)(i) + 1))
    for (size_t k = 0; k < n; k++) {
        const size_t i = k == 0 ? n - 1 : k - 1;
        char label[64], path[64];
        snprintf(label, sizeof label, "listen %s", m[i].name);
        snprintf(path, sizeof path, "listen/%s.wav", m[i].name);
        if (!(t = mf_plan_append(p, "listen", label))) return -1;
        const int src_stats = i + 1 == n && stats.task < 0;
        t->params = s_dump(json_pack("{s:s, s:b}", "system", m[i].name, "source", src_stats));
        t->n_out = 3 + (size_t)src_stats; /* the file, its manifest entry, statistics */
        t->audio_s = audio_s;
        if (!t->params || s_add_in(t, src)) return -1;
        mf_port_t file = {.task = TASK_OF(i), .output = 0};
        mf_port_t info = {.task = TASK_OF(i), .output = 1};
        if (mf_plan_add_output(p, strdup(path), file, "raw", 0, 0, &info)) return -1;
    }
    if (!(t = mf_plan_append(p, "listen_report", "listen report"))) return -1;
    t->params = s_dump(json_pack("{s:s}", "source", name));
    t->n_out = 1;
    if (stats.task < 0) stats = (mf_port_t){.task = TASK_OF(n - 1), .output = 3};
    if (!t->params || s_add_in(t, stats)) return -1;
    for (size_t i = 0; i < n; i++) /* in mf_playback_models() order */
        if (s_add_in(t, (mf_port_t){.task = TASK_OF(i), .output = 2})) return -1;
    if (s_report_completes_qc(p, t)) return -1;
#undef TASK_OF
    mf_port_t json = {.task = (int)p->n_tasks - 1, .output = 0};
    return mf_plan_add_output(p, strdup("listen.json"), json, "raw", 0, 0, NULL);
}

/* The match task before mastering; returns its index or -1. */
static int s_match(mf_plan_t *p, const mf_session_t *s, int mastering, int decode)
{
    mf_plan_task_t *mt = &p->tasks[mastering];
    const mf_target_spec_t tg = mf_plan_target(s->mastering);
    const int to_ref = isnan(tg.lufs);
    json_error_t jerr;
    json_t *spec = to_ref ? json_loads(mt->params, 0, &jerr) : NULL;
    if (to_ref && !spec) return -1;
    json_t *params = json_pack("{s:s}", "loudness", to_ref ? "reference" : "target");
    if (params && spec) json_object_set(params, "mastering", spec);
    char *text = s_dump(params);
    char *stripped = NULL; /* the mastering task keeps its limiter alone */
    if (spec && !json_object_set_new(spec, "inserts", json_array()))
        stripped = s_dump(spec);
    else
        json_decref(spec);
    mf_port_t mix = mt->in[0];
    mf_plan_task_t *t = text && (!to_ref || stripped) ? mf_plan_append(p, "match", "match") : NULL;
    if (!t) {
        free(text), free(stripped);
        return -1;
    }
    mt = &p->tasks[mastering]; /* the append may have moved the array */
    t->params = text;
    t->n_out = 2;
    t->audio_s = mt->audio_s;
    const int match = (int)p->n_tasks - 1;
    int rc = s_add_in(t, mix) || s_add_in(t, (mf_port_t){.task = decode, .output = 0});
    /* The match task runs the inserts then: their file inputs move there,
     * after the mix and the reference. */
    for (size_t k = 1; rc == 0 && stripped && k < mt->n_in; k++) rc = s_add_in(t, mt->in[k]);
    if (rc) {
        free(stripped);
        return -1;
    }
    if (stripped) mt->n_in = 1; /* its limiter alone needs only the match's output */
    mt->in[0] = (mf_port_t){.task = match, .output = 0};
    if (stripped) free(mt->params), mt->params = stripped;
    return match;
}

/* The qc file the comparison is about (the compared name), else the first. */
static mf_qc_file_spec_t *s_compared_file(mf_qc_spec_t *qc, const char *name)
{
    for (size_t i = 0; i < qc->n_files; i++)
        if (!strcmp(qc->files[i].path, name)) return &qc->files[i];
    return qc->n_files ? &qc->files[0] : NULL;
}

int mf_plan_reference(mf_plan_t *p, const mf_session_t *s, const mf_hash_t *sources,
                      mf_qc_spec_t *qc, mf_port_list_t *qc_in)
{
    const int mastering = s->mastering ? s_find(p, "mastering") : -1;
    const char *ref = json_string_value(json_object_get(s->mastering, "reference"));
    if (mastering < 0 || !ref) return 0;
    const char *name = s_source_name(p, mastering);
    mf_plan_task_t *t = mf_plan_append(p, "decode", "decode reference");
    if (!t) return -1;
    mf_decode_spec_t d = {.from_s = 0, .length_s = -1, .start_s = 0, .rate = s->sample_rate};
    t->params = mf_decode_spec_to_json(&d);
    t->n_out = 1;
    mf_port_t blob = {.task = -1, .output = 0, .blob = sources[s->n_tracks + 1]};
    if (!t->params || s_add_in(t, blob)) return -1;
    const int decode = (int)p->n_tasks - 1,
              match_on = json_is_true(json_object_get(s->mastering, "match_reference"));
    const int match = match_on ? s_match(p, s, mastering, decode) : -1;
    if (match_on && match < 0) return -1;
    t = mf_plan_append(p, "compare", "compare reference");
    if (!t) return -1;
    t->params = s_dump(json_pack("{s:s, s:s}", "file", name, "reference", ref));
    t->n_out = 2;
    t->audio_s = p->tasks[mastering].audio_s;
    if (!t->params || s_add_in(t, (mf_port_t){.task = mastering, .output = 0}) ||
        s_add_in(t, (mf_port_t){.task = decode, .output = 0}) ||
        (match >= 0 && s_add_in(t, (mf_port_t){.task = match, .output = 1})))
        return -1;
    const mf_port_t doc = {.task = (int)p->n_tasks - 1, .output = 0},
                    html = {.task = (int)p->n_tasks - 1, .output = 1};
    mf_qc_file_spec_t *f = s_compared_file(qc, name);
    const long in = f ? mf_port_list_add(qc_in, doc) : 0;
    if (in < 0) return -1;
    if (f) f->compare = 1 + in; /* qc.json and qc.html report it too */
    return mf_plan_add_output(p, strdup("reference.json"), doc, "raw", 0, 0, NULL) ||
                   mf_plan_add_output(p, strdup("reference.html"), html, "raw", 0, 0, NULL)
               ? -1
               : 0;
}

int mf_plan_listen(mf_plan_t *p, const mf_session_t *s)
{
    const int mastering = s->mastering ? s_find(p, "mastering") : -1;
    const mf_port_t src = mastering >= 0 ? (mf_port_t){.task = mastering, .output = 0} : p->mix;
    if (src.task < 0) return 0;
    /* An unmastered mix's qc gives its statistics as a third output (plan_outputs.c). */
    const int qc = mastering < 0 ? s_find(p, "qc") : -1;
    const mf_port_t stats = qc >= 0 && p->tasks[qc].n_out == 3
                                ? (mf_port_t){.task = qc, .output = 2}
                                : (mf_port_t){.task = -1};
    return s_listen(p, src, stats, s_source_name(p, mastering), p->tasks[src.task].audio_s);
}
