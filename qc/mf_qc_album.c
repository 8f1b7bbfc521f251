#include "mf_qc_album.h"
#include "mf_compare.h" /* mf_json_db */
#include "mf_html.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Each song's first file: the order of the files is the plan's, songs in
 * order and each song's formats in the order of `outputs`. */
static size_t s_songs(const int *song, size_t n, size_t *first, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t j = 0; j < k; j++) seen |= song[first[j]] == song[i];
        if (song[i] > 0 && !seen && k < max) first[k++] = i;
    }
    return k;
}

static const char *const s_modes[] = {NULL, "album", "track", "unmastered"};

json_t *mf_qc_album_json(const mf_qc_file_t *files, const int *song, size_t n, int mode)
{
    size_t *first = malloc((n + 1) * sizeof *first);
    if (!first) return NULL;
    const size_t k = s_songs(song, n, first, n);
    double lo = INFINITY, hi = -INFINITY, tp = -INFINITY, dur = 0.0;
    const char *loudest = NULL, *quietest = NULL;
    for (size_t j = 0; j < k; j++) {
        const mf_analysis_t *a = files[first[j]].analysis;
        dur += a->duration_s;
        tp = fmax(tp, a->true_peak_dbtp);
        if (!isfinite(a->integrated_lufs)) continue; /* silent: no loudness to compare */
        if (a->integrated_lufs > hi) hi = a->integrated_lufs, loudest = files[first[j]].path;
        if (a->integrated_lufs < lo) lo = a->integrated_lufs, quietest = files[first[j]].path;
    }
    json_t *songs = json_array();
    for (size_t j = 0; songs && j < k; j++) {
        const mf_qc_file_t *f = &files[first[j]];
        const mf_analysis_t *a = f->analysis;
        json_array_append_new(songs, json_pack("{s:i, s:s, s:o, s:o, s:o, s:o, s:o}", "song",
                                               song[first[j]], "path", f->path, "integrated_lufs",
                                               mf_json_db(a->integrated_lufs), "from_loudest_lu",
                                               mf_json_db(loudest ? a->integrated_lufs - hi : NAN),
                                               "lra_lu", mf_json_db(a->lra_lu), "true_peak_dbtp",
                                               mf_json_db(a->true_peak_dbtp), "duration_s",
                                               mf_json_db(a->duration_s)));
    }
    free(first);
    const int m = mode >= 1 && mode <= 3 ? mode : 0;
    return json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "mode",
        s_modes[m] ? json_string(s_modes[m]) : json_null(), "songs", songs, "duration_s",
        mf_json_db(dur), "loudness_spread_lu", mf_json_db(loudest ? hi - lo : NAN), "loudest",
        loudest ? json_string(loudest) : json_null(), "quietest",
        quietest ? json_string(quietest) : json_null(), "max_true_peak_dbtp", mf_json_db(tp));
}

static double s_num(const json_t *o, const char *key)
{
    return mf_json_num(json_object_get(o, key));
}

mf_err_t mf_qc_album_html(FILE *f, const json_t *album)
{
    const json_t *songs = json_object_get(album, "songs");
    const char *mode = json_string_value(json_object_get(album, "mode"));
    const double dur = s_num(album, "duration_s");
    fputs("<h2 id=\"album\">Album</h2>\n<p>", f);
    fprintf(f, "%zu songs, %d:%02d", json_array_size(songs), (int)(dur / 60),
            (int)fmod(isfinite(dur) ? dur : 0, 60));
    if (mode)
        fprintf(f, "; %s",
                !strcmp(mode, "album")   ? "mastered as an album (one gain for all)"
                : !strcmp(mode, "track") ? "each song mastered to the target"
                                         : "not mastered");
    fputs(". Loudness spread ", f);
    mf_html_num(f, s_num(album, "loudness_spread_lu"), "%.1f LU");
    const char *loud = json_string_value(json_object_get(album, "loudest"));
    const char *quiet = json_string_value(json_object_get(album, "quietest"));
    if (loud && quiet) {
        fputs(" (loudest ", f), mf_html_esc(f, loud);
        fputs(", quietest ", f), mf_html_esc(f, quiet);
        fputs(")", f);
    }
    fputs(".</p>\n<table><tr><th>song</th><th>file</th><th>integrated</th><th>from the "
          "loudest</th><th>LRA</th><th>true peak</th><th>length</th></tr>\n",
          f);
    for (size_t i = 0; i < json_array_size(songs); i++) {
        const json_t *s = json_array_get(songs, i);
        fprintf(f, "<tr><td>%d</td><td>", (int)json_integer_value(json_object_get(s, "song")));
        mf_html_esc(f, json_string_value(json_object_get(s, "path")));
        fputs("</td><td>", f), mf_html_num(f, s_num(s, "integrated_lufs"), "%.1f LUFS");
        fputs("</td><td>", f), mf_html_num(f, s_num(s, "from_loudest_lu"), "%+.1f LU");
        fputs("</td><td>", f), mf_html_num(f, s_num(s, "lra_lu"), "%.1f LU");
        fputs("</td><td>", f), mf_html_num(f, s_num(s, "true_peak_dbtp"), "%.2f dBTP");
        fputs("</td><td>", f), mf_html_num(f, s_num(s, "duration_s"), "%.1f s");
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    return ferror(f) ? MF_ERR_IO : MF_OK;
}
