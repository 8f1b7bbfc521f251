/* Comparing a file with a reference track (mixfarm compare, reference.json):
 * a meter that measures one signal in one streaming pass (the QC analysis
 * and the spectrum of its loudest passages, mf_ltas.h), and the comparison
 * document and report built from two measurements.
 *
 *   mf_meter_t *m = mf_meter_new(2, 48000);
 *   while (more) mf_meter_feed(m, block, frames);
 *   mf_measure_t file;
 *   mf_meter_finish(m, &file);   // file owns its series: mf_measure_fini
 *   mf_meter_free(&m);
 *   json_t *doc = mf_compare_json("mix.wav", "ref.wav", &file, &ref);
 *
 * The document (CLI.md "compare --json"): loudness, lra, true_peak, plr,
 * crest and width as {file_*, reference_*, diff_*}; bands[] with freq_hz,
 * file_db, reference_db and diff_db (file minus reference, raw: no loudness
 * normalisation) for the 31 third-octave bands over the loudest passages. */
#ifndef MF_COMPARE_H
#define MF_COMPARE_H

#include "mf_analyze.h"
#include "mf_error.h"
#include "mf_ltas.h"

#include <jansson.h>
#include <stdio.h>

typedef struct {
    mf_analysis_t a;    /* MF_ANALYZE_ALL */
    mf_ltas_result_t l; /* loudest passages, mid and side */
} mf_measure_t;

typedef struct mf_meter mf_meter_t;

/* channels 1 .. MF_QC_MAX_CHANNELS (surround: the loudness of every channel
 * by mf_analyzer_set_weights' weights, the spectra and width of the front
 * pair), rate 8000 .. 768000; NULL when out of range or memory. */
mf_meter_t *mf_meter_new(int channels, double rate);
/* The loudness weights of a surround signal's channels (mf_analyze.h). */
void mf_meter_set_weights(mf_meter_t *m, const float *weight);
/* MF_ERR_NOMEM when the analysis cannot grow (the meter is then unusable). */
mf_err_t mf_meter_feed(mf_meter_t *m, const float *buf, size_t frames);
mf_err_t mf_meter_finish(mf_meter_t *m, mf_measure_t *out);
void mf_meter_free(mf_meter_t **m);
void mf_measure_fini(mf_measure_t *m);

/* Stereo width per band: side power over mid power in dB (-inf for mono),
 * over the loudest passages, in MF_WIDTH_BANDS groups of third-octave bands
 * (band b of the group runs from MF_WIDTH_FIRST[b] to MF_WIDTH_FIRST[b+1]-1). */
#define MF_WIDTH_BANDS 5
extern const int MF_WIDTH_FIRST[MF_WIDTH_BANDS + 1];
double mf_width_db(const mf_ltas_result_t *l, int first_band, int end_band);
/* Edges of third-octave band b (the lower one with hi = 0, else the upper). */
double mf_band_edge_hz(int b, int upper);

/* The comparison document; NULL when out of memory (the caller owns it).
 * Numbers rounded to 0.01; -inf / inf as strings, unmeasured as null. */
json_t *mf_compare_json(const char *file, const char *reference, const mf_measure_t *f,
                        const mf_measure_t *r);
/* A self-contained HTML page: the summary table and inline SVG plots of both
 * spectra and of their difference (mf_compare_html.c). */
mf_err_t mf_compare_html(FILE *out, const char *file, const char *reference, const mf_measure_t *f,
                         const mf_measure_t *r);
/* The same table and plots drawn from a comparison document (as
 * mf_compare_json makes it, or read back from a blob), as a fragment of a
 * page: the body of mf_compare_html and a section of qc.html. It uses the
 * CSS classes t, lg, frame, grid, yl and xl. MF_ERR_INVALID when doc has
 * no bands, MF_ERR_IO when out cannot be written. */
mf_err_t mf_compare_html_section(FILE *out, const json_t *doc);
/* A short human summary, one line per measure, then what stands out (the
 * largest spectral differences once the loudness offset is taken out). */
void mf_compare_print(FILE *out, const char *file, const char *reference, const mf_measure_t *f,
                      const mf_measure_t *r);
/* A number as in every mixfarm report: rounded to 0.01, -inf/inf as
 * strings, NAN as null. */
json_t *mf_json_db(double x);
/* Such a number read back: "-inf"/"inf" strings as infinities, anything
 * else that is not a number (null: not measured) as NAN. */
double mf_json_num(const json_t *v);

#endif
