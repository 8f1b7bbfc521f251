/* The processor registry: every insert type (eq, compressor, reverb...) is one
 * file that defines one mf_processor_class_t, listed once in mf_registry.c.
 *
 * A class declares its parameters in a table (name, unit, default, min, max,
 * or a list of choices for a named setting). That one table drives JSON
 * validation in session/, automation paths (inserts.<i>.<param> and
 * inserts.<i>.bands.<j>.<param>), canonical task parameters and the docs.
 *
 * Parameter values travel as one flat array of doubles:
 *   [ params[0..n_params) , band 0 [0..n_band_params), band 1 ...,
 *     list 0: count, item[0..max_count) , list 1 ... ]
 * A choice parameter holds the index of the chosen string. Classes with
 * bands (eq, multiband) say how many they accept. A list parameter (a JSON
 * array of numbers, like multiband's crossovers_hz) takes a fixed slot of
 * 1 + max_count values after the bands: its count, then its items, unused
 * items 0. Its item k is automated as inserts.<i>.<list>.<k>. Lists come
 * last so that band positions (n_params + b * n_band_params) are the same
 * whether a class has lists or not.
 *
 * An auxiliary input (the convolution reverb's impulse response, "ir") is a
 * file the insert names: session/ checks it like a track's file, the planner
 * decodes it at the session rate as one more input of the channel task, and
 * the executor reads it whole and passes it to create_aux(). It travels as a
 * signal, not in the value array.
 *
 * Processors are pure DSP: no I/O, no allocation in process(), no globals. */
#ifndef MF_PROCESSOR_H
#define MF_PROCESSOR_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;           /* JSON key, e.g. "threshold_db" */
    const char *unit;           /* "dB", "Hz", "ms", "s", "ratio", "" */
    double def;                 /* default when the key is absent */
    double min, max;            /* inclusive range, checked on load and on automation */
    const char *const *choices; /* NULL-terminated names for a choice; NULL if numeric */
    const char *help;           /* one line for the docs */
} mf_param_desc_t;

typedef struct {
    double sample_rate;
    int channels;     /* 1 or 2: the signal the insert processes, interleaved */
    double tempo_bpm; /* for tempo-synced times */
    int automated;    /* update() may come: 0 lets create() precompute what stays fixed */
} mf_proc_env_t;

/* A list-valued parameter. */
typedef struct {
    mf_param_desc_t item;   /* name (the JSON key), unit, range of every item, help */
    const double *defaults; /* the list when the key is absent */
    size_t n_defaults;
    size_t min_count, max_count;
    int increasing; /* items must strictly increase */
    int sets_bands; /* the class takes exactly count + 1 bands (crossovers: one band per
                       region between items); "bands" absent means that many default bands */
} mf_list_param_t;

/* An auxiliary input file: what it is and how long it may be. */
typedef struct {
    const char *name;   /* JSON key: a path, relative to the session's folder */
    double max_seconds; /* longest accepted (checked at validation) */
    const char *help;
} mf_aux_desc_t;

/* An auxiliary signal handed to create_aux(): interleaved, at the session
 * rate, borrowed for the call only (the instance copies what it keeps). */
typedef struct {
    const float *data;
    size_t frames;
    int channels; /* 1 or 2 */
} mf_proc_aux_t;

typedef struct mf_processor_class {
    const char *type;    /* the "type" key in an insert */
    const char *summary; /* one line for the docs */
    const mf_param_desc_t *params;
    size_t n_params;
    const mf_param_desc_t *band_params; /* NULL when the class has no bands */
    size_t n_band_params;
    size_t max_bands;
    int has_sidechain; /* accepts a "sidechain" source (an edge in the graph) */

    /* Makes an instance for values (flat layout above, nbands bands).
     * Returns NULL when out of memory. */
    void *(*create)(const double *values, size_t nbands, const mf_proc_env_t *env);
    /* New values (automation); same layout and band count as create(). */
    void (*update)(void *st, const double *values);
    /* Processes frames in place. key is the sidechain signal (same channel
     * count and length) or NULL when none is routed. */
    void (*process)(void *st, float *buf, size_t frames, const float *key);
    /* How many frames of output may follow the end of the input (reverb and
     * delay tails); NULL means none. */
    size_t (*tail_frames)(const void *st);
    /* Frames of latency (look-ahead); NULL means none. */
    size_t (*latency_frames)(const void *st);
    void (*destroy)(void *st);

    const mf_list_param_t *lists; /* NULL when the class has no list parameter */
    size_t n_lists;
    const mf_aux_desc_t *aux; /* NULL when the class takes no auxiliary input */
    /* create() with the auxiliary signal, for an insert that names one;
     * the same values layout and ownership as create(). */
    void *(*create_aux)(const double *values, size_t nbands, const mf_proc_env_t *env,
                        const mf_proc_aux_t *aux);
} mf_processor_class_t;

/* Every registered class, in a fixed order; *count receives the number. */
const mf_processor_class_t *const *mf_processors(size_t *count);
/* The class for a type name, or NULL. */
const mf_processor_class_t *mf_processor_find(const char *type);
/* Index of a parameter by name in params (or band_params when band != 0), or -1. */
int mf_processor_param_index(const mf_processor_class_t *cls, int band, const char *name);
/* Number of values an instance with nbands bands takes (lists included). */
size_t mf_processor_value_count(const mf_processor_class_t *cls, size_t nbands);
/* Index of a list parameter by name in lists, or -1. */
int mf_processor_list_index(const mf_processor_class_t *cls, const char *name);
/* Position of list's count in the value array (its items follow). */
size_t mf_processor_list_offset(const mf_processor_class_t *cls, size_t nbands, size_t list);

#endif
