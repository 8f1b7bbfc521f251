/* Deliverables as tasks: one encode task per output (worker/exec_encode.c
 * writes the file, checked by decoding it), its file under OUTDIR, and its
 * bytes and report handed to the qc task, which measures it decoded.
 *
 * Names (CLI.md): "<base>.<ext>"; when two outputs share an extension,
 * "<base> <bits>-<rate>.<ext>" (for lossy files the bitrate stands for the
 * bits: "320k", or "V2" for VBR quality 2); an output's own "name" wins.
 * Defaults: wav, aiff and flac 24-bit; mp3 320 kbps CBR; opus 160 kbps;
 * the rate is the master's, except Opus (always 48 kHz) and an MP3 from a
 * rate MP3 lacks (44.1 kHz for the 44.1 family, else 48 kHz). */
#include "mf_mp3_rates.h"
#include "plan_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long mf_port_list_add(mf_port_list_t *l, mf_port_t port)
{
    mf_port_t *v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v) return -1;
    l->v = v;
    l->v[l->n] = port;
    return (long)l->n++;
}

int mf_plan_qc_file(mf_qc_spec_t *qc, const char *path, size_t input, int rate, int bits,
                    int lossless, const char *decode, long report)
{
    mf_qc_file_spec_t *f = realloc(qc->files, (qc->n_files + 1) * sizeof *f);
    if (!f) return -1;
    qc->files = f;
    f = &qc->files[qc->n_files];
    *f = (mf_qc_file_spec_t){.path = strdup(path),
                             .input = input,
                             .rate = rate,
                             .bits = bits,
                             .lossless = lossless,
                             .report = report,
                             .red_book = -1,
                             .levels = -1,
                             .timings = -1};
    snprintf(f->decode, sizeof f->decode, "%s", decode);
    if (!f->path) return -1;
    qc->n_files++;
    return 0;
}

/* One output, all defaults filled. */
static void s_spec(const json_t *o, const mf_deliver_set_t *d, mf_encode_spec_t *e)
{
    memset(e, 0, sizeof *e);
    const char *fmt = json_string_value(json_object_get(o, "format"));
    snprintf(e->format, sizeof e->format, "%s", fmt ? fmt : "wav");
    const json_t *b = json_object_get(o, "bits");
    e->bits = mf_encode_lossy(e->format) ? 0
              : json_is_string(b)        ? 32 /* "32f" */
              : json_is_integer(b)       ? (int)json_integer_value(b)
                                         : 24;
    e->rate = json_is_integer(json_object_get(o, "sample_rate"))
                  ? (int)json_integer_value(json_object_get(o, "sample_rate"))
                  : d->rate;
    if (!strcmp(e->format, "opus")) e->rate = 48000;
    const int mp3 = !strcmp(e->format, "mp3");
    if (mp3) e->rate = mf_mp3_rate(e->rate);
    e->vbr_quality = mf_plan_num_or(o, "vbr_quality", NAN);
    e->bitrate_kbps = (int)mf_plan_num_or(o, "bitrate_kbps", 0);
    /* By default the best the rate allows: 320 kbps, 160 below 32 kHz, 64
     * below 16 (LAME would give those for 320 and the manifest say 320). */
    if (mf_encode_lossy(e->format) && isnan(e->vbr_quality) && !e->bitrate_kbps)
        e->bitrate_kbps = mp3 ? mf_mp3_max_kbps(e->rate) : 160;
    e->noise_shaping = json_is_true(json_object_get(o, "noise_shaping")) && e->bits < 32;
    e->ceiling_dbtp = d->ceiling_dbtp;
    e->release_ms = d->release_ms;
    e->lookahead_ms = d->lookahead_ms;
    e->gain_db = d->gain_db;
    e->cover = d->cover != NULL;
    if (d->tags) memcpy(e->tags, d->tags, sizeof e->tags); /* borrowed: never freed here */
}

/* "24", "320k", "V2": what tells outputs of one format apart. */
static void s_depth(const mf_encode_spec_t *e, char *out, size_t n)
{
    if (!mf_encode_lossy(e->format))
        snprintf(out, n, "%d", e->bits);
    else if (!isnan(e->vbr_quality))
        snprintf(out, n, "V%g", e->vbr_quality);
    else
        snprintf(out, n, "%dk", e->bitrate_kbps);
}

static void s_name(const json_t *outs, size_t i, const mf_deliver_set_t *d,
                   const mf_encode_spec_t *e, char *file, size_t n)
{
    const char *own = json_string_value(json_object_get(json_array_get(outs, i), "name"));
    size_t same = 0;
    for (size_t k = 0; k < json_array_size(outs); k++) {
        const char *f2 = json_string_value(json_object_get(json_array_get(outs, k), "format"));
        same += f2 && !strcmp(f2, e->format);
    }
    char name[300], depth[32];
    if (own) {
        snprintf(name, sizeof name, "%s%s%s", own, strchr(own, '.') ? "" : ".",
                 strchr(own, '.') ? "" : e->format);
    } else if (same > 1) {
        s_depth(e, depth, sizeof depth);
        snprintf(name, sizeof name, "%s %s-%d.%s", d->base, depth, e->rate, e->format);
    } else {
        snprintf(name, sizeof name, "%s.%s", d->base, e->format);
    }
    mf_file_name_clean(name);
    snprintf(file, n, "%s%s", d->dir, name);
}

/* Two outputs that mean the same file (wav and wav 24): the later one
 * gets " 2", " 3"... before its extension. */
