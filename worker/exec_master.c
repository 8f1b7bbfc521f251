/* mastering: mf_master_run over the mix blob (re-read from the start for
 * each pass), writing the final pass as the master signal, plus a JSON
 * report of what it did (its loudness feeds the deliverables' tags). */
#include "exec_internal.h"
#include "mf_blob_json.h"
#include "master_inserts.h"
#include "master_spill.h"
#include "mf_master.h"
#include "mf_master_params.h"
#include "mf_pcm.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the mix as a re-readable source ---- */

typedef struct {
    mf_store_t *store;
    const mf_hash_t *hash;
    mf_pcm_reader_t *r;
    int64_t pos, end;       /* timeline frames: the mix runs from 0 to end */
    mf_task_result_t *task; /* told how far the first reading is */
} mix_source_t;

/* The first reading of the mix, as a share of the mastering: its later
 * passes read their spill (or the mix again) and are not counted. */
#define PROGRESS_FIRST_PASS 0.5

static mf_err_t s_rewind(void *ctx)
{
    mix_source_t *m = ctx;
    mf_pcm_reader_free(&m->r);
    m->pos = 0;
    return mf_pcm_reader_open(m->store, m->hash, &m->r);
}

static mf_err_t s_read(void *ctx, float *buf, size_t max, size_t *got)
{
    mix_source_t *m = ctx;
    size_t n = m->end - m->pos < (int64_t)max ? (size_t)(m->end - m->pos) : max;
    *got = n;
    if (n == 0) return MF_OK;
    mf_err_t err = mf_pcm_reader_read_span(m->r, m->pos, n, buf);
    m->pos += (int64_t)n;
    mf_exec_progress(m->task, PROGRESS_FIRST_PASS * (double)m->pos / (double)m->end);
    return err;
}

/* ---- the master as a sink that can start over ---- */

typedef struct {
    mf_store_t *store;
    mf_pcm_writer_t *w;
    int channels, rate;
    int64_t written, last_loud; /* frames; the last frame above the silence level */
} master_sink_t;

/* Below this a master's tail is silence to a QC meter (CLI.md: -60 dBFS). */
#define TAIL_SILENCE 0.001f
#define TAIL_KEEP_S 0.5 /* what the master keeps of a silent tail, then ends */
#define TAIL_FADE_S 0.05

static mf_err_t s_begin(void *ctx)
{
    master_sink_t *k = ctx;
    mf_pcm_writer_abort(k->w);
    k->w = mf_pcm_writer_new(k->store, k->channels, k->rate, 0);
    k->written = 0, k->last_loud = -1;
    return k->w ? MF_OK : MF_ERR_IO;
}

static mf_err_t s_write(void *ctx, const float *buf, size_t frames)
{
    master_sink_t *k = ctx;
    for (size_t i = 0; i < frames * (size_t)k->channels; i++)
        if (buf[i] > TAIL_SILENCE || buf[i] < -TAIL_SILENCE)
            k->last_loud = k->written + (int64_t)(i / (size_t)k->channels);
    k->written += (int64_t)frames;
    return k->w ? mf_pcm_writer_write(k->w, buf, frames) : MF_ERR_INVALID;
}

/* A reverb or delay tail rendered down to -90 dB leaves seconds of silence
 * after the music, which delivery QC flags: the master ends TAIL_KEEP_S
 * after its last audible frame, with a short fade (all of it inaudible).
 * A master with no audible frame at all (an album's silent track, a mix of
 * nothing) keeps its length: there is no music for its tail to follow. */
static mf_err_t s_trim_tail(mf_store_t *s, const master_sink_t *k, mf_hash_t *h)
{
    if (k->last_loud < 0) return MF_OK;
    int64_t keep = k->last_loud + 1 + (int64_t)(TAIL_KEEP_S * k->rate);
    if (keep >= k->written) return MF_OK;
    int64_t fade = (int64_t)(TAIL_FADE_S * k->rate), fade_from = keep - fade;
    mf_pcm_reader_t *r;
    mf_err_t err = mf_pcm_reader_open(s, h, &r);
    if (err != MF_OK) return err;
    mf_pcm_writer_t *w = mf_pcm_writer_new(s, k->channels, k->rate, 0);
    float *buf = malloc(sizeof(float) * 2 * MF_BLOCK);
    err = w && buf ? MF_OK : MF_ERR_NOMEM;
    for (int64_t f = 0; err == MF_OK && f < keep; f += MF_BLOCK) {
        size_t n = keep - f < MF_BLOCK ? (size_t)(keep - f) : MF_BLOCK;
        err = mf_pcm_reader_read_span(r, f, n, buf);
        for (size_t i = 0; err == MF_OK && i < n; i++) {
            int64_t at = f + (int64_t)i;
            if (at < fade_from) continue;
            float g = (float)(keep - at) / (float)fade;
            for (int c = 0; c < k->channels; c++) buf[i * (size_t)k->channels + (size_t)c] *= g;
        }
        if (err == MF_OK) err = mf_pcm_writer_write(w, buf, n);
    }
    free(buf);
    mf_pcm_reader_free(&r);
    if (err != MF_OK) {
        mf_pcm_writer_abort(w);
        return err;
    }
    return mf_pcm_writer_commit(w, h);
}

