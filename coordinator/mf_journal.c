#include "mf_journal.h"
#include "journal_checkpoint.h"
#include "key_filter.h"
#include "mf_log.h"
#include "mf_task.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

/* A new job needs at least this much room on the state folder's disk. */
#define MIN_FREE_BYTES (1024 * 1024ULL)

struct mf_journal {
    sqlite3 *db;
    mf_ckpt_t *ckpt; /* checkpoints off the loop's thread (journal_checkpoint.h) */
    sqlite3_stmt *add_job, *job_state, *job_numerics, *task, *action_get, *action_put;
    sqlite3_stmt *legacy_get; /* the text-keyed actions table of older journals, or NULL */
    mf_keyfilter_t *keys;     /* every key in either table; NULL: ask SQLite every time */
    int in_tx;
    int tx_changes; /* sqlite3_total_changes at BEGIN */
    char path[4096];
    int failing; /* writes fail (a full disk): said once, until they work again */
    char last_error[512];
};

static const char *s_schema =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA temp_store=MEMORY;"
    "CREATE TABLE IF NOT EXISTS jobs ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, document TEXT NOT NULL,"
    "  sources TEXT NOT NULL, priority INTEGER NOT NULL, state TEXT NOT NULL,"
    "  error TEXT, created REAL NOT NULL, updated REAL NOT NULL, numerics TEXT);"
    /* Task state changes as an append-only log: cheap to write at tens of
     * thousands a second; a task's state is its latest event. */
    "CREATE TABLE IF NOT EXISTS task_events ("
    "  job INTEGER NOT NULL, task INTEGER NOT NULL, label TEXT, state TEXT NOT NULL,"
    "  worker TEXT, seconds REAL, outputs TEXT, error TEXT, at REAL NOT NULL);"
    /* The action cache: a task key's 32 bytes to its outputs' (32 bytes
     * each). Keys are random, so every insert dirties a leaf page of its
     * own: binary keys and outputs put twice as many entries in a page as
     * the hex text of journals before session 5 (table `actions`, still
     * read when it has entries), and so halve what each group commit and
     * checkpoint writes. */
    "CREATE TABLE IF NOT EXISTS action_cache (key BLOB PRIMARY KEY, outputs BLOB NOT NULL)"
    "  WITHOUT ROWID;";

static double s_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A write failed: said once (the loop retries every few milliseconds), with
 * the file and SQLite's reason ("database or disk is full"). SQLite rolls
 * back the open group itself on a full disk or an I/O error; a new one is
 * started so the turn's later changes are still grouped. */
static void s_write_failed(mf_journal_t *j, const char *what)
{
    snprintf(j->last_error, sizeof j->last_error, "%s", sqlite3_errmsg(j->db));
    if (!j->failing)
        mf_error("journal %s: %s: %s; the coordinator goes on, but state changes are not "
                 "recorded until this is fixed",
                 j->path, what, sqlite3_errmsg(j->db));
    j->failing = 1;
    if (j->in_tx && sqlite3_get_autocommit(j->db))
        j->in_tx = sqlite3_exec(j->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
}

static void s_write_worked(mf_journal_t *j)
{
    if (j->failing) mf_info("journal %s: recording state changes again", j->path);
    j->failing = 0;
}

const char *mf_journal_error(const mf_journal_t *j)
{
    return j->last_error[0] ? j->last_error : "no error";
}

static int s_prepare(mf_journal_t *j, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(j->db, sql, -1, st, NULL) == SQLITE_OK) return 0;
    mf_error("journal: %s", sqlite3_errmsg(j->db));
    return -1;
}

/* A journal written before session 5 keeps its cache in `actions` (hex
 * text): still read, after the binary table misses, while it has entries. */
