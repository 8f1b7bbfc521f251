/* Task parameters: what a task carries of the render graph, as canonical
 * JSON (sorted keys, compact, every value explicit). The planner writes them,
 * the executors read them; both sides use these functions, so the format has
 * one definition.
 *
 *  decode  {"from_s", "length_s" (-1: to the end), "rate", "start_s"}
 *          input 0: the source file's bytes. output 0: its signal at rate,
 *          placed at start_s on the timeline.
 *  strip / bus / master: one channel (mf_chan_spec_t). Inputs 0..sum-1 are
 *          summed in order; later inputs are sidechain keys and auxiliary
 *          signals (an insert's "key" and "aux" say which). Outputs follow
 *          spec.outputs in order. An insert's "aux" is written only when it
 *          has one, so channels without keep the keys they always had.
 *          A strip whose file is at the session rate has a "decode" (as the
 *          decode task's) and input 0 is the source file's bytes. */
#ifndef MF_PARAMS_H
#define MF_PARAMS_H

#include <stddef.h>

#include "mf_envelope.h"
#include "mf_error.h"
#include "mf_processor.h"

typedef struct {
    mf_point_t *pts;
    size_t n;
} mf_curve_t;

typedef struct {
    int param; /* position in the insert's value array */
    mf_curve_t curve;
} mf_param_auto_t;

typedef struct {
    const mf_processor_class_t *cls;
    double *values;
    size_t n_values, nbands;
    int key; /* input index of the sidechain signal, or -1 */
    int aux; /* input index of the auxiliary signal (an impulse response), or -1 */
    mf_param_auto_t *autos;
    size_t n_autos;
} mf_insert_spec_t;

typedef struct {
    int pre_fader;    /* tap before the fader (after inserts and pan) */
    double level_db;  /* MF_DB_SILENT for silence */
    mf_curve_t curve; /* level automation; n == 0 when none */
} mf_chan_out_t;

typedef struct {
    double from_s, length_s, start_s;
    int rate;
    int stereo; /* a mono file played in both channels (an album's mono mix) */
} mf_decode_spec_t;

/* The pan, fader and level of an unpanned strip's output, applied by the
 * channel that sums it as it reads it (mf_pcm_reader_view): a fader or pan
 * move then changes the summing task's key, not the strip's. fader_db is 0
 * for a pre-fader send. */
typedef struct {
    int set;
    double pan, pan_law_db, fader_db, level_db;
} mf_in_gain_t;

typedef struct {
    int rate;
    double tempo_bpm;
    double pan_law_db;
    int invert;
    double gain_db;
    mf_curve_t gain_curve;
    double pan;
    mf_curve_t pan_curve;
    mf_insert_spec_t *inserts;
    size_t n_inserts;
    size_t sum; /* how many leading inputs are summed */
    mf_chan_out_t *outputs;
    size_t n_outputs;
    int has_decode;          /* a strip reading input 0 from its source file */
    mf_decode_spec_t decode; /* how (rate == rate above) */
    /* One output: the signal after the inserts, in its own channel count,
     * without pan, fader or level (its consumers apply them: in_gains). */
    int unpanned;
    mf_in_gain_t *in_gains; /* sum entries (set where given), or NULL */
} mf_chan_spec_t;

/* Canonical JSON text (malloc'd) or NULL when out of memory. */
char *mf_chan_spec_to_json(const mf_chan_spec_t *c);
char *mf_decode_spec_to_json(const mf_decode_spec_t *d);
/* Parses and checks; MF_ERR_INVALID (with *why set to a static string) for
 * anything malformed. */
mf_err_t mf_chan_spec_from_json(const char *text, mf_chan_spec_t *c, const char **why);
mf_err_t mf_decode_spec_from_json(const char *text, mf_decode_spec_t *d, const char **why);
void mf_chan_spec_fini(mf_chan_spec_t *c);
/* The part every task's insert shares: {"type", "values", "bands"} checked
 * against the registry (the value count the class and band count imply).
 * 0, or -1 for anything malformed; *values is malloc'd either way once the
 * class is known (the caller frees it). */
struct json_t;
int mf_params_insert_values(const struct json_t *o, const mf_processor_class_t **cls,
                            double **values, size_t *n_values, size_t *nbands);

#endif
