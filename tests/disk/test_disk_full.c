/* Disk: full disks. Each test mounts a small tmpfs in a private mount
 * namespace (unshare, as root), so the mounts vanish with the program; where
 * that is not allowed the program exits 77 (ctest: skipped).
 *
 *   full_outdir                 OUTDIR on a full disk: the render fails
 *                               naming the file and ENOSPC, exit 1; no
 *                               half-written file or staging folder; the
 *                               previous render's files are as they were
 *                               (the full disk said once, and that it is so);
 *                               with room again, it renders
 *   full_state_dir              the coordinator's --state on a full disk: a
 *                               job whose audio does not fit is taken, its
 *                               upload refused with the reason, and the
 *                               job cancelled by its client; one on a disk
 *                               without room for the job is refused with
 *                               the reason; exit 1 each time; the
 *                               coordinator keeps running and answers;
 *                               with room again it renders; stopped, its
 *                               journal passes integrity_check and holds
 *                               the earlier job as done
 *   full_tmpdir                 the embedded farm's work folder (TMPDIR) on a
 *                               full disk: exit 1, saying where and what to
 *                               do (it said "no space left on device" of a
 *                               task, without where); OUTDIR untouched
 *   journal_commit_on_full_disk the journal itself when SQLite cannot
 *                               write: said once, with the file; the
 *                               changes are lost but the database stays
 *                               whole, and writes work again with room */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>
#include <sqlite3.h>

#include "cluster_util.h"
#include "disk_util.h"
#include "mf_journal.h"

#define TONE_S 3.0

static char s_mounted[4][1200];

/* A private mount namespace: what this program mounts, nobody else sees,
 * and it goes when the program does. -1 (errno) when not allowed. */
static int s_private_mounts(void)
{
    if (unshare(CLONE_NEWNS) != 0) return -1;
    return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

static void s_mount_small(const char *dir, int mib)
{
    char opts[64];
    snprintf(opts, sizeof opts, "size=%dm,mode=0755", mib);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) fail_msg("%s: %s", dir, strerror(errno));
    if (mount("tmpfs", dir, "tmpfs", 0, opts) != 0)
        fail_msg("mount tmpfs on %s: %s", dir, strerror(errno));
    for (size_t i = 0; i < 4; i++)
        if (!s_mounted[i][0]) {
            snprintf(s_mounted[i], sizeof s_mounted[i], "%s", dir);
            return;
        }
    fail_msg("too many mounts");
}

static void s_unmount_all(void)
{
    for (size_t i = 0; i < 4; i++)
        if (s_mounted[i][0]) {
            umount2(s_mounted[i], MNT_DETACH);
            s_mounted[i][0] = 0;
        }
}

static int64_t s_free_bytes(const char *dir)
{
    struct statvfs fs;
    if (statvfs(dir, &fs) != 0) fail_msg("%s: %s", dir, strerror(errno));
    return (int64_t)fs.f_bavail * (int64_t)fs.f_frsize;
}

/* Fills the disk under dir with one file, leaving about `leave` bytes. */
static void s_fill(const char *dir, int64_t leave, char *filler, size_t n)
{
    cl_path(filler, n, dir, "filler");
    FILE *f = fopen(filler, "wb");
    if (!f) fail_msg("%s: %s", filler, strerror(errno));
    static char block[65536];
    int64_t want = s_free_bytes(dir) - leave;
    for (; want > 0; want -= (int64_t)sizeof block) {
        size_t k = want < (int64_t)sizeof block ? (size_t)want : sizeof block;
        if (fwrite(block, 1, k, f) != k) break; /* full: as wanted */
    }
    fclose(f);
}

static int group_setup(void **state)
{
    (void)state;
    return cl_init(CL_SANITIZED ? 560 : 280);
}

static int teardown(void **state)
{
    (void)state;
    cl_kill_all(); /* before unmounting what they write to */
    s_unmount_all();
    cl_test_end();
    return 0;
}

/* Two tracks of fresh audio (prefix names the files) and a session. */
static void s_song_of(const char *dir, const char *prefix, const char *file, double gain_db,
                      double seconds, char *session, size_t n)
{
    char a[256], b[256], path[1400];
    snprintf(a, sizeof a, "%s-bass.wav", prefix);
    snprintf(b, sizeof b, "%s-keys.wav", prefix);
    cl_path(path, sizeof path, dir, a);
    struct stat st;
    if (stat(path, &st) != 0)
        dk_write_tone(path, SF_FORMAT_WAV, seconds, 50 + 5 * (prefix[0] - 'a'));
    cl_path(path, sizeof path, dir, b);
    if (stat(path, &st) != 0)
        dk_write_tone(path, SF_FORMAT_WAV, seconds, 440 + 20 * (prefix[0] - 'a'));
    const char *names[] = {"Bass", "Keys"}, *files[] = {a, b};
    dk_write_session(dir, file, "Song", 2, names, files, gain_db);
    cl_path(session, n, dir, file);
}

