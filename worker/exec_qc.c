/* qc: measures what a render delivers and writes qc.json and qc.html as
 * blobs, one entry per delivered file. A file compared with the session's
 * mastering.reference has the compare task's document as one more input;
 * it becomes the entry's "reference" and a section of qc.html.
 *
 * An input is either a signal (the mix of an unmastered session) or a
 * delivered file's bytes, measured after decoding it as a player would
 * (deliver_decode.c): a lossy deliverable is judged by what comes out of
 * its decoder, inter-sample overs of the codec included. Each input is
 * measured once. A file with an encode report is also checked for length:
 * a lossless file has exactly the master's length at its rate; a lossy one,
 * once its decoder trimmed delay and padding, within LOSSY_LENGTH_MS.
 *
 * With "source_stats" (an unmastered session, whose listening copies are
 * made from the mix this task measures), a third output: the mix's
 * statistics for listen_report (listen_stats.h), its loudest passages'
 * spectrum taken in the same pass, so no listen task measures it again. */
#include "deliver_int.h"
#include "exec_internal.h"
#include "listen_stats.h"
#include "mf_analysis_blob.h"
#include "mf_blob_json.h"
#include "mf_master_params.h"
#include "mf_pcm.h"
#include "mf_qc_album.h"
#include "mf_qc_report.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOSSY_LENGTH_MS 5.0

/* ltas (NULL: none) is fed the same frames. */
static mf_err_t s_analyze_signal(mf_store_t *s, const mf_hash_t *h, mf_analysis_t *out,
                                 mf_ltas_t **ltas)
{
    mf_pcm_reader_t *rd;
    mf_err_t err = mf_pcm_reader_open(s, h, &rd);
    if (err != MF_OK) return err;
    const mf_pcm_info_t *info = mf_pcm_reader_info(rd);
    mf_analyzer_t *a = mf_analyzer_new(info->channels, info->rate, MF_ANALYZE_ALL);
    if (ltas) *ltas = mf_ltas_new(info->channels, info->rate);
    float *buf = malloc(sizeof(float) * 2 * MF_BLOCK);
    int64_t end = info->start + info->frames; /* delivered from timeline 0 */
    err = a && buf && (!ltas || *ltas) ? MF_OK : MF_ERR_NOMEM;
    for (int64_t f = 0; err == MF_OK && f < end; f += MF_BLOCK) {
        size_t n = end - f < MF_BLOCK ? (size_t)(end - f) : MF_BLOCK;
        const float *x = mf_pcm_reader_span(rd, f, n, buf, &err);
        if (err == MF_OK) err = mf_analyzer_feed(a, x, n);
        if (err == MF_OK && ltas) mf_ltas_feed(*ltas, x, n);
    }
    if (err == MF_OK) err = mf_analyzer_finish(a, out);
    mf_analyzer_free(&a);
    free(buf);
    mf_pcm_reader_free(&rd);
    return err;
}

/* The analysis an encode task made of the file it wrote (its third output). */
static mf_err_t s_load_analysis(mf_store_t *s, const mf_qc_file_spec_t *f, const mf_hash_t *h,
                                mf_analysis_t *out, mf_task_result_t *r)
{
    size_t n = 0;
    char *b = mf_store_read_text(s, h, (size_t)1 << 28, &n); /* 80 min: about 1 MB */
    mf_err_t err = b ? mf_analysis_unpack((const unsigned char *)b, n, out) : MF_ERR_NOENT;
    free(b);
    if (err != MF_OK)
        mf_exec_fail(r, err, "qc: %s: its analysis %.12s: %s", f->path, h->hex, mf_strerror(err));
    return err;
}

static mf_err_t s_analyze_file(mf_store_t *s, const mf_qc_file_spec_t *f, const mf_hash_t *h,
                               mf_analysis_t *out, mf_task_result_t *r)
{
    char *path = mf_store_path(s, h), why[256] = "";
    mf_decoded_t dec;
    mf_err_t err =
        path ? mf_deliver_measure(path, MF_ANALYZE_ALL, out, &dec, why, sizeof why) : MF_ERR_NOMEM;
    free(path);
    if (err != MF_OK) mf_exec_fail(r, err, "qc: %s: %s", f->path, why[0] ? why : mf_strerror(err));
    return err;
}