static void s_open_legacy(mf_journal_t *j)
{
    sqlite3_stmt *st = NULL;
    int has =
        sqlite3_prepare_v2(j->db, "SELECT 1 FROM actions LIMIT 1", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (has && sqlite3_prepare_v2(j->db, "SELECT outputs FROM actions WHERE key = ?", -1,
                                  &j->legacy_get, NULL) != SQLITE_OK)
        j->legacy_get = NULL;
}

/* A key filter can hold a million keys in 2 MB; a larger cache gets twice
 * its size. */
#define KEYS_MIN (1u << 20)

static void s_add_keys(mf_journal_t *j, const char *sql, int hex)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db, sql, -1, &st, NULL) != SQLITE_OK) return;
    while (j->keys && sqlite3_step(st) == SQLITE_ROW) {
        unsigned char k[MF_HASH_BYTES];
        if (hex) {
            const char *t = (const char *)sqlite3_column_text(st, 0);
            mf_hash_t h;
            if (!t || !mf_hash_valid(t)) continue;
            memcpy(h.hex, t, MF_HASH_HEX);
            mf_hash_to_bytes(&h, k);
        } else if (sqlite3_column_bytes(st, 0) == MF_HASH_BYTES) {
            memcpy(k, sqlite3_column_blob(st, 0), MF_HASH_BYTES);
        } else {
            continue;
        }
        mf_keyfilter_add(j->keys, k);
    }
    sqlite3_finalize(st);
}

/* (Re)builds the filter from both tables, with room for at least `room`
 * keys. Without memory for it, every lookup asks SQLite. */
static void s_build_keys(mf_journal_t *j, size_t room)
{
    mf_keyfilter_free(&j->keys);
    sqlite3_stmt *st;
    size_t n = 0;
    if (sqlite3_prepare_v2(j->db, "SELECT count(*) FROM action_cache", -1, &st, NULL) ==
        SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) n = (size_t)sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    if (room < 2 * n) room = 2 * n;
    if (!(j->keys = mf_keyfilter_new(room < KEYS_MIN ? KEYS_MIN : room))) return;
    s_add_keys(j, "SELECT key FROM action_cache", 0);
    if (j->legacy_get) s_add_keys(j, "SELECT key FROM actions", 1);
}

/* jobs.numerics came in session 11: a journal from before gets the column
 * (its jobs have none, and are pinned afresh). */
static void s_add_numerics_column(mf_journal_t *j)
{
    sqlite3_stmt *st;
    int has = 0;
    if (sqlite3_prepare_v2(j->db, "SELECT numerics FROM jobs LIMIT 0", -1, &st, NULL) ==
        SQLITE_OK) {
        has = 1;
        sqlite3_finalize(st);
    }
    if (!has) sqlite3_exec(j->db, "ALTER TABLE jobs ADD COLUMN numerics TEXT", NULL, NULL, NULL);
}

mf_journal_t *mf_journal_open(const char *state_dir)
{
    mf_journal_t *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    char *path = j->path;
    snprintf(j->path, sizeof j->path, "%s/journal.db", state_dir);
    char *msg = NULL;
    /* One thread uses this connection: no mutexes (the checkpoint thread has
     * its own). */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &j->db, flags, NULL) != SQLITE_OK ||
        sqlite3_exec(j->db, s_schema, NULL, NULL, &msg) != SQLITE_OK) {
        mf_error("%s: cannot open the journal: %s", path, msg ? msg : sqlite3_errmsg(j->db));
        sqlite3_free(msg);
        mf_journal_free(&j);
        return NULL;
    }
    sqlite3_busy_timeout(j->db, 5000);
    s_add_numerics_column(j);
    /* Checkpoints (and their fsyncs) mostly on their own thread; SQLite's
     * own, in the committing call, as before if that thread cannot start. */
    if ((j->ckpt = mf_ckpt_start(path))) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA journal_size_limit=%d;", MF_CKPT_OWN_PAGES * 1024);
        sqlite3_exec(j->db, pragma, NULL, NULL, NULL);
        mf_ckpt_own(j->db);
    }
    if (s_prepare(j,
                  "INSERT INTO jobs (name, document, sources, priority, state, created, updated)"
                  " VALUES (?, ?, ?, ?, 'queued', ?, ?)",
                  &j->add_job) ||
        s_prepare(j, "UPDATE jobs SET state = ?, error = ?, updated = ? WHERE id = ?",
                  &j->job_state) ||
        s_prepare(j, "UPDATE jobs SET numerics = ? WHERE id = ?", &j->job_numerics) ||
        s_prepare(j,
                  "INSERT INTO task_events (job, task, label, state, worker, seconds, outputs,"
                  " error, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  &j->task) ||
        s_prepare(j, "SELECT outputs FROM action_cache WHERE key = ?", &j->action_get) ||
        s_prepare(j, "INSERT OR REPLACE INTO action_cache (key, outputs) VALUES (?, ?)",
                  &j->action_put)) {
        mf_journal_free(&j);
        return NULL;
    }
    s_open_legacy(j);
    s_build_keys(j, 0);
    return j;
}