static void s_song(const char *dir, const char *prefix, const char *file, double gain_db,
                   char *session, size_t n)
{
    s_song_of(dir, prefix, file, gain_db, TONE_S, session, n);
}

/* Asserts the run's exit code and a line of its stderr; on failure the run
 * is freed first (a failed assertion does not return). */
static void s_expect(cl_run_t *r, int rc, const char *needle, const char *what)
{
    if (r->rc == rc && (!needle || strstr(r->err, needle))) return;
    char msg[8192];
    snprintf(msg, sizeof msg, "%s: exited %d, expected %d%s%s; stderr:\n%s", what, r->rc, rc,
             needle ? " and a message with " : "", needle ? needle : "", r->err);
    cl_run_free(r);
    fail_msg("%s", msg);
}

/* How often needle is in the run's stderr. */
static int s_count(const cl_run_t *r, const char *needle)
{
    int n = 0;
    for (const char *p = r->err; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

/* Copies a file aside (outside the small disk) to compare with later. */
static void s_keep(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    if (!in || !out) fail_msg("copying %s to %s: %s", from, to, strerror(errno));
    char buf[65536];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, in)) > 0) assert_int_equal(fwrite(buf, 1, k, out), k);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

static void full_outdir(void **state)
{
    (void)state;
    char disk[1200], out[1300], fresh[1300], session[1300], changed[1300], filler[1400];
    char path[1400], kept[1400], needle[1500];
    s_song(cl_test_dir(), "a", "song.json", -2, session, sizeof session);
    s_song(cl_test_dir(), "a", "song2.json", -6, changed, sizeof changed);
    cl_path(disk, sizeof disk, cl_test_dir(), "disk");
    s_mount_small(disk, 24);
    cl_path(out, sizeof out, disk, "out");
    cl_path(fresh, sizeof fresh, disk, "fresh");

    /* A render that fits, then a disk with 256 KiB left. */
    cl_run_t r = cl_render_run(session, out, NULL);
    s_expect(&r, 0, NULL, "the first render");
    cl_run_free(&r);
    char *before = dk_list_tree(out);
    assert_non_null(strstr(before, "mix.wav\n"));
    const char *keep[] = {"mix.wav", "manifest.json"};
    for (size_t i = 0; i < 2; i++) {
        cl_path(path, sizeof path, out, keep[i]);
        snprintf(kept, sizeof kept, "%s/kept-%s", cl_test_dir(), keep[i]);
        s_keep(path, kept);
    }
    s_fill(disk, 256 * 1024, filler, sizeof filler);

    /* Into the same OUTDIR: fails, names the file and the reason. */
    r = cl_render_run(changed, out, NULL);
    snprintf(needle, sizeof needle, "mixfarm: %s/", out);
    s_expect(&r, 1, needle, "a render onto a full disk");
    s_expect(&r, 1, ": cannot write: No space left on device\n", "a render onto a full disk");
    /* Said once, not once a file; then what it means for the folder. */
    s_expect(&r, 1, "the folder holds what it held before\n", "a render onto a full disk");
    assert_int_equal(s_count(&r, "No space left"), 1);
    cl_run_free(&r);
    dk_assert_tree(out, before);
    for (size_t i = 0; i < 2; i++) {
        cl_path(path, sizeof path, out, keep[i]);
        snprintf(kept, sizeof kept, "%s/kept-%s", cl_test_dir(), keep[i]);
        cl_assert_same_file(path, kept);
    }

    /* Into a new OUTDIR: nothing at all appears in it. */
    r = cl_render_run(changed, fresh, NULL);
    s_expect(&r, 1, ": cannot write: No space left on device\n", "a fresh OUTDIR on a full disk");
    cl_run_free(&r);
    dk_assert_tree(fresh, "");

    /* With room again: the render goes through and replaces the mix. */
    assert_int_equal(unlink(filler), 0);
    r = cl_render_run(changed, out, NULL);
    s_expect(&r, 0, NULL, "the render once the disk has room");
    cl_run_free(&r);
    char *after = dk_list_tree(out);
    assert_string_equal(after, before);
    cl_path(path, sizeof path, out, "mix.wav");
    snprintf(kept, sizeof kept, "%s/kept-mix.wav", cl_test_dir());
    assert_false(cl_same_file(path, kept));
    free(after);
    free(before);
    cl_test_pass();
}