/* The length check against the encode report; returns its "qc" object
 * (borrowed from rep) for the file's entry. */
static json_t *s_check_length(const mf_qc_file_spec_t *f, const json_t *rep, const mf_analysis_t *a,
                              mf_qc_problems_t *p)
{
    json_t *q = json_object_get(rep, "qc");
    const json_t *exp = json_object_get(q, "expected_frames");
    if (!json_is_integer(exp) || p->count >= MF_QC_MAX_PROBLEMS) return q;
    int64_t want = json_integer_value(exp), diff = a->frames - want;
    double ms = 1000.0 * (double)diff / a->rate;
    json_object_set_new(q, "length_diff_ms", json_real(round(ms * 100) / 100));
    /* A lossy file that cannot say what to trim (LAME has no room for its
     * header in a 32 kbps frame) is as long as its decoder makes it. */
    int gapless = !json_is_false(json_object_get(q, "gapless"));
    if (f->lossless ? diff != 0 : gapless && fabs(ms) > LOSSY_LENGTH_MS) {
        mf_qc_problem_t *pr = &p->items[p->count++];
        pr->check = "length";
        pr->at_s = NAN;
        snprintf(pr->message, sizeof pr->message,
                 "decodes to %lld frames; the master is %lld at %d Hz (%+.2f ms)",
                 (long long)a->frames, (long long)want, (int)a->rate, ms);
    }
    return q;
}

/* The file's comparison with the reference track, NULL when it has none. */
static mf_err_t s_load_compare(const mf_store_t *s, const mf_task_t *t, const mf_qc_file_spec_t *f,
                               json_t **out, mf_task_result_t *r)
{
    *out = f->compare > 0 ? mf_blob_json(s, &t->inputs[f->compare - 1]) : NULL;
    if (f->compare > 0 && !json_is_object(*out))
        return mf_exec_fail(r, MF_ERR_INVALID,
                            "qc: %s: its comparison with the reference is "
                            "not a JSON object",
                            f->path);
    return MF_OK;
}

/* Album mode: the loudness a track was mastered to (worker/exec_album.c). */
static double s_album_level(const mf_store_t *s, const mf_hash_t *h, int entry)
{
    json_t *j = mf_blob_json(s, h);
    const json_t *v = json_array_get(json_object_get(j, "targets"), (size_t)entry - 1);
    double lufs = json_is_number(v) ? json_number_value(v) : NAN;
    json_decref(j);
    return lufs;
}

/* A master short of its target because more gain added no loudness (the
 * mastering search settled, mf_master.c): its loudness problem says so,
 * and what to do, rather than only how far off it is. */
static void s_explain_short(const json_t *mastering, const mf_analysis_t *a,
                            const mf_qc_target_t *tg, mf_qc_problems_t *p)
{
    const json_t *gain = json_object_get(mastering, "gain_db"),
                 *gr = json_object_get(mastering, "max_reduction_db");
    if (!json_is_false(json_object_get(mastering, "within_target")) || !json_is_number(gain) ||
        !json_is_number(gr) || !isfinite(a->integrated_lufs) ||
        !(a->integrated_lufs < tg->lufs - MF_QC_LOUDNESS_TOL_LU))
        return;
    for (size_t i = 0; i < p->count; i++) {
        mf_qc_problem_t *q = &p->items[i];
        if (strcmp(q->check, "loudness")) continue;
        const size_t used = strlen(q->message);
        snprintf(q->message + used, sizeof q->message - used,
                 "; out of reach: at %+.1f dB of gain the limiter already takes up to %.1f dB "
                 "off the peaks and more gain adds no loudness (transients too dense to recover "
                 "between): lower the target, or tame the transients before the limiter",
                 json_number_value(gain), -json_number_value(gr));
    }
}

/* An album image's pauses made on purpose (its pre-gap and gaps) from the
 * album's timings tm, malloc'd; NULL (*n 0) without timings. */
