/* compare and match: a session's mastering.reference at work.
 *
 * compare {"file", "reference"}: input 0 the signal compared (the master,
 *   or the mix), input 1 the reference decoded at the session rate, input 2
 *   (optional) the match task's report. Output 0: reference.json (the
 *   document of `mixfarm compare --json`, plus "match" when matched; the qc
 *   task reads it too, for qc.json and qc.html); output 1: reference.html.
 * match {"loudness": "target" | "reference", "mastering": {...}}: input 0
 *   the mix, input 1 the reference. Output 0: the mix through the
 *   tonal-balance FIRs of qc/mf_match.h (mid and side), aligned with the
 *   mix; with "reference" loudness also through the mastering spec's inserts
 *   and the mastering core's gain search and true-peak limiter, aiming at
 *   the reference's integrated loudness. Output 1: a JSON report (curve,
 *   loudness, gain). */
#include "exec_internal.h"
#include "mf_blob_json.h"
#include "mf_compare.h"
#include "master_inserts.h"
#include "master_spill.h"
#include "mf_master.h"
#include "mf_master_params.h"
#include "mf_match.h"
#include "mf_pcm.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Streams a signal from timeline 0 to its end through a callback. */
typedef mf_err_t (*block_fn)(void *ctx, const float *buf, size_t frames);

static mf_err_t s_stream(mf_store_t *st, const mf_hash_t *h, int *ch, double *rate,
                         mf_err_t (*open)(void *ctx, int ch, double rate), block_fn fn, void *ctx)
{
    mf_pcm_reader_t *rd;
    mf_err_t err = mf_pcm_reader_open(st, h, &rd);
    if (err != MF_OK) return err;
    const mf_pcm_info_t *info = mf_pcm_reader_info(rd);
    *ch = info->channels, *rate = info->rate;
    float *buf = malloc(sizeof(float) * 2 * MF_BLOCK);
    err = buf ? open(ctx, info->channels, info->rate) : MF_ERR_NOMEM;
    const int64_t end = info->start + info->frames;
    for (int64_t f = 0; err == MF_OK && f < end; f += MF_BLOCK) {
        const size_t n = end - f < MF_BLOCK ? (size_t)(end - f) : MF_BLOCK;
        const float *x = mf_pcm_reader_span(rd, f, n, buf, &err);
        if (err == MF_OK) err = fn(ctx, x, n);
    }
    free(buf);
    mf_pcm_reader_free(&rd);
    return err;
}

/* ---- compare ---- */

typedef struct {
    mf_meter_t *m;
} meter_ctx_t;

static mf_err_t s_meter_open(void *ctx, int ch, double rate)
{
    meter_ctx_t *c = ctx;
    c->m = mf_meter_new(ch, rate);
    return c->m ? MF_OK : MF_ERR_INVALID;
}

static mf_err_t s_meter_feed(void *ctx, const float *buf, size_t n)
{
    return mf_meter_feed(((meter_ctx_t *)ctx)->m, buf, n);
}

static mf_err_t s_measure(mf_store_t *st, const mf_hash_t *h, mf_measure_t *out, int *ok)
{
    meter_ctx_t c = {0};
    int ch;
    double rate;
    mf_err_t err = s_stream(st, h, &ch, &rate, s_meter_open, s_meter_feed, &c);
    if (err == MF_OK) err = mf_meter_finish(c.m, out), *ok = 1;
    mf_meter_free(&c.m);
    return err;
}

mf_err_t mf_exec_compare(mf_store_t *st, const mf_task_t *t, mf_task_result_t *r)
{
    json_error_t jerr;
    json_t *p = json_loads(t->params, 0, &jerr);
    const char *file = json_string_value(json_object_get(p, "file"));
    const char *ref = json_string_value(json_object_get(p, "reference"));
    if (!file || !ref || t->n_inputs < 2 || t->n_inputs > 3) {
        json_decref(p);
        return mf_exec_fail(r, MF_ERR_INVALID, "compare: bad parameters");
    }
    mf_measure_t a, b;
    int ok_a = 0, ok_b = 0;
    mf_err_t err = s_measure(st, &t->inputs[0], &a, &ok_a);
    if (err == MF_OK) err = s_measure(st, &t->inputs[1], &b, &ok_b);
    json_t *doc = err == MF_OK ? mf_compare_json(file, ref, &a, &b) : NULL;
    if (err == MF_OK && !doc) err = MF_ERR_NOMEM;
    if (doc && t->n_inputs == 3) json_object_set_new(doc, "match", mf_blob_json(st, &t->inputs[2]));
    char *json = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    char *html = NULL;
    size_t html_len = 0;
    FILE *mem = err == MF_OK ? open_memstream(&html, &html_len) : NULL;
    if (err == MF_OK) err = json && mem ? mf_compare_html(mem, file, ref, &a, &b) : MF_ERR_NOMEM;
    if (mem) fclose(mem);
    if (err == MF_OK) err = mf_exec_put_text(st, json, strlen(json), r);
    if (err == MF_OK) err = mf_exec_put_text(st, html, html_len, r);
    if (ok_a) r->audio_seconds += a.a.duration_s;
    if (ok_b) r->audio_seconds += b.a.duration_s;
    if (err != MF_OK && !r->error) mf_exec_fail(r, err, "compare: %s", mf_strerror(err));
    if (ok_a) mf_measure_fini(&a);
    if (ok_b) mf_measure_fini(&b);
    free(json), free(html);
    json_decref(doc), json_decref(p);
    return err;
}

