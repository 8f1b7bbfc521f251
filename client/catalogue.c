/* Catalogue runs: submission, following the jobs, fetching and the report
 * (catalogue.h; the state file is catalogue_state.c's). */
#include "catalogue.h"
#include "mf_clock.h"
#include "mf_fs.h"
#include "mf_log.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define UNREACHABLE_FOR_S 60.0 /* a coordinator restarting is given this long */
#define SNAPSHOT_EVERY_S 5.0   /* while submitting: the log holds what is newer */

int mf_cat_final(const char *state)
{
    return !strcmp(state, "done") || !strcmp(state, "failed") || !strcmp(state, "cancelled") ||
           !strcmp(state, "invalid");
}

void mf_cat_set_error(cat_entry_t *e, const char *state, const char *error)
{
    snprintf(e->state, sizeof e->state, "%s", state);
    free(e->error);
    e->error = error && *error ? strdup(error) : NULL;
}

/* ---- submission ---- */

/* OUTDIR/<rel without .json>; with make, its parents created. */
static char *s_outdir(const catalogue_t *cat, const cat_entry_t *e, int make)
{
    size_t n = strlen(cat->outdir) + strlen(e->rel) + 2;
    char *p = malloc(n);
    if (!p) return NULL;
    snprintf(p, n, "%s/%s", cat->outdir, e->rel);
    size_t len = strlen(p);
    if (len > 5 && !strcmp(p + len - 5, ".json")) p[len - 5] = 0;
    for (char *s = p + 1; make && *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        mkdir(p, 0755);
        *s = '/';
    }
    return p;
}

/* The first error of d as "key: what is wrong", else fallback. */
static void s_first_error(const mf_diags_t *d, char *why, size_t n, const char *fallback)
{
    snprintf(why, n, "%s", fallback);
    for (size_t i = 0; i < d->count; i++) {
        if (d->items[i].kind == MF_DIAG_WARNING) continue;
        snprintf(why, n, "%s%s%s", d->items[i].path, d->items[i].path[0] ? ": " : "",
                 d->items[i].message);
        return;
    }
}

/* Validates e's document (a session or an album) and submits it as one
 * job. Returns -1 when the coordinator cannot be reached. */
static int s_submit(catalogue_t *cat, cat_entry_t *e, mf_conn_t *conn)
{
    mf_diags_t d;
    mf_diags_init(&d, e->path);
    const int album = mf_album_is_album(e->path);
    mf_album_t *a = album ? mf_album_load(e->path, &d) : NULL;
    mf_session_t *s = album ? NULL : mf_session_load(e->path, &d);
    mf_diags_print(&d);
    if (!s && !a) {
        char why[512];
        s_first_error(&d, why, sizeof why, album ? "invalid album" : "invalid session");
        mf_cat_set_error(e, "invalid", why);
        e->job = 0;
        mf_diags_fini(&d);
        return 0;
    }
    mf_diags_fini(&d);
    /* Fetched into its folder under -o, it must not replace a file it
     * reads, nor one no earlier render wrote (outdir_guard.c: the guard
     * says which). */
    char *dir = cat->outdir ? s_outdir(cat, e, 0) : NULL;
    const int replaces = dir && mf_cli_check_inputs(dir, s, a) >= 0;
    free(dir);
    if (replaces) {
        mf_cat_set_error(e, "invalid",
                         "its fetch into -o OUTDIR would replace a file it reads, or one no "
                         "render wrote");
        e->job = 0;
        mf_session_free(&s);
        mf_album_free(&a);
        return 0;
    }
    uint64_t job = 0;
    mf_err_t err = a ? mf_client_submit_album(conn->client, a, cat->priority, &job)
                     : mf_client_submit(conn->client, s, cat->priority, &job);
    mf_session_free(&s);
    mf_album_free(&a);
    if (err == MF_ERR_UNREACHABLE) return -1;
    if (err != MF_OK) {
        mf_cat_set_error(e, "invalid",
                         err == MF_ERR_INVALID ? "refused by the coordinator" : mf_strerror(err));
        e->job = 0;
        return 0;
    }
    e->job = job;
    e->fetched = e->qc_failed = 0;
    mf_cat_set_error(e, "queued", NULL);
    mf_info("catalogue: %s: job %" PRIu64 " (priority %d)", e->rel, job, cat->priority);
    mf_cat_log_job(cat, e); /* a failure is said; the next snapshot holds the job all the same */
    return 0;
}

