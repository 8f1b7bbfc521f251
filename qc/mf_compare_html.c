/* The comparison as HTML: a table of the measures and two inline SVG plots
 * (both spectra over the loudest passages, and their difference, raw and
 * level-matched), on a log-frequency axis. Drawn from the comparison
 * document, so that compare's page, reference.html and the section of
 * qc.html (whose worker only has the document) are one drawing. */
#include "mf_compare.h"
#include "mf_html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { W = 860, H = 220, ML = 56, MR = 20, MT = 26, MB = 30 };

typedef struct {
    FILE *f;
    double y0, y1;
} plot_t;

static double s_x(double hz)
{
    return ML + (log10(hz) - log10(16.0)) / (log10(25000.0) - log10(16.0)) * W;
}

static double s_y(const plot_t *p, double v)
{
    v = v < p->y0 ? p->y0 : v > p->y1 ? p->y1 : v;
    return MT + (p->y1 - v) / (p->y1 - p->y0) * H;
}

static void s_begin(plot_t *p, const char *title, double y0, double y1, double step)
{
    FILE *f = p->f;
    p->y0 = y0, p->y1 = y1;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">\n",
            W + ML + MR, H + MT + MB);
    fprintf(f, "<text x=\"%d\" y=\"16\" class=\"t\">%s</text>\n", ML, title);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"frame\"/>\n", ML, MT, W,
            H);
    for (double v = ceil(y0 / step) * step; v <= y1 + 1e-9; v += step)
        fprintf(f,
                "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
                "<text x=\"%d\" y=\"%.1f\" class=\"yl\">%g</text>\n",
                ML, ML + W, s_y(p, v), s_y(p, v), ML - 4, s_y(p, v) + 4, fabs(v) < 1e-9 ? 0 : v);
    static const double fx[] = {20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000};
    for (size_t i = 0; i < sizeof fx / sizeof fx[0]; i++)
        fprintf(f,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" class=\"grid\"/>"
                "<text x=\"%.1f\" y=\"%d\" class=\"xl\">%g%s</text>\n",
                s_x(fx[i]), s_x(fx[i]), MT, MT + H, s_x(fx[i]), MT + H + 16,
                fx[i] >= 1000 ? fx[i] / 1000 : fx[i], fx[i] >= 1000 ? "k" : "");
}

/* A line through (hz[i], db[i]); non-finite values break it. */
static void s_line(plot_t *p, const double *hz, const double *db, size_t n, const char *color,
                   const char *dash)
{
    int open = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(db[i]) || hz[i] < 16.0 || hz[i] > 25000.0) {
            if (open) fputs("\"/>\n", p->f);
            open = 0;
            continue;
        }
        if (!open)
            fprintf(p->f,
                    "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" "
                    "stroke-dasharray=\"%s\" points=\"",
                    color, dash);
        fprintf(p->f, "%.1f,%.1f ", s_x(hz[i]), s_y(p, db[i]));
        open = 1;
    }
    if (open) fputs("\"/>\n", p->f);
}

static void s_legend(plot_t *p, int k, const char *color, const char *what)
{
    fprintf(p->f, "<text x=\"%d\" y=\"16\" fill=\"%s\" class=\"lg\">&#9472; ", ML + 560 + 130 * k,
            color);
    mf_html_esc(p->f, what);
    fputs("</text>\n", p->f);
}

static double s_at(const json_t *doc, const char *obj, const char *key)
{
    return mf_json_num(json_object_get(json_object_get(doc, obj), key));
}

static void s_row(FILE *f, const char *what, const char *unit, double a, double b)
{
    fprintf(f, "<tr><td>%s</td>", what);
    const double v[3] = {a, b, a - b};
    for (int i = 0; i < 3; i++) {
        if (isfinite(v[i])) /* no "-0.0" */
            fprintf(f, i == 2 ? "<td>%+.1f</td>" : "<td>%.1f</td>", fabs(v[i]) < 0.05 ? 0.0 : v[i]);
        else
            fprintf(f, "<td>%s</td>",
                    isnan(v[i]) ? "&ndash;"
                    : v[i] < 0  ? "&minus;&infin;"
                                : "&infin;");
    }
    fprintf(f, "<td>%s</td></tr>\n", unit);
}

static const struct {
    const char *what, *obj, *file_key, *ref_key, *unit;
} s_rows[] = {{"integrated loudness", "loudness", "file_lufs", "reference_lufs", "LUFS"},
              {"loudness range", "lra", "file_lu", "reference_lu", "LU"},
              {"true peak", "true_peak", "file_dbtp", "reference_dbtp", "dBTP"},
              {"PLR", "plr", "file_db", "reference_db", "dB"},
              {"crest factor", "crest", "file_db", "reference_db", "dB"},
              {"width (side/mid)", "width", "file_side_mid_db", "reference_side_mid_db", "dB"}};

static void s_table(FILE *f, const json_t *doc)
{
    fputs("<table><tr><th></th><th>file</th><th>reference</th><th>difference</th><th></th>"
          "</tr>\n",
          f);
    for (size_t i = 0; i < sizeof s_rows / sizeof s_rows[0]; i++)
        s_row(f, s_rows[i].what, s_rows[i].unit, s_at(doc, s_rows[i].obj, s_rows[i].file_key),
              s_at(doc, s_rows[i].obj, s_rows[i].ref_key));
    const json_t *wb = json_object_get(json_object_get(doc, "width"), "bands");
    for (size_t w = 0; w < json_array_size(wb); w++) {
        const json_t *b = json_array_get(wb, w);
        char name[80];
        snprintf(name, sizeof name, "&nbsp;&nbsp;width %.0f&ndash;%.0f Hz",
                 mf_json_num(json_object_get(b, "lo_hz")),
                 mf_json_num(json_object_get(b, "hi_hz")));
        s_row(f, name, "dB", mf_json_num(json_object_get(b, "file_db")),
              mf_json_num(json_object_get(b, "reference_db")));
    }
    fputs("</table>\n", f);
}

