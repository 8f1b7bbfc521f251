/* Jobs: submission (validated as the client validated it, with the audio as
 * blobs), cancel, completion, and the resumption of unfinished jobs after a
 * restart (status and fetch: coord_status.c). The coordinator never opens
 * a path a session names: a track's file is only a key into the sources
 * the client sent. */
#include "coord_internal.h"
#include "blob_refs.h"
#include "mf_log.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOURCES 100000

const char *mf_job_state_name(job_state_t s)
{
    static const char *const names[] = {"queued", "running", "done", "failed", "cancelled"};
    return names[s];
}

job_t *mf_coord_job(coord_t *c, uint64_t id)
{
    for (job_t *j = c->jobs; j; j = j->next)
        if (j->id == id) return j;
    return NULL;
}

/* ---- sources: the submitted files, as a JSON array kept with the job ---- */

typedef struct {
    json_t *sources; /* [{path, hash, channels, sample_rate, frames}] */
    const mf_store_t *store;
    int follow; /* a blob not in the store yet is on its way (coord_sources.c) */
} source_ctx_t;

static const char *s_str(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

static json_t *s_find_source(const json_t *sources, const char *path)
{
    for (size_t i = 0; i < json_array_size(sources); i++)
        if (strcmp(s_str(json_array_get(sources, i), "path"), path) == 0)
            return json_array_get(sources, i);
    return NULL;
}

static int s_source_audio(void *ctx, const char *file, int *channels, int *rate, int64_t *frames,
                          char *why, size_t n)
{
    source_ctx_t *sc = ctx;
    json_t *s = s_find_source(sc->sources, file);
    if (!s) return -1; /* the default reason: not among the files sent */
    mf_hash_t h;
    snprintf(h.hex, sizeof h.hex, "%s", s_str(s, "hash"));
    if (!mf_hash_valid(h.hex) || (!sc->follow && !mf_store_has(sc->store, &h))) {
        snprintf(why, n, "its blob %.12s was not uploaded", h.hex);
        return -1;
    }
    *channels = (int)json_integer_value(json_object_get(s, "channels"));
    *rate = (int)json_integer_value(json_object_get(s, "sample_rate"));
    *frames = (int64_t)json_integer_value(json_object_get(s, "frames"));
    return 0;
}

/* A file that is not audio (the cover image): sent, and its blob here. */
static int s_source_file(void *ctx, const char *file, char *why, size_t n)
{
    source_ctx_t *sc = ctx;
    json_t *s = s_find_source(sc->sources, file);
    if (!s) return -1;
    mf_hash_t h;
    snprintf(h.hex, sizeof h.hex, "%s", s_str(s, "hash"));
    if (mf_hash_valid(h.hex) && (sc->follow || mf_store_has(sc->store, &h))) return 0;
    snprintf(why, n, "its blob %.12s was not uploaded", h.hex);
    return -1;
}

static json_t *s_sources_json(const Mixfarm__Submit *m)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < m->n_sources; i++) {
        const Mixfarm__SourceRef *s = m->sources[i];
        json_array_append_new(a, json_pack("{s:s,s:s,s:i,s:i,s:I}", "path", s->path, "hash",
                                           s->hash, "channels", (int)s->channels, "sample_rate",
                                           (int)s->sample_rate, "frames", (json_int_t)s->frames));
    }
    return a;
}

/* ---- job lifecycle ---- */

/* An unfinished job into c->jobs: after the unfinished of its priority and
 * higher (FIFO within a priority), before any finished one. */
static void s_insert(coord_t *c, job_t *j)
{
    job_t **p = &c->jobs;
    while (*p && (*p)->state < JOB_DONE && (*p)->priority >= j->priority) p = &(*p)->next;
    j->next = *p;
    *p = j;
}

/* A job that just finished to the end of c->jobs (coord_internal.h). */
static void s_to_finished(coord_t *c, job_t *j)
{
    job_t **p = &c->jobs;
    while (*p && *p != j) p = &(*p)->next;
    if (*p) *p = j->next;
    while (*p) p = &(*p)->next;
    j->next = NULL;
    *p = j;
}

