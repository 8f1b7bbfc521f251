/* An album's own tasks.
 *
 * album_levels measures every track (integrated loudness, BS.1770) and
 * gives each the loudness it is mastered to in album mode: the target for
 * the loudest, and for the others the target minus how much quieter they
 * are, so the album keeps its balance under one gain.
 *
 * sequence lays the mastered tracks end to end at the album's rate: each
 * after its gap of silence, or cross-faded with the one before (equal
 * power: sin and cos over the overlap). Every track starts on a CD frame
 * (1/75 s: 588 samples at 44.1 kHz): a gap is rounded up to whole frames, a
 * cross-fade's start down to one, and the image is padded to whole frames.
 * Outputs: the image, its timings, its loudness report and the CUE sheet. */
#include "deliver_int.h"
#include "exec_internal.h"
#include "mf_album_params.h"
#include "mf_pcm.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mf_err_t mf_exec_album_levels(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r)
{
    double target;
    const char *why = "";
    if (t->n_inputs == 0 || mf_levels_spec_from_json(t->params, &target, &why) != MF_OK)
        return mf_exec_fail(r, MF_ERR_INVALID, "album_levels: bad parameters: %s", why);
    json_t *lufs = json_array(), *targets = json_array();
    double loudest = -INFINITY;
    mf_err_t err = lufs && targets ? MF_OK : MF_ERR_NOMEM;
    for (size_t k = 0; err == MF_OK && k < t->n_inputs; k++) {
        mf_deliver_src_t *src = NULL;
        mf_pcm_info_t info;
        err = mf_pcm_info(s, &t->inputs[k], &info);
        if (err == MF_OK)
            src = mf_deliver_src_new(s, &t->inputs[k], info.rate, 0, NAN, 80, 5, &err);
        mf_analyzer_t *a =
            src ? mf_analyzer_new(info.channels, info.rate, MF_ANALYZE_LOUDNESS) : NULL;
        float *buf = malloc(sizeof(float) * MF_BLOCK * 2);
        if (err == MF_OK && (!a || !buf)) err = MF_ERR_NOMEM;
        for (size_t n = 1; err == MF_OK && n > 0;) {
            err = mf_deliver_src_read(src, buf, MF_BLOCK, &n);
            if (err == MF_OK && n) err = mf_analyzer_feed(a, buf, n);
        }
        mf_analysis_t an = {0};
        if (err == MF_OK) err = mf_analyzer_finish(a, &an);
        if (err == MF_OK) {
            json_array_append_new(lufs, isfinite(an.integrated_lufs) ? json_real(an.integrated_lufs)
                                                                     : json_null());
            if (an.integrated_lufs > loudest) loudest = an.integrated_lufs;
            r->audio_seconds += an.duration_s;
        }
        mf_analysis_fini(&an);
        mf_analyzer_free(&a);
        mf_deliver_src_free(&src);
        free(buf);
    }
    for (size_t k = 0; err == MF_OK && k < json_array_size(lufs); k++) {
        const json_t *l = json_array_get(lufs, k);
        double tk = isnan(target) ? NAN
                    : json_is_number(l) && isfinite(loudest)
                        ? target + (json_number_value(l) - loudest)
                        : target; /* a silent track: nothing to keep in balance */
        json_array_append_new(targets, isnan(tk) ? json_null() : json_real(tk));
    }
    json_t *j = json_pack("{s:o,s:o}", "lufs", lufs, "targets", targets);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(j);
    if (err == MF_OK) err = text ? mf_exec_put_text(s, text, strlen(text), r) : MF_ERR_NOMEM;
    free(text);
    if (err != MF_OK && !r->error) mf_exec_fail(r, err, "album_levels: %s", mf_strerror(err));
    return err;
}

/* ---- sequence ---- */

typedef struct {
    int64_t len, index00, start, end, xf_in; /* samples at the album's rate */
    mf_deliver_src_t *src;
} place_t;

static int64_t s_up(int64_t x, int64_t f)
{
    return (x + f - 1) / f * f;
}