/* ---- match ---- */

typedef struct {
    mf_ltas_t *l;
    mf_analyzer_t *a;
} scan_ctx_t;

static mf_err_t s_scan_open(void *ctx, int ch, double rate)
{
    scan_ctx_t *c = ctx;
    c->l = mf_ltas_new(ch, rate);
    c->a = mf_analyzer_new(ch, rate, MF_ANALYZE_LOUDNESS);
    return c->l && c->a ? MF_OK : MF_ERR_INVALID;
}

static mf_err_t s_scan_feed(void *ctx, const float *buf, size_t n)
{
    scan_ctx_t *c = ctx;
    mf_ltas_feed(c->l, buf, n);
    return mf_analyzer_feed(c->a, buf, n);
}

/* The loudest-passage spectrum and the integrated loudness of a signal. */
static mf_err_t s_scan(mf_store_t *st, const mf_hash_t *h, mf_ltas_result_t *l, double *lufs)
{
    scan_ctx_t c = {0};
    int ch;
    double rate;
    mf_err_t err = s_stream(st, h, &ch, &rate, s_scan_open, s_scan_feed, &c);
    mf_analysis_t an;
    if (err == MF_OK) {
        mf_ltas_finish(c.l, l);
        err = mf_analyzer_finish(c.a, &an);
        *lufs = err == MF_OK ? an.integrated_lufs : NAN;
        if (err == MF_OK) mf_analysis_fini(&an);
    }
    mf_ltas_free(&c.l);
    mf_analyzer_free(&c.a);
    return err;
}

/* The mix through the FIRs, as a re-readable source aligned with the mix
 * (the convolution's latency and the filters' delay taken out). */
typedef struct {
    mf_store_t *st;
    const mf_hash_t *h;
    mf_pcm_reader_t *rd;
    int ch;
    int64_t end, in_pos, out_pos;
    size_t lat, drop;
    mf_fftconv_t *conv[2];
    float *x, *pl[2]; /* a block read, and its mid and side */
    size_t pend_off, pend_n;
} fir_src_t;

static mf_err_t s_fir_rewind(void *ctx)
{
    fir_src_t *f = ctx;
    mf_pcm_reader_free(&f->rd);
    for (int c = 0; c < f->ch; c++) mf_fftconv_reset(f->conv[c]);
    f->in_pos = f->out_pos = 0, f->drop = f->lat, f->pend_off = f->pend_n = 0;
    return mf_pcm_reader_open(f->st, f->h, &f->rd);
}

/* Reads, splits and filters the next block (past the end the reader gives
 * zeros, which flush the filters). */
static mf_err_t s_fir_block(fir_src_t *f)
{
    mf_err_t err = mf_pcm_reader_read_span(f->rd, f->in_pos, MF_BLOCK, f->x);
    if (err != MF_OK) return err;
    f->in_pos += MF_BLOCK;
    if (f->ch == 2)
        for (size_t i = 0; i < MF_BLOCK; i++) {
            f->pl[0][i] = 0.5f * (f->x[2 * i] + f->x[2 * i + 1]);
            f->pl[1][i] = 0.5f * (f->x[2 * i] - f->x[2 * i + 1]);
        }
    else
        memcpy(f->pl[0], f->x, MF_BLOCK * sizeof *f->x);
    for (int c = 0; c < f->ch; c++) mf_fftconv_process(f->conv[c], f->pl[c], f->pl[c], MF_BLOCK);
    const size_t skip = f->drop < MF_BLOCK ? f->drop : MF_BLOCK;
    f->drop -= skip;
    f->pend_off = skip, f->pend_n = MF_BLOCK - skip;
    return MF_OK;
}

