/* A catalogue run's state on disk (catalogue.h): the state file, a JSON
 * snapshot of every session's job and last state, and beside it the
 * submission log, STATE.log, one line per job submitted since the
 * snapshot was last written ("JOB<TAB>PATH").
 *
 * Why both: rewriting the snapshot after every submission made a
 * catalogue's submission quadratic (2,000 sessions: 2,000 rewrites of a
 * 0.5 MB file, 18 s of the client's CPU before the first fetch; 10,000
 * would rewrite 26 GB). An appended line costs the same however large the
 * catalogue, and reaches the page cache before the next session is
 * submitted, so a run killed at any point loses no job id: the next run
 * reads the log over the snapshot and follows those jobs instead of
 * submitting them twice. It is flushed to disk once a second, so a power
 * cut loses at most the last second's ids (those sessions are submitted
 * again, their tasks cached). Each new snapshot, written atomically,
 * contains the log, which then goes. */
#include "catalogue.h"
#include "mf_clock.h"
#include "mf_fs.h"
#include "mf_log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_SYNC_S 1.0 /* the submission log reaches the disk at least this often */

/* ---- sessions by path ---- */

static const catalogue_t *s_sorting; /* qsort has no context argument */

static int s_by_path(const void *a, const void *b)
{
    const size_t i = *(const size_t *)a, k = *(const size_t *)b;
    const int c = strcmp(s_sorting->e[i].path, s_sorting->e[k].path);
    return c ? c : (i > k) - (i < k); /* the first of two equal paths first */
}

int mf_cat_index(catalogue_t *cat)
{
    free(cat->by_path);
    cat->by_path = malloc((cat->n ? cat->n : 1) * sizeof *cat->by_path);
    if (!cat->by_path) return -1;
    for (size_t i = 0; i < cat->n; i++) cat->by_path[i] = i;
    s_sorting = cat;
    qsort(cat->by_path, cat->n, sizeof *cat->by_path, s_by_path);
    s_sorting = NULL;
    return 0;
}

