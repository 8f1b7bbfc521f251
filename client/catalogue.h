/* Catalogue runs (mixfarm catalogue): many sessions submitted as one batch
 * at a low priority, followed to their end, resumable after any restart.
 *
 * The state file (JSON, rewritten whole and renamed into place; with a
 * log of the jobs submitted since, catalogue_state.c) records each
 * session's job id and the last state seen, so a re-run skips what is
 * done, follows what is still queued or running, resubmits failed
 * sessions only with --retry-failed, and resubmits a job the coordinator
 * no longer knows (the action cache makes that cheap).
 *
 * A session may be an album (SESSION.md): it is submitted as one job. */
#ifndef MF_CATALOGUE_H
#define MF_CATALOGUE_H

#include <jansson.h>
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
    int qc_failed;   /* fetched, and its master failed its QC (qc.json "pass": false) */
    unsigned resent; /* this run: submitted again, the coordinator having let its job go */
} cat_entry_t;

typedef struct {
    const char *coordinator, *state_path, *report, *outdir;
    int priority, retry_failed, wait;
    double poll_s;
    cat_entry_t *e;
    size_t n;
    size_t *by_path;            /* e's indices in the order of their paths (mf_cat_index) */
    int log_fd;                 /* the submission log, open since the last snapshot; -1 */
    int lock_fd;                /* STATE.lock, held while the run lasts (mf_cat_lock); -1 */
    double saved_at, synced_at; /* when the snapshot, the log were last written to disk */
} catalogue_t;

/* catalogue_state.c */
/* Sorts the entries' indices by path for mf_cat_find; -1 out of memory. */
int mf_cat_index(catalogue_t *cat);
/* The entry whose path is path, or NULL (after mf_cat_index). */
cat_entry_t *mf_cat_find(const catalogue_t *cat, const char *path);
/* Frees the entries, the index, and closes the submission log and lock. */
void mf_cat_free(catalogue_t *cat);
/* Takes STATE.lock for this run: two runs following one state file (a
 * nightly cron job while last night's still waits) each rewrote it over
 * the other's job ids, and submitted what the other had. -1 when another
 * run holds it, or it cannot be made (said why). */
int mf_cat_lock(catalogue_t *cat);
/* Reads the state file and the submission log into matching entries (a
 * missing file is a fresh start). -1 when it exists but cannot be read
 * (said why). */
int mf_cat_load_state(catalogue_t *cat);
/* Writes the snapshot atomically and drops the log it now holds; -1 on
 * failure (said why). */
int mf_cat_save_state(catalogue_t *cat);
/* Appends e's new job to the submission log; -1 on failure (said why). */
int mf_cat_log_job(catalogue_t *cat, const cat_entry_t *e);
json_t *mf_cat_entry_json(const cat_entry_t *e);
/* Writes doc over path, on disk before it returns; -1 on failure (said why). */
int mf_cat_write_json(json_t *doc, const char *path);

/* catalogue.c */
void mf_cat_set_error(cat_entry_t *e, const char *state, const char *error);
int mf_cat_final(const char *state); /* done, failed, cancelled or invalid */
/* Submits what needs it and follows every job to its end. Returns an exit
 * code: 0, or MF_EXIT_UNREACHABLE (the state is saved either way). */
int mf_cat_run(catalogue_t *cat, mf_conn_t *conn);
/* The report: JSON to path (and a table to path.txt) when path is set, the
 * table on stdout always. Returns the exit code: 0 all done, 1 otherwise. */
int mf_cat_report(const catalogue_t *cat, const char *path);

#endif