static mf_qc_span_t *s_pauses(const json_t *tm, size_t *n)
{
    const size_t tracks = json_array_size(json_object_get(tm, "tracks"));
    mf_qc_span_t *pauses = tracks ? calloc(tracks, sizeof *pauses) : NULL;
    *n = pauses ? mf_qc_album_pauses(tm, pauses, tracks) : 0;
    return pauses;
}

static mf_qc_target_t s_target(const mf_target_spec_t *t)
{
    return (mf_qc_target_t){.name = t->name, .lufs = t->lufs, .true_peak_dbtp = t->true_peak_dbtp};
}

/* An album's summary (qc/mf_qc_album.h) into qc.json as "album" and into
 * qc.html (*html, len bytes) as a section; MF_OK when not an album. */
static mf_err_t s_album(const mf_qc_spec_t *spec, const mf_qc_file_t *files, json_t *j, char **html,
                        size_t *len)
{
    if (!spec->album) return MF_OK;
    int *song = calloc(spec->n_files + 1, sizeof *song);
    for (size_t i = 0; song && i < spec->n_files; i++) song[i] = spec->files[i].song;
    json_t *album = song ? mf_qc_album_json(files, song, spec->n_files, spec->album) : NULL;
    free(song);
    char *part = NULL, *all = NULL;
    size_t part_len = 0;
    FILE *mem = album ? open_memstream(&part, &part_len) : NULL;
    mf_err_t err = mem ? mf_qc_album_html(mem, album) : MF_ERR_NOMEM;
    if (mem) fclose(mem);
    if (err == MF_OK)
        all = mf_qc_html_insert_at(*html, *len, MF_QC_HTML_SUMMARY, part, part_len, len);
    if (err == MF_OK && !all) err = MF_ERR_NOMEM;
    if (err == MF_OK) {
        json_object_set(j, "album", album);
        free(*html);
        *html = all;
    }
    json_decref(album);
    free(part);
    return err;
}

static mf_err_t s_put_reports(mf_store_t *s, const mf_qc_spec_t *spec, const mf_qc_target_t *tg,
                              const mf_qc_file_t *files, json_t **extra, mf_task_result_t *r)
{
    const size_t n = spec->n_files;
    json_t *j = mf_qc_report_json(tg, files, n);
    const json_t *entries = json_object_get(j, "files");
    for (size_t i = 0; i < n; i++)
        if (extra[i]) json_object_update(json_array_get(entries, i), extra[i]);
    char *html = NULL;
    size_t html_len = 0;
    FILE *mem = open_memstream(&html, &html_len);
    mf_err_t err = j && mem ? mf_qc_report_html(mem, tg, files, n) : MF_ERR_NOMEM;
    if (mem) fclose(mem);
    if (err == MF_OK) err = s_album(spec, files, j, &html, &html_len);
    /* 10 digits: -14.1, not -14.099999999999994 (values are rounded to 0.01). */
    char *json = err == MF_OK
                     ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(10))
                     : NULL;
    json_decref(j);
    if (err == MF_OK && !json) err = MF_ERR_NOMEM;
    if (err == MF_OK) err = mf_exec_put_text(s, json, strlen(json), r);
    if (err == MF_OK) err = mf_exec_put_text(s, html, html_len, r);
    free(json);
    free(html);
    return err;
}