static void s_job_free(job_t *j)
{
    mf_sched_free(&j->sched);
    mf_plan_free(&j->plan);
    mf_session_free(&j->session);
    mf_album_free(&j->album);
    free(j->name);
    free(j->document);
    free(j->sources);
    free(j->error);
    free(j);
}

void mf_coord_free_jobs(coord_t *c)
{
    while (c->jobs) {
        job_t *j = c->jobs;
        c->jobs = j->next;
        s_job_free(j);
    }
}

/* Finished jobs stay in memory (for status, fetch and the dashboard) up to
 * this many; the oldest beyond it are let go, so a coordinator that runs a
 * catalogue of thousands of jobs does not grow with it. Their outputs stay
 * in the store, and the journal keeps their row (not their task events nor
 * their document: coord_prune.c): resubmitting one costs nothing but the
 * cache lookups. A job finished less than FINISHED_MIN_S ago whose files
 * nobody has fetched stays beyond the count (up to FINISHED_MAX): a batch
 * of short jobs finishes faster than one client fetches their files, and a
 * catalogue run found jobs let go a second after they ended, unfetched. */
#define FINISHED_KEPT 128
#define FINISHED_MIN_S 120.0
#define FINISHED_MAX 1024

static void s_forget_old_jobs(coord_t *c)
{
    size_t finished = 0;
    for (job_t *j = c->jobs; j; j = j->next) finished += j->state >= JOB_DONE;
    const double now = mf_clock_now();
    while (finished-- > FINISHED_KEPT) {
        const int crowded = finished >= FINISHED_MAX;
        job_t **oldest = NULL;
        for (job_t **p = &c->jobs; *p; p = &(*p)->next)
            if ((*p)->state >= JOB_DONE && (!oldest || (*p)->finished < (*oldest)->finished) &&
                (crowded || (*p)->fetched || now - (*p)->finished >= FINISHED_MIN_S))
                oldest = p;
        if (!oldest) break; /* every one beyond the count still awaits its fetch */
        job_t *gone = *oldest;
        *oldest = gone->next;
        s_job_free(gone);
        c->prune_jobs = 1; /* its history goes from the journal too (coord_prune.c) */
    }
}

static void s_set_state(coord_t *c, job_t *j, job_state_t st, const char *error)
{
    j->state = st;
    if (error && !j->error) j->error = strdup(error);
    if (st >= JOB_DONE) j->finished = mf_clock_now(), s_to_finished(c, j);
    mf_journal_job_state(c->journal, j->id, mf_job_state_name(st), j->error);
    mf_info("job %llu (%s): %s%s%s", (unsigned long long)j->id, j->name, mf_job_state_name(st),
            j->error ? ": " : "", j->error ? j->error : "");
    if (st >= JOB_DONE) s_forget_old_jobs(c); /* never j itself: it is the newest */
}

void mf_coord_job_check(coord_t *c, job_t *j)
{
    if (j->state != JOB_RUNNING || !mf_sched_finished(j->sched)) return;
    const char *err = mf_sched_error(j->sched);
    s_set_state(c, j, err ? JOB_FAILED : JOB_DONE, err);
    if (c->refs)
        mf_debug("job %llu ended; %llu intermediate blobs (%.1f MB) deleted so far as their "
                 "readers finished",
                 (unsigned long long)j->id, (unsigned long long)c->dropped,
                 (double)c->dropped_bytes / 1e6);
}

/* The action cache lives in the journal; a hit counts only while its blobs
 * are still in the store. */
static int s_cache_get(void *ctx, const mf_hash_t *key, mf_hash_t *outs, int max)
{
    coord_t *c = ctx;
    int n = mf_journal_action_get(c->journal, key, outs, max);
    for (int i = 0; i < n; i++)
        if (!mf_store_has(c->store, &outs[i])) return -1;
    /* Used again. A budget's index keeps the order (and the files' times,
     * now and then); a kept store without one (an embedded farm's --state,
     * trimmed by its next render) has only the files' times; a temporary
     * store needs neither, and the dispatch path no syscall for it. */
    for (int i = 0; i < n; i++) {
        if (c->budget)
            mf_coord_budget_use(c, &outs[i]);
        else if (!c->opts->drop_consumed)
            mf_store_touch(c->store, &outs[i]);
    }
    return n;
}