/* Where every track goes (see the top of the file). */
static void s_place(const mf_sequence_spec_t *q, place_t *p, size_t n, int64_t frame,
                    int64_t *total)
{
    int64_t pos = 0;
    for (size_t k = 0; k < n; k++) {
        const mf_seq_track_t *t = &q->tracks[k];
        if (k > 0 && t->crossfade_s > 0) {
            int64_t x = llround(t->crossfade_s * q->rate);
            if (x > p[k - 1].len / 2) x = p[k - 1].len / 2;
            if (x > p[k].len / 2) x = p[k].len / 2;
            int64_t start = (pos - x) / frame * frame;
            if (start < p[k - 1].start) start = p[k - 1].start;
            p[k].index00 = p[k].start = start;
            p[k].xf_in = pos - start;
        } else {
            p[k].index00 = s_up(pos, frame);
            p[k].start = p[k].index00 + s_up(llround(t->gap_s * q->rate), frame);
        }
        p[k].end = p[k].start + p[k].len;
        pos = p[k].end;
    }
    *total = s_up(pos, frame);
}

/* Adds track k's part of [t, t + n) into out, faded where it overlaps. */
static mf_err_t s_mix_track(mf_store_t *s, const mf_task_t *tk, place_t *p, size_t k, size_t n_tr,
                            int rate, int64_t t, size_t n, float *out, float *tmp)
{
    place_t *pk = &p[k];
    int64_t a = t > pk->start ? t : pk->start,
            b = t + (int64_t)n < pk->end ? t + (int64_t)n : pk->end;
    if (a >= b) return MF_OK;
    mf_err_t err = MF_OK;
    if (!pk->src) pk->src = mf_deliver_src_new(s, &tk->inputs[k], rate, 0, NAN, 80, 5, &err);
    if (!pk->src) return err;
    size_t got = 0;
    err = mf_deliver_src_read(pk->src, tmp, (size_t)(b - a), &got);
    if (err == MF_OK && got != (size_t)(b - a)) err = MF_ERR_CORRUPT;
    int64_t fade_out = k + 1 < n_tr && p[k + 1].xf_in > 0 ? p[k + 1].start : pk->end;
    for (int64_t i = a; err == MF_OK && i < b; i++) {
        double g = 1.0;
        if (i < pk->start + pk->xf_in) /* equal power: sin^2 + cos^2 = 1 */
            g = sin(M_PI_2 * (double)(i - pk->start) / (double)pk->xf_in);
        else if (i >= fade_out)
            g = cos(M_PI_2 * (double)(i - fade_out) / (double)(pk->end - fade_out));
        float *o = out + 2 * (size_t)(i - t);
        const float *x = tmp + 2 * (size_t)(i - a);
        o[0] += (float)g * x[0], o[1] += (float)g * x[1];
    }
    if (b == pk->end) mf_deliver_src_free(&pk->src);
    return err;
}

