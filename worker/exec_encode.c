/* encode: a master signal -> one deliverable file, checked by decoding it.
 *
 * The file is written to the store's tmp/ folder by the format's encoder,
 * decoded and measured (everything the QC meter measures: the analysis is
 * the task's third output, which the qc task reports without decoding the
 * file again). A file
 * whose decoded true peak is over the ceiling (a lossy codec's overshoot)
 * is encoded again from the master through the true-peak limiter at a
 * ceiling lowered by the overshoot and 0.1 dB more, until it passes (at
 * most MAX_PASSES encodings): the loudness moves by the little the limiter
 * takes off the loudest peaks, not by a gain trim of the whole track. The
 * report says which ceiling it took. Everything is a pure function of the
 * inputs, so the same master gives the same file bytes. */
#include "deliver_int.h"
#include "exec_internal.h"
#include "mf_analysis_blob.h"
#include "mf_blob_json.h"
#include "mf_pcm.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_PASSES 5
#define REENCODE_STEP_DB 0.1
#define MAX_COVER (16 << 20)
#define PROGRESS_ENCODING 0.9 /* the first encoding's share of the task */

typedef struct {
    double lufs, lra_lu, true_peak_dbtp;
} loudness_t;

static double s_num(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static unsigned char *s_read_blob(const mf_store_t *s, const mf_hash_t *h, size_t *len)
{
    int64_t size = mf_store_size(s, h);
    char *path = mf_store_path(s, h);
    FILE *f = path && size > 0 && size <= MAX_COVER ? fopen(path, "rb") : NULL;
    unsigned char *p = f ? malloc((size_t)size) : NULL;
    if (p && fread(p, 1, (size_t)size, f) != (size_t)size) free(p), p = NULL;
    if (f) fclose(f);
    free(path);
    *len = p ? (size_t)size : 0;
    return p;
}

static mf_err_t s_encode_once(mf_store_t *s, const mf_task_t *t, const mf_encode_spec_t *e,
                              mf_encode_job_t *job, double limit_dbtp, mf_task_result_t *r)
{
    mf_err_t err;
    job->src = mf_deliver_src_new(s, &t->inputs[0], e->rate, e->gain_db, limit_dbtp, e->release_ms,
                                  e->lookahead_ms, &err);
    if (!job->src) return mf_exec_fail(r, err, "encode: the master: %s", mf_strerror(err));
    /* The first encoding is most of the task (its check decodes the file
     * in a tenth of the time); an encoding again is rare and not counted. */
    if (isnan(limit_dbtp)) mf_deliver_src_report(job->src, r, PROGRESS_ENCODING);
    job->why[0] = 0;
    err = !strcmp(e->format, "flac")   ? mf_encode_flac(job)
          : !strcmp(e->format, "mp3")  ? mf_encode_mp3(job)
          : !strcmp(e->format, "opus") ? mf_encode_opus(job)
                                       : mf_encode_sndfile(job);
    mf_deliver_src_free(&job->src);
    if (err != MF_OK)
        mf_exec_fail(r, err, "encode %s: %s", e->format, job->why[0] ? job->why : mf_strerror(err));
    return err;
}

static json_t *s_manifest(const mf_encode_spec_t *e, const mf_decoded_t *dec)
{
    json_t *m = json_pack("{s:s,s:i,s:i,s:f}", "format", e->format, "sample_rate", e->rate,
                          "channels", dec->channels, "duration_s",
                          dec->rate > 0 ? (double)dec->frames / dec->rate : 0.0);
    if (!m) return NULL;
    if (!mf_encode_lossy(e->format)) {
        json_object_set_new(m, "bits", json_integer(e->bits));
        json_object_set_new(m, "encoding",
                            json_string(e->bits == 32   ? "float32"
                                        : e->bits == 24 ? "pcm24"
                                                        : "pcm16"));
    } else if (isnan(e->vbr_quality)) {
        json_object_set_new(m, "bitrate_kbps", json_integer(e->bitrate_kbps));
    } else {
        json_object_set_new(m, "vbr_quality", json_real(e->vbr_quality));
    }
    return m;
}

/* output 1: {"manifest": {...}, "qc": {...}} (worker/exec_qc.c merges "qc"
 * into the file's qc.json entry). The manifest part says the file's
 * SHA-256, which is its blob's name (mf_store_put_file hashed it): a client
 * writing the blob as it is takes it for manifest.json instead of reading
 * the file again. */
static mf_err_t s_report(mf_store_t *s, const mf_encode_spec_t *e, const mf_encode_job_t *job,
                         const mf_decoded_t *dec, const mf_hash_t *file, int64_t expected,
                         int passes, double limit, double first_tp, json_t *mastering,
                         mf_task_result_t *r)
{
    json_t *qc = json_pack(
        "{s:s,s:I,s:I,s:i,s:o,s:o}", "format", e->format, "frames", (json_int_t)dec->frames,
        "expected_frames", (json_int_t)expected, "encode_passes", passes, "reencoded_ceiling_dbtp",
        isnan(limit) ? json_null() : json_real(round(limit * 100) / 100),
        "first_pass_true_peak_dbtp",
        isfinite(first_tp) ? json_real(round(first_tp * 100) / 100) : json_null());
    if (qc && mf_encode_lossy(e->format)) {
        json_object_set_new(qc, "gapless", json_boolean(job->gapless));
        json_object_set_new(qc, !strcmp(e->format, "opus") ? "pre_skip" : "encoder_delay",
                            json_integer(job->delay));
        if (!strcmp(e->format, "mp3"))
            json_object_set_new(qc, "encoder_padding", json_integer(job->padding));
    }
    if (qc && !isnan(limit)) {
        char note[300];
        snprintf(note, sizeof note,
                 "decoded, the first encoding peaked at %.2f dBTP, over the %.2f dBTP ceiling: "
                 "encoded again from the master through the true-peak limiter at %.2f dBTP "
                 "(%d encodings)",
                 first_tp, e->ceiling_dbtp, limit, passes);
        json_object_set_new(qc, "note", json_string(note));
    }
    if (qc && mastering) json_object_set(qc, "mastering", mastering);
    json_t *m = s_manifest(e, dec);
    if (m) json_object_set_new(m, "sha256", json_string(file->hex));
    return mf_exec_put_json(s, json_pack("{s:o,s:o}", "manifest", m, "qc", qc), r);
}

/* The file's whole analysis, for the qc task (third output). */
static mf_err_t s_put_analysis(mf_store_t *s, const mf_analysis_t *an, mf_task_result_t *r)
{
    unsigned char *b = NULL;
    size_t n = 0;
    mf_err_t err = mf_analysis_pack(an, &b, &n);
    if (err == MF_OK) err = mf_exec_put_text(s, (const char *)b, n, r);
    free(b);
    return err;
}

/* What the mastering search did, from its report, for the file's qc.json
 * entry (qc reads it to say why a master is short of its target); NULL
 * when the report is not a mastering's (an album image's). */
static json_t *s_mastering(const json_t *rep)
{
    const json_t *within = json_object_get(rep, "within_target");
    if (!json_is_boolean(within)) return NULL;
    json_t *m = json_object();
    static const char *const keys[] = {"gain_db", "max_reduction_db", "passes"};
    for (size_t i = 0; m && i < sizeof keys / sizeof *keys; i++) {
        const json_t *v = json_object_get(rep, keys[i]);
        json_object_set_new(m, keys[i],
                            !json_is_number(v) ? json_null()
                            : i < 2            ? json_real(round(json_number_value(v) * 100) / 100)
                                               : json_deep_copy(v));
    }
    if (m) json_object_set_new(m, "within_target", json_boolean(json_is_true(within)));
    return m;
}

mf_err_t mf_exec_encode(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r)
{
    mf_encode_spec_t e;
    const char *why = "";
    if (mf_encode_spec_from_json(t->params, &e, &why) != MF_OK)
        return mf_exec_fail(r, MF_ERR_INVALID, "encode: bad parameters: %s", why);
    if (t->n_inputs != (size_t)(2 + e.cover)) {
        mf_encode_spec_fini(&e);
        return mf_exec_fail(r, MF_ERR_INVALID, "encode: %zu inputs", t->n_inputs);
    }
    json_t *rep = mf_blob_json(s, &t->inputs[1]);
    mf_encode_job_t job = {.spec = &e,
                           .lufs = s_num(rep, "integrated_lufs") + e.gain_db,
                           .lra_lu = s_num(rep, "lra_lu"),
                           .true_peak_dbtp = s_num(rep, "true_peak_dbtp") + e.gain_db};
    json_t *mastering = s_mastering(rep);
    json_decref(rep);
    mf_err_t err = MF_OK;
    unsigned char *cover = e.cover ? s_read_blob(s, &t->inputs[2], &job.cover_len) : NULL;
    if (e.cover && !(job.cover = cover))
        err =
            mf_exec_fail(r, MF_ERR_NOENT, "encode: cannot read the cover %.12s", t->inputs[2].hex);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/tmp/encode-XXXXXX", mf_store_dir(s));
    int fd = err == MF_OK ? mkstemp(tmp) : -1;
    if (err == MF_OK && fd < 0) err = mf_exec_fail(r, MF_ERR_IO, "encode: cannot make %s", tmp);
    if (fd >= 0) close(fd);
    job.path = tmp;
    mf_pcm_info_t info;
    if (err == MF_OK) err = mf_pcm_info(s, &t->inputs[0], &info);
    int64_t expected =
        err == MF_OK ? llround((double)(info.start + info.frames) * e.rate / info.rate) : 0;
    mf_analysis_t an = {0};
    mf_decoded_t dec = {0};
    double limit = NAN, first_tp = NAN;
    int passes = 0;
    while (err == MF_OK && passes < MAX_PASSES) {
        mf_analysis_fini(&an);
        err = s_encode_once(s, t, &e, &job, limit, r);
        passes++;
        char dwhy[256] = "";
        if (err == MF_OK &&
            (err = mf_deliver_measure(tmp, MF_ANALYZE_ALL, &an, &dec, dwhy, sizeof dwhy)) != MF_OK)
            mf_exec_fail(r, err, "encode %s: checking the file: %s", e.format, dwhy);
        if (err != MF_OK) break;
        if (passes == 1) first_tp = an.true_peak_dbtp;
        double over = an.true_peak_dbtp - e.ceiling_dbtp;
        if (!(over > 0)) break;
        /* From the peak the limiter last left (the master's own at first). */
        double from = isnan(limit) ? job.true_peak_dbtp : limit;
        if (!isfinite(from)) from = e.ceiling_dbtp;
        limit = fmin(from, e.ceiling_dbtp) - over - REENCODE_STEP_DB;
    }
    if (err == MF_OK && !strcmp(e.format, "wav")) err = mf_encode_wav_set_loudness(tmp, &an);
    mf_hash_t h;
    if (err == MF_OK && (err = mf_store_put_file(s, tmp, &h)) == MF_OK)
        err = mf_exec_add_output(r, &h);
    if (err == MF_OK)
        err = s_report(s, &e, &job, &dec, &h, expected, passes, limit, first_tp, mastering, r);
    if (err == MF_OK) err = s_put_analysis(s, &an, r);
    json_decref(mastering);
    r->audio_seconds = dec.rate ? (double)dec.frames * passes / dec.rate : 0;
    if (err != MF_OK && !r->error) mf_exec_fail(r, err, "encode: %s", mf_strerror(err));
    if (fd >= 0) unlink(tmp);
    mf_analysis_fini(&an);
    free(cover);
    mf_encode_spec_fini(&e);
    return err;
}
