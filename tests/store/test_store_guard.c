/* store/mf_store_guard.h: a lasting store after a power cut. The boot id is
 * MIXFARM_BOOT_ID's, so a test "restarts the machine" by changing it; a
 * power cut's damage is a blob truncated by hand. Each test works in its
 * own mkdtemp folder. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mf_hash.h"
#include "mf_store.h"
#include "mf_store_guard.h"
#include "test_store_dir.h"

typedef test_store_dir_t fixture_t;

static int setup(void **state)
{
    setenv("MIXFARM_BOOT_ID", "boot-a", 1);
    return test_store_dir_setup(state, "mf-guard", "store");
}

static int teardown(void **state)
{
    return test_store_dir_teardown(state);
}

/* Past the file system's timestamp granularity (a jiffy where it is coarse). */
static void s_tick(void)
{
    nanosleep(&(struct timespec){0, 60 * 1000 * 1000}, NULL);
}

static mf_hash_t s_put(mf_store_t *s, const char *text)
{
    mf_hash_t h;
    assert_int_equal(mf_store_put_bytes(s, text, strlen(text), &h), MF_OK);
    return h;
}

/* A blob named after a task, as workers store their outputs: its name is
 * not the hash of its bytes. */
static mf_hash_t s_put_named(mf_store_t *s, const char *name_of, const char *text)
{
    mf_hash_t name, h;
    mf_hash_bytes(name_of, strlen(name_of), &name);
    mf_blob_writer_t *w = mf_blob_writer_new_named(s, &name);
    assert_non_null(w);
    assert_int_equal(mf_blob_writer_write(w, text, strlen(text)), MF_OK);
    assert_int_equal(mf_blob_writer_commit(w, &h), MF_OK);
    return h;
}

static void s_truncate(mf_store_t *s, const mf_hash_t *h, off_t len)
{
    char *p = mf_store_path(s, h);
    assert_int_equal(truncate(p, len), 0);
    free(p);
}

static mf_store_check_t s_open_close(mf_store_t *s, const char *boot)
{
    setenv("MIXFARM_BOOT_ID", boot, 1);
    mf_store_check_t r;
    memset(&r, 0xff, sizeof r);
    mf_store_guard_t *g = mf_store_guard_open(s, 60, &r);
    assert_non_null(g);
    mf_store_guard_free(&g);
    assert_null(g);
    return r;
}

/* The boot the store's record names (boot: 64 bytes). */
static void s_marker_boot(const fixture_t *f, char *boot)
{
    char path[700], line[128];
    snprintf(path, sizeof path, "%s/store/synced", f->dir);
    FILE *m = fopen(path, "r");
    assert_non_null(m);
    assert_non_null(fgets(line, sizeof line, m));
    assert_string_equal(line, "mixfarm store synced\n");
    assert_non_null(fgets(line, sizeof line, m));
    fclose(m);
    assert_int_equal(sscanf(line, "boot %63s", boot), 1);
}

/* A new store gets the record of this boot; nothing is checked. */
static void test_new_store(void **state)
{
    fixture_t *f = *state;
    const mf_store_check_t r = s_open_close(f->store, "boot-a");
    assert_int_equal(r.checked, 0);
    char boot[64];
    s_marker_boot(f, boot);
    assert_string_equal(boot, "boot-a");
}

/* Opened again in the same boot, nothing is checked: the page cache kept
 * every byte (a crash, kill -9), so even a blob that reads wrong is the
 * store's own business, not the guard's. */
static void test_same_boot(void **state)
{
    fixture_t *f = *state;
    s_open_close(f->store, "boot-a");
    s_tick();
    const mf_hash_t named = s_put_named(f->store, "task 1", "an output");
    const mf_store_check_t r = s_open_close(f->store, "boot-a");
    assert_int_equal(r.checked, 0);
    assert_true(mf_store_has(f->store, &named));
}

/* After a restart of the machine: what changed since the last flush is
 * checked. A blob whose bytes hash to its name stays; a short one and one
 * named after its task go, and so does a new action entry. What was there
 * before the flush is not read at all: the named blob among it stays. */
