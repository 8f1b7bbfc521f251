/* The mastering core: inserts -> gain -> true-peak limiter, measured and
 * repeated until the master lands on its target. Pure: audio comes from a
 * source callback and goes to a sink callback; no files.
 *
 * Passes: the first runs the inserts and measures the result (integrated
 * loudness and true peak); the gain that would reach the target is then
 * tried through the limiter, measured, and corrected (a model of the
 * loudness the limiter takes away, fitted to each pass; else the secant)
 * until the integrated loudness is within 0.25 LU of the target (the QC
 * tolerance is 0.5) and the true peak is under the ceiling by the QC meter.
 * Typically 2-3 passes; target none: limiter only, one pass. The output of
 * the inserts (or of an expensive source) waits between passes in the
 * caller's spill, a file in the worker (store/mf_spill.h), so memory does
 * not grow with the length of the mix; without one the inserts run again
 * each pass.
 *
 * The limiter keeps margin_db under the ceiling: other meters read true
 * peak differently (ffmpeg's ebur128 reads up to 0.5 dB higher than the
 * true value on some signals; see docs/qc.md), and the deliverable must pass
 * theirs too. */
#ifndef MF_MASTER_H
#define MF_MASTER_H

#include "mf_error.h"
#include "mf_processor.h"
#include "mf_qc.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    /* Starts the mix again from its first frame (called before every pass). */
    mf_err_t (*rewind)(void *ctx);
    /* Fills buf with up to max interleaved frames; *got = 0 at the end. */
    mf_err_t (*read)(void *ctx, float *buf, size_t max, size_t *got);
    void *ctx;
} mf_master_source_t;

typedef struct {
    /* Called before a pass writes: forget what an earlier pass wrote. NULL
     * when the sink cannot start over; then only a pass already known to be
     * final writes (it costs one more pass). */
    mf_err_t (*begin)(void *ctx);
    mf_err_t (*write)(void *ctx, const float *buf, size_t frames);
    void *ctx;
} mf_master_sink_t;

/* Where the post-insert signal waits between passes: appended to on the
 * first pass (interleaved samples), then read from the start on each of
 * the others (*got = 0 at the end). */
typedef struct {
    mf_err_t (*append)(void *ctx, const float *x, size_t samples);
    mf_err_t (*rewind)(void *ctx);
    mf_err_t (*read)(void *ctx, float *x, size_t max, size_t *got);
    void *ctx;
} mf_master_spill_t;

typedef struct {
    const mf_processor_class_t *cls; /* from mf_processor_find() */
    const double *values;            /* the class's flat value layout */
    size_t nbands;
    const mf_proc_aux_t *aux; /* its file input (create_aux), or NULL */
} mf_master_insert_t;

typedef struct {
    int channels; /* 1 or 2 */
    double rate, tempo_bpm;
    const mf_master_insert_t *inserts; /* made anew for each pass that runs them */
    size_t n_inserts;
    mf_qc_target_t target;
    double ceiling_dbtp;            /* NAN: the target's true_peak_dbtp */
    double release_ms;              /* limiter; 0: 80 ms */
    double lookahead_ms;            /* limiter; 0: 5 ms */
    double margin_db;               /* kept under the ceiling; NAN: MF_MASTER_MARGIN_DB */
    const mf_master_spill_t *spill; /* NULL: the inserts run again each pass */
} mf_master_config_t;

#define MF_MASTER_MARGIN_DB 0.5
#define MF_MASTER_TOL_LU 0.25
/* A search whose next gain is this close to the last has settled: the
 * target is out of reach (mf_master_result_t.within_target 0). */
#define MF_MASTER_SETTLED_DB 0.1

typedef struct {
    double gain_db;         /* before the limiter */
    double integrated_lufs; /* of the output, by the QC meter */
    double true_peak_dbtp;
    double lra_lu;
    double max_reduction_db; /* deepest limiter gain reduction (<= 0) */
    int passes;              /* passes over the mix, the writing one included */
    int within_target;       /* |I - target| <= 0.5 LU (or no target) and TP <= ceiling */
    int64_t frames;          /* written: the mix length plus insert tails */
} mf_master_result_t;

/* Runs the passes and writes the final one to sink. MF_ERR_INVALID for a
 * bad config (channels, rate, an insert that cannot be made), the source's
 * or sink's error, MF_ERR_NOMEM. A master that could not reach the target
 * (a silent mix, a target beyond what the limiter can give) is still
 * written: see res->within_target. */
mf_err_t mf_master_run(const mf_master_config_t *cfg, const mf_master_source_t *src,
                       const mf_master_sink_t *sink, mf_master_result_t *res);

#endif
