/* The coordinator's journal (coordinator/mf_journal.c) and its checkpoint
 * thread (coordinator/journal_checkpoint.c):
 *
 *   checkpoints_while_open  a few thousand action-cache entries, committed in
 *                           groups as the loop does: the database file
 *                           grows while the journal is open (the thread
 *                           copies the WAL back; the loop's own checkpoint
 *                           would not run until 16 MiB of WAL)
 *   wal_stays_bounded       enough groups to pass MF_CKPT_OWN_PAGES: the
 *                           WAL is started again from the top instead of
 *                           growing without end
 *   reopened_holds_all      closed and opened again, every entry is there
 *   prune_jobs              finished jobs below the horizon lose their
 *                           events and documents; queued and running ones,
 *                           and those above it, keep everything
 *   prune_cache             entries whose outputs are gone are deleted, a
 *                           few at a time, the cursor wrapping round */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal_checkpoint.h"
#include "mf_fs.h"
#include "mf_journal.h"

#include <sqlite3.h>

typedef struct {
    char dir[64];
    char db[96], wal[96];
} fixture_t;

static int s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/mf-journal-XXXXXX");
    if (!f || !mkdtemp(f->dir)) return -1;
    snprintf(f->db, sizeof f->db, "%s/journal.db", f->dir);
    snprintf(f->wal, sizeof f->wal, "%s/journal.db-wal", f->dir);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fixture_t *f = *state;
    mf_fs_remove_tree(f->dir);
    free(f);
    return 0;
}

static long long s_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* Entry i: a key spread over the whole table (as task keys are) and one
 * output, both derived from i. */
static void s_entry(uint64_t i, mf_hash_t *key, mf_hash_t *out)
{
    uint64_t x = i * 0x9E3779B97F4A7C15ull + 1;
    for (int k = 0; k < MF_HASH_HEX - 1; k++) {
        x ^= x >> 29, x *= 0xBF58476D1CE4E5B9ull, x ^= x >> 32;
        key->hex[k] = "0123456789abcdef"[x & 15];
        out->hex[k] = "0123456789abcdef"[(x >> 8) & 15];
    }
    key->hex[MF_HASH_HEX - 1] = out->hex[MF_HASH_HEX - 1] = 0;
}

/* Groups of 50 puts, one commit each, as the loop's turns would. */
static void s_put(mf_journal_t *j, uint64_t from, uint64_t to)
{
    for (uint64_t i = from; i < to; i += 50) {
        mf_journal_begin(j);
        for (uint64_t k = i; k < to && k < i + 50; k++) {
            mf_hash_t key, out;
            s_entry(k, &key, &out);
            mf_journal_action_put(j, &key, &out, 1);
        }
        mf_journal_commit(j);
    }
}