/* ---- following the jobs ---- */

static int s_by_job(const void *a, const void *b)
{
    const uint64_t x = (*(Mixfarm__JobStatus *const *)a)->job;
    const uint64_t y = (*(Mixfarm__JobStatus *const *)b)->job;
    return (x > y) - (x < y);
}

/* Every job the coordinator holds, sorted by id for s_find: a catalogue of
 * thousands looks each of its jobs up at every poll. */
static mf_err_t s_status_all(mf_conn_t *conn, Mixfarm__Envelope **rep)
{
    Mixfarm__StatusRequest st = MIXFARM__STATUS_REQUEST__INIT;
    Mixfarm__Envelope req = MIXFARM__ENVELOPE__INIT;
    req.body_case = MIXFARM__ENVELOPE__BODY_STATUS;
    req.status = &st;
    mf_err_t err = mf_client_call(conn->client, &req, MIXFARM__ENVELOPE__BODY_STATUS_REPLY, rep);
    if (err == MF_OK && (*rep)->status_reply->n_jobs)
        qsort((*rep)->status_reply->jobs, (*rep)->status_reply->n_jobs,
              sizeof *(*rep)->status_reply->jobs, s_by_job);
    return err;
}

static const Mixfarm__JobStatus *s_find(const Mixfarm__StatusReply *r, uint64_t job)
{
    size_t lo = 0, hi = r->n_jobs;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (r->jobs[mid]->job == job) return r->jobs[mid];
        if (r->jobs[mid]->job < job)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Whether the document at path makes a master (an album, a session with
 * "mastering"), whose QC failing is work that failed. */
static int s_mastered(const char *path)
{
    json_t *doc = json_load_file(path, 0, NULL);
    const int yes = json_object_get(doc, "album") || json_object_get(doc, "mastering");
    json_decref(doc);
    return yes;
}

/* Takes in one status; returns 1 when the entry changed. */
static int s_update(catalogue_t *cat, cat_entry_t *e, const Mixfarm__JobStatus *j, mf_conn_t *conn)
{
    int changed = strcmp(e->state, j->state) != 0;
    e->tasks_total = j->tasks_total;
    e->tasks_cached = j->tasks_cached;
    e->audio_s = j->audio_s_total;
    if (changed) {
        mf_cat_set_error(e, j->state, j->error);
        if (mf_cat_final(e->state))
            mf_info("catalogue: %s: job %" PRIu64 " %s%s%s", e->rel, e->job, e->state,
                    e->error ? ": " : "", e->error ? e->error : "");
    }
    if (!strcmp(e->state, "done") && cat->outdir && !e->fetched) {
        char *dir = s_outdir(cat, e, 1);
        int qc_pass = 1;
        mf_err_t err =
            dir ? mf_client_fetch(conn->client, e->job, dir, NULL, &qc_pass) : MF_ERR_NOMEM;
        if (err == MF_OK) e->fetched = changed = 1;
        if (err != MF_OK)
            mf_warn("catalogue: %s: fetch: %s (tried again next run)", e->rel, mf_strerror(err));
        /* As render says it (CLI.md exit 1): an unmastered mix only reports. */
        if (err == MF_OK && !qc_pass && s_mastered(e->path)) {
            char why[PATH_MAX + 64];
            snprintf(why, sizeof why, "the master failed QC (see %s/qc.json)", dir);
            e->qc_failed = 1;
            mf_cat_set_error(e, "done", why);
            mf_warn("catalogue: %s: %s", e->rel, why);
        }
        free(dir);
    }
    return changed;
}

/* To be submitted again: a new job, this one forgotten. */
static void s_again(cat_entry_t *e)
{
    e->job = 0;
    mf_cat_set_error(e, "pending", NULL);
}

/* A job the coordinator let go before this run saw its end or fetched its
 * files (a coordinator holds its recent finished jobs only, and a batch of
 * short jobs can finish faster than their files are fetched): submitted
 * again, which its cached tasks make quick, up to MAX_RESENT times; then
 * it fails, saying why, rather than being waited for for ever. Returns -1
 * when the coordinator cannot be reached. */
#define MAX_RESENT 3
static int s_resubmit_lost(catalogue_t *cat, cat_entry_t *e, mf_conn_t *conn)
{
    if (++e->resent > MAX_RESENT) {
        char why[160];
        snprintf(why, sizeof why,
                 "the coordinator let its job go %u times before its files were fetched",
                 MAX_RESENT);
        mf_cat_set_error(e, "failed", why);
        mf_warn("catalogue: %s: %s", e->rel, why);
        return 0;
    }
    mf_warn("catalogue: %s: the coordinator no longer holds job %" PRIu64
            "; submitting again (its tasks are cached)",
            e->rel, e->job);
    s_again(e);
    return s_submit(cat, e, conn);
}

static void s_sleep(double s)
{
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&t, NULL);
}