static void s_cache_put(void *ctx, const mf_hash_t *key, const mf_hash_t *outs, int n)
{
    mf_journal_action_put(((coord_t *)ctx)->journal, key, outs, n);
}

/* An intermediate blob every reader is done with, in a store nobody keeps:
 * out of the store now, its bytes freed by the trash thread. */
static void s_drop_blob(void *ctx, const mf_hash_t *blob)
{
    coord_t *c = ctx;
    char *path = mf_store_path(c->store, blob);
    struct stat st;
    if (path && lstat(path, &st) == 0 && mf_store_discard(c->store, blob) == 0) {
        c->dropped++, c->dropped_bytes += (uint64_t)st.st_size;
        mf_coord_trash_poke(c);
    }
    mf_debug("blob %.12s: every reader done, deleted", blob->hex);
    free(path);
}

int mf_coord_drop_consumed(coord_t *c, job_t *j)
{
    if (!c->opts->drop_consumed) return 0;
    if (mf_coord_trash_start(c) != 0) return -1;
    if (!c->refs && !(c->refs = mf_blob_refs_new())) return -1;
    if (mf_sched_set_drop(j->sched, &(mf_sched_drop_t){c->refs, s_drop_blob, c})) return -1;
    const int fused = mf_sched_set_fuse(j->sched, c->opts->fuse_slots);
    if (fused) mf_debug("job %llu: %d channels run their strips", (unsigned long long)j->id, fused);
    return 0;
}

/* A scheduler for plan p over the coordinator's action cache. */
static mf_sched_t *s_sched_new(coord_t *c, const mf_plan_t *p)
{
    mf_action_cache_t cache = {.get = s_cache_get, .put = s_cache_put, .ctx = c};
    return mf_sched_new(p, &cache);
}

int mf_coord_job_restart(coord_t *c, job_t *j)
{
    mf_sched_t *old = j->sched;
    if (!(j->sched = s_sched_new(c, j->plan)) || mf_coord_drop_consumed(c, j) ||
        mf_coord_hold_sources(c, j)) {
        mf_sched_free(&j->sched);
        j->sched = old;
        return -1;
    }
    mf_sched_free(&old);
    j->told_waiting = 0, j->waiting_since = 0;
    mf_journal_job_numerics(c->journal, j->id, NULL); /* a restart pins it anew, too */
    return 0;
}

/* Loads, plans and queues a job; problems go into d. numerics: the
 * arithmetic a restarted job began with (the journal's), or NULL: pinned
 * when a worker first takes one of its tasks (coord_workers.c). follow: a
 * session's sources the store lacks are on their way, and the tasks that
 * read them wait (coord_sources.c); else they are problems. */
