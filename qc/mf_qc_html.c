/* qc.html: a summary table, then per file its measurements, a verdict per
 * check, four charts (peak/RMS overview, short-term loudness against the
 * target, spectrum, correlation) and, when it was compared with a reference
 * track, the comparison with its spectra (mf_compare_html.c); and a seam
 * before the closing note where sections measured later go (the playback
 * systems', mf_listen_html.c). Self-contained: inline CSS and SVG. */
#include "mf_compare.h"
#include "mf_fs.h"
#include "mf_html.h"
#include "mf_qc_report.h"
#include "mf_qc_svg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_checks[] = {"true_peak",      "loudness", "clipping",
                                       "dc_offset",      "silence",  "phase",
                                       "mono_as_stereo", "length",   "format"};

static void s_verdicts(FILE *f, const mf_qc_target_t *t, const mf_qc_file_t *fl)
{
    char tm[32];
    fputs("<table class=\"v\"><tr><th>check</th><th>verdict</th><th>details</th><th>at</th></tr>\n",
          f);
    for (size_t c = 0; c < sizeof s_checks / sizeof s_checks[0]; c++) {
        int found = 0;
        for (size_t i = 0; fl->problems && i < fl->problems->count; i++) {
            const mf_qc_problem_t *p = &fl->problems->items[i];
            if (strcmp(p->check, s_checks[c]) != 0) continue;
            found = 1;
            fprintf(f, "<tr><td>%s</td><td class=\"fail\">FAIL</td><td>", s_checks[c]);
            mf_html_esc(f, p->message);
            fprintf(f, "</td><td>%s</td></tr>\n", mf_qc_time(p->at_s, tm, sizeof tm));
        }
        if (found) continue;
        const int skipped = c == 1 && isnan(t->lufs);
        fprintf(f, "<tr><td>%s</td><td class=\"%s\">%s</td><td></td><td></td></tr>\n", s_checks[c],
                skipped ? "skip" : "pass", skipped ? "not checked" : "pass");
    }
    fputs("</table>\n", f);
}

static void s_metrics(FILE *f, const mf_analysis_t *a)
{
    char tm[32];
    fputs("<table class=\"m\">", f);
    fprintf(f, "<tr><th>length</th><td>%s</td><th>format</th><td>%d ch, %g Hz</td></tr>\n",
            mf_qc_time(a->duration_s, tm, sizeof tm), a->channels, a->rate);
    fputs("<tr><th>integrated</th><td>", f), mf_html_num(f, a->integrated_lufs, "%.1f LUFS");
    fputs("</td><th>loudness range</th><td>", f), mf_html_num(f, a->lra_lu, "%.1f LU");
    fputs("</td></tr>\n<tr><th>momentary max</th><td>", f),
        mf_html_num(f, a->momentary_max_lufs, "%.1f LUFS");
    fputs("</td><th>short-term max</th><td>", f),
        mf_html_num(f, a->short_term_max_lufs, "%.1f LUFS");
    fputs("</td></tr>\n<tr><th>true peak</th><td>", f),
        mf_html_num(f, a->true_peak_dbtp, "%.2f dBTP");
    fputs("</td><th>sample peak</th><td>", f), mf_html_num(f, a->sample_peak_dbfs, "%.2f dBFS");
    fputs("</td></tr>\n<tr><th>PLR</th><td>", f), mf_html_num(f, a->plr_db, "%.1f dB");
    fputs("</td><th>crest factor</th><td>", f), mf_html_num(f, a->crest_db, "%.1f dB");
    fputs("</td></tr>\n<tr><th>correlation</th><td>", f), mf_html_num(f, a->correlation, "%.2f");
    fputs("</td><th>mono sum</th><td>", f), mf_html_num(f, a->mono_drop_db, "%+.1f dB");
    fputs("</td></tr>\n<tr><th>DC offset</th><td>", f), mf_html_num(f, a->dc_offset_db, "%.1f dB");
    fprintf(f, "</td><th>clipped samples</th><td>%lld</td></tr>\n", (long long)a->clipped_samples);
    fputs("<tr><th>head silence</th><td>", f), mf_html_num(f, a->head_silence_s, "%.2f s");
    fputs("</td><th>tail silence</th><td>", f), mf_html_num(f, a->tail_silence_s, "%.2f s");
    fputs("</td></tr></table>\n", f);
}

