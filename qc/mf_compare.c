/* The meter (analysis + loudest-passage spectrum in one pass), width per
 * band, the comparison document and its human summary. */
#include "mf_compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct mf_meter {
    mf_analyzer_t *a;
    mf_ltas_t *l;
};

mf_meter_t *mf_meter_new(int channels, double rate)
{
    mf_meter_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->a = mf_analyzer_new(channels, rate, MF_ANALYZE_ALL);
    m->l = mf_ltas_new(channels, rate);
    if (!m->a || !m->l) mf_meter_free(&m);
    return m;
}

void mf_meter_set_weights(mf_meter_t *m, const float *weight)
{
    mf_analyzer_set_weights(m->a, weight);
}

mf_err_t mf_meter_feed(mf_meter_t *m, const float *buf, size_t frames)
{
    mf_ltas_feed(m->l, buf, frames);
    return mf_analyzer_feed(m->a, buf, frames);
}

mf_err_t mf_meter_finish(mf_meter_t *m, mf_measure_t *out)
{
    memset(out, 0, sizeof *out);
    mf_ltas_finish(m->l, &out->l);
    return mf_analyzer_finish(m->a, &out->a);
}

void mf_meter_free(mf_meter_t **mp)
{
    mf_meter_t *m = mp ? *mp : NULL;
    if (!m) return;
    mf_analyzer_free(&m->a);
    mf_ltas_free(&m->l);
    free(m);
    *mp = NULL;
}

void mf_measure_fini(mf_measure_t *m)
{
    mf_analysis_fini(&m->a);
}

/* Bands 20-160 Hz, 200-630, 800-2k, 2.5k-6.3k, 8k-20k (third-octave band indices). */
const int MF_WIDTH_FIRST[MF_WIDTH_BANDS + 1] = {0, 10, 16, 21, 26, MF_QC_BANDS};

double mf_band_edge_hz(int b, int upper)
{
    return 1000.0 * pow(2.0, (b - 17) / 3.0 + (upper ? 1.0 : -1.0) / 6.0);
}

double mf_width_db(const mf_ltas_result_t *l, int first, int end)
{
    double m = 0.0, s = 0.0;
    for (int b = first; b < end; b++) {
        if (isfinite(l->mid_db[b])) m += pow(10.0, l->mid_db[b] / 10.0);
        if (isfinite(l->side_db[b])) s += pow(10.0, l->side_db[b] / 10.0);
    }
    if (m <= 0.0 && s <= 0.0) return NAN;
    return m <= 0.0 ? INFINITY : s <= 0.0 ? -INFINITY : 10.0 * log10(s / m);
}

/* The level of the mid spectrum (its bands' powers summed): what levels
 * two mid spectra match on. The whole level (mid + side) would not do: a
 * wider file has less in mid at the same level, and would read as less in
 * every band. */
static double s_mid_level_db(const mf_ltas_result_t *l)
{
    double p = 0.0;
    for (int b = 0; b < MF_QC_BANDS; b++)
        if (isfinite(l->mid_db[b])) p += pow(10.0, l->mid_db[b] / 10.0);
    return p > 0.0 ? 10.0 * log10(p) : -INFINITY;
}

json_t *mf_json_db(double x)
{
    if (isnan(x)) return json_null();
    if (isinf(x)) return json_string(x < 0 ? "-inf" : "inf");
    return json_real(round(x * 100.0) / 100.0);
}

double mf_json_num(const json_t *v)
{
    const char *s = json_string_value(v);
    if (json_is_number(v)) return json_number_value(v);
    if (s && !strcmp(s, "-inf")) return -INFINITY;
    if (s && !strcmp(s, "inf")) return INFINITY;
    return NAN;
}

/* {"file_<unit>": a, "reference_<unit>": b, "<diff>": a - b} */
static json_t *s_trio(const char *unit, const char *diff, double a, double b)
{
    char fk[32], rk[32];
    snprintf(fk, sizeof fk, "file_%s", unit);
    snprintf(rk, sizeof rk, "reference_%s", unit);
    return json_pack("{s:o, s:o, s:o}", fk, mf_json_db(a), rk, mf_json_db(b), diff,
                     mf_json_db(a - b));
}

