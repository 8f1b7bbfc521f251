/* Parameters of the mastering and qc tasks, as canonical JSON (the planner
 * writes them, the executors read them).
 *
 *  mastering {"rate", "channels", "tempo_bpm", "target": {"name", "lufs" (null:
 *            none), "true_peak_dbtp"}, "ceiling_dbtp", "release_ms",
 *            "lookahead_ms", "inserts": [{"type", "values", "bands"}]}
 *            input 0: the mix. output 0: the master (float); output 1: a
 *            JSON report of the passes.
 *  qc        {"target": {...}, "files": [{"path", "input", "rate", "bits",
 *            "lossless"}]}: input k is a signal; each file names the input
 *            it is made from and the format it is delivered in.
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
} mf_master_insert_spec_t;

typedef struct {
    int rate, channels;
    double tempo_bpm;
    mf_target_spec_t target;
    double ceiling_dbtp, release_ms, lookahead_ms;
    mf_master_insert_spec_t *inserts;
    size_t n_inserts;
} mf_mastering_spec_t;

typedef struct {
    char *path;
    size_t input;
    int rate, bits, lossless;
} mf_qc_file_spec_t;

typedef struct {
    mf_target_spec_t target;
    mf_qc_file_spec_t *files;
    size_t n_files;
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