static job_t *s_make_job(coord_t *c, uint64_t id, const char *name, const char *document,
                         json_t *sources, int priority, const char *numerics, int follow,
                         mf_diags_t *d)
{
    source_ctx_t sc = {.sources = sources, .store = c->store, .follow = follow};
    mf_session_source_t src = {.audio = s_source_audio, .ctx = &sc, .file = s_source_file};
    mf_album_t *album = NULL;
    mf_plan_t *plan = NULL;
    if (mf_album_text_is_album(document) && /* an album: loaded and planned in coord_album.c */
        !(album = mf_coord_album_load(c, name, document, sources, d, &plan)))
        return NULL;
    mf_session_t *s = album ? NULL : mf_session_load_text(name, document, &src, d);
    if (!s && !album) return NULL;
    const size_t n_src = s ? MF_PLAN_AUX_SOURCE(s, s->n_aux) : 2;
    mf_hash_t *hashes = calloc(n_src, sizeof *hashes);
    for (size_t i = 0; s && hashes && i < s->n_tracks; i++) {
        json_t *ref = s_find_source(sources, s->tracks[i].file);
        snprintf(hashes[i].hex, sizeof hashes[i].hex, "%s", s_str(ref, "hash"));
    }
    const char *cover = s ? json_string_value(json_object_get(s->metadata, "cover")) : NULL;
    if (hashes && cover) /* the planner finds the cover after the tracks */
        snprintf(hashes[s->n_tracks].hex, sizeof hashes[0].hex, "%s",
                 s_str(s_find_source(sources, cover), "hash"));
    const char *reference =
        s ? json_string_value(json_object_get(s->mastering, "reference")) : NULL;
    if (hashes && reference) /* and the reference after the cover (plan_listen.c) */
        snprintf(hashes[s->n_tracks + 1].hex, sizeof hashes[0].hex, "%s",
                 s_str(s_find_source(sources, reference), "hash"));
    for (size_t k = 0; s && hashes && k < s->n_aux; k++) /* impulse responses after those */
        snprintf(hashes[MF_PLAN_AUX_SOURCE(s, k)].hex, sizeof hashes[0].hex, "%s",
                 s_str(s_find_source(sources, s->aux[k].file), "hash"));
    job_t *j = calloc(1, sizeof *j);
    if (!hashes || !j) goto fail;
    j->id = id;
    j->priority = priority;
    j->session = s;
    j->album = album;
    j->name = strdup(name);
    j->document = strdup(document);
    j->sources = json_dumps(sources, JSON_COMPACT);
    j->plan = album ? plan : mf_plan_session_sources(s, hashes, n_src);
    plan = NULL;
    j->sched = j->plan ? s_sched_new(c, j->plan) : NULL;
    if (!j->name || !j->document || !j->sources || !j->sched || mf_coord_drop_consumed(c, j) ||
        (numerics && *numerics && mf_sched_set_numerics(j->sched, numerics)) ||
        (follow && mf_coord_hold_sources(c, j)))
        goto fail;
    free(hashes);
    j->state = JOB_RUNNING;
    j->started = mf_clock_now();
    s_insert(c, j);
    return j;
fail:
    mf_diags_error(d, "", "out of memory while planning");
    free(hashes);
    mf_plan_free(&plan);
    if (j) {
        j->session = s;
        j->album = album;
        s_job_free(j);
    } else {
        mf_session_free(&s);
        mf_album_free(&album);
    }
    return NULL;
}

static void s_submit_reply(coord_t *c, const mf_peer_t *peer, uint64_t job, const mf_diags_t *d,
                           const char *error)
{
    Mixfarm__SubmitReply r = MIXFARM__SUBMIT_REPLY__INIT;
    r.job = job;
    r.error = (char *)(error ? error : "");
    char **lines = d ? calloc(d->count + 1, sizeof *lines) : NULL;
    for (size_t i = 0; lines && i < d->count; i++) {
        const mf_diag_t *it = &d->items[i];
        size_t n = strlen(it->path) + strlen(it->message) + 16;
        if (!(lines[r.n_problems] = malloc(n))) break;
        snprintf(lines[r.n_problems++], n, "%s%s%s%s",
                 it->kind == MF_DIAG_WARNING ? "warning: " : "", it->path, it->path[0] ? ": " : "",
                 it->message);
    }
    r.problems = lines;
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_SUBMIT_REPLY;
    env.submit_reply = &r;
    mf_coord_send(c, peer, &env);
    for (size_t i = 0; i < r.n_problems; i++) free(lines[i]);
    free(lines);
}

/* A document sent as a blob (Submit.document_hash): its text, malloc'd, or
 * NULL when it is missing, too large or not text. */
static char *s_document_blob(coord_t *c, const char *hex)
{
    mf_hash_t h;
    size_t len = 0;
    if (!mf_hash_valid(hex)) return NULL;
    memcpy(h.hex, hex, MF_HASH_HEX);
    char *text = mf_store_read_text(c->store, &h, MF_DOC_MAX, &len);
    if (text && strlen(text) != len) { /* a NUL inside */
        free(text);
        text = NULL;
    }
    return text;
}