static json_t *s_width(const mf_measure_t *f, const mf_measure_t *r)
{
    const double wf = mf_width_db(&f->l, 0, MF_QC_BANDS), wr = mf_width_db(&r->l, 0, MF_QC_BANDS);
    json_t *o = s_trio("side_mid_db", "diff_db", wf, wr), *bands = json_array();
    if (!o || !bands) {
        json_decref(o), json_decref(bands);
        return NULL;
    }
    json_object_set_new(o, "file_correlation", mf_json_db(f->a.correlation));
    json_object_set_new(o, "reference_correlation", mf_json_db(r->a.correlation));
    for (int w = 0; w < MF_WIDTH_BANDS; w++) {
        const int a = MF_WIDTH_FIRST[w], z = MF_WIDTH_FIRST[w + 1];
        const double x = mf_width_db(&f->l, a, z), y = mf_width_db(&r->l, a, z);
        json_array_append_new(bands, json_pack("{s:o, s:o, s:o, s:o, s:o}", "lo_hz",
                                               json_real(round(mf_band_edge_hz(a, 0))), "hi_hz",
                                               json_real(round(mf_band_edge_hz(z - 1, 1))),
                                               "file_db", mf_json_db(x), "reference_db",
                                               mf_json_db(y), "diff_db", mf_json_db(x - y)));
    }
    json_object_set_new(o, "bands", bands);
    return o;
}

json_t *mf_compare_json(const char *file, const char *reference, const mf_measure_t *f,
                        const mf_measure_t *r)
{
    const mf_analysis_t *a = &f->a, *b = &r->a;
    json_t *doc = json_object(), *bands = json_array();
    if (!doc || !bands) goto fail;
    json_object_set_new(doc, "file", json_string(file));
    json_object_set_new(doc, "reference", json_string(reference));
    json_object_set_new(doc, "loudness",
                        s_trio("lufs", "diff_lu", a->integrated_lufs, b->integrated_lufs));
    json_object_set_new(doc, "lra", s_trio("lu", "diff_lu", a->lra_lu, b->lra_lu));
    json_object_set_new(doc, "true_peak",
                        s_trio("dbtp", "diff_db", a->true_peak_dbtp, b->true_peak_dbtp));
    json_object_set_new(doc, "plr", s_trio("db", "diff_db", a->plr_db, b->plr_db));
    json_object_set_new(doc, "crest", s_trio("db", "diff_db", a->crest_db, b->crest_db));
    json_object_set_new(doc, "width", s_width(f, r));
    for (int k = 0; k < MF_QC_BANDS; k++)
        json_array_append_new(bands, json_pack("{s:o, s:o, s:o, s:o}", "freq_hz",
                                               json_real(mf_qc_band_hz(k)), "file_db",
                                               mf_json_db(f->l.mid_db[k]), "reference_db",
                                               mf_json_db(r->l.mid_db[k]), "diff_db",
                                               mf_json_db(f->l.mid_db[k] - r->l.mid_db[k])));
    json_object_set_new(doc, "bands", bands);
    /* The levels let a report level-match the spectra from this document alone. */
    json_object_set_new(doc, "loudest_passages",
                        json_pack("{s:I, s:I, s:I, s:I, s:f, s:o, s:o, s:o, s:o}", "file",
                                  (json_int_t)f->l.selected, "file_total",
                                  (json_int_t)f->l.passages, "reference", (json_int_t)r->l.selected,
                                  "reference_total", (json_int_t)r->l.passages, "passage_s",
                                  MF_LTAS_PASSAGE_S, "file_level_db", mf_json_db(f->l.level_db),
                                  "reference_level_db", mf_json_db(r->l.level_db), "file_mid_db",
                                  mf_json_db(s_mid_level_db(&f->l)), "reference_mid_db",
                                  mf_json_db(s_mid_level_db(&r->l))));
    return doc;
fail:
    json_decref(doc), json_decref(bands);
    return NULL;
}

/* ---- the human summary ---- */

static void s_fmt(char *buf, size_t n, double x, const char *fmt)
{
    if (isfinite(x))
        snprintf(buf, n, fmt, fabs(x) < 0.05 ? 0.0 : x);
    else
        snprintf(buf, n, "%s", isnan(x) ? "-" : x < 0 ? "-inf" : "inf");
}

static void s_line(FILE *out, const char *what, const char *unit, double a, double b)
{
    char x[24], y[24], d[24];
    s_fmt(x, sizeof x, a, "%.1f"), s_fmt(y, sizeof y, b, "%.1f"),
        s_fmt(d, sizeof d, a - b, "%+.1f");
    fprintf(out, "  %-12s %8s %8s %8s %s\n", what, x, y, d, unit);
}

