/* Catalogue runs (mixfarm catalogue): many sessions submitted as one batch
 * at a low priority, followed to their end, resumable after any restart.
 *
 * The state file (JSON, rewritten whole and renamed into place after every
 * change) records each session's job id and the last state seen, so a
 * re-run skips what is done, follows what is still queued or running,
 * resubmits failed sessions only with --retry-failed, and resubmits a job
 * the coordinator no longer knows (the action cache makes that cheap). */
#ifndef MF_CATALOGUE_H
#define MF_CATALOGUE_H

#include <stddef.h>
#include <stdint.h>

#include "mf_cli.h"

typedef struct {
    char *path;     /* absolute */
    char *rel;      /* relative to the catalogue's folder: names and OUTDIR */
    uint64_t job;   /* 0: not submitted (yet) */
    char state[16]; /* pending, queued, running, done, failed, cancelled, invalid */
    char *error;    /* why it failed, or NULL */
    unsigned tasks_total, tasks_cached;
    double audio_s, elapsed_s;
    int fetched;     /* outputs written under OUTDIR */
    unsigned resent; /* this run: submitted again, the coordinator having let its job go */
} cat_entry_t;

typedef struct {
    const char *coordinator, *state_path, *report, *outdir;
    int priority, retry_failed, wait;
    double poll_s;
    cat_entry_t *e;
    size_t n;
} catalogue_t;

/* catalogue.c */
void mf_cat_set_error(cat_entry_t *e, const char *state, const char *error);
int mf_cat_final(const char *state); /* done, failed, cancelled or invalid */
/* Reads the state file into matching entries (a missing file is a fresh
 * start). -1 when it exists but cannot be read (said why). */
int mf_cat_load_state(catalogue_t *cat);
/* Writes it atomically; -1 on failure (said why). */
int mf_cat_save_state(const catalogue_t *cat);
/* Submits what needs it and follows every job to its end. Returns an exit
 * code: 0, or MF_EXIT_UNREACHABLE (the state is saved either way). */
int mf_cat_run(catalogue_t *cat, mf_conn_t *conn);
/* The report: JSON to path (and a table to path.txt) when path is set, the
 * table on stdout always. Returns the exit code: 0 all done, 1 otherwise. */
int mf_cat_report(const catalogue_t *cat, const char *path);

#endif
