/* qc.html's section on the playback systems, drawn from listen.json's
 * document (worker/listen_report.c); it goes in at the page's seam for
 * later sections (mf_qc_html_insert). */
#include "mf_compare.h"
#include "mf_html.h"
#include "mf_qc_report.h"

static double s_at(const json_t *o, const char *key)
{
    return mf_json_num(json_object_get(o, key));
}

static const char *s_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static void s_row(FILE *f, const json_t *sys)
{
    fputs("<tr><td><a href=\"", f), mf_html_esc(f, s_str(sys, "path")), fputs("\">", f);
    mf_html_esc(f, s_str(sys, "name"));
    fputs("</a></td><td>", f), mf_html_esc(f, s_str(sys, "model"));
    fprintf(f, "</td><td>%d</td><td>", (int)json_integer_value(json_object_get(sys, "channels")));
    mf_html_num(f, s_at(sys, "integrated_lufs"), "%.1f LUFS");
    fputs("</td><td>", f), mf_html_num(f, s_at(sys, "loudness_diff_lu"), "%+.1f LU");
    fputs("</td><td>", f), mf_html_num(f, s_at(sys, "low_end_db"), "%+.1f dB");
    fputs("</td><td>", f), mf_html_num(f, s_at(sys, "correlation"), "%.2f");
    fputs("</td><td>", f), mf_html_num(f, s_at(sys, "mono_drop_db"), "%+.1f dB");
    fputs("</td></tr>\n", f);
}

mf_err_t mf_listen_html(FILE *f, const json_t *listen)
{
    const json_t *m = json_object_get(listen, "master"),
                 *systems = json_object_get(listen, "systems");
    if (!json_is_object(m) || !json_is_array(systems)) return MF_ERR_INVALID;
    fputs("<h2 id=\"listen\">Playback systems</h2>\n<p>", f);
    mf_html_esc(f, s_str(listen, "source"));
    fputs(" through simple models of playback systems (the files in listen/; docs/reference.md): "
          "its loudness on each, what happens to its low end (below 90 Hz, against the rest, "
          "compared with the source) and what mono loses. The source: ",
          f);
    mf_html_num(f, s_at(m, "integrated_lufs"), "%.1f LUFS");
    fputs(", correlation ", f), mf_html_num(f, s_at(m, "correlation"), "%.2f");
    fputs(", mono sum ", f), mf_html_num(f, s_at(m, "mono_drop_db"), "%+.1f dB");
    fputs(", ", f), mf_html_num(f, s_at(m, "low_end_share_pct"), "%.0f %%");
    fputs(" of its power below 90 Hz.</p>\n<table><tr><th>system</th><th>model</th><th>ch</th>"
          "<th>loudness</th><th>vs source</th><th>low end</th><th>correlation</th>"
          "<th>mono sum</th></tr>\n",
          f);
    size_t i, warned = 0;
    const json_t *sys;
    json_array_foreach(systems, i, sys) s_row(f, sys);
    fputs("</table>\n", f);
    json_array_foreach(systems, i, sys)
    {
        const json_t *w = json_object_get(sys, "warnings");
        size_t k;
        const json_t *text;
        json_array_foreach(w, k, text)
        {
            fputs(warned++ ? "<li><b>" : "<ul>\n<li><b>", f);
            mf_html_esc(f, s_str(sys, "name"));
            fputs("</b>: ", f),
                mf_html_esc(f, json_string_value(text) ? json_string_value(text) : "");
            fputs("</li>\n", f);
        }
    }
    fputs(warned ? "</ul>\n" : "<p>Nothing to warn about on these systems.</p>\n", f);
    return ferror(f) ? MF_ERR_IO : MF_OK;
}