static void s_charts(FILE *f, const mf_qc_target_t *t, const mf_analysis_t *a)
{
    mf_svg_t s;
    const double len = a->duration_s > 0 ? a->duration_s : 1.0;
    char lab[64];
    mf_svg_begin(&s, f, "Peak (light) and RMS (dark) per 100 ms", 900, 140, 0, len, -1, 1, 0.5, "",
                 0);
    mf_svg_envelope(&s, a->true_peak ? a->true_peak : a->peak, a->n_hops, a->hop_s, "#9cc3e6");
    mf_svg_envelope(&s, a->rms, a->n_hops, a->hop_s, "#2f6fa8");
    const double ceil_lin = pow(10.0, t->true_peak_dbtp / 20.0);
    snprintf(lab, sizeof lab, "%.1f dBTP", t->true_peak_dbtp);
    mf_svg_hline(&s, ceil_lin, "#c0392b", "4 3", lab);
    mf_svg_hline(&s, -ceil_lin, "#c0392b", "4 3", NULL);
    mf_svg_end(&s);

    double top = 0.0, bottom = -40.0;
    if (isfinite(t->lufs)) bottom = fmin(bottom, t->lufs - 20.0);
    if (isfinite(a->integrated_lufs))
        bottom = fmin(bottom, floor(a->integrated_lufs / 10.0) * 10.0 - 20.0);
    mf_svg_begin(&s, f, "Short-term loudness (3 s), momentary (400 ms) in grey", 900, 180, 0, len,
                 bottom, top, 10, "", 0);
    mf_svg_series(&s, a->momentary, a->n_hops, 0.0, a->hop_s, "#c8c8c8", 1);
    mf_svg_series(&s, a->short_term, a->n_hops, 0.0, a->hop_s, "#2f6fa8", 1.5);
    if (isfinite(t->lufs)) {
        snprintf(lab, sizeof lab, "target %.0f", t->lufs);
        mf_svg_hline(&s, t->lufs, "#c0392b", "6 3", lab);
    }
    if (isfinite(a->integrated_lufs)) {
        snprintf(lab, sizeof lab, "I %.1f", a->integrated_lufs);
        mf_svg_hline(&s, a->integrated_lufs, "#27ae60", "2 2", lab);
    }
    mf_svg_end(&s);

    double hi = -200.0;
    for (int b = 0; b < MF_QC_BANDS; b++)
        if (isfinite(a->band_db[b])) hi = fmax(hi, a->band_db[b]);
    if (hi > -200.0) {
        hi = ceil(hi / 10.0) * 10.0;
        mf_svg_begin(&s, f, "Long-term spectrum, third-octave bands (dB)", 900, 160, 16, 25000,
                     hi - 70, hi, 10, "", 1);
        for (int b = 0; b < MF_QC_BANDS; b++)
            if (isfinite(a->band_db[b]))
                mf_svg_bar(&s, mf_qc_band_hz(b), a->band_db[b], 18, "#2f6fa8");
        mf_svg_end(&s);
    }
    if (a->channels >= 2 && a->n_seconds) { /* of more, the front pair */
        mf_svg_begin(&s, f, "L/R correlation per second", 900, 120, 0, len, -1, 1, 0.5, "", 0);
        mf_svg_hline(&s, 0.0, "#888", "3 3", NULL);
        mf_svg_series(&s, a->correlation_s, a->n_seconds, 0.5, 1.0, "#8e44ad", 1.5);
        mf_svg_end(&s);
    }
}

/* The file against its reference track: the table and both spectra. */
static mf_err_t s_reference(FILE *f, size_t i, const json_t *doc)
{
    const char *ref = json_string_value(json_object_get(doc, "reference"));
    fprintf(f, "<h3 id=\"r%zu\">Compared with the reference ", i);
    mf_html_esc(f, ref ? ref : "");
    fputs("</h3>\n", f);
    return mf_compare_html_section(f, doc);
}

static const char s_css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1060px}"
    "h1{font-size:22px}h2{font-size:17px;margin-top:32px;border-bottom:1px solid #ddd}"
    "table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 10px;text-align:left;"
    "border-bottom:1px solid #eee}th{font-weight:600;color:#555}"
    ".pass{color:#1e8449;font-weight:600}.fail{color:#c0392b;font-weight:600}.skip{color:#888}"
    "svg{display:block;margin:10px 0}.frame{fill:#fafafa;stroke:#bbb}.grid{stroke:#e4e4e4}"
    ".t{font-size:13px;font-weight:600}.yl{font-size:11px;text-anchor:end;fill:#666}"
    ".xl{font-size:11px;text-anchor:middle;fill:#666}.hl{font-size:11px}.lg{font-size:12px}";