static mf_err_t s_fir_read(void *ctx, float *buf, size_t max, size_t *got)
{
    fir_src_t *f = ctx;
    *got = 0;
    while (*got < max && f->out_pos < f->end) {
        if (!f->pend_n) {
            mf_err_t err = s_fir_block(f);
            if (err != MF_OK) return err;
            continue;
        }
        size_t n = f->pend_n < max - *got ? f->pend_n : max - *got;
        if ((int64_t)n > f->end - f->out_pos) n = (size_t)(f->end - f->out_pos);
        float *o = buf + *got * (size_t)f->ch;
        const float *m = f->pl[0] + f->pend_off, *s = f->pl[1] + f->pend_off;
        if (f->ch == 2)
            for (size_t i = 0; i < n; i++) o[2 * i] = m[i] + s[i], o[2 * i + 1] = m[i] - s[i];
        else
            memcpy(o, m, n * sizeof *o);
        f->pend_off += n, f->pend_n -= n, f->out_pos += (int64_t)n, *got += n;
    }
    return MF_OK;
}

typedef struct {
    mf_store_t *st;
    mf_pcm_writer_t *w;
    int ch, rate;
} sink_t;

static mf_err_t s_sink_begin(void *ctx)
{
    sink_t *k = ctx;
    mf_pcm_writer_abort(k->w);
    k->w = mf_pcm_writer_new(k->st, k->ch, k->rate, 0);
    return k->w ? MF_OK : MF_ERR_IO;
}

static mf_err_t s_sink_write(void *ctx, const float *buf, size_t frames)
{
    sink_t *k = ctx;
    return k->w ? mf_pcm_writer_write(k->w, buf, frames) : MF_ERR_INVALID;
}

static json_t *s_curve_json(const mf_match_curve_t *c)
{
    json_t *hz = json_array(), *m = json_array(), *s = c->side ? json_array() : json_null();
    for (size_t i = 0; i < c->n; i++) {
        json_array_append_new(hz, json_real(round(c->hz[i] * 10.0) / 10.0));
        json_array_append_new(m, mf_json_db(c->mid_db[i]));
        if (c->side) json_array_append_new(s, mf_json_db(c->side_db[i]));
    }
    return json_pack("{s:o, s:o, s:o}", "freq_hz", hz, "mid_db", m, "side_db", s);
}

/* The mastering core over the filtered mix, aiming at the reference's
 * loudness (the spec's inserts, limiter and ceiling). */
static mf_err_t s_master_to(mf_store_t *st, const mf_task_t *t, const json_t *mspec, double lufs,
                            fir_src_t *src, sink_t *sink, mf_master_result_t *res,
                            mf_task_result_t *r)
{
    char *text = json_dumps(mspec, JSON_COMPACT | JSON_SORT_KEYS);
    mf_mastering_spec_t spec;
    const char *why = "";
    if (!text || mf_mastering_spec_from_json(text, &spec, &why) != MF_OK) {
        free(text);
        return mf_exec_fail(r, MF_ERR_INVALID, "match: bad mastering parameters: %s", why);
    }
    free(text);
    mf_master_inserts_t ins; /* file inputs after the mix and the reference */
    if (mf_master_inserts_load(st, t, &spec, 2, &ins, r) != MF_OK) {
        mf_mastering_spec_fini(&spec);
        return MF_ERR_INVALID;
    }
    mf_master_config_t cfg = {
        .channels = src->ch,
        .rate = spec.rate,
        .tempo_bpm = spec.tempo_bpm,
        .inserts = ins.ins,
        .n_inserts = spec.n_inserts,
        .target = {"reference", isfinite(lufs) ? lufs : NAN, spec.target.true_peak_dbtp},
        .ceiling_dbtp = spec.ceiling_dbtp,
        .release_ms = spec.release_ms,
        .lookahead_ms = spec.lookahead_ms,
        .margin_db = NAN};
    /* The filtered mix costs FFTs: kept for the passes after the first. */
    mf_master_spill_file_t spill = {0};
    cfg.spill = mf_master_spill_open(st, &spill);
    mf_master_source_t so = {s_fir_rewind, s_fir_read, src};
    mf_master_sink_t si = {s_sink_begin, s_sink_write, sink};
    mf_err_t err = mf_master_run(&cfg, &so, &si, res);
    mf_master_spill_close(&spill);
    mf_master_inserts_fini(&ins);
    mf_mastering_spec_fini(&spec);
    return err;
}

static json_t *s_match_report(const char *mode, const mf_match_curve_t *c, double mix_lufs,
                              double ref_lufs, size_t taps, const mf_master_result_t *res)
{
    json_t *result = res ? json_pack("{s:o, s:o, s:o, s:i, s:b}", "integrated_lufs",
                                     mf_json_db(res->integrated_lufs), "true_peak_dbtp",
                                     mf_json_db(res->true_peak_dbtp), "max_reduction_db",
                                     mf_json_db(res->max_reduction_db), "passes", res->passes,
                                     "within_target", res->within_target)
                         : json_null();
    return json_pack("{s:s, s:o, s:o, s:o, s:I, s:f, s:f, s:o, s:o}", "loudness", mode, "mix_lufs",
                     mf_json_db(mix_lufs), "reference_lufs", mf_json_db(ref_lufs), "gain_db",
                     mf_json_db(res ? res->gain_db : 0.0), "taps", (json_int_t)taps, "smooth_oct",
                     MF_MATCH_SMOOTH_OCT, "max_db", MF_MATCH_MAX_DB, "result", result, "curve",
                     s_curve_json(c));
}

