/* QC checks and delivery targets.
 *
 * A target is a name, an integrated loudness (NAN for none) and a true-peak
 * ceiling. The presets are one data table (platforms change their numbers:
 * change them here and in docs/qc.md). mf_qc_check() turns an analysis, a
 * target and the file's format into a list of problems, one per failed
 * check, named as in CLI.md: true_peak, loudness, clipping, dc_offset,
 * silence, phase, mono_as_stereo, length, format. */
#ifndef MF_QC_H
#define MF_QC_H

#include "mf_analyze.h"

#include <stddef.h>

typedef struct {
    const char *name;      /* "streaming", ..., or "custom" */
    double lufs;           /* integrated loudness target; NAN: none (no loudness check) */
    double true_peak_dbtp; /* ceiling */
} mf_qc_target_t;

/* Thresholds (docs/qc.md explains each). */
#define MF_QC_LOUDNESS_TOL_LU 0.5 /* |integrated - target| above this fails */
#define MF_QC_DC_MAX_DB -40.0     /* DC offset above this fails */
/* Overall L/R correlation below this fails: summed to mono, the channels
 * then lose more than 4 dB, where uncorrelated ones (around 0: a wide mix,
 * a spaced pair, unrelated parts left and right) lose 3 and pass. */
#define MF_QC_PHASE_MIN -0.2
#define MF_QC_SILENCE_MAX_S 2.0   /* head, tail or inner silence longer than this fails */
#define MF_QC_MIN_LENGTH_S 1.0    /* shorter fails (a render that lost its audio) */
#define MF_QC_MAX_LENGTH_S 4800.0 /* longer fails: 80 min, a CD image (79:57) fits */
#define MF_QC_MIN_BITS 16         /* lossless deliveries need at least 16-bit ... */
#define MF_QC_MIN_RATE 44100      /* ... and 44.1 kHz */

/* Every preset, in a fixed order; *count receives the number. */
const mf_qc_target_t *mf_qc_presets(size_t *count);
/* The preset with this name, or NULL. */
const mf_qc_target_t *mf_qc_preset(const char *name);

/* What the file is, as far as the format check cares. */
typedef struct {
    int rate;     /* Hz */
    int bits;     /* bits per sample of the stored data; 0 when unknown or lossy */
    int lossless; /* 1 for PCM/FLAC/float files, 0 for lossy codecs (no format check) */
    /* Silences the file was made with on purpose (an album image's pre-gap
     * and gaps between songs): a silence that meets one is allowed that
     * much longer. NULL / 0: none. */
    const mf_qc_span_t *pauses;
    size_t n_pauses;
    /* A mono record on purpose (mastering.mono, qc --mono): identical
     * channels are what it should have, not mono_as_stereo. */
    int mono;
} mf_qc_format_t;

#define MF_QC_MAX_PROBLEMS 16
typedef struct {
    const char *check; /* a check name (static string) */
    char message[480];
    double at_s; /* where in the file, NAN when the whole file */
} mf_qc_problem_t;

typedef struct {
    mf_qc_problem_t items[MF_QC_MAX_PROBLEMS];
    size_t count;
} mf_qc_problems_t;

/* Runs every check; fills *out (cleared first) and returns the number of
 * problems (0: the file passes). fmt may be NULL (no format check). */
size_t mf_qc_check(const mf_analysis_t *a, const mf_qc_target_t *t, const mf_qc_format_t *fmt,
                   mf_qc_problems_t *out);

/* One more problem (a check made outside mf_qc_check: a file cut short,
 * which only its reader sees); check is a static string. */
void mf_qc_add(mf_qc_problems_t *p, const char *check, double at_s, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "1:23.4" for 83.4 s, "23.4 s" under a minute, "-" when not finite; returns buf. */
const char *mf_qc_time(double s, char *buf, size_t size);

#endif