mf_err_t mf_exec_qc(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r)
{
    mf_qc_spec_t spec;
    const char *why = "";
    if (mf_qc_spec_from_json(t->params, t->n_inputs, &spec, &why) != MF_OK)
        return mf_exec_fail(r, MF_ERR_INVALID, "qc: bad parameters: %s", why);
    mf_analysis_t *an = calloc(t->n_inputs + 1, sizeof *an);
    int *done = calloc(t->n_inputs + 1, sizeof *done);
    mf_qc_problems_t *probs = calloc(spec.n_files + 1, sizeof *probs);
    mf_qc_file_t *files = calloc(spec.n_files + 1, sizeof *files);
    json_t **reps = calloc(spec.n_files + 1, sizeof *reps), **extra = NULL, **cmps = NULL;
    extra = calloc(spec.n_files + 1, sizeof *extra);
    cmps = calloc(spec.n_files + 1, sizeof *cmps);
    mf_err_t err = an && done && probs && files && reps && extra && cmps ? MF_OK : MF_ERR_NOMEM;
    mf_ltas_t *ltas = NULL; /* the listening source's, with source_stats */
    for (size_t i = 0; err == MF_OK && i < spec.n_files; i++) { /* each input once */
        const mf_qc_file_spec_t *f = &spec.files[i];
        if (done[f->input]) continue;
        mf_ltas_t **lt = spec.source_stats == (long)i + 1 ? &ltas : NULL;
        const mf_hash_t *in = &t->inputs[f->input];
        err = !strcmp(f->decode, MF_QC_ANALYSIS) ? s_load_analysis(s, f, in, &an[f->input], r)
              : f->decode[0]                     ? s_analyze_file(s, f, in, &an[f->input], r)
                                                 : s_analyze_signal(s, in, &an[f->input], lt);
        done[f->input] = err == MF_OK;
        r->audio_seconds += an[f->input].duration_s;
    }
    mf_qc_target_t tg = s_target(&spec.target);
    for (size_t i = 0; err == MF_OK && i < spec.n_files; i++) {
        const mf_qc_file_spec_t *f = &spec.files[i];
        mf_qc_format_t fmt = {
            .rate = f->rate, .bits = f->bits, .lossless = f->lossless, .mono = f->mono};
        /* An album image's timings: its pauses, and its Red Book check. */
        json_t *tm = f->timings >= 0 ? mf_blob_json(s, &t->inputs[f->timings]) : NULL;
        mf_qc_span_t *pauses = s_pauses(tm, &fmt.n_pauses);
        fmt.pauses = pauses;
        mf_qc_target_t ftg = tg; /* an album's tracks and image have their own loudness */
        if (f->lufs_from == 1) ftg.lufs = NAN;
        if (f->lufs_from == 2) ftg.lufs = s_album_level(s, &t->inputs[f->levels], f->levels_entry);
        mf_qc_check(&an[f->input], &ftg, &fmt, &probs[i]);
        if (!(extra[i] = json_object())) err = MF_ERR_NOMEM;
        if (f->report >= 0 && (reps[i] = mf_blob_json(s, &t->inputs[f->report])))
            json_object_update(extra[i], s_check_length(f, reps[i], &an[f->input], &probs[i]));
        if (isfinite(ftg.lufs))
            s_explain_short(json_object_get(extra[i], "mastering"), &an[f->input], &ftg, &probs[i]);
        if (f->lufs_from) /* what the loudness check held this file to */
            json_object_set_new(extra[i], "target_lufs",
                                isnan(ftg.lufs) ? json_null()
                                                : json_real(round(ftg.lufs * 100) / 100));
        if (f->red_book >= 0) { /* an album image, for a CD */
            json_t *rb = f->red_book == f->timings ? json_incref(tm)
                                                   : mf_blob_json(s, &t->inputs[f->red_book]);
            mf_qc_red_book(rb, f->lossless, f->rate, f->bits, &probs[i]);
            json_decref(rb);
        }
        json_decref(tm);
        free(pauses);
        if (err == MF_OK) err = s_load_compare(s, t, f, &cmps[i], r);
        files[i] = (mf_qc_file_t){.path = f->path,
                                  .analysis = &an[f->input],
                                  .problems = &probs[i],
                                  .reference = cmps[i]};
    }
    if (err == MF_OK) err = s_put_reports(s, &spec, &tg, files, extra, r);
    if (err == MF_OK && spec.source_stats > 0)
        err = mf_listen_put_source_stats(s, &an[spec.files[spec.source_stats - 1].input], ltas, r);
    mf_ltas_free(&ltas);
    if (err != MF_OK && !r->error) mf_exec_fail(r, err, "qc: %s", mf_strerror(err));
    for (size_t i = 0; an && i < t->n_inputs; i++)
        if (done && done[i]) mf_analysis_fini(&an[i]);
    for (size_t i = 0; reps && extra && cmps && i < spec.n_files; i++)
        json_decref(reps[i]), json_decref(extra[i]), json_decref(cmps[i]);
    free(an);
    free(done);
    free(probs);
    free(files);
    free(reps);
    free(extra);
    free(cmps);
    mf_qc_spec_fini(&spec);
    return err;
}