static mf_qc_target_t s_target(const mf_target_spec_t *t)
{
    return (mf_qc_target_t){.name = t->name, .lufs = t->lufs, .true_peak_dbtp = t->true_peak_dbtp};
}

/* A measure as JSON: null when there is none (the loudness of silence). */
static json_t *s_measure(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static mf_err_t s_report(mf_store_t *s, const mf_master_result_t *res, mf_task_result_t *r)
{
    json_t *j = json_pack(
        "{s:o,s:o,s:o,s:o,s:o,s:i,s:b,s:I}", "gain_db", s_measure(res->gain_db), "integrated_lufs",
        s_measure(res->integrated_lufs), "true_peak_dbtp", s_measure(res->true_peak_dbtp), "lra_lu",
        s_measure(res->lra_lu), "max_reduction_db", s_measure(res->max_reduction_db), "passes",
        res->passes, "within_target", res->within_target, "frames", (json_int_t)res->frames);
    return mf_exec_put_json(s, j, r);
}

/* Album mode: this track's loudness target, from the album_levels report
 * (worker/exec_album.c): the album's gain keeps the songs' balance. */
static mf_err_t s_album_target(const mf_store_t *s, const mf_hash_t *h, mf_mastering_spec_t *spec)
{
    json_t *j = mf_blob_json(s, h);
    const json_t *v = json_array_get(json_object_get(j, "targets"), (size_t)spec->levels_entry - 1);
    mf_err_t err = json_is_number(v) ? MF_OK : MF_ERR_INVALID;
    if (err == MF_OK) spec->target.lufs = json_number_value(v);
    json_decref(j);
    return err;
}

mf_err_t mf_exec_mastering(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r)
{
    mf_mastering_spec_t spec;
    const char *why = "";
    const mf_err_t parsed = mf_mastering_spec_from_json(t->params, &spec, &why);
    const size_t first_aux = spec.levels_entry ? 2u : 1u; /* after the mix and album levels */
    if (parsed != MF_OK || t->n_inputs < first_aux) {
        mf_mastering_spec_fini(&spec);
        return mf_exec_fail(r, MF_ERR_INVALID, "mastering: bad parameters: %s", why);
    }
    if (spec.levels_entry && s_album_target(s, &t->inputs[1], &spec) != MF_OK) {
        mf_mastering_spec_fini(&spec);
        return mf_exec_fail(r, MF_ERR_INVALID, "mastering: no album level for track %d",
                            spec.levels_entry);
    }
    mf_pcm_info_t info;
    mix_source_t src = {.store = s, .hash = &t->inputs[0], .task = r};
    master_sink_t sink = {.store = s, .channels = spec.channels, .rate = spec.rate};
    mf_master_inserts_t ins;
    mf_err_t err = mf_master_inserts_load(s, t, &spec, first_aux, &ins, r);
    if (err == MF_OK) err = mf_pcm_info(s, &t->inputs[0], &info);
    if (err == MF_OK && (info.channels != spec.channels || info.rate != spec.rate))
        err = mf_exec_fail(r, MF_ERR_INVALID, "mastering: the mix is not %d channels at %d Hz",
                           spec.channels, spec.rate);
    if (err == MF_OK) {
        src.end = info.start + info.frames;
        mf_master_config_t cfg = {.channels = spec.channels,
                                  .rate = spec.rate,
                                  .tempo_bpm = spec.tempo_bpm,
                                  .inserts = ins.ins,
                                  .n_inserts = spec.n_inserts,
                                  .target = s_target(&spec.target),
                                  .ceiling_dbtp = spec.ceiling_dbtp,
                                  .release_ms = spec.release_ms,
                                  .lookahead_ms = spec.lookahead_ms,
                                  .margin_db = NAN};
        /* Without inserts the mix is read again as cheaply as a spill. */
        mf_master_spill_file_t spill = {0};
        if (spec.n_inserts) cfg.spill = mf_master_spill_open(s, &spill);
        mf_master_source_t so = {s_rewind, s_read, &src};
        mf_master_sink_t si = {s_begin, s_write, &sink};
        mf_master_result_t res;
        err = mf_master_run(&cfg, &so, &si, &res);
        mf_master_spill_close(&spill);
        mf_hash_t h;
        if (err == MF_OK && sink.w) {
            err = mf_pcm_writer_commit(sink.w, &h);
            sink.w = NULL;
            if (err == MF_OK) err = s_trim_tail(s, &sink, &h);
            if (err == MF_OK) err = mf_exec_add_output(r, &h);
        }
        if (err == MF_OK) err = s_report(s, &res, r);
        r->audio_seconds = (double)res.frames / spec.rate;
    }
    if (err != MF_OK && !r->error) mf_exec_fail(r, err, "mastering: %s", mf_strerror(err));
    mf_pcm_writer_abort(sink.w);
    mf_pcm_reader_free(&src.r);
    mf_master_inserts_fini(&ins);
    mf_mastering_spec_fini(&spec);
    return err;
}