/* The timings (output 1) and the loudness report (output 2). */
static mf_err_t s_put_reports(mf_store_t *s, const mf_sequence_spec_t *q, const place_t *p,
                              int64_t frame, int64_t total, const mf_analysis_t *an,
                              mf_task_result_t *r)
{
    json_t *tracks = json_array();
    for (size_t k = 0; tracks && k < q->n_tracks; k++)
        json_array_append_new(
            tracks, json_pack("{s:I,s:I,s:I}", "index00", (json_int_t)p[k].index00, "index01",
                              (json_int_t)p[k].start, "end", (json_int_t)p[k].end));
    json_t *tj = json_pack("{s:i,s:I,s:I,s:o}", "rate", q->rate, "frame", (json_int_t)frame,
                           "frames", (json_int_t)total, "tracks", tracks);
    json_t *lj = json_pack(
        "{s:o,s:o,s:o,s:I}", "integrated_lufs",
        isfinite(an->integrated_lufs) ? json_real(an->integrated_lufs) : json_null(), "lra_lu",
        isfinite(an->lra_lu) ? json_real(an->lra_lu) : json_null(), "true_peak_dbtp",
        isfinite(an->true_peak_dbtp) ? json_real(an->true_peak_dbtp) : json_null(), "frames",
        (json_int_t)total);
    mf_err_t err = tj && lj ? MF_OK : MF_ERR_NOMEM;
    for (int i = 0; err == MF_OK && i < 2; i++) {
        char *text =
            json_dumps(i ? lj : tj, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
        err = text ? mf_exec_put_text(s, text, strlen(text), r) : MF_ERR_NOMEM;
        free(text);
    }
    json_decref(tj);
    json_decref(lj);
    return err;
}

mf_err_t mf_exec_sequence(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r)
{
    mf_sequence_spec_t q;
    const char *why = "";
    if (mf_sequence_spec_from_json(t->params, &q, &why) != MF_OK || q.n_tracks != t->n_inputs)
        return mf_exec_fail(r, MF_ERR_INVALID, "sequence: bad parameters: %s", why);
    place_t *p = calloc(q.n_tracks, sizeof *p);
    float *out = malloc(sizeof(float) * 2 * MF_BLOCK), *tmp = malloc(sizeof(float) * 2 * MF_BLOCK);
    mf_analyzer_t *a = mf_analyzer_new(2, q.rate, MF_ANALYZE_LOUDNESS | MF_ANALYZE_TRUE_PEAK);
    mf_pcm_writer_t *w = mf_pcm_writer_new(s, 2, q.rate, 0);
    mf_err_t err = p && out && tmp && a && w ? MF_OK : MF_ERR_NOMEM;
    for (size_t k = 0; err == MF_OK && k < q.n_tracks; k++) {
        mf_pcm_info_t info;
        if ((err = mf_pcm_info(s, &t->inputs[k], &info)) != MF_OK) break;
        if (info.channels != 2)
            err = mf_exec_fail(r, MF_ERR_INVALID, "sequence: track %zu is not stereo", k + 1);
        int64_t n = info.start + info.frames;
        p[k].len = info.rate == q.rate ? n : llround((double)n * q.rate / info.rate);
    }
    int64_t frame = q.rate % 75 == 0 ? q.rate / 75 : 1, total = 0;
    if (err == MF_OK) s_place(&q, p, q.n_tracks, frame, &total);
    size_t first = 0;
    for (int64_t at = 0; err == MF_OK && at < total; at += MF_BLOCK) {
        size_t n = total - at < MF_BLOCK ? (size_t)(total - at) : MF_BLOCK;
        memset(out, 0, sizeof(float) * 2 * n);
        while (first < q.n_tracks && p[first].end <= at) first++;
        for (size_t k = first; err == MF_OK && k < q.n_tracks && p[k].start < at + (int64_t)n; k++)
            err = s_mix_track(s, t, p, k, q.n_tracks, q.rate, at, n, out, tmp);
        if (err == MF_OK) err = mf_analyzer_feed(a, out, n);
        if (err == MF_OK) err = mf_pcm_writer_write(w, out, n);
    }
    mf_analysis_t an = {0};
    mf_hash_t h;
    if (err == MF_OK) err = mf_analyzer_finish(a, &an);
    if (err == MF_OK) {
        err = mf_pcm_writer_commit(w, &h);
        w = NULL;
        if (err == MF_OK) err = mf_exec_add_output(r, &h);
    }
    if (err == MF_OK) err = s_put_reports(s, &q, p, frame, total, &an, r);
    char *cue = NULL;
    if (err == MF_OK) {
        int64_t *i00 = malloc(q.n_tracks * sizeof *i00), *i01 = malloc(q.n_tracks * sizeof *i01);
        for (size_t k = 0; i00 && i01 && k < q.n_tracks; k++)
            i00[k] = p[k].index00, i01[k] = p[k].start;
        cue = i00 && i01 ? mf_album_cue(&q, i00, i01, frame) : NULL;
        free(i00);
        free(i01);
        err = cue ? mf_exec_put_text(s, cue, strlen(cue), r) : MF_ERR_NOMEM;
    }
    r->audio_seconds = (double)total / q.rate;
    if (err != MF_OK && !r->error) mf_exec_fail(r, err, "sequence: %s", mf_strerror(err));
    for (size_t k = 0; p && k < q.n_tracks; k++) mf_deliver_src_free(&p[k].src);
    mf_pcm_writer_abort(w);
    mf_analysis_fini(&an);
    mf_analyzer_free(&a);
    free(cue);
    free(p);
    free(out);
    free(tmp);
    mf_sequence_spec_fini(&q);
    return err;
}