static void s_sleep_ms(long ms)
{
    nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

static void checkpoints_while_open(void **state)
{
    fixture_t *f = *state;
    mf_journal_t *j = mf_journal_open(f->dir);
    assert_non_null(j);
    const long long empty = s_size(f->db);
    s_put(j, 0, 2000);
    long long grown = 0;
    for (int t = 0; t < 200 && grown < empty + 128 * 1024; t++, s_sleep_ms(10))
        grown = s_size(f->db);
    fprintf(stderr, "journal.db %lld -> %lld bytes while open, WAL %lld bytes\n", empty, grown,
            s_size(f->wal));
    assert_true(grown >= empty + 128 * 1024);
    mf_journal_free(&j);
}

static void wal_stays_bounded(void **state)
{
    fixture_t *f = *state;
    mf_journal_t *j = mf_journal_open(f->dir);
    assert_non_null(j);
    /* Each group dirties about one page per entry: 40,000 entries write
     * well over MF_CKPT_OWN_PAGES pages of WAL. */
    long long most = 0;
    for (uint64_t i = 0; i < 40000; i += 2000) {
        s_put(j, i, i + 2000);
        const long long w = s_size(f->wal);
        most = w > most ? w : most;
    }
    fprintf(stderr, "WAL at most %lld bytes (restart point %d pages)\n", most, MF_CKPT_OWN_PAGES);
    assert_true(most > 0);
    /* The restart point plus what the groups between two looks can add. */
    assert_true(most < (long long)(MF_CKPT_OWN_PAGES + 8192) * 4096);
    mf_journal_free(&j);
}

static void reopened_holds_all(void **state)
{
    fixture_t *f = *state;
    mf_journal_t *j = mf_journal_open(f->dir);
    assert_non_null(j);
    s_put(j, 0, 3000);
    mf_journal_free(&j);
    j = mf_journal_open(f->dir);
    assert_non_null(j);
    for (uint64_t i = 0; i < 3000; i++) {
        mf_hash_t key, out, got[2];
        s_entry(i, &key, &out);
        assert_int_equal(mf_journal_action_get(j, &key, got, 2), 1);
        assert_string_equal(got[0].hex, out.hex);
    }
    mf_journal_free(&j);
}

/* Several outputs, none, and a key never put. */
static void outputs_round_trip(void **state)
{
    fixture_t *f = *state;
    mf_journal_t *j = mf_journal_open(f->dir);
    assert_non_null(j);
    mf_hash_t key, outs[3], none, got[4];
    s_entry(100, &key, &outs[0]);
    s_entry(101, &outs[1], &outs[2]);
    s_entry(7, &none, &got[0]);
    mf_journal_begin(j);
    mf_journal_action_put(j, &key, outs, 3);
    mf_journal_action_put(j, &none, outs, 0);
    mf_journal_commit(j);
    assert_int_equal(mf_journal_action_get(j, &key, got, 4), 3);
    for (int i = 0; i < 3; i++) assert_string_equal(got[i].hex, outs[i].hex);
    assert_int_equal(mf_journal_action_get(j, &key, got, 2), 2); /* at most max */
    assert_int_equal(mf_journal_action_get(j, &none, got, 4), 0);
    mf_hash_t unknown, unused;
    s_entry(99999, &unknown, &unused);
    assert_int_equal(mf_journal_action_get(j, &unknown, got, 4), -1);
    mf_journal_free(&j);
}

/* A journal from before session 5 kept its cache as hex text in `actions`:
 * its entries still answer, after the binary table. */
static void legacy_actions_read(void **state)
{
    fixture_t *f = *state;
    mf_hash_t key, out, got[2];
    s_entry(42, &key, &out);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    char sql[512];
    snprintf(sql, sizeof sql,
             "CREATE TABLE actions (key TEXT PRIMARY KEY, outputs TEXT NOT NULL) WITHOUT ROWID;"
             "INSERT INTO actions VALUES ('%s', '%s %s');",
             key.hex, out.hex, key.hex);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    mf_journal_t *j = mf_journal_open(f->dir);
    assert_non_null(j);
    assert_int_equal(mf_journal_action_get(j, &key, got, 2), 2);
    assert_string_equal(got[0].hex, out.hex);
    assert_string_equal(got[1].hex, key.hex);
    /* A new entry for the same key is the binary table's, and wins. */
    mf_journal_begin(j);
    mf_journal_action_put(j, &key, &key, 1);
    mf_journal_commit(j);
    assert_int_equal(mf_journal_action_get(j, &key, got, 2), 1);
    assert_string_equal(got[0].hex, key.hex);
    mf_journal_free(&j);
}

static long long s_count(const char *db, const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    long long n = -1;
    if (sqlite3_open(db, &h) == SQLITE_OK &&
        sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return n;
}

static void s_job_seen(void *ctx, const mf_journal_job_t *job)
{
    int *seen = ctx;
    if (job->document && !strcmp(job->document, "{\"doc\": 3}")) seen[job->id]++;
}

static void prune_jobs(void **state)
{
    fixture_t *f = *state;
    mf_journal_t *j = mf_journal_open(f->dir);
    assert_non_null(j);
    uint64_t id[6];
    const char *const states[6] = {"done", "failed", "running", "cancelled", "done", "queued"};
    for (int k = 0; k < 6; k++) {
        char doc[32];
        snprintf(doc, sizeof doc, "{\"doc\": %d}", k + 1);
        id[k] = mf_journal_add_job(j, "job", doc, "{\"a\": \"b\"}", 0);
        assert_int_equal(id[k], (uint64_t)k + 1);
    }
    mf_journal_begin(j);
    for (int k = 0; k < 6; k++) {
        for (uint32_t t = 0; t < 10; t++)
            mf_journal_task(j, id[k], t, "strip X", "done", "w1", 0.1, NULL, NULL);
        if (strcmp(states[k], "queued")) mf_journal_job_state(j, id[k], states[k], NULL);
    }
    mf_journal_commit(j);
    /* Jobs 1-4 are below the horizon: 1, 2 and 4 are finished, 3 runs. */
    assert_int_equal(mf_journal_prune_jobs(j, 5, 20), 20); /* at most 20 a call */
    assert_int_equal(mf_journal_prune_jobs(j, 5, 20), 10);
    mf_journal_free(&j);
    assert_int_equal(s_count(f->db, "SELECT count(*) FROM task_events"), 30);
    assert_int_equal(s_count(f->db, "SELECT count(*) FROM task_events WHERE job IN (3, 5, 6)"), 30);
    assert_int_equal(s_count(f->db, "SELECT count(*) FROM jobs"), 6); /* the rows stay */
    assert_int_equal(s_count(f->db, "SELECT count(*) FROM jobs WHERE document = ''"), 3);
    assert_int_equal(
        s_count(f->db, "SELECT count(*) FROM jobs WHERE document = '' AND id IN (1, 2, 4)"), 3);
    assert_int_equal(s_count(f->db, "SELECT count(*) FROM jobs WHERE state = 'failed'"), 1);
    /* A running job resumes with its document. */
    j = mf_journal_open(f->dir);
    int seen[8] = {0};
    assert_int_equal(mf_journal_unfinished(j, s_job_seen, seen), 2);
    assert_int_equal(seen[3], 1);
    /* Again: nothing more to do below the same horizon; no horizon at all
     * takes job 5 too. */
    assert_int_equal(mf_journal_prune_jobs(j, 5, 1000), 0);
    assert_int_equal(mf_journal_prune_jobs(j, UINT64_MAX, 1000), 10);
    mf_journal_free(&j);
    assert_int_equal(s_count(f->db, "SELECT count(*) FROM task_events"), 20);
}

static void s_numerics_seen(void *ctx, const mf_journal_job_t *job)
{
    char(*seen)[32] = ctx;
    if (job->id < 4) snprintf(seen[job->id], 32, "%s", job->numerics ? job->numerics : "(none)");
}

/* A job's arithmetic outlives a restart; a journal from before the column
 * gets it, its jobs with none. */
static void numerics_kept(void **state)
{
    fixture_t *f = *state;
    sqlite3 *h;
    assert_int_equal(sqlite3_open(f->db, &h), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(h,
                     "CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                     " name TEXT NOT NULL, document TEXT NOT NULL, sources TEXT NOT"
                     " NULL, priority INTEGER NOT NULL, state TEXT NOT NULL, error"
                     " TEXT, created REAL NOT NULL, updated REAL NOT NULL);"
                     "INSERT INTO jobs (name, document, sources, priority, state,"
                     " created, updated) VALUES ('old', '{}', '[]', 0, 'running', 0, 0);",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(h);
    mf_journal_t *j = mf_journal_open(f->dir);
    assert_non_null(j);
    assert_int_equal(mf_journal_add_job(j, "new", "{}", "[]", 0), 2);
    assert_int_equal(mf_journal_add_job(j, "unpinned", "{}", "[]", 0), 3);
    mf_journal_job_numerics(j, 2, "dsp=x86 qc=x86");
    mf_journal_free(&j);
    j = mf_journal_open(f->dir);
    char seen[4][32] = {{0}};
    assert_int_equal(mf_journal_unfinished(j, s_numerics_seen, seen), 3);
    assert_string_equal(seen[1], "(none)");
    assert_string_equal(seen[2], "dsp=x86 qc=x86");
    assert_string_equal(seen[3], "(none)");
    mf_journal_free(&j);
}

/* Outputs of entries with an even index are gone. */
static int s_even_gone(void *ctx, const mf_hash_t *outs, int n)
{
    const mf_hash_t *even = ctx; /* the outputs of entries 0, 2, 4... */
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 50; k += 2)
            if (!strcmp(outs[i].hex, even[k].hex)) return 1;
    return 0;
}

static void prune_cache(void **state)
{
    fixture_t *f = *state;
    mf_journal_t *j = mf_journal_open(f->dir);
    assert_non_null(j);
    s_put(j, 0, 50);
    mf_hash_t outs[50];
    for (int k = 0; k < 50; k++) {
        mf_hash_t key;
        s_entry((uint64_t)k, &key, &outs[k]);
    }
    unsigned char cursor[MF_HASH_BYTES] = {0};
    int deleted = 0, passes = 0;
    /* Seven entries a pass: eight passes go round once. */
    for (; passes < 8; passes++) {
        mf_journal_begin(j);
        const int n = mf_journal_prune_cache(j, s_even_gone, outs, 7, cursor);
        mf_journal_commit(j);
        assert_true(n >= 0 && n <= 7);
        deleted += n;
    }
    assert_int_equal(deleted, 25);
    for (int k = 0; k < 50; k++) {
        mf_hash_t key, out, got[1];
        s_entry((uint64_t)k, &key, &out);
        assert_int_equal(mf_journal_action_get(j, &key, got, 1), k % 2 ? 1 : -1);
    }
    /* Round again: nothing left to delete. */
    for (int p = 0; p < 5; p++)
        assert_int_equal(mf_journal_prune_cache(j, s_even_gone, outs, 7, cursor), 0);
    mf_journal_free(&j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(checkpoints_while_open, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(wal_stays_bounded, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(outputs_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(legacy_actions_read, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(reopened_holds_all, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(prune_jobs, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(numerics_kept, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(prune_cache, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
