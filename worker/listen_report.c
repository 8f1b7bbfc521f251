/* listen_report: listen.json from the source (the master, or the mix) and
 * the statistics of each playback system's output (exec_listen.c): per
 * system its loudness, what happens to the low end and what disappears in
 * mono, with warnings a person can act on; and the same in the QC report.
 *
 * params {"source": "master/Song.wav"}: the name the report gives the
 * source. input 0: the source's statistics (listen_stats.h: from the
 * listen task with "source": true, or the qc task of an unmastered mix,
 * which measures it anyway); inputs 1..6: each system's statistics, in
 * mf_playback_models() order; inputs 7 and 8: the qc task's qc.json and
 * qc.html (a coordinator of before session 23 gives neither). output 0:
 * listen.json; outputs 1 and 2, with inputs 7 and 8: qc.json with it as
 * "listen", and qc.html with its section (CLI.md: qc.json reports each
 * system). The qc task runs beside the listening copies, and this one
 * after both, so the report waits for nothing it did not wait for
 * before. No audio is read. */
#include "exec_internal.h"
#include "mf_blob_json.h"
#include "mf_compare.h"
#include "mf_playback.h"
#include "mf_qc_report.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOW_BANDS 7           /* third-octave bands 20 .. 80 Hz: below ~90 Hz */
#define NEGLIGIBLE_SHARE 1e-6 /* of the master's energy: -60 dB */

/* What a listen task measured of one system's output. */
typedef struct {
    const mf_playback_model_t *m;
    int channels;
    double integrated_lufs, correlation, mono_drop_db;
    double band_db[MF_QC_BANDS];
} sys_stats_t;

static int s_load_stats(mf_store_t *st, const mf_hash_t *h, sys_stats_t *out)
{
    json_t *j = mf_blob_json(st, h);
    const json_t *bands = json_object_get(j, "band_db");
    int ok = json_array_size(bands) == MF_QC_BANDS;
    out->channels = (int)json_integer_value(json_object_get(j, "channels"));
    out->integrated_lufs = mf_json_num(json_object_get(j, "integrated_lufs"));
    out->correlation = mf_json_num(json_object_get(j, "correlation"));
    out->mono_drop_db = mf_json_num(json_object_get(j, "mono_drop_db"));
    for (int b = 0; ok && b < MF_QC_BANDS; b++)
        out->band_db[b] = mf_json_num(json_array_get(bands, b));
    json_decref(j);
    return ok ? 0 : -1;
}

/* Share of the power in bands [a, z) of a (L+R)/2 spectrum. */
static double s_power(const double *db, int a, int z)
{
    double p = 0.0;
    for (int b = a; b < z; b++)
        if (isfinite(db[b])) p += pow(10.0, db[b] / 10.0);
    return p;
}

static double s_ratio_db(double num, double den)
{
    return num > 0.0 && den > 0.0 ? 10.0 * log10(num / den) : num > 0.0 ? INFINITY : -INFINITY;
}

