/* QC reports: qc.json (the schema of CLI.md, with a few more fields) and
 * qc.html (self-contained: inline CSS and SVG, no scripts, no external
 * assets), written from a list of analysed files. Each writer puts the file
 * aside and renames it into place, so a report appears whole or not at all. */
#ifndef MF_QC_REPORT_H
#define MF_QC_REPORT_H

#include "mf_error.h"
#include "mf_qc.h"

#include <jansson.h>
#include <stddef.h>

typedef struct {
    const char *path;                 /* as the report names it, e.g. "master/Night Drive.wav" */
    const mf_analysis_t *analysis;    /* measured with MF_ANALYZE_ALL for the full report */
    const mf_qc_problems_t *problems; /* from mf_qc_check() */
    /* Its comparison with a reference track (the document of mf_compare_json,
     * borrowed), reported as the file's "reference" and a section of qc.html;
     * NULL: none. */
    json_t *reference;
    /* Its channel layout by the speakers, "5.1", "7.1.4" (mixfarm qc of a
     * surround file), reported as "layout"; NULL: none said. */
    const char *layout;
} mf_qc_file_t;

/* 1 when no file has a problem. */
int mf_qc_report_pass(const mf_qc_file_t *files, size_t n);

/* The qc.json document; NULL when out of memory. The caller owns it
 * (json_decref). Numbers are rounded to 0.01; -inf is the string "-inf",
 * values not measured are null. */
json_t *mf_qc_report_json(const mf_qc_target_t *t, const mf_qc_file_t *files, size_t n);

/* qc.json / qc.html at path. MF_ERR_IO (errno tells why) or MF_ERR_NOMEM. */
mf_err_t mf_qc_report_write_json(const char *path, const mf_qc_target_t *t,
                                 const mf_qc_file_t *files, size_t n);
mf_err_t mf_qc_report_write_html(const char *path, const mf_qc_target_t *t,
                                 const mf_qc_file_t *files, size_t n);
/* The HTML document into out (a FILE from fopen or open_memstream). */
mf_err_t mf_qc_report_html(FILE *out, const mf_qc_target_t *t, const mf_qc_file_t *files, size_t n);

/* Where sections measured after the QC go in its qc.html: before the
 * closing note. The playback systems' (mf_listen_html) are added by the
 * task that reports on the listening copies, which runs after the qc task
 * (worker/listen_report.c). */
#define MF_QC_HTML_MORE "<!-- mixfarm: more sections -->\n"
/* And where an overview of all files goes (an album's): after the table of
 * files, before the section of each. */
#define MF_QC_HTML_SUMMARY "<!-- mixfarm: overview -->\n"
/* html (len bytes) with part put at MF_QC_HTML_MORE, else before </body>,
 * else at the end: malloc'd with a NUL after it, its length in *out_len;
 * NULL when out of memory. */
char *mf_qc_html_insert(const char *html, size_t len, const char *part, size_t part_len,
                        size_t *out_len);
/* The same at marker (MF_QC_HTML_SUMMARY...), else before </body>... */
char *mf_qc_html_insert_at(const char *html, size_t len, const char *marker, const char *part,
                           size_t part_len, size_t *out_len);
/* The playback systems' section from listen.json's document: a table of
 * each system's loudness, low end, correlation and mono sum, then its
 * warnings. MF_ERR_INVALID when the document lacks them, MF_ERR_IO when out
 * cannot be written. */
mf_err_t mf_listen_html(FILE *out, const json_t *listen);

/* Reports are written with mf_fs_write_atomic (store/mf_fs.h). */

#endif