cat_entry_t *mf_cat_find(const catalogue_t *cat, const char *path)
{
    size_t lo = 0, hi = cat->n;
    while (lo < hi) { /* the first entry whose path is not before path */
        const size_t mid = lo + (hi - lo) / 2;
        if (strcmp(cat->e[cat->by_path[mid]].path, path) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    cat_entry_t *e = lo < cat->n ? &cat->e[cat->by_path[lo]] : NULL;
    return e && !strcmp(e->path, path) ? e : NULL;
}

void mf_cat_free(catalogue_t *cat)
{
    for (size_t i = 0; i < cat->n; i++) {
        free(cat->e[i].path);
        free(cat->e[i].rel);
        free(cat->e[i].error);
    }
    free(cat->e);
    free(cat->by_path);
    if (cat->log_fd >= 0) close(cat->log_fd);
    if (cat->lock_fd >= 0) close(cat->lock_fd);
    cat->e = NULL, cat->by_path = NULL, cat->n = 0, cat->log_fd = cat->lock_fd = -1;
}

int mf_cat_lock(catalogue_t *cat)
{
    char *path = NULL;
    if (asprintf(&path, "%s.lock", cat->state_path) < 0) return -1;
    /* Kept between runs: a lock file removed while another waits on it
     * would let two runs in. */
    cat->lock_fd = mf_fs_lock_file(path, 0);
    int rc = 0;
    if (cat->lock_fd < 0 && errno != EWOULDBLOCK) {
        mf_error("%s: cannot write: %s: the catalogue's job ids cannot be kept there; give "
                 "--state FILE in a folder you may write to",
                 path, strerror(errno));
        rc = -1;
    } else if (cat->lock_fd < 0) {
        mf_error("%s: another catalogue run is following these sessions (it holds %s): let it "
                 "finish, or stop it first",
                 cat->state_path, path);
        rc = -1;
    }
    free(path);
    return rc;
}

/* ---- the snapshot ---- */

json_t *mf_cat_entry_json(const cat_entry_t *e)
{
    return json_pack("{s:s,s:s,s:I,s:s,s:o,s:i,s:i,s:f,s:f,s:b,s:b}", "path", e->path, "name",
                     e->rel, "job", (json_int_t)e->job, "state", e->state, "error",
                     e->error ? json_string(e->error) : json_null(), "tasks_total",
                     (int)e->tasks_total, "tasks_cached", (int)e->tasks_cached, "audio_s",
                     e->audio_s, "elapsed_s", e->elapsed_s, "fetched", e->fetched, "qc_failed",
                     e->qc_failed);
}

int mf_cat_write_json(json_t *doc, const char *path)
{
    char *text = json_dumps(doc, JSON_INDENT(2));
    errno = 0;
    const int rc = text && mf_fs_write_atomic(path, text, strlen(text)) == MF_OK ? 0 : -1;
    if (rc != 0) mf_error("%s: cannot write: %s", path, strerror(errno ? errno : ENOMEM));
    free(text);
    return rc;
}

static char *s_log_path(const catalogue_t *cat)
{
    const size_t n = strlen(cat->state_path) + 5;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s.log", cat->state_path);
    return p;
}

/* Applies the submission log left by a run that ended before its next
 * snapshot: each line's job is the session's now. */
static void s_apply_log(catalogue_t *cat)
{
    char *path = s_log_path(cat);
    FILE *f = path ? fopen(path, "r") : NULL;
    char *line = NULL;
    size_t cap = 0;
    unsigned applied = 0;
    for (ssize_t len; f && (len = getline(&line, &cap, f)) > 0;) {
        if (line[len - 1] != '\n') break; /* cut short by a crash: not a whole line */
        line[len - 1] = 0;
        char *tab = strchr(line, '\t'), *end = NULL;
        const unsigned long long job = tab ? strtoull(line, &end, 10) : 0;
        cat_entry_t *e = job && end == tab ? mf_cat_find(cat, tab + 1) : NULL;
        if (!e) continue; /* a session no longer in the catalogue */
        e->job = job;
        e->fetched = e->qc_failed = 0;
        mf_cat_set_error(e, "queued", NULL);
        applied++;
    }
    if (applied) mf_info("catalogue: %u job ids read from %s", applied, path);
    free(line);
    if (f) fclose(f);
    free(path);
}

int mf_cat_load_state(catalogue_t *cat)
{
    json_error_t jerr;
    json_t *doc = json_load_file(cat->state_path, 0, &jerr);
    if (!doc && access(cat->state_path, F_OK) == 0) {
        fprintf(stderr, "mixfarm: %s:%d: %s\n", cat->state_path, jerr.line, jerr.text);
        return -1;
    }
    json_t *list = json_object_get(doc, "sessions");
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *s = json_array_get(list, i);
        const char *path = json_string_value(json_object_get(s, "path"));
        cat_entry_t *e = path ? mf_cat_find(cat, path) : NULL;
        if (!e) continue;
        const char *st = json_string_value(json_object_get(s, "state"));
        e->job = (uint64_t)json_integer_value(json_object_get(s, "job"));
        mf_cat_set_error(e, st ? st : "pending", json_string_value(json_object_get(s, "error")));
        e->tasks_total = (unsigned)json_integer_value(json_object_get(s, "tasks_total"));
        e->tasks_cached = (unsigned)json_integer_value(json_object_get(s, "tasks_cached"));
        e->audio_s = json_number_value(json_object_get(s, "audio_s"));
        e->elapsed_s = json_number_value(json_object_get(s, "elapsed_s"));
        e->fetched = json_is_true(json_object_get(s, "fetched"));
        e->qc_failed = json_is_true(json_object_get(s, "qc_failed"));
    }
    json_decref(doc);
    s_apply_log(cat); /* newer than the snapshot */
    return 0;
}

int mf_cat_save_state(catalogue_t *cat)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < cat->n; i++)
        json_array_append_new(list, mf_cat_entry_json(&cat->e[i]));
    json_t *doc = json_pack("{s:i,s:s,s:i,s:o}", "version", 1, "coordinator", cat->coordinator,
                            "priority", cat->priority, "sessions", list);
    int rc = doc ? mf_cat_write_json(doc, cat->state_path) : -1;
    json_decref(doc);
    if (rc != 0) return rc;
    /* The snapshot holds every line of the log: it goes (a crash before
     * this point re-reads lines that say what the snapshot says). */
    if (cat->log_fd >= 0) close(cat->log_fd);
    cat->log_fd = -1;
    char *path = s_log_path(cat);
    if (path) unlink(path);
    free(path);
    cat->saved_at = mf_clock_now();
    return 0;
}

int mf_cat_log_job(catalogue_t *cat, const cat_entry_t *e)
{
    if (strchr(e->path, '\n')) return 0; /* not a line: the next snapshot keeps it */
    if (cat->log_fd < 0) {
        char *path = s_log_path(cat);
        cat->log_fd = path ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
        if (cat->log_fd < 0)
            mf_error("%s: cannot write: %s", path ? path : cat->state_path, strerror(errno));
        free(path);
        if (cat->log_fd < 0) return -1;
    }
    char *line = NULL;
    const int n = asprintf(&line, "%" PRIu64 "\t%s\n", e->job, e->path);
    int rc = n > 0 && write(cat->log_fd, line, (size_t)n) == n ? 0 : -1;
    free(line);
    if (rc == 0 && mf_clock_now() - cat->synced_at >= LOG_SYNC_S) {
        rc = fdatasync(cat->log_fd);
        cat->synced_at = mf_clock_now();
    }
    if (rc != 0) mf_error("%s.log: cannot write: %s", cat->state_path, strerror(errno));
    return rc;
}
