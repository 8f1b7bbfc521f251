/* The planner: a validated session becomes a DAG of tasks (the render graph
 * as data). Nodes are decode, strip, bus and master tasks; an edge is an
 * output port of one task feeding an input of another.
 *
 *   decode(track) -> strip(track) -> bus ... -> master -> mix.wav
 *
 * Outputs of a channel task: 0 is the post-fader signal (its `output`, and
 * its stem); 1 + k is its k-th send. A bus sums its inputs in one fixed
 * order (tracks in session order, then buses; each one's output before its
 * sends), so the bits never depend on scheduling. Tasks are listed in a
 * topological order. */
#ifndef MF_PLAN_H
#define MF_PLAN_H

#include <stddef.h>

#include "mf_hash.h"
#include "mf_session.h"

typedef struct {
    int task;       /* producer task index, or -1 for a fixed blob */
    int output;     /* producer's output index */
    mf_hash_t blob; /* when task == -1: the blob itself (a source file) */
} mf_port_t;

typedef struct {
    char *kind;   /* "decode", "strip", "bus", "master" */
    char *label;  /* "strip Kick": for progress and logs */
    char *params; /* canonical JSON (mf_params.h) */
    mf_port_t *in;
    size_t n_in;
    size_t n_out;
    double audio_s; /* timeline seconds it will render (for progress) */
} mf_plan_task_t;

typedef struct {
    char *name;
    mf_port_t port;
} mf_plan_stem_t;

/* A file of OUTDIR and where its content comes from. */
typedef struct {
    char *path; /* "mix.wav", "stems/Drums.wav", "master/Song.flac", "qc.json" */
    mf_port_t port;
    char *format; /* "wav", "aiff", "flac", or "raw" (the blob's bytes) */
    int bits;     /* 16, 24 (dithered) or 32 (float) */
    int aligned;  /* spans the mix's length, like the mix and the stems */
} mf_plan_output_t;

typedef struct {
    mf_plan_task_t *tasks;
    size_t n_tasks;
    mf_port_t mix;
    mf_plan_stem_t *stems;
    size_t n_stems;
    mf_plan_output_t *outputs; /* every file of OUTDIR but manifest.json */
    size_t n_outputs;
    int mastered; /* a failed QC check then fails the render */
} mf_plan_t;

/* Plans s. sources[i] is the blob of track i's file. Returns NULL only when
 * out of memory. */
mf_plan_t *mf_plan_session(const mf_session_t *s, const mf_hash_t *sources);
void mf_plan_free(mf_plan_t **p);
/* Where a stem goes in OUTDIR: "stems/<name>.wav", with path separators and
 * control characters in the name replaced by '_' (malloc'd). */
char *mf_plan_stem_path(const char *name);

/* Adds the mastering and qc tasks and the list of OUTDIR files to a planned
 * session (plan_outputs.c). 0, or -1 when out of memory. */
int mf_plan_outputs(mf_plan_t *p, const mf_session_t *s);
/* Appends a task to a plan (its fields zeroed, kind and label set); NULL
 * when out of memory. */
mf_plan_task_t *mf_plan_append(mf_plan_t *p, const char *kind, const char *label);

#endif