/* The journal of a stopped coordinator: whole, and job `id` in `state`. */
static void s_assert_journal(const char *state_dir, int id, const char *state)
{
    char db[1300];
    cl_path(db, sizeof db, state_dir, "journal.db");
    sqlite3 *h = NULL;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        fail_msg("%s: %s", db, h ? sqlite3_errmsg(h) : "cannot open");
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT state FROM jobs WHERE id = ?", -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) fail_msg("%s: no job %d", db, id);
    const char *got = (const char *)sqlite3_column_text(st, 0);
    if (strcmp(got, state)) fail_msg("%s: job %d is %s, not %s", db, id, got, state);
    sqlite3_finalize(st);
    sqlite3_close(h);
}

static void full_state_dir(void **state)
{
    (void)state;
    char farm[1200], session[1300], changed[1300], other[1300], filler[1400], out[1300];
    cl_path(farm, sizeof farm, cl_test_dir(), "farm");
    assert_int_equal(mkdir(farm, 0755), 0);
    s_song(cl_test_dir(), "a", "song.json", -2, session, sizeof session);
    s_song(cl_test_dir(), "a", "song2.json", -6, changed, sizeof changed);
    /* Its files (2 MB each) fit in none of the room left below. */
    s_song_of(cl_test_dir(), "b", "other.json", -2, 20.0, other, sizeof other);
    cl_coord_t c = {0};
    char state_dir[1300];
    cl_path(state_dir, sizeof state_dir, farm, "state");
    s_mount_small(state_dir, 48);
    cl_coord_start(&c, farm, 0);
    cl_worker_start(&c, farm, "w1", 2, NULL, 0);
    cl_wait_joined(&c, "w1", 30 * CL_SLOW);

    cl_path(out, sizeof out, cl_test_dir(), "out1");
    cl_run_t r = cl_render_run(session, out, &c);
    s_expect(&r, 0, NULL, "job 1, with room");
    cl_run_free(&r);
    /* Room for a job (the journal takes one with 1 MiB free), not for its
     * audio: the client submits first and uploads after (client_submit.c);
     * the upload is refused, with the reason, and the client cancels the
     * job it submitted. */
    s_fill(state_dir, 3 << 19, filler, sizeof filler);
    cl_path(out, sizeof out, cl_test_dir(), "out2");
    r = cl_render_run(other, out, &c);
    s_expect(&r, 1, "the coordinator's store cannot take it: No space left on device",
             "a job whose audio must be uploaded");
    s_expect(&r, 1, "\"Bass\" (b-bass.wav): cannot upload it",
             "a job whose audio must be uploaded");
    cl_run_free(&r);
    dk_assert_tree(out, "");
    char blob_tmp[1400];
    cl_path(blob_tmp, sizeof blob_tmp, state_dir, "blobs/tmp");
    dk_assert_tree(blob_tmp, ""); /* the refused uploads left nothing behind */
    cl_status_t st;
    assert_int_equal(cl_status(&c, 2, &st), 0);
    assert_string_equal(st.state, "cancelled");
    /* No room for a job: it is refused, with the reason. */
    s_fill(state_dir, 0, filler, sizeof filler);
    r = cl_render_run(changed, out, &c);
    s_expect(&r, 1,
             "the coordinator refused the job: cannot record it: the disk of its state "
             "folder is full (",
             "a job on a full state disk");
    cl_run_free(&r);
    dk_assert_tree(out, "");
    assert_true(cl_alive(c.pid));
    assert_true(cl_file_contains(c.log, "No space left on device"));
    assert_true(cl_file_contains(c.log, "a new job refused: the disk is full"));
    assert_int_equal(cl_status(&c, 1, &st), 0);
    assert_string_equal(st.state, "done");

    /* Room again: the same coordinator renders. */
    assert_int_equal(unlink(filler), 0);
    r = cl_render_run(changed, out, &c);
    s_expect(&r, 0, NULL, "a job once the state disk has room");
    cl_run_free(&r);
    cl_stop_all_clean(30 * CL_SLOW);
    s_assert_journal(state_dir, 1, "done");
    s_assert_journal(state_dir, 2, "cancelled");
    s_assert_journal(state_dir, 3, "done"); /* the refused one took no id */
    cl_test_pass();
}