static void test_restart_checks_changes(void **state)
{
    fixture_t *f = *state;
    mf_store_t *s = f->store;
    const mf_hash_t old_content = s_put(s, "a source from before");
    const mf_hash_t old_named = s_put_named(s, "task 0", "an output from before");
    mf_hash_t old_key, new_key;
    mf_hash_bytes("key 0", 5, &old_key);
    mf_hash_bytes("key 1", 5, &new_key);
    assert_int_equal(mf_store_action_put(s, &old_key, &old_named, 1), MF_OK);
    s_tick();
    mf_store_check_t r = s_open_close(s, "boot-a"); /* no record yet: one now, flushed */
    assert_int_equal(r.checked, 0);
    s_tick();
    const mf_hash_t intact = s_put(s, "a source uploaded since");
    const mf_hash_t cut = s_put(s, "a source the power cut left short");
    s_truncate(s, &cut, 5);
    const mf_hash_t named = s_put_named(s, "task 1", "an output written since");
    assert_int_equal(mf_store_action_put(s, &new_key, &named, 1), MF_OK);

    r = s_open_close(s, "boot-b");
    assert_int_equal(r.checked, 1);
    assert_int_equal(r.blobs, 3);
    assert_int_equal(r.dropped, 2);
    assert_int_equal(r.actions_dropped, 1);
    assert_true(mf_store_has(s, &old_content));
    assert_true(mf_store_has(s, &old_named));
    assert_true(mf_store_has(s, &intact));
    assert_false(mf_store_has(s, &cut));
    assert_false(mf_store_has(s, &named));
    mf_hash_t outs[4];
    assert_int_equal(mf_store_action_get(s, &old_key, outs, 4), 1);
    assert_int_equal(mf_store_action_get(s, &new_key, outs, 4), -1);
    char boot[64];
    s_marker_boot(f, boot);
    assert_string_equal(boot, "boot-b"); /* the next check starts from this one */
    r = s_open_close(s, "boot-b");
    assert_int_equal(r.checked, 0);
}

/* A record that cannot be read: the whole store is checked. */
static void test_unreadable_record(void **state)
{
    fixture_t *f = *state;
    const mf_hash_t content = s_put(f->store, "a source");
    const mf_hash_t named = s_put_named(f->store, "task 0", "an output");
    s_open_close(f->store, "boot-a");
    char path[700];
    snprintf(path, sizeof path, "%s/store/synced", f->dir);
    FILE *m = fopen(path, "w");
    assert_non_null(m);
    fputs("half a rec", m);
    fclose(m);
    const mf_store_check_t r = s_open_close(f->store, "boot-a");
    assert_int_equal(r.checked, 1);
    assert_int_equal(r.blobs, 2);
    assert_true(mf_store_has(f->store, &content));
    assert_false(mf_store_has(f->store, &named));
}

/* The thread flushes every every_s seconds and moves the record forward:
 * a blob written before the last flush is not checked after a restart. */
static void test_periodic_flush(void **state)
{
    fixture_t *f = *state;
    setenv("MIXFARM_BOOT_ID", "boot-a", 1);
    mf_store_guard_t *g = mf_store_guard_open(f->store, 0.05, NULL);
    assert_non_null(g);
    s_tick();
    const mf_hash_t named = s_put_named(f->store, "task 1", "an output");
    char path[700];
    snprintf(path, sizeof path, "%s/store/synced", f->dir);
    char *blob = mf_store_path(f->store, &named);
    struct stat b, m;
    assert_int_equal(stat(blob, &b), 0);
    free(blob);
    int moved = 0;
    for (int i = 0; i < 100 && !moved; i++) { /* up to 5 s on a loaded machine */
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
        moved = stat(path, &m) == 0 &&
                (m.st_mtim.tv_sec > b.st_ctim.tv_sec ||
                 (m.st_mtim.tv_sec == b.st_ctim.tv_sec && m.st_mtim.tv_nsec > b.st_ctim.tv_nsec));
    }
    mf_store_guard_free(&g);
    assert_true(moved);
    const mf_store_check_t r = s_open_close(f->store, "boot-b");
    assert_int_equal(r.checked, 1);
    assert_int_equal(r.dropped, 0);
    assert_true(mf_store_has(f->store, &named));
}

/* What a writer killed mid-write left in tmp/ goes once nothing has
 * written it for an hour; a file written a moment ago may still have its
 * writer (another process on a shared store) and stays. */
static void test_stale_tmp_swept(void **state)
{
    fixture_t *f = *state;
    char old[700], fresh[700];
    snprintf(old, sizeof old, "%s/store/tmp/blob-killed", f->dir);
    snprintf(fresh, sizeof fresh, "%s/store/tmp/blob-writing", f->dir);
    for (int i = 0; i < 2; i++) {
        FILE *t = fopen(i ? fresh : old, "w");
        assert_non_null(t);
        fputs("half a blob", t);
        fclose(t);
    }
    const time_t two_hours_ago = time(NULL) - 7200;
    const struct timespec when[2] = {{two_hours_ago, 0}, {two_hours_ago, 0}};
    assert_int_equal(utimensat(AT_FDCWD, old, when, 0), 0);
    s_open_close(f->store, "boot-a");
    struct stat st;
    assert_int_equal(stat(old, &st), -1);
    assert_int_equal(stat(fresh, &st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_boot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_checks_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_periodic_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_tmp_swept, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