typedef struct {
    size_t done, failed, qc_failed;
} tally_t;

static tally_t s_tally(const catalogue_t *cat)
{
    tally_t t = {0};
    for (size_t i = 0; i < cat->n; i++) {
        t.done += !strcmp(cat->e[i].state, "done");
        t.failed += mf_cat_final(cat->e[i].state) && strcmp(cat->e[i].state, "done");
        t.qc_failed += cat->e[i].qc_failed;
    }
    return t;
}

int mf_cat_run(catalogue_t *cat, mf_conn_t *conn)
{
    /* What the coordinator knows of the jobs recorded last time. */
    Mixfarm__Envelope *rep = NULL;
    if (s_status_all(conn, &rep) != MF_OK) return MF_EXIT_UNREACHABLE;
    for (size_t i = 0; i < cat->n; i++) {
        cat_entry_t *e = &cat->e[i];
        const Mixfarm__JobStatus *j = e->job ? s_find(rep->status_reply, e->job) : NULL;
        if (!strcmp(e->state, "done")) {
            if (j) s_update(cat, e, j, conn); /* fetches what was not fetched */
            if (j || !cat->outdir || e->fetched) continue;
            /* Done, never fetched, and gone from the coordinator (its outputs
             * were lost: a budget, a check after a power cut): only a new
             * job can give the files. */
            mf_warn("catalogue: %s: job %" PRIu64 " was done, but the coordinator no longer "
                    "has it and its files were never fetched; submitting again",
                    e->rel, e->job);
            s_again(e);
            continue;
        }
        if (j) {
            s_update(cat, e, j, conn);
        } else if (e->job && !mf_cat_final(e->state)) {
            mf_warn("catalogue: %s: the coordinator no longer knows job %" PRIu64
                    "; submitting again",
                    e->rel, e->job);
            s_again(e);
        }
        if (mf_cat_final(e->state) && strcmp(e->state, "done") && cat->retry_failed) {
            mf_info("catalogue: %s: %s before; submitting again (--retry-failed)", e->rel,
                    e->state);
            s_again(e);
        }
    }
    mixfarm__envelope__free_unpacked(rep, NULL);
    /* Submit. Each job goes into the submission log at once, so a crash
     * loses none; the snapshot is written every few seconds and at the end. */
    for (size_t i = 0; i < cat->n; i++) {
        if (strcmp(cat->e[i].state, "pending")) continue;
        if (s_submit(cat, &cat->e[i], conn) != 0) {
            mf_cat_save_state(cat);
            return MF_EXIT_UNREACHABLE;
        }
        if (mf_clock_now() - cat->saved_at >= SNAPSHOT_EVERY_S) mf_cat_save_state(cat);
    }
    mf_cat_save_state(cat);
    double lost_since = 0;
    while (cat->wait) {
        size_t open = 0;
        for (size_t i = 0; i < cat->n; i++)
            open += !mf_cat_final(cat->e[i].state) ||
                    (cat->outdir && !strcmp(cat->e[i].state, "done") && !cat->e[i].fetched);
        if (!open) break;
        s_sleep(cat->poll_s);
        if (s_status_all(conn, &rep) != MF_OK) {
            if (!lost_since) lost_since = mf_clock_now();
            if (mf_clock_now() - lost_since > UNREACHABLE_FOR_S) return MF_EXIT_UNREACHABLE;
            continue;
        }
        lost_since = 0;
        int changed = 0, unreachable = 0;
        for (size_t i = 0; i < cat->n && !unreachable; i++) {
            cat_entry_t *e = &cat->e[i];
            const Mixfarm__JobStatus *j = e->job ? s_find(rep->status_reply, e->job) : NULL;
            const int waited = !mf_cat_final(e->state) ||
                               (cat->outdir && !strcmp(e->state, "done") && !e->fetched);
            if (j && waited) changed |= s_update(cat, e, j, conn);
            if (!j && e->job && waited) {
                unreachable = s_resubmit_lost(cat, e, conn) != 0;
                changed = 1;
            }
        }
        mixfarm__envelope__free_unpacked(rep, NULL);
        if (unreachable) {
            mf_cat_save_state(cat);
            return MF_EXIT_UNREACHABLE;
        }
        if (changed) {
            mf_cat_save_state(cat);
            const tally_t t = s_tally(cat);
            mf_info("catalogue: %zu of %zu done, %zu failed, %zu to go", t.done, cat->n, t.failed,
                    cat->n - t.done - t.failed);
        }
    }
    return MF_EXIT_OK;
}