/* A width line: no side at all is a mono signal (one channel, or two the
 * same), said as such rather than as -inf dB. */
static void s_width_line(FILE *out, const char *what, double a, double b)
{
    if (a != -INFINITY && b != -INFINITY) {
        s_line(out, what, "dB side/mid", a, b);
        return;
    }
    char x[24], y[24];
    s_fmt(x, sizeof x, a, "%.1f"), s_fmt(y, sizeof y, b, "%.1f");
    fprintf(out, "  %-12s %8s %8s %8s %s\n", what, a == -INFINITY ? "mono" : x,
            b == -INFINITY ? "mono" : y, "-", "dB side/mid");
}

static const struct {
    const char *name;
    int first, end;
} s_regions[] = {{"sub bass (20-50 Hz)", 0, 5},      {"bass (63-160 Hz)", 5, 10},
                 {"low mids (200-500 Hz)", 10, 15},  {"mids (630 Hz-2 kHz)", 15, 21},
                 {"presence (2.5-6.3 kHz)", 21, 26}, {"air (8-20 kHz)", 26, 31}};

/* Mean level of bands first..end-1 in dB (power average); NAN if none. */
static double s_region_db(const double *db, int first, int end)
{
    double p = 0.0;
    int n = 0;
    for (int b = first; b < end; b++)
        if (isfinite(db[b])) p += pow(10.0, db[b] / 10.0), n++;
    return n ? 10.0 * log10(p / n) : NAN;
}

void mf_compare_print(FILE *out, const char *file, const char *reference, const mf_measure_t *f,
                      const mf_measure_t *r)
{
    const mf_analysis_t *a = &f->a, *b = &r->a;
    fprintf(out, "%s compared with %s\n", file, reference);
    fprintf(out, "  %-12s %8s %8s %8s\n", "", "file", "ref", "diff");
    s_line(out, "loudness", "LUFS", a->integrated_lufs, b->integrated_lufs);
    /* BS.1770 measures a one-channel file as one loudspeaker; played on two
     * (dual mono) it is 3 dB louder than that. */
    if (a->channels == 1 || b->channels == 1)
        fprintf(out,
                "  (%s is one channel, measured as one loudspeaker: on two it plays 3 dB louder)\n",
                a->channels == 1 && b->channels == 1 ? "each"
                : a->channels == 1                   ? "the file"
                                                     : "the reference");
    s_line(out, "LRA", "LU", a->lra_lu, b->lra_lu);
    s_line(out, "true peak", "dBTP", a->true_peak_dbtp, b->true_peak_dbtp);
    s_line(out, "PLR", "dB", a->plr_db, b->plr_db);
    s_line(out, "crest", "dB", a->crest_db, b->crest_db);
    s_width_line(out, "width", mf_width_db(&f->l, 0, MF_QC_BANDS),
                 mf_width_db(&r->l, 0, MF_QC_BANDS));
    for (int w = 0; w < MF_WIDTH_BANDS; w++) {
        char name[40];
        snprintf(name, sizeof name, " %.0f-%.0f Hz", mf_band_edge_hz(MF_WIDTH_FIRST[w], 0),
                 mf_band_edge_hz(MF_WIDTH_FIRST[w + 1] - 1, 1));
        s_width_line(out, name, mf_width_db(&f->l, MF_WIDTH_FIRST[w], MF_WIDTH_FIRST[w + 1]),
                     mf_width_db(&r->l, MF_WIDTH_FIRST[w], MF_WIDTH_FIRST[w + 1]));
    }
    /* Tonal balance: the mid spectra with their level difference taken out. */
    const double off = s_mid_level_db(&f->l) - s_mid_level_db(&r->l);
    fprintf(out, "  tonal balance (loudest passages, level-matched by %+.1f dB):\n",
            isfinite(off) ? -off : 0.0);
    int said = 0;
    for (size_t i = 0; i < sizeof s_regions / sizeof s_regions[0]; i++) {
        const double x = s_region_db(f->l.mid_db, s_regions[i].first, s_regions[i].end);
        const double y = s_region_db(r->l.mid_db, s_regions[i].first, s_regions[i].end);
        const double d = x - y - (isfinite(off) ? off : 0.0);
        if (!isfinite(d) || fabs(d) < 2.0) continue;
        fprintf(out, "    %-24s %4.1f dB %s than the reference\n", s_regions[i].name, fabs(d),
                d > 0 ? "more" : "less");
        said = 1;
    }
    if (!said) fprintf(out, "    within 2 dB of the reference in every region\n");
}