/* The offset that level-matches the (mid) spectra: the difference in their
 * levels, else (a document from before) in level over the loudest
 * passages, else in integrated loudness. */
static double s_level_offset(const json_t *doc)
{
    double off = s_at(doc, "loudest_passages", "file_mid_db") -
                 s_at(doc, "loudest_passages", "reference_mid_db");
    if (!isfinite(off))
        off = s_at(doc, "loudest_passages", "file_level_db") -
              s_at(doc, "loudest_passages", "reference_level_db");
    if (!isfinite(off)) off = s_at(doc, "loudness", "diff_lu");
    return isfinite(off) ? off : 0.0;
}

/* Both spectra in one plot, their difference (raw, level-matched) in another. */
static mf_err_t s_plots(FILE *f, const double *hz, const double *file_db, const double *ref_db,
                        size_t n, double off)
{
    double *diff = malloc(2 * n * sizeof *diff), *matched = diff + n, hi = -200.0, dmax = 6.0;
    if (!diff) return MF_ERR_NOMEM;
    for (size_t b = 0; b < n; b++) {
        diff[b] = file_db[b] - ref_db[b];
        matched[b] = diff[b] - off;
        if (isfinite(file_db[b])) hi = fmax(hi, file_db[b]);
        if (isfinite(ref_db[b])) hi = fmax(hi, ref_db[b]);
        if (isfinite(diff[b])) dmax = fmax(dmax, fabs(diff[b]));
        if (isfinite(matched[b])) dmax = fmax(dmax, fabs(matched[b]));
    }
    hi = ceil((hi > -190.0 ? hi : 0.0) / 10.0) * 10.0;
    dmax = fmin(ceil(dmax / 6.0) * 6.0, 48.0);
    plot_t p = {f, 0, 0};
    s_begin(&p, "Spectrum of the loudest passages, third-octave bands (dB)", hi - 90.0, hi, 10.0);
    s_line(&p, hz, file_db, n, "#2f6fa8", "none");
    s_line(&p, hz, ref_db, n, "#c0392b", "none");
    s_legend(&p, 0, "#2f6fa8", "file");
    s_legend(&p, 1, "#c0392b", "reference");
    fputs("</svg>\n", f);
    s_begin(&p, "Difference, file minus reference (dB)", -dmax, dmax, dmax / 4.0);
    s_line(&p, hz, diff, n, "#555", "4 3");
    s_line(&p, hz, matched, n, "#2f6fa8", "none");
    s_legend(&p, 0, "#555", "raw");
    s_legend(&p, 1, "#2f6fa8", "level-matched");
    fputs("</svg>\n", f);
    free(diff);
    return MF_OK;
}

mf_err_t mf_compare_html_section(FILE *f, const json_t *doc)
{
    const json_t *bands = json_object_get(doc, "bands");
    const size_t n = json_array_size(bands);
    if (!n) return MF_ERR_INVALID;
    double *hz = malloc(3 * n * sizeof *hz), *file_db = hz + n, *ref_db = hz + 2 * n;
    if (!hz) return MF_ERR_NOMEM;
    for (size_t b = 0; b < n; b++) {
        const json_t *bd = json_array_get(bands, b);
        hz[b] = mf_json_num(json_object_get(bd, "freq_hz"));
        file_db[b] = mf_json_num(json_object_get(bd, "file_db"));
        ref_db[b] = mf_json_num(json_object_get(bd, "reference_db"));
    }
    s_table(f, doc);
    const mf_err_t err = s_plots(f, hz, file_db, ref_db, n, s_level_offset(doc));
    free(hz);
    if (err != MF_OK) return err;
    fputs("<p>Levels are long-term averages over the loudest passages (those at or above the "
          "quadratic mean of all 3-second passages), mid channel ((L+R)/2); differences are file "
          "minus reference.</p>\n",
          f);
    return ferror(f) ? MF_ERR_IO : MF_OK;
}

mf_err_t mf_compare_html(FILE *out, const char *file, const char *reference, const mf_measure_t *f,
                         const mf_measure_t *r)
{
    json_t *doc = mf_compare_json(file, reference, f, r);
    if (!doc) return MF_ERR_NOMEM;
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>mixfarm compare</title>\n"
          "<style>body{font:14px sans-serif;margin:24px;color:#222}table{border-collapse:collapse}"
          "td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}"
          "td:first-child{text-align:left}.t{font:bold 13px sans-serif}.lg{font:12px sans-serif}"
          ".frame{fill:none;stroke:#888}.grid{stroke:#eee}.yl{font:11px sans-serif;text-anchor:end}"
          ".xl{font:11px sans-serif;text-anchor:middle}</style></head><body>\n<h1>",
          out);
    mf_html_esc(out, file);
    fputs(" compared with ", out);
    mf_html_esc(out, reference);
    fputs("</h1>\n", out);
    const mf_err_t err = mf_compare_html_section(out, doc);
    fputs("</body></html>\n", out);
    json_decref(doc);
    return err != MF_OK ? err : ferror(out) ? MF_ERR_IO : MF_OK;
}