/* ---- the report ---- */

static void s_table(FILE *f, const catalogue_t *cat, tally_t t)
{
    int w = 7;
    for (size_t i = 0; i < cat->n; i++)
        if ((int)strlen(cat->e[i].rel) > w) w = (int)strlen(cat->e[i].rel);
    if (w > 60) w = 60;
    fprintf(f, "%-*s  %8s  %-9s  %11s  %s\n", w, "session", "job", "state", "tasks", "why");
    for (size_t i = 0; i < cat->n; i++) {
        const cat_entry_t *e = &cat->e[i];
        char job[24] = "-", tasks[32] = "-";
        if (e->job) snprintf(job, sizeof job, "%" PRIu64, e->job);
        if (e->tasks_total)
            snprintf(tasks, sizeof tasks, "%u (%u c)", e->tasks_total, e->tasks_cached);
        fprintf(f, "%-*.*s  %8s  %-9s  %11s  %s\n", w, w, e->rel, job, e->state, tasks,
                e->error ? e->error : "");
    }
    fprintf(f, "\n%zu sessions: %zu done, %zu failed, %zu unfinished", cat->n, t.done, t.failed,
            cat->n - t.done - t.failed);
    if (t.qc_failed)
        fprintf(f, "; %zu master%s failed QC", t.qc_failed, t.qc_failed == 1 ? "" : "s");
    fprintf(f, "\n");
}

int mf_cat_report(const catalogue_t *cat, const char *path)
{
    const tally_t t = s_tally(cat);
    int written_wrong = 0; /* the report could not be written (said why) */
    s_table(stdout, cat, t);
    if (path) {
        json_t *list = json_array();
        for (size_t i = 0; list && i < cat->n; i++)
            json_array_append_new(list, mf_cat_entry_json(&cat->e[i]));
        json_t *doc = json_pack("{s:s,s:i,s:{s:i,s:i,s:i,s:i,s:i},s:o}", "coordinator",
                                cat->coordinator, "priority", cat->priority, "summary", "sessions",
                                (int)cat->n, "done", (int)t.done, "failed", (int)t.failed,
                                "unfinished", (int)(cat->n - t.done - t.failed), "qc_failed",
                                (int)t.qc_failed, "sessions", list);
        int rc = doc ? mf_cat_write_json(doc, path) : -1;
        written_wrong = rc != 0;
        json_decref(doc);
        size_t n = strlen(path) + 8;
        char *txt = malloc(n);
        FILE *f = NULL;
        if (txt) snprintf(txt, n, "%s.txt", path);
        if (rc == 0 && txt && (f = fopen(txt, "w"))) {
            s_table(f, cat, t);
            fclose(f);
        }
        free(txt);
    }
    return t.done == cat->n && !t.qc_failed && !written_wrong ? MF_EXIT_OK : MF_EXIT_FAILED;
}