mf_err_t mf_qc_report_html(FILE *f, const mf_qc_target_t *t, const mf_qc_file_t *files, size_t n)
{
    const int pass = mf_qc_report_pass(files, n);
    fprintf(f,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>mixfarm QC report</title><style>%s</style></head><body>\n",
            s_css);
    fputs("<h1>QC report</h1>\n<p>Target: <b>", f);
    mf_html_esc(f, t->name);
    fputs("</b> (", f);
    if (isfinite(t->lufs)) fprintf(f, "%.1f LUFS, ", t->lufs);
    fprintf(f, "true peak &le; %.1f dBTP) &mdash; <span class=\"%s\">%s</span></p>\n",
            t->true_peak_dbtp, pass ? "pass" : "fail", pass ? "PASS" : "FAIL");
    fputs("<table><tr><th>file</th><th>integrated</th><th>LRA</th><th>true peak</th>"
          "<th>PLR</th><th>verdict</th></tr>\n",
          f);
    for (size_t i = 0; i < n; i++) {
        const mf_analysis_t *a = files[i].analysis;
        const int ok = !files[i].problems || !files[i].problems->count;
        fprintf(f, "<tr><td><a href=\"#f%zu\">", i);
        mf_html_esc(f, files[i].path);
        fputs("</a></td><td>", f), mf_html_num(f, a->integrated_lufs, "%.1f LUFS");
        fputs("</td><td>", f), mf_html_num(f, a->lra_lu, "%.1f LU");
        fputs("</td><td>", f), mf_html_num(f, a->true_peak_dbtp, "%.2f dBTP");
        fputs("</td><td>", f), mf_html_num(f, a->plr_db, "%.1f dB");
        fprintf(f, "</td><td class=\"%s\">%s</td></tr>\n", ok ? "pass" : "fail",
                ok ? "pass" : "FAIL");
    }
    fputs("</table>\n" MF_QC_HTML_SUMMARY, f);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "<h2 id=\"f%zu\">", i);
        mf_html_esc(f, files[i].path);
        fputs("</h2>\n", f);
        s_metrics(f, files[i].analysis);
        s_verdicts(f, t, &files[i]);
        s_charts(f, t, files[i].analysis);
        const mf_err_t err = files[i].reference ? s_reference(f, i, files[i].reference) : MF_OK;
        if (err != MF_OK) return err;
    }
    fputs(MF_QC_HTML_MORE, f);
    fputs("<p style=\"color:#888\">Loudness per ITU-R BS.1770-4 / EBU R 128, LRA per EBU Tech "
          "3342, true peak 4x oversampled (docs/qc.md).</p>\n</body></html>\n",
          f);
    return ferror(f) ? MF_ERR_IO : MF_OK;
}

mf_err_t mf_qc_report_write_html(const char *path, const mf_qc_target_t *t,
                                 const mf_qc_file_t *files, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return MF_ERR_NOMEM;
    mf_err_t err = mf_qc_report_html(f, t, files, n);
    if (fclose(f) != 0 && !err) err = MF_ERR_NOMEM;
    if (!err) err = mf_fs_write_atomic(path, buf, len);
    free(buf);
    return err;
}

/* The first place in html (len bytes) where needle is, or NULL. */
static const char *s_find(const char *html, size_t len, const char *needle)
{
    return memmem(html, len, needle, strlen(needle));
}

char *mf_qc_html_insert(const char *html, size_t len, const char *part, size_t part_len,
                        size_t *out_len)
{
    return mf_qc_html_insert_at(html, len, MF_QC_HTML_MORE, part, part_len, out_len);
}

char *mf_qc_html_insert_at(const char *html, size_t len, const char *marker, const char *part,
                           size_t part_len, size_t *out_len)
{
    const char *at = s_find(html, len, marker);
    if (!at) at = s_find(html, len, "</body>");
    const size_t head = at ? (size_t)(at - html) : len;
    char *out = malloc(len + part_len + 1);
    if (!out) return NULL;
    memcpy(out, html, head);
    memcpy(out + head, part, part_len);
    memcpy(out + head + part_len, html + head, len - head);
    out[len + part_len] = 0;
    *out_len = len + part_len;
    return out;
}
