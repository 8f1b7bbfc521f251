/* Private to the planner's output files: plan_outputs.c (mix, stems,
 * mastering, qc), plan_deliver.c (encode tasks and their names). */
#ifndef MF_PLAN_INT_H
#define MF_PLAN_INT_H

#include "mf_encode_params.h"
#include "mf_master_params.h"
#include "mf_file_name.h"
#include "mf_plan.h"

/* A growing list of ports: the inputs of a qc task being planned. */
typedef struct {
    mf_port_t *v;
    size_t n;
} mf_port_list_t;

/* Appends; returns the new port's index, or -1 when out of memory. */
long mf_port_list_add(mf_port_list_t *l, mf_port_t port);

/* spec->in_gains from the gains the first spec->sum ports of in carry
 * (left NULL when none does). 0, or -1 when out of memory. */
int mf_plan_in_gains(mf_chan_spec_t *spec, const mf_port_t *in);

/* Inputs a channel sums in its own pass; more go through sum tasks. Each
 * level of sums costs a task, and the write and read of a stereo signal,
 * on the critical path of every revision: 8 rather than 4 (an unpanned
 * mono strip is half the bytes of a stereo input) made a fader re-render
 * of 16 tracks on two buses 6 % faster and its full render 10 %. */
#define MF_SUM_FANIN 8
/* Reduces the signals a bus or the master named `name` sums (ports, in
 * their fixed order) to at most MF_SUM_FANIN, through a tree of "sum" tasks
 * of MF_SUM_FANIN consecutive inputs (plan_sums.c). 0, or -1 when out of
 * memory. */
int mf_plan_sum_tree(mf_plan_t *p, const char *name, int rate, double audio_s,
                     mf_port_list_t *ports);

/* Adds a file of OUTDIR; path is taken over (freed on failure). info: the
 * port of a JSON blob whose "manifest" object describes the file, or NULL.
 * 0, or -1 when out of memory. */
int mf_plan_add_output(mf_plan_t *p, char *path, mf_port_t port, const char *format, int bits,
                       int aligned, const mf_port_t *info);
/* Adds a file to a qc spec (path copied). 0, or -1 when out of memory. */
int mf_plan_qc_file(mf_qc_spec_t *qc, const char *path, size_t input, int rate, int bits,
                    int lossless, const char *decode, long report);

/* Appends a mastering task over in at rate (m: a document's "mastering";
 * NULL: no target, the limiter alone); doc names the document. With
 * levels_entry >= 1 (an album in album mode) the loudness target comes at
 * run time from entry levels_entry - 1 of the album_levels report at
 * levels. 0, or -1 when out of memory. */
int mf_plan_add_mastering(mf_plan_t *p, const json_t *m, const char *doc, int rate,
                          double tempo_bpm, mf_port_t in, double audio_s, const char *label,
                          int levels_entry, mf_port_t levels);
/* The decode tasks of a session's auxiliary files: s->aux[k] is decoded by
 * task[k] (-1: not planned). */
typedef struct {
    const mf_session_t *s;
    const int *task;
} mf_plan_aux_t;
/* Which of s->aux a mastering insert names (its "ir"), or -1. */
int mf_plan_mastering_aux(const mf_session_t *s, const json_t *insert);
/* mastering.target as the tasks take it: a preset or {lufs, true_peak_dbtp}. */
mf_target_spec_t mf_plan_target(const json_t *mastering);
/* A number of o, or def when absent. */
double mf_plan_num_or(const json_t *o, const char *k, double def);

/* One set of deliverables: a file per output of outputs, each an encode
 * task over signal, checked by qc after decoding. */
typedef struct {
    const json_t *outputs;  /* the session's "outputs" (NULL or empty: one 24-bit WAV) */
    const char *dir;        /* "master/", "tracks/", "" */
    const char *base;       /* the file name before any suffix: "Night Drive" */
    int rate;               /* the signal's rate */
    mf_port_t signal;       /* the master */
    mf_port_t report;       /* its loudness report (mastering output 1) */
    const mf_hash_t *cover; /* NULL when none */
    double ceiling_dbtp;    /* no decoded sample of any file over this */
    double release_ms, lookahead_ms;
    double gain_db;
    char *const *tags; /* MF_TAG__COUNT entries, NULL where absent (borrowed) */
} mf_deliver_set_t;

/* Plans the encode tasks of d, adds their files to OUTDIR and to qc (their
 * bytes and reports appended to qc_in). 0, or -1 when out of memory. */
int mf_plan_encodes(mf_plan_t *p, const mf_deliver_set_t *d, mf_qc_spec_t *qc,
                    mf_port_list_t *qc_in);
/* The name mf_plan_encodes gives output i of d (under d->dir), and its
 * format. */
void mf_plan_deliverable_name(const mf_deliver_set_t *d, size_t i, char *file, size_t n,
                              char format[8]);
/* The tags of metadata (strdup'd into tags; title defaults to title). */
int mf_plan_tags(const json_t *metadata, const char *title, char *tags[MF_TAG__COUNT]);
void mf_plan_tags_free(char *tags[MF_TAG__COUNT]);

#endif