static int s_count_rows(const char *db_path, const char *sql)
{
    sqlite3 *h = NULL;
    if (sqlite3_open_v2(db_path, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        fail_msg("%s: cannot open", db_path);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

/* Many task events: more than the WAL has room for on a full disk. */
static void s_task_events(mf_journal_t *j, uint64_t job, int n)
{
    char error[1024];
    memset(error, 'x', sizeof error - 1);
    error[sizeof error - 1] = 0;
    mf_journal_begin(j);
    for (int i = 0; i < n; i++)
        mf_journal_task(j, job, (uint32_t)i, "strip", "failed", "w1", 0.1, NULL, error);
    mf_journal_commit(j);
}

static void journal_commit_on_full_disk(void **state)
{
    (void)state;
    char dir[1200], filler[1400], db[1300];
    cl_path(dir, sizeof dir, cl_test_dir(), "state");
    s_mount_small(dir, 4);
    cl_path(db, sizeof db, dir, "journal.db");
    mf_journal_t *j = mf_journal_open(dir);
    assert_non_null(j);
    uint64_t first = mf_journal_add_job(j, "one", "{}", "[]", 0);
    assert_true(first > 0);
    mf_journal_job_state(j, first, "done", NULL);
    mf_journal_commit(j);
    s_fill(dir, 0, filler, sizeof filler);

    s_task_events(j, first, 4000); /* ~4 MB: cannot be written */
    assert_string_equal(mf_journal_error(j), "database or disk is full");
    assert_int_equal(mf_journal_add_job(j, "two", "{}", "[]", 0), 0);
    assert_non_null(strstr(mf_journal_error(j), "the disk of its state folder is full"));
    assert_int_equal(s_count_rows(db, "SELECT count(*) FROM task_events"), 0);

    assert_int_equal(unlink(filler), 0);
    s_task_events(j, first, 10);
    uint64_t second = mf_journal_add_job(j, "two", "{}", "[]", 0);
    assert_true(second > first);
    mf_journal_free(&j);
    assert_int_equal(s_count_rows(db, "SELECT count(*) FROM task_events"), 10);
    assert_int_equal(s_count_rows(db, "SELECT count(*) FROM jobs"), 2);
    assert_int_equal(s_count_rows(db, "SELECT count(*) FROM jobs WHERE state = 'done'"), 1);
    s_assert_journal(dir, (int)first, "done");
    cl_test_pass();
}

static void full_tmpdir(void **state)
{
    (void)state;
    char tmp[1200], out[1300], session[1300];
    s_song_of(cl_test_dir(), "t", "long.json", -2, 20.0, session, sizeof session);
    cl_path(tmp, sizeof tmp, cl_test_dir(), "tmp");
    s_mount_small(tmp, 4); /* less than the render's blobs */
    cl_path(out, sizeof out, cl_test_dir(), "out");
    const char *saved = getenv("TMPDIR");
    char was[1200] = "";
    if (saved) snprintf(was, sizeof was, "%s", saved);
    setenv("TMPDIR", tmp, 1);
    cl_run_t r = cl_render_run(session, out, NULL);
    if (saved)
        setenv("TMPDIR", was, 1);
    else
        unsetenv("TMPDIR");
    char needle[1400];
    snprintf(needle, sizeof needle, "mixfarm: the render works in %s/mixfarm-embedded-", tmp);
    s_expect(&r, 1, needle, "a render whose TMPDIR is full");
    s_expect(&r, 1, "whose disk is full: point TMPDIR at a disk with room", "the same");
    cl_run_free(&r);
    dk_assert_tree(out, "");
    r = cl_render_run(session, out, NULL); /* TMPDIR as it was */
    s_expect(&r, 0, NULL, "the render with TMPDIR back");
    cl_run_free(&r);
    cl_test_pass();
}

int main(void)
{
    if (s_private_mounts() != 0) {
        fprintf(stderr,
                "disk_full: skipped: no private mount namespace for a small tmpfs "
                "(unshare: %s; needs root or CAP_SYS_ADMIN)\n",
                strerror(errno));
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(full_outdir, cl_setup, teardown, "full_outdir"),
        cmocka_unit_test_prestate_setup_teardown(full_state_dir, cl_setup, teardown,
                                                 "full_state_dir"),
        cmocka_unit_test_prestate_setup_teardown(full_tmpdir, cl_setup, teardown, "full_tmpdir"),
        cmocka_unit_test_prestate_setup_teardown(journal_commit_on_full_disk, cl_setup, teardown,
                                                 "journal_commit_on_full_disk"),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