mf_err_t mf_exec_match(mf_store_t *st, const mf_task_t *t, mf_task_result_t *r)
{
    json_error_t jerr;
    json_t *p = json_loads(t->params, 0, &jerr);
    const char *mode = json_string_value(json_object_get(p, "loudness"));
    const json_t *mspec = json_object_get(p, "mastering");
    const int to_ref = mode && !strcmp(mode, "reference");
    if (!mode || (!to_ref && strcmp(mode, "target")) || (to_ref && !json_is_object(mspec)) ||
        t->n_inputs < 2 || (!to_ref && t->n_inputs != 2)) {
        json_decref(p);
        return mf_exec_fail(r, MF_ERR_INVALID, "match: bad parameters");
    }
    mf_ltas_result_t *lm = calloc(2, sizeof *lm), *lr = lm ? lm + 1 : NULL;
    mf_match_curve_t *curve = calloc(1, sizeof *curve);
    double mix_lufs = NAN, ref_lufs = NAN;
    fir_src_t src = {.st = st, .h = &t->inputs[0]};
    sink_t sink = {.st = st};
    mf_pcm_info_t info;
    mf_err_t err = lm && curve ? mf_pcm_info(st, &t->inputs[0], &info) : MF_ERR_NOMEM;
    if (err == MF_OK) err = s_scan(st, &t->inputs[0], lm, &mix_lufs);
    if (err == MF_OK) err = s_scan(st, &t->inputs[1], lr, &ref_lufs);
    const size_t taps = err == MF_OK ? mf_match_taps(info.rate) : 0;
    float *h = taps ? malloc(taps * sizeof *h) : NULL;
    if (err == MF_OK) {
        mf_match_design(lm, lr, curve);
        src.ch = info.channels, src.end = info.start + info.frames;
        src.x = malloc(sizeof(float) * 2 * MF_BLOCK);
        src.pl[0] = malloc(sizeof(float) * MF_BLOCK);
        src.pl[1] = malloc(sizeof(float) * MF_BLOCK);
        err = h && src.x && src.pl[0] && src.pl[1] ? MF_OK : MF_ERR_NOMEM;
    }
    for (int c = 0; err == MF_OK && c < src.ch; c++) {
        if (mf_match_fir(curve, c, info.rate, h, taps) ||
            !(src.conv[c] = mf_fftconv_new(h, taps, 0)))
            err = MF_ERR_NOMEM;
        else
            src.lat = mf_fftconv_latency(src.conv[c]) + taps / 2;
    }
    sink.ch = src.ch, sink.rate = info.rate;
    mf_master_result_t res;
    if (err == MF_OK && to_ref) {
        err = s_master_to(st, t, mspec, ref_lufs, &src, &sink, &res, r);
    } else if (err == MF_OK) { /* the filtered mix alone: the mastering task follows */
        err = s_fir_rewind(&src);
        if (err == MF_OK) err = s_sink_begin(&sink);
        float *buf = malloc(sizeof(float) * 2 * MF_BLOCK);
        size_t got = 1;
        if (!buf) err = MF_ERR_NOMEM;
        while (err == MF_OK && got) {
            err = s_fir_read(&src, buf, MF_BLOCK, &got);
            if (err == MF_OK && got) err = s_sink_write(&sink, buf, got);
        }
        free(buf);
    }
    mf_hash_t out;
    if (err == MF_OK) {
        err = mf_pcm_writer_commit(sink.w, &out);
        sink.w = NULL;
    }
    if (err == MF_OK) err = mf_exec_add_output(r, &out);
    if (err == MF_OK) {
        json_t *rep = s_match_report(mode, curve, mix_lufs, ref_lufs, taps, to_ref ? &res : NULL);
        char *text = rep ? json_dumps(rep, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
        err = text ? mf_exec_put_text(st, text, strlen(text), r) : MF_ERR_NOMEM;
        free(text);
        json_decref(rep);
        r->audio_seconds = (double)src.end / info.rate;
    }
    if (err != MF_OK && !r->error) mf_exec_fail(r, err, "match: %s", mf_strerror(err));
    mf_pcm_writer_abort(sink.w);
    mf_pcm_reader_free(&src.rd);
    for (int c = 0; c < 2; c++) mf_fftconv_free(&src.conv[c]), free(src.pl[c]);
    free(src.x), free(h), free(lm), free(curve);
    json_decref(p);
    return err;
}
