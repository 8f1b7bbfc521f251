/* The comparison as a self-contained page: a table of the measures and two
 * inline SVG plots (both spectra over the loudest passages, and their
 * difference, raw and level-matched), on a log-frequency axis. */
#include "mf_compare.h"

#include <math.h>
#include <stdio.h>

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

static void s_esc(FILE *f, const char *s)
{
    for (; *s; s++)
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
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
    fprintf(p->f, "<text x=\"%d\" y=\"16\" fill=\"%s\" class=\"lg\">&#9472; ", ML + 420 + 150 * k,
            color);
    s_esc(p->f, what);
    fputs("</text>\n", p->f);
}

static void s_row(FILE *f, const char *what, const char *unit, double a, double b)
{
    fprintf(f, "<tr><td>%s</td>", what);
    const double v[3] = {a, b, a - b};
    for (int i = 0; i < 3; i++) {
        if (isfinite(v[i]))
            fprintf(f, i == 2 ? "<td>%+.1f</td>" : "<td>%.1f</td>", v[i]);
        else
            fprintf(f, "<td>%s</td>",
                    isnan(v[i]) ? "&ndash;"
                    : v[i] < 0  ? "&minus;&infin;"
                                : "&infin;");
    }
    fprintf(f, "<td>%s</td></tr>\n", unit);
}

mf_err_t mf_compare_html(FILE *f, const char *file, const char *reference, const mf_measure_t *a,
                         const mf_measure_t *r)
{
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>mixfarm compare</title>\n"
          "<style>body{font:14px sans-serif;margin:24px;color:#222}table{border-collapse:collapse}"
          "td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}"
          "td:first-child{text-align:left}.t{font:bold 13px sans-serif}.lg{font:12px sans-serif}"
          ".frame{fill:none;stroke:#888}.grid{stroke:#eee}.yl{font:11px sans-serif;text-anchor:end}"
          ".xl{font:11px sans-serif;text-anchor:middle}</style></head><body>\n<h1>",
          f);
    s_esc(f, file);
    fputs(" compared with ", f);
    s_esc(f, reference);
    fputs("</h1>\n<table><tr><th></th><th>file</th><th>reference</th><th>difference</th><th></th>"
          "</tr>\n",
          f);
    s_row(f, "integrated loudness", "LUFS", a->a.integrated_lufs, r->a.integrated_lufs);
    s_row(f, "loudness range", "LU", a->a.lra_lu, r->a.lra_lu);
    s_row(f, "true peak", "dBTP", a->a.true_peak_dbtp, r->a.true_peak_dbtp);
    s_row(f, "PLR", "dB", a->a.plr_db, r->a.plr_db);
    s_row(f, "crest factor", "dB", a->a.crest_db, r->a.crest_db);
    s_row(f, "width (side/mid)", "dB", mf_width_db(&a->l, 0, MF_QC_BANDS),
          mf_width_db(&r->l, 0, MF_QC_BANDS));
    for (int w = 0; w < MF_WIDTH_BANDS; w++) {
        char name[64];
        const int b0 = MF_WIDTH_FIRST[w], b1 = MF_WIDTH_FIRST[w + 1];
        snprintf(name, sizeof name, "&nbsp;&nbsp;width %.0f&ndash;%.0f Hz", mf_band_edge_hz(b0, 0),
                 mf_band_edge_hz(b1 - 1, 1));
        s_row(f, name, "dB", mf_width_db(&a->l, b0, b1), mf_width_db(&r->l, b0, b1));
    }
    fputs("</table>\n", f);
    double hz[MF_QC_BANDS], diff[MF_QC_BANDS], matched[MF_QC_BANDS], hi = -200.0;
    const double off = isfinite(a->l.level_db - r->l.level_db) ? a->l.level_db - r->l.level_db : 0;
    double dmax = 6.0;
    for (int b = 0; b < MF_QC_BANDS; b++) {
        hz[b] = mf_qc_band_hz(b);
        diff[b] = a->l.mid_db[b] - r->l.mid_db[b];
        matched[b] = diff[b] - off;
        if (isfinite(a->l.mid_db[b])) hi = fmax(hi, a->l.mid_db[b]);
        if (isfinite(r->l.mid_db[b])) hi = fmax(hi, r->l.mid_db[b]);
        if (isfinite(diff[b])) dmax = fmax(dmax, fabs(diff[b]));
        if (isfinite(matched[b])) dmax = fmax(dmax, fabs(matched[b]));
    }
    hi = ceil((hi > -190.0 ? hi : 0.0) / 10.0) * 10.0;
    dmax = fmin(ceil(dmax / 6.0) * 6.0, 48.0);
    plot_t p = {f, 0, 0};
    s_begin(&p, "Spectrum of the loudest passages, third-octave bands (dB)", hi - 90.0, hi, 10.0);
    s_line(&p, hz, a->l.mid_db, MF_QC_BANDS, "#2f6fa8", "none");
    s_line(&p, hz, r->l.mid_db, MF_QC_BANDS, "#c0392b", "none");
    s_legend(&p, 0, "#2f6fa8", "file");
    s_legend(&p, 1, "#c0392b", "reference");
    fputs("</svg>\n", f);
    s_begin(&p, "Difference, file minus reference (dB)", -dmax, dmax, dmax / 4.0);
    s_line(&p, hz, diff, MF_QC_BANDS, "#555", "4 3");
    s_line(&p, hz, matched, MF_QC_BANDS, "#2f6fa8", "none");
    s_legend(&p, 0, "#555", "raw");
    s_legend(&p, 1, "#2f6fa8", "level-matched");
    fputs("</svg>\n<p>Levels are long-term averages over the loudest passages (those at or above "
          "the quadratic mean of all 3-second passages), mid channel ((L+R)/2).</p>\n"
          "</body></html>\n",
          f);
    return ferror(f) ? MF_ERR_IO : MF_OK;
}