void mf_journal_free(mf_journal_t **jp)
{
    if (!jp || !*jp) return;
    mf_journal_t *j = *jp;
    if (j->in_tx) mf_journal_commit(j);
    sqlite3_finalize(j->add_job);
    sqlite3_finalize(j->job_state);
    sqlite3_finalize(j->job_numerics);
    sqlite3_finalize(j->task);
    sqlite3_finalize(j->action_get);
    sqlite3_finalize(j->action_put);
    sqlite3_finalize(j->legacy_get);
    mf_keyfilter_free(&j->keys);
    mf_ckpt_stop(&j->ckpt);
    sqlite3_close(j->db);
    free(j);
    *jp = NULL;
}

void mf_journal_begin(mf_journal_t *j)
{
    if (j->in_tx) return;
    j->in_tx = sqlite3_exec(j->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
    j->tx_changes = sqlite3_total_changes(j->db);
}

int mf_journal_pending(const mf_journal_t *j)
{
    return j->in_tx && sqlite3_total_changes(j->db) != j->tx_changes;
}

void mf_journal_commit(mf_journal_t *j)
{
    if (!j->in_tx) return;
    if (sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) {
        j->in_tx = 0;
        s_write_worked(j);
        return;
    }
    /* Still open (busy): kept, and committed with the next group. Rolled
     * back (a full disk): those changes are lost; the next turn starts a
     * fresh group. */
    j->in_tx = !sqlite3_get_autocommit(j->db);
    s_write_failed(j, "cannot record the last state changes");
}

static void s_step(mf_journal_t *j, sqlite3_stmt *st)
{
    if (sqlite3_step(st) != SQLITE_DONE) s_write_failed(j, "cannot record a state change");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Whether the state folder's disk has too little room left to take a job
 * (its blobs, its results, its journal): refused at once with a clear
 * reason, rather than accepted and failed later on whichever write comes
 * first. */
static int s_disk_full(mf_journal_t *j)
{
    char dir[sizeof j->path];
    snprintf(dir, sizeof dir, "%s", j->path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    struct statvfs fs;
    if (statvfs(slash ? dir : ".", &fs) != 0) return 0; /* cannot tell: let the writes say */
    const unsigned long long free_bytes = (unsigned long long)fs.f_bavail * fs.f_frsize;
    if (free_bytes >= MIN_FREE_BYTES) return 0;
    snprintf(j->last_error, sizeof j->last_error,
             "the disk of its state folder is full (%llu KiB free)", free_bytes / 1024);
    mf_error("journal %s: a new job refused: the disk is full (%llu KiB free)", j->path,
             free_bytes / 1024);
    return 1;
}

/* A job is recorded at once in its own transaction, not with the group:
 * its id goes to the client, so it must not be handed out again if a later
 * group were lost. And on disk before the id goes (synchronous=FULL for
 * this one commit; the groups stay NORMAL): a catalogue's state file,
 * itself flushed, names the id, and after a power cut the id must not come
 * back as another job's, whose outputs the catalogue would then fetch. */
uint64_t mf_journal_add_job(mf_journal_t *j, const char *name, const char *document,
                            const char *sources, int priority)
{
    if (s_disk_full(j)) return 0;
    const int grouped = j->in_tx;
    mf_journal_commit(j);
    if (j->in_tx) return 0; /* the group could not be committed: nor would the job */
    double now = s_now();
    sqlite3_bind_text(j->add_job, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(j->add_job, 2, document, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(j->add_job, 3, sources, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(j->add_job, 4, priority);
    sqlite3_bind_double(j->add_job, 5, now);
    sqlite3_bind_double(j->add_job, 6, now);
    sqlite3_exec(j->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    int rc = sqlite3_step(j->add_job);
    sqlite3_reset(j->add_job);
    sqlite3_clear_bindings(j->add_job);
    sqlite3_exec(j->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    uint64_t id = rc == SQLITE_DONE ? (uint64_t)sqlite3_last_insert_rowid(j->db) : 0;
    if (id)
        s_write_worked(j);
    else
        s_write_failed(j, "cannot record a new job");
    if (grouped) mf_journal_begin(j);
    return id;
}

void mf_journal_job_state(mf_journal_t *j, uint64_t job, const char *state, const char *error)
{
    sqlite3_bind_text(j->job_state, 1, state, -1, SQLITE_STATIC);
    if (error) sqlite3_bind_text(j->job_state, 2, error, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(j->job_state, 3, s_now());
    sqlite3_bind_int64(j->job_state, 4, (sqlite3_int64)job);
    s_step(j, j->job_state);
    /* A job's end is committed at once, with the group so far, before any
     * client can be told of it: a client that saw "done" may fill the disk
     * or kill the coordinator the next moment (disk_full found the window). */
    if (strcmp(state, "queued") && strcmp(state, "running")) {
        const int grouped = j->in_tx;
        mf_journal_commit(j);
        if (grouped) mf_journal_begin(j);
    }
}

void mf_journal_job_numerics(mf_journal_t *j, uint64_t job, const char *numerics)
{
    sqlite3_bind_text(j->job_numerics, 1, numerics, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(j->job_numerics, 2, (sqlite3_int64)job);
    s_step(j, j->job_numerics);
}

void mf_journal_task(mf_journal_t *j, uint64_t job, uint32_t task, const char *label,
                     const char *state, const char *worker, double seconds, const char *outputs,
                     const char *error)
{
    sqlite3_stmt *st = j->task;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)job);
    sqlite3_bind_int64(st, 2, task);
    sqlite3_bind_text(st, 3, label, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, state, -1, SQLITE_STATIC);
    if (worker) sqlite3_bind_text(st, 5, worker, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 6, seconds);
    if (outputs) sqlite3_bind_text(st, 7, outputs, -1, SQLITE_TRANSIENT);
    if (error) sqlite3_bind_text(st, 8, error, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 9, s_now());
    s_step(j, st);
}

static char *s_col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}

/* fn for each row of st: id, name, document, sources, priority, state,
 * error, created, updated, numerics. */
static int s_each_job(sqlite3_stmt *st, void (*fn)(void *ctx, const mf_journal_job_t *job),
                      void *ctx)
{
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        mf_journal_job_t job = {.id = (uint64_t)sqlite3_column_int64(st, 0),
                                .name = s_col(st, 1),
                                .document = s_col(st, 2),
                                .sources = s_col(st, 3),
                                .priority = sqlite3_column_int(st, 4),
                                .state = s_col(st, 5),
                                .error = s_col(st, 6),
                                .created = sqlite3_column_double(st, 7),
                                .updated = sqlite3_column_double(st, 8),
                                .numerics = s_col(st, 9)};
        fn(ctx, &job);
        free(job.name);
        free(job.document);
        free(job.sources);
        free(job.state);
        free(job.error);
        free(job.numerics);
        n++;
    }
    sqlite3_finalize(st);
    return n;
}

int mf_journal_unfinished(mf_journal_t *j, void (*fn)(void *ctx, const mf_journal_job_t *job),
                          void *ctx)
{
    sqlite3_stmt *st;
    if (s_prepare(j,
                  "SELECT id, name, document, sources, priority, state, error, created, updated,"
                  " numerics FROM jobs WHERE state IN ('queued', 'running') ORDER BY id",
                  &st))
        return -1;
    return s_each_job(st, fn, ctx);
}

int mf_journal_recent_done(mf_journal_t *j, int max,
                           void (*fn)(void *ctx, const mf_journal_job_t *job), void *ctx)
{
    sqlite3_stmt *st;
    if (s_prepare(j,
                  "SELECT * FROM (SELECT id, name, document, sources, priority, state, error,"
                  " created, updated, numerics FROM jobs WHERE state = 'done' AND document != ''"
                  " ORDER BY id DESC LIMIT ?) ORDER BY id",
                  &st))
        return -1;
    sqlite3_bind_int(st, 1, max);
    return s_each_job(st, fn, ctx);
}

/* The legacy table's row: space-separated hex hashes. */
static int s_legacy_get(mf_journal_t *j, const mf_hash_t *key, mf_hash_t *outs, int max)
{
    sqlite3_stmt *st = j->legacy_get;
    sqlite3_bind_text(st, 1, key->hex, -1, SQLITE_STATIC);
    int n = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        n = 0;
        for (size_t len = t ? strlen(t) : 0; n < max && (size_t)n * 65 + 64 <= len; n++) {
            memcpy(outs[n].hex, t + (size_t)n * 65, 64);
            outs[n].hex[64] = 0;
            if (!mf_hash_valid(outs[n].hex)) {
                n = -1;
                break;
            }
        }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return n;
}

int mf_journal_action_get(mf_journal_t *j, const mf_hash_t *key, mf_hash_t *outs, int max)
{
    sqlite3_stmt *st = j->action_get;
    unsigned char k[MF_HASH_BYTES];
    mf_hash_to_bytes(key, k);
    if (j->keys && !mf_keyfilter_maybe(j->keys, k)) return -1; /* never cached */
    sqlite3_bind_blob(st, 1, k, sizeof k, SQLITE_STATIC);
    int n = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *b = sqlite3_column_blob(st, 0);
        const int len = sqlite3_column_bytes(st, 0);
        n = len % MF_HASH_BYTES ? -1 : 0; /* a damaged row is a miss */
        for (; n >= 0 && n < max && (n + 1) * MF_HASH_BYTES <= len; n++)
            mf_hash_from_bytes(b + MF_HASH_BYTES * n, &outs[n]);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return n < 0 && j->legacy_get ? s_legacy_get(j, key, outs, max) : n;
}

void mf_journal_action_put(mf_journal_t *j, const mf_hash_t *key, const mf_hash_t *outs, int n)
{
    unsigned char k[MF_HASH_BYTES], *v = malloc((size_t)n * MF_HASH_BYTES + 1);
    if (!v) return;
    mf_hash_to_bytes(key, k);
    for (int i = 0; i < n; i++) mf_hash_to_bytes(&outs[i], v + MF_HASH_BYTES * i);
    sqlite3_bind_blob(j->action_put, 1, k, sizeof k, SQLITE_STATIC);
    sqlite3_bind_blob(j->action_put, 2, v, n * MF_HASH_BYTES, SQLITE_TRANSIENT);
    s_step(j, j->action_put);
    free(v);
    /* Added even if the write failed: a needless lookup, never a missed one. */
    if (j->keys) mf_keyfilter_add(j->keys, k);
    if (j->keys && mf_keyfilter_full(j->keys)) s_build_keys(j, 2 * mf_keyfilter_capacity(j->keys));
}

long mf_journal_prune_jobs(mf_journal_t *j, uint64_t horizon, long max)
{
    sqlite3_stmt *del = NULL, *empty = NULL;
    static const char *finished = "('done', 'failed', 'cancelled')";
    char sql[320];
    snprintf(sql, sizeof sql,
             "DELETE FROM task_events WHERE rowid IN (SELECT rowid FROM task_events WHERE job < ?1"
             " AND job IN (SELECT id FROM jobs WHERE id < ?1 AND state IN %s) LIMIT ?2)",
             finished);
    long n = -1;
    if (s_prepare(j, sql, &del) == 0) {
        sqlite3_bind_int64(del, 1, (sqlite3_int64)(horizon > INT64_MAX ? INT64_MAX : horizon));
        sqlite3_bind_int64(del, 2, max);
        if (sqlite3_step(del) == SQLITE_DONE) n = sqlite3_changes(j->db);
    }
    snprintf(sql, sizeof sql,
             "UPDATE jobs SET document = '', sources = '' WHERE id < ?1 AND state IN %s"
             " AND (document != '' OR sources != '')",
             finished);
    if (n >= 0 && s_prepare(j, sql, &empty) == 0) {
        sqlite3_bind_int64(empty, 1, (sqlite3_int64)(horizon > INT64_MAX ? INT64_MAX : horizon));
        if (sqlite3_step(empty) != SQLITE_DONE) n = -1;
    }
    if (n < 0) s_write_failed(j, "cannot prune finished jobs");
    sqlite3_finalize(del);
    sqlite3_finalize(empty);
    return n;
}

/* An action-cache entry read for pruning: its key and its outputs' bytes. */
typedef struct {
    unsigned char key[MF_HASH_BYTES];
    unsigned char *outs;
    int n;
} cache_row_t;

static int s_read_rows(sqlite3_stmt *sel, cache_row_t *rows, int max)
{
    int n = 0;
    while (n < max && sqlite3_step(sel) == SQLITE_ROW) {
        const unsigned char *k = sqlite3_column_blob(sel, 0), *b = sqlite3_column_blob(sel, 1);
        const int klen = sqlite3_column_bytes(sel, 0), len = sqlite3_column_bytes(sel, 1);
        if (!k || klen != MF_HASH_BYTES) continue;
        cache_row_t *r = &rows[n++];
        memcpy(r->key, k, MF_HASH_BYTES);
        r->n = len / MF_HASH_BYTES;
        if (r->n > MF_TASK_MAX_OUTPUTS) r->n = MF_TASK_MAX_OUTPUTS;
        if (r->n && (r->outs = malloc((size_t)r->n * MF_HASH_BYTES)))
            memcpy(r->outs, b, (size_t)r->n * MF_HASH_BYTES);
        else
            r->n = 0;
    }
    return n;
}

int mf_journal_prune_cache(mf_journal_t *j, mf_journal_gone_fn gone, void *ctx, int max,
                           unsigned char cursor[MF_HASH_BYTES])
{
    sqlite3_stmt *sel = NULL, *del = NULL;
    cache_row_t *rows = max > 0 ? calloc((size_t)max, sizeof *rows) : NULL;
    mf_hash_t *outs = malloc(MF_TASK_MAX_OUTPUTS * sizeof *outs);
    int n = 0, deleted = -1;
    if (!rows || !outs ||
        s_prepare(j, "SELECT key, outputs FROM action_cache WHERE key > ? ORDER BY key LIMIT ?",
                  &sel) ||
        s_prepare(j, "DELETE FROM action_cache WHERE key = ?", &del))
        goto done;
    sqlite3_bind_blob(sel, 1, cursor, MF_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int(sel, 2, max);
    n = s_read_rows(sel, rows, max);
    sqlite3_reset(sel); /* no read open while deleting */
    /* At the end of the table the next call starts again from the first key. */
    if (n < max)
        memset(cursor, 0, MF_HASH_BYTES);
    else
        memcpy(cursor, rows[n - 1].key, MF_HASH_BYTES);
    deleted = 0;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < rows[i].n; k++)
            mf_hash_from_bytes(rows[i].outs + MF_HASH_BYTES * k, &outs[k]);
        if (!rows[i].n || !gone(ctx, outs, rows[i].n)) continue;
        sqlite3_bind_blob(del, 1, rows[i].key, MF_HASH_BYTES, SQLITE_STATIC);
        if (sqlite3_step(del) == SQLITE_DONE)
            deleted++;
        else
            s_write_failed(j, "cannot prune the action cache");
        sqlite3_reset(del);
    }
done:
    for (int i = 0; rows && i < n; i++) free(rows[i].outs);
    sqlite3_finalize(sel);
    sqlite3_finalize(del);
    free(rows);
    free(outs);
    return deleted;
}