static void s_warn(json_t *arr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_warn(json_t *arr, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_array_append_new(arr, json_string(msg));
}

static json_t *s_system(const sys_stats_t *s, const mf_measure_t *ms)
{
    const sys_stats_t *a = s;
    const mf_analysis_t *m = &ms->a;
    const double m_low = s_power(m->band_db, 0, LOW_BANDS), m_all = s_power(m->band_db, 0, 31);
    const double s_low = s_power(a->band_db, 0, LOW_BANDS), s_all = s_power(a->band_db, 0, 31);
    const double low_db = s_ratio_db(s_low, s_all) - s_ratio_db(m_low, m_all);
    const double share = m_all > 0.0 ? m_low / m_all : 0.0;
    const double loud = a->integrated_lufs - m->integrated_lufs;
    const int mono = s->m->mono;
    char path[64];
    snprintf(path, sizeof path, "listen/%s.wav", s->m->name);
    json_t *o = json_pack("{s:s, s:s, s:s, s:i}", "name", s->m->name, "path", path, "model",
                          s->m->what, "channels", mono ? 1 : m->channels);
    json_t *warn = json_array(), *van = json_array();
    if (!o || !warn || !van) {
        json_decref(o), json_decref(warn), json_decref(van);
        return NULL;
    }
    json_object_set_new(o, "integrated_lufs", mf_json_db(a->integrated_lufs));
    json_object_set_new(o, "loudness_diff_lu", mf_json_db(loud));
    json_object_set_new(o, "low_end_db", mf_json_db(low_db));
    json_object_set_new(o, "low_end_raw_db", mf_json_db(s_ratio_db(s_low, m_low)));
    json_object_set_new(o, "correlation", mono ? json_null() : mf_json_db(a->correlation));
    json_object_set_new(o, "mono_drop_db", mf_json_db(mono ? m->mono_drop_db : a->mono_drop_db));
    if (low_db < -15.0 && share > 0.25)
        s_warn(warn,
               "the low end (below 90 Hz) is %.0f dB down against the rest here, and it carries "
               "%.0f %% of the master's energy: kick and bass are heard only through their "
               "harmonics; give them content between 150 Hz and 1 kHz (saturation, a brighter "
               "bass sound) if they must carry on this system",
               -low_db, 100.0 * share);
    if (isfinite(loud) && loud < -10.0)
        s_warn(warn,
               "plays %.0f LU quieter than the master: most of its energy is where this system "
               "does not reach",
               -loud);
    if (!strcmp(s->m->name, "car") && low_db > 4.0 && share > 0.4)
        s_warn(warn,
               "%.0f %% of the master's energy is already below 90 Hz; with cabin gain (+%.0f dB "
               "here) it will boom: consider less below 100 Hz",
               100.0 * share, low_db);
    if (!strcmp(s->m->name, "earbuds")) {
        const double pres = s_power(m->band_db, 21, 26) / 5, mids = s_power(m->band_db, 16, 21) / 5;
        const double d = s_ratio_db(pres, mids);
        if (isfinite(d) && d > -2.0)
            s_warn(warn,
                   "bright: 2.5-6.3 kHz sits %.1f dB %s the mids (800 Hz-2 kHz); the ear-canal "
                   "peak of earbuds makes it harsh: check sibilance and cymbals here",
                   fabs(d), d >= 0 ? "above" : "below");
    }
    if (!mono && a->channels == 2 && a->correlation < MF_QC_PHASE_MIN)
        s_warn(warn, "left and right are out of phase (correlation %.2f)", a->correlation);
    if (mono && m->channels == 2) {
        double pm[MF_WIDTH_BANDS] = {0}, ps[MF_WIDTH_BANDS] = {0}, all = 0.0;
        for (int w = 0; w < MF_WIDTH_BANDS; w++) {
            for (int b = MF_WIDTH_FIRST[w]; b < MF_WIDTH_FIRST[w + 1]; b++) {
                if (isfinite(ms->l.mid_db[b])) pm[w] += pow(10.0, ms->l.mid_db[b] / 10.0);
                if (isfinite(ms->l.side_db[b])) ps[w] += pow(10.0, ms->l.side_db[b] / 10.0);
            }
            all += pm[w] + ps[w];
        }
        for (int w = 0; w < MF_WIDTH_BANDS; w++) {
            /* A band that holds next to nothing of the master (a filter's
             * leakage, or above the Nyquist frequency of an 8 kHz
             * session) has nothing to lose: every band of a tone played
             * out of phase "cancelled completely". */
            if (!(pm[w] + ps[w] > all * NEGLIGIBLE_SHARE)) continue;
            const double drop = s_ratio_db(pm[w], pm[w] + ps[w]);
            const double lo = mf_band_edge_hz(MF_WIDTH_FIRST[w], 0);
            const double hi = mf_band_edge_hz(MF_WIDTH_FIRST[w + 1] - 1, 1);
            if (!(drop < -3.0)) continue;
            json_array_append_new(van, json_pack("{s:f, s:f, s:o}", "lo_hz", round(lo), "hi_hz",
                                                 round(hi), "drop_db", mf_json_db(drop)));
            char how[40] = "cancels completely";
            if (isfinite(drop)) snprintf(how, sizeof how, "drops by %.1f dB", -drop);
            s_warn(warn,
                   "in mono, %.0f-%.0f Hz %s: wide or out-of-phase parts there (stereo "
                   "wideners, chorus, Haas delays, phase-inverted doubles) thin out or vanish; "
                   "check them in mono",
                   lo, hi, how);
        }
        if (m->mono_drop_db < -3.0 && isfinite(m->mono_drop_db))
            s_warn(warn, "summed to mono the master loses %.1f dB (correlation %.2f)",
                   -m->mono_drop_db, m->correlation);
        else if (m->mono_drop_db < -3.0)
            s_warn(warn,
                   "summed to mono the master cancels completely (correlation %.2f): one "
                   "channel is the other with its polarity inverted",
                   m->correlation);
        const double lw = mf_width_db(&ms->l, 0, MF_WIDTH_FIRST[1]);
        if (!strcmp(s->m->name, "club") && lw > -12.0)
            s_warn(warn,
                   "the low end (below %.0f Hz) has side content %.0f dB under the mid: a mono "
                   "club system partly cancels it; keep it mono below about 120 Hz (a width "
                   "insert with mono_below_hz)",
                   mf_band_edge_hz(MF_WIDTH_FIRST[1] - 1, 1), -lw);
    }
    json_object_set_new(o, "vanishing_in_mono", van);
    json_object_set_new(o, "warnings", warn);
    return o;
}

static json_t *s_report(const char *source, const mf_measure_t *m, const sys_stats_t *sys, size_t n)
{
    const double low = s_power(m->a.band_db, 0, LOW_BANDS), all = s_power(m->a.band_db, 0, 31);
    json_t *arr = json_array();
    json_t *doc =
        json_pack("{s:s, s:{s:o, s:o, s:o, s:o}}", "source", source, "master", "integrated_lufs",
                  mf_json_db(m->a.integrated_lufs), "correlation", mf_json_db(m->a.correlation),
                  "mono_drop_db", mf_json_db(m->a.mono_drop_db), "low_end_share_pct",
                  mf_json_db(all > 0.0 ? 100.0 * low / all : NAN));
    for (size_t i = 0; arr && i < n; i++) {
        json_t *o = s_system(&sys[i], m);
        if (!o || json_array_append_new(arr, o)) {
            json_decref(arr);
            arr = NULL;
        }
    }
    if (!doc || !arr) {
        json_decref(doc), json_decref(arr);
        return NULL;
    }
    json_object_set_new(doc, "systems", arr);
    return doc;
}

/* The source's statistics (listen_stats.h) as a measure. */
static int s_load_source(mf_store_t *st, const mf_hash_t *h, mf_measure_t *m)
{
    json_t *j = mf_blob_json(st, h);
    const json_t *b = json_object_get(j, "band_db"), *mid = json_object_get(j, "mid_db");
    const json_t *side = json_object_get(j, "side_db");
    int ok = json_array_size(b) == MF_QC_BANDS && json_array_size(mid) == MF_QC_BANDS &&
             json_array_size(side) == MF_QC_BANDS;
    m->a.channels = (int)json_integer_value(json_object_get(j, "channels"));
    m->a.integrated_lufs = mf_json_num(json_object_get(j, "integrated_lufs"));
    m->a.correlation = mf_json_num(json_object_get(j, "correlation"));
    m->a.mono_drop_db = mf_json_num(json_object_get(j, "mono_drop_db"));
    for (int k = 0; ok && k < MF_QC_BANDS; k++) {
        m->a.band_db[k] = mf_json_num(json_array_get(b, k));
        m->l.mid_db[k] = mf_json_num(json_array_get(mid, k));
        m->l.side_db[k] = mf_json_num(json_array_get(side, k));
    }
    json_decref(j);
    return ok ? 0 : -1;
}

/* qc.json (at h) with doc as its "listen", as the qc task writes it. */
static mf_err_t s_put_qc_json(mf_store_t *st, const mf_hash_t *h, json_t *doc, mf_task_result_t *r)
{
    json_t *qc = mf_blob_json(st, h);
    if (!json_is_object(qc) || json_object_set(qc, "listen", doc)) {
        json_decref(qc);
        return MF_ERR_CORRUPT;
    }
    char *text = json_dumps(qc, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
    json_decref(qc);
    const mf_err_t err = text ? mf_exec_put_text(st, text, strlen(text), r) : MF_ERR_NOMEM;
    free(text);
    return err;
}

/* qc.html (at h) with the playback systems' section. */
static mf_err_t s_put_qc_html(mf_store_t *st, const mf_hash_t *h, const json_t *doc,
                              mf_task_result_t *r)
{
    size_t len = 0, part_len = 0, out_len = 0;
    char *html = mf_store_read_text(st, h, 64u << 20, &len), *part = NULL, *out = NULL;
    FILE *mem = html ? open_memstream(&part, &part_len) : NULL;
    mf_err_t err = !html ? MF_ERR_CORRUPT : mem ? mf_listen_html(mem, doc) : MF_ERR_NOMEM;
    if (mem && fclose(mem) != 0 && err == MF_OK) err = MF_ERR_NOMEM;
    if (err == MF_OK && !(out = mf_qc_html_insert(html, len, part, part_len, &out_len)))
        err = MF_ERR_NOMEM;
    if (err == MF_OK) err = mf_exec_put_text(st, out, out_len, r);
    free(html), free(part), free(out);
    return err;
}

mf_err_t mf_exec_listen_report(mf_store_t *st, const mf_task_t *t, mf_task_result_t *r)
{
    size_t n;
    const mf_playback_model_t *models = mf_playback_models(&n);
    json_error_t jerr;
    json_t *params = json_loads(t->params, 0, &jerr);
    const char *source = json_string_value(json_object_get(params, "source"));
    sys_stats_t *sys = calloc(n, sizeof *sys);
    mf_measure_t *m = calloc(1, sizeof *m);
    /* Without the qc task's documents (a coordinator of before session 23,
     * during a farm's upgrade), listen.json alone. */
    const int with_qc = t->n_inputs == n + 3;
    mf_err_t err = !source || (t->n_inputs != n + 1 && !with_qc) ? MF_ERR_INVALID
                   : sys && m                                    ? MF_OK
                                                                 : MF_ERR_NOMEM;
    if (err == MF_OK && s_load_source(st, &t->inputs[0], m)) err = MF_ERR_CORRUPT;
    for (size_t i = 0; err == MF_OK && i < n; i++) {
        sys[i].m = &models[i];
        if (s_load_stats(st, &t->inputs[1 + i], &sys[i])) err = MF_ERR_CORRUPT;
    }
    json_t *doc = err == MF_OK ? s_report(source, m, sys, n) : NULL;
    if (err == MF_OK && !doc) err = MF_ERR_NOMEM;
    if (err == MF_OK) {
        char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
        err = text ? mf_exec_put_text(st, text, strlen(text), r) : MF_ERR_NOMEM;
        free(text);
    }
    if (err == MF_OK && with_qc) err = s_put_qc_json(st, &t->inputs[n + 1], doc, r);
    if (err == MF_OK && with_qc) err = s_put_qc_html(st, &t->inputs[n + 2], doc, r);
    if (err != MF_OK && !r->error) mf_exec_fail(r, err, "listen_report: %s", mf_strerror(err));
    json_decref(doc);
    json_decref(params);
    free(sys), free(m);
    return err;
}
