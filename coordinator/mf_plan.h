/* The planner: a validated session becomes a DAG of tasks (the render graph
 * as data). Nodes are decode, strip, bus and master tasks; an edge is an
 * output port of one task feeding an input of another.
 *
 *   decode(track) -> strip(track) -> bus ... -> master -> mix.wav
 *
 * Outputs of a channel task: 0 is the post-fader signal (its `output`, and
 * its stem); 1 + k is its k-th send. A track whose pan, fader and send
 * levels are fixed, and that is neither a stem nor a side-chain key, is
 * planned unpanned: one output, the signal after its inserts, and each port
 * taken from it carries the gains the channel that sums it applies (so a
 * fader or pan move re-runs no strip). A bus sums its inputs in one fixed
 * order (tracks in session order, then buses; each one's output before its
 * sends), so the bits never depend on scheduling. Tasks are listed in a
 * topological order. */
#ifndef MF_PLAN_H
#define MF_PLAN_H

#include <stddef.h>

#include "mf_hash.h"
#include "mf_params.h"
#include "mf_session.h"

typedef struct {
    int task;          /* producer task index, or -1 for a fixed blob */
    int output;        /* producer's output index */
    mf_hash_t blob;    /* when task == -1: the blob itself (a source file) */
    mf_in_gain_t gain; /* set: an unpanned strip's gains, for whoever sums it */
} mf_port_t;

typedef struct {
    char *kind;   /* "decode", "strip", "sum", "bus", "master", ... */
    char *label;  /* "strip Kick": for progress and logs */
    char *params; /* canonical JSON (mf_params.h) */
    mf_port_t *in;
    size_t n_in;
    size_t n_out;
    double audio_s; /* timeline seconds it will render (for progress) */
    /* Its expected run time in seconds on one core of a typical worker,
     * when it is far from its siblings' (0: about theirs): of tasks that
     * become ready together, the longest start first (mf_sched.c). */
    double cost;
} mf_plan_task_t;

typedef struct {
    char *name;
    mf_port_t port;
} mf_plan_stem_t;

/* A file of OUTDIR and where its content comes from. */
typedef struct {
    char *path; /* "mix.wav", "stems/Drums.wav", "master/Song.flac", "qc.json" */
    mf_port_t port;
    char *format;   /* "wav", "aiff", "flac", or "raw" (the blob's bytes) */
    int bits;       /* 16, 24 (dithered) or 32 (float) */
    int aligned;    /* spans the mix's length, like the mix and the stems */
    mf_port_t info; /* when has_info: a JSON blob whose "manifest" object
                       describes the file (an encoded deliverable) */
    int has_info;
} mf_plan_output_t;

typedef struct {
    mf_plan_task_t *tasks;
    size_t n_tasks, cap_tasks; /* cap: allocated (mf_plan_append grows it) */
    mf_port_t mix;
    mf_plan_stem_t *stems;
    size_t n_stems;
    mf_plan_output_t *outputs; /* every file of OUTDIR but manifest.json */
    size_t n_outputs;
    int mastered; /* a failed QC check then fails the render */
} mf_plan_t;

/* Plans s. sources[i] is the blob of track i's file; sources[n_tracks] is
 * the cover image's when metadata.cover is set (and sources[n_tracks + 1]
 * the mastering reference's, plan_listen.c). Returns NULL when out of
 * memory, or when s has auxiliary inputs (impulse responses), which need
 * mf_plan_session_sources. */
mf_plan_t *mf_plan_session(const mf_session_t *s, const mf_hash_t *sources);
/* The same with the auxiliary files too: sources as above, then
 * sources[n_tracks + 2 + k] is the blob of s->aux[k]; n_sources is the
 * array's length, n_tracks + 2 + n_aux. An auxiliary file becomes a decode
 * task (at the session rate, from 0) and one more input of each channel
 * task whose inserts use it. NULL when out of memory or n_sources is not
 * that. */
mf_plan_t *mf_plan_session_sources(const mf_session_t *s, const mf_hash_t *sources,
                                   size_t n_sources);
/* Where s->aux[k]'s blob goes in the sources array. */
#define MF_PLAN_AUX_SOURCE(s, k) ((s)->n_tracks + 2 + (k))
void mf_plan_free(mf_plan_t **p);
/* Where a stem goes in OUTDIR: "stems/<name>.wav", with path separators and
 * control characters in the name replaced by '_' (malloc'd). */
char *mf_plan_stem_path(const char *name);

/* Adds the mastering, encode and qc tasks and the list of OUTDIR files to a
 * planned session (plan_outputs.c, plan_deliver.c); sources as for
 * mf_plan_session; aux_task[k]: the task decoding s->aux[k] (-1: none).
 * 0, or -1 when out of memory. */
int mf_plan_outputs(mf_plan_t *p, const mf_session_t *s, const mf_hash_t *sources,
                    const int *aux_task);
/* Appends a task to a plan (its fields zeroed, kind and label set); NULL
 * when out of memory. */
mf_plan_task_t *mf_plan_append(mf_plan_t *p, const char *kind, const char *label);

#endif
