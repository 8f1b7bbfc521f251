/* Parameters of the mastering and qc tasks, as canonical JSON (the planner
 * writes them, the executors read them).
 *
 *  mastering {"rate", "channels", "tempo_bpm", "target": {"name", "lufs" (null:
 *            none), "true_peak_dbtp"}, "ceiling_dbtp", "release_ms",
 *            "lookahead_ms", "inserts": [{"type", "values", "bands"}]}
 *            input 0: the mix. output 0: the master (float); output 1: a
 *            JSON report of the passes. With "levels_entry" k >= 1 (an
 *            album in album mode), input 1 is the album_levels report and
 *            the target's loudness is its "targets"[k - 1].
 *  qc        {"target": {...}, "files": [{"path", "input", "rate", "bits",
 *            "lossless", "decode", "report"}]}: each file names the input
 *            it is measured from and the format it is delivered in. With
 *            "decode" "" the input is a signal; with a format ("flac",
 *            "mp3", ...) it is the delivered file's bytes, measured after
 *            decoding. "report" (-1: none) is the input holding the encode
 *            task's report of that file (its length is checked against it,
 *            its "qc" object is added to the file's entry). "red_book"
 *            (-1: none): the input holding an album's timings (the
 *            sequence task's): the file is checked as a CD image.
 *            "lufs_from" 0 (the target's loudness), 1 (no loudness
 *            check) or 2 (input "levels", an album_levels report, entry
 *            "levels_entry" - 1 of its "targets"). A file's "mono" true:
 *            a mono record's, its identical channels no mono_as_stereo.
 *            output 0: qc.json; output 1: qc.html. */
#ifndef MF_MASTER_PARAMS_H
#define MF_MASTER_PARAMS_H

#include <stddef.h>

#include "mf_error.h"
#include "mf_processor.h"

typedef struct {
    char name[32];
    double lufs; /* NAN: no loudness target */
    double true_peak_dbtp;
} mf_target_spec_t;

typedef struct {
    const mf_processor_class_t *cls;
    double *values;
    size_t n_values, nbands;
    int aux; /* which of the task's file inputs (0: the first, after its signals) is its
                file (a reverb's "ir"), or -1 */
} mf_master_insert_spec_t;

typedef struct {
    int rate, channels;
    double tempo_bpm;
    mf_target_spec_t target;
    double ceiling_dbtp, release_ms, lookahead_ms;
    mf_master_insert_spec_t *inserts;
    size_t n_inserts;
    int levels_entry; /* 1 + the album_levels entry to aim at; 0: none */
} mf_mastering_spec_t;

typedef struct {
    char *path;
    size_t input;
    int rate, bits, lossless;
    char decode[8]; /* "" for a signal input, MF_QC_ANALYSIS for an analysis blob
                       (an encode task's, qc/mf_analysis_blob.h), else the file's format */
    long report;    /* input of the encode report, -1 when none */
    long red_book;  /* input of an album's timings: check it as a CD image; -1 none */
    /* Its loudness target: the spec's (0), none (1: an album image), or an
     * album_levels report's "targets"[levels_entry - 1] at input levels (2). */
    int lufs_from;
    long levels;
    int levels_entry;
    /* 1 + the input holding the file's comparison with mastering.reference
     * (a compare task's document, reported as its "reference"); 0: none. */
    long compare;
    /* An album image's: the input of the album's timings, whose pre-gap and
     * gaps are silences made on purpose (mf_qc_format_t.pauses); -1 none. */
    long timings;
    int song; /* 1 + the album track this file delivers; 0: not a song */
    int mono; /* a mono record's (mastering.mono): identical channels are no problem */
} mf_qc_file_spec_t;

#define MF_QC_ANALYSIS "an"

typedef struct {
    mf_target_spec_t target;
    mf_qc_file_spec_t *files;
    size_t n_files;
    /* 1 + the file (a signal: an unmastered session's mix) whose analysis
     * also goes to listen_report as the listening source's statistics, a
     * third output (worker/exec_qc.c); 0: none. */
    long source_stats;
    /* An album's report (qc/mf_qc_album.h): 1 mastered as an album, 2 each
     * song to the target, 3 not mastered; 0: not an album. */
    int album;
} mf_qc_spec_t;

/* Canonical JSON (malloc'd), NULL when out of memory. */
char *mf_mastering_spec_to_json(const mf_mastering_spec_t *m);
char *mf_qc_spec_to_json(const mf_qc_spec_t *q);
/* Parse and check everything; MF_ERR_INVALID with *why for malformed input. */
mf_err_t mf_mastering_spec_from_json(const char *text, mf_mastering_spec_t *m, const char **why);
mf_err_t mf_qc_spec_from_json(const char *text, size_t n_inputs, mf_qc_spec_t *q, const char **why);
void mf_mastering_spec_fini(mf_mastering_spec_t *m);
void mf_qc_spec_fini(mf_qc_spec_t *q);

#endif