void mf_coord_on_submit(coord_t *c, const mf_peer_t *peer, const Mixfarm__Submit *m)
{
    char *blob_doc = m->document_hash[0] ? s_document_blob(c, m->document_hash) : NULL;
    if (m->document_hash[0] && !blob_doc) {
        s_submit_reply(c, peer, 0, NULL, "the document's blob is missing, too large or not text");
        return;
    }
    const char *document = blob_doc ? blob_doc : m->document;
    if (strlen(document) > MF_DOC_MAX || m->n_sources > MAX_SOURCES || !m->name[0]) {
        s_submit_reply(c, peer, 0, NULL, "submission too large or unnamed");
        free(blob_doc);
        return;
    }
    json_t *sources = s_sources_json(m);
    char *text = sources ? json_dumps(sources, JSON_COMPACT) : NULL;
    mf_diags_t d;
    mf_diags_init(&d, m->name);
    uint64_t id = text ? mf_journal_add_job(c->journal, m->name, document, text, m->priority) : 0;
    job_t *j =
        id ? s_make_job(c, id, m->name, document, sources, m->priority, NULL, m->sources_follow, &d)
           : NULL;
    if (j) {
        const size_t awaited = mf_sched_awaited(j->sched, NULL);
        mf_info("job %llu (%s): %zu tasks, priority %d%s", (unsigned long long)id, j->name,
                j->plan->n_tasks, j->priority,
                awaited ? "; the tasks that read a source still uploading wait for it" : "");
        mf_journal_job_state(c->journal, id, "running", NULL);
        mf_coord_job_check(c, j); /* an empty plan is done at once */
    } else if (id) {
        mf_journal_job_state(c->journal, id, "failed", "invalid session");
    }
    char journal_error[600];
    snprintf(journal_error, sizeof journal_error, "cannot record it: %s",
             mf_journal_error(c->journal));
    s_submit_reply(c, peer, j ? id : 0, &d, j ? NULL : id ? "invalid session" : journal_error);
    mf_diags_fini(&d);
    free(text);
    free(blob_doc);
    json_decref(sources);
}

void mf_coord_add_noop_job(coord_t *c, size_t n)
{
    job_t *j = calloc(1, sizeof *j);
    mf_plan_t *p = calloc(1, sizeof *p);
    if (!j || !p || !(p->tasks = calloc(n, sizeof *p->tasks))) goto fail;
    p->mix.task = -1;
    for (; p->n_tasks < n; p->n_tasks++) {
        mf_plan_task_t *t = &p->tasks[p->n_tasks];
        char params[48];
        snprintf(params, sizeof params, "{\"i\":%zu}", p->n_tasks); /* distinct keys */
        t->kind = strdup("noop");
        t->label = strdup("noop");
        t->params = strdup(params);
        if (!t->kind || !t->label || !t->params) goto fail;
    }
    j->plan = p;
    p = NULL;
    j->name = strdup("noop benchmark");
    j->document = strdup("{}");
    j->sources = strdup("[]");
    j->id = mf_journal_add_job(c->journal, j->name, j->document, j->sources, 0);
    j->sched = s_sched_new(c, j->plan);
    if (!j->name || !j->sched || !j->id) goto fail;
    mf_journal_job_state(c->journal, j->id, "failed", "a benchmark job is not resumed");
    j->state = JOB_RUNNING;
    j->started = mf_clock_now();
    s_insert(c, j);
    return;
fail:
    mf_error("cannot create the no-op job");
    mf_plan_free(&p);
    if (j) s_job_free(j);
}

/* A journal's job planned again and queued (s_make_job), or NULL. */
static job_t *s_replan(coord_t *c, const mf_journal_job_t *row)
{
    json_error_t err;
    json_t *sources = json_loads(row->sources, 0, &err);
    mf_diags_t d;
    mf_diags_init(&d, row->name);
    /* Its client may have been cut off while it uploaded: what is missing
     * may still come (or come with a resubmission), and is waited for. */
    job_t *j = json_is_array(sources) ? s_make_job(c, row->id, row->name, row->document, sources,
                                                   row->priority, row->numerics, 1, &d)
                                      : NULL;
    mf_diags_fini(&d);
    json_decref(sources);
    return j;
}