static void s_unique(const mf_plan_t *p, char *file, size_t n)
{
    char orig[400];
    snprintf(orig, sizeof orig, "%s", file);
    char *dot = strrchr(orig, '.');
    for (int k = 2;; k++) {
        int taken = 0;
        for (size_t i = 0; i < p->n_outputs; i++) /* "Final" and "final" too: one file on macOS */
            taken |= mf_file_name_same(p->outputs[i].path, file);
        if (!taken) return;
        int len = dot ? snprintf(file, n, "%.*s %d%s", (int)(dot - orig), orig, k, dot)
                      : snprintf(file, n, "%s %d", orig, k);
        if (len < 0 || (size_t)len >= n) return; /* a 400-character name: left as it is */
    }
}

void mf_plan_deliverable_name(const mf_deliver_set_t *d, size_t i, char *file, size_t n,
                              char format[8])
{
    json_t *def = NULL;
    const json_t *outs = d->outputs;
    if (!outs || json_array_size(outs) == 0)
        outs = def = json_pack("[{s:s,s:i}]", "format", "wav", "bits", 24);
    mf_encode_spec_t e;
    s_spec(json_array_get(outs, i), d, &e);
    s_name(outs, i, d, &e, file, n);
    snprintf(format, 8, "%s", e.format);
    json_decref(def);
}

/* An encode task's expected seconds of work per second of audio (a
 * 20-minute stereo master at 48 kHz, session 35: MP3 55 s, LAME at 320
 * kbps being most of it; Opus 21 s; FLAC with a rate change 9.4 s; WAV
 * 3.8 s), each with the decoding and measuring of the file it made. */
static double s_encode_cost(const char *format)
{
    return !strcmp(format, "mp3")    ? 0.046
           : !strcmp(format, "opus") ? 0.018
           : !strcmp(format, "flac") ? 0.008
                                     : 0.003;
}

static int s_encode_task(mf_plan_t *p, const mf_deliver_set_t *d, const mf_encode_spec_t *e,
                         const char *file, double audio_s)
{
    char label[480];
    snprintf(label, sizeof label, "encode %s", file);
    mf_plan_task_t *t = mf_plan_append(p, "encode", label);
    if (!t) return -1;
    t->params = mf_encode_spec_to_json(e);
    t->in = calloc(3, sizeof *t->in);
    t->n_out = 3; /* the file, its report, its analysis (for the qc task) */
    t->audio_s = audio_s;
    t->cost = audio_s * s_encode_cost(e->format);
    if (!t->params || !t->in) return -1;
    t->in[t->n_in++] = d->signal;
    t->in[t->n_in++] = d->report;
    if (d->cover) t->in[t->n_in++] = (mf_port_t){.task = -1, .blob = *d->cover};
    return 0;
}

int mf_plan_encodes(mf_plan_t *p, const mf_deliver_set_t *d, mf_qc_spec_t *qc,
                    mf_port_list_t *qc_in)
{
    json_t *def = NULL;
    const json_t *outs = d->outputs;
    if (!outs || json_array_size(outs) == 0)
        outs = def = json_pack("[{s:s,s:i}]", "format", "wav", "bits", 24);
    double audio_s = d->signal.task >= 0 ? p->tasks[d->signal.task].audio_s : 0;
    int rc = outs ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < json_array_size(outs); i++) {
        mf_encode_spec_t e;
        s_spec(json_array_get(outs, i), d, &e);
        char file[400];
        s_name(outs, i, d, &e, file, sizeof file);
        s_unique(p, file, sizeof file);
        rc = s_encode_task(p, d, &e, file, audio_s);
        int task = (int)p->n_tasks - 1;
        mf_port_t bytes = {.task = task, .output = 0}, report = {.task = task, .output = 1},
                  analysis = {.task = task, .output = 2};
        /* The qc task reads the analysis the encode task made of the file
         * it checked, rather than decoding the file again. */
        long in_file = rc == 0 ? mf_port_list_add(qc_in, analysis) : -1;
        long in_rep = in_file >= 0 ? mf_port_list_add(qc_in, report) : -1;
        if (in_rep < 0) rc = -1;
        if (rc == 0) rc = mf_plan_add_output(p, strdup(file), bytes, "raw", 0, 0, &report);
        if (rc == 0)
            rc = mf_plan_qc_file(qc, file, (size_t)in_file, e.rate, e.bits,
                                 !mf_encode_lossy(e.format), MF_QC_ANALYSIS, in_rep);
    }
    json_decref(def);
    return rc;
}

/* ---- tags ---- */

int mf_plan_tags(const json_t *metadata, const char *title, char *tags[MF_TAG__COUNT])
{
    memset(tags, 0, MF_TAG__COUNT * sizeof *tags);
    for (int i = 0; i < MF_TAG__COUNT; i++) {
        const json_t *v = json_object_get(metadata, mf_tag_key((mf_tag_t)i));
        char num[32], *val = NULL;
        if (json_is_string(v)) {
            val = strdup(json_string_value(v));
        } else if (json_is_integer(v)) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
            val = strdup(num);
        } else if (i == MF_TAG_TITLE && title) {
            val = strdup(title);
        } else {
            continue;
        }
        if (!val) return -1;
        if (i == MF_TAG_ISRC) { /* 12 characters, upper case, no hyphens (TSRC, ISRC) */
            char *w = val;
            for (const char *c = val; *c; c++)
                if (*c != '-') *w++ = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
            *w = 0;
        }
        tags[i] = val;
    }
    return 0;
}

void mf_plan_tags_free(char *tags[MF_TAG__COUNT])
{
    for (int i = 0; i < MF_TAG__COUNT; i++) free(tags[i]), tags[i] = NULL;
}