static void s_restore(void *ctx, const mf_journal_job_t *row)
{
    coord_t *c = ctx;
    const job_t *j = s_replan(c, row);
    if (j) {
        const size_t awaited = mf_sched_awaited(j->sched, NULL);
        mf_info("job %llu (%s): resumed%s", (unsigned long long)row->id, row->name,
                awaited ? "; it waits for source files that had not finished uploading" : "");
    } else {
        mf_warn("job %llu (%s): cannot be resumed", (unsigned long long)row->id, row->name);
        mf_journal_job_state(c->journal, row->id, "failed", "could not be resumed after a restart");
    }
}

static void s_drop(void *ctx, const mf_journal_job_t *row)
{
    coord_t *c = ctx;
    mf_info("job %llu (%s): cancelled: the render that submitted it stopped",
            (unsigned long long)row->id, row->name);
    mf_journal_job_state(c->journal, row->id, "cancelled",
                         "the render that submitted it stopped before it ended");
}

/* A job the journal says is done, planned again so that status and fetch
 * answer for it after a restart as before it: held as done when every
 * task's outputs are in the action cache and the store, so that nothing
 * runs; else (a budget took its blobs, a source is gone) let go, and status
 * says to resubmit it, as for a job finished long ago. */
static void s_restore_done(void *ctx, const mf_journal_job_t *row)
{
    coord_t *c = ctx;
    job_t *j = s_replan(c, row);
    if (!j) return;
    mf_task_t t = {0};
    const int must_run = mf_sched_next(j->sched, &t);
    if (must_run) mf_task_fini(&t);
    if (must_run || !mf_sched_finished(j->sched) || mf_sched_error(j->sched)) {
        for (job_t **p = &c->jobs; *p; p = &(*p)->next)
            if (*p == j) {
                *p = j->next;
                break;
            }
        mf_debug("job %llu (%s): done, not held again: its outputs are no longer all stored",
                 (unsigned long long)row->id, row->name);
        s_job_free(j);
        return;
    }
    j->state = JOB_DONE;
    s_to_finished(c, j);
    /* The journal's times are the wall clock's; the loop's are monotonic. */
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    const double age = (double)wall.tv_sec + 1e-9 * (double)wall.tv_nsec - row->updated;
    j->finished = fmax(mf_clock_now() - fmax(age, 0.0), 1e-3); /* > 0: finished */
    j->started = j->finished - fmax(row->updated - row->created, 0.0);
    mf_info("job %llu (%s): done, held again after the restart", (unsigned long long)row->id,
            row->name);
}

void mf_coord_resume_jobs(coord_t *c)
{
    /* The finished jobs a coordinator holds; not an embedded farm's: its
     * coordinator starts with each render. */
    if (!c->opts->drop_unfinished && !c->opts->drop_consumed)
        mf_journal_recent_done(c->journal, FINISHED_KEPT, s_restore_done, c);
    mf_journal_unfinished(c->journal, c->opts->drop_unfinished ? s_drop : s_restore, c);
}

/* ---- cancel (status and fetch: coord_status.c) ---- */

void mf_coord_on_cancel(coord_t *c, const mf_peer_t *peer, const Mixfarm__CancelRequest *m)
{
    Mixfarm__CancelReply r = MIXFARM__CANCEL_REPLY__INIT;
    r.job = m->job;
    job_t *j = mf_coord_job(c, m->job);
    if (!j) {
        r.error = "no such job";
    } else if (j->state == JOB_RUNNING || j->state == JOB_QUEUED) {
        mf_sched_cancel(j->sched);
        s_set_state(c, j, JOB_CANCELLED, NULL);
    } else if (j->state != JOB_CANCELLED) {
        r.error = j->state == JOB_DONE ? "the job is already done" : "the job already failed";
    }
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_CANCEL_REPLY;
    env.cancel_reply = &r;
    mf_coord_send(c, peer, &env);
}
