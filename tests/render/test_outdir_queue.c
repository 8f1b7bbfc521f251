/* OUTDIR's worker threads (client/outdir_queue.h): jobs done in order with
 * their results, the last add of a path deciding, failures reported but a
 * file gone by then not, a stop leaving the rest undone; and through
 * mf_outdir, a file staged twice whose manifest entry and bytes are the
 * second's while the hashing thread saw the first. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "mf_fs.h"
#include "mf_hash.h"
#include "mf_outdir.h"
#include "mf_store.h"
#include "outdir_queue.h"

static char s_dir[256];

static int s_setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(s_dir, sizeof s_dir, "%s/mf-outdir-queue-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    mf_fs_remove_tree(s_dir);
    return 0;
}

static void s_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", s_dir, name);
}

static void s_write(const char *path, const char *text)
{
    assert_int_equal(mf_fs_write_atomic(path, text, strlen(text)), MF_OK);
}

static mf_hash_t s_sha(const void *data, size_t n)
{
    mf_hash_t h;
    mf_hash_bytes(data, n, &h);
    return h;
}

static void test_jobs_in_order_with_results(void **state)
{
    (void)state;
    const char *texts[] = {"one", "two", "three"};
    char paths[3][300];
    outdir_queue_t *q = mf_outdir__queue_new(mf_hash_file);
    assert_non_null(q);
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", i);
        s_path(paths[i], sizeof paths[i], name);
        s_write(paths[i], texts[i]);
        mf_outdir__queue_add(q, paths[i]);
    }
    const char *failed = NULL;
    assert_int_equal(mf_outdir__queue_wait(q, &failed), 0);
    for (int i = 0; i < 3; i++) {
        mf_hash_t got, want = s_sha(texts[i], strlen(texts[i]));
        assert_true(mf_outdir__queue_done(q, paths[i], &got));
        assert_string_equal(got.hex, want.hex);
    }
    char other[300];
    s_path(other, sizeof other, "never-added");
    assert_false(mf_outdir__queue_done(q, other, NULL));
    mf_outdir__queue_free(&q);
    assert_null(q);
}

/* Staged again, a file is added again: the second job's result counts,
 * and a path gone by its job (ENOENT) is not done but is no failure. */
static void test_last_add_decides(void **state)
{
    (void)state;
    char p[300], gone[300];
    s_path(p, sizeof p, "again");
    s_path(gone, sizeof gone, "gone");
    outdir_queue_t *q = mf_outdir__queue_new(mf_hash_file);
    s_write(p, "first");
    mf_outdir__queue_add(q, p);
    const char *failed = NULL;
    assert_int_equal(mf_outdir__queue_wait(q, &failed), 0);
    s_write(p, "second");
    mf_outdir__queue_add(q, p);
    mf_outdir__queue_add(q, gone);
    assert_int_equal(mf_outdir__queue_wait(q, &failed), 0);
    mf_hash_t got, want = s_sha("second", 6);
    assert_true(mf_outdir__queue_done(q, p, &got));
    assert_string_equal(got.hex, want.hex);
    assert_false(mf_outdir__queue_done(q, gone, NULL));
    /* Added once more and not done yet: the earlier result no longer holds. */
    mf_outdir__queue_stop(q);
    mf_outdir__queue_add(q, p);
    assert_false(mf_outdir__queue_done(q, p, NULL));
    mf_outdir__queue_free(&q);
}

static int s_fail_eio(const char *path, mf_hash_t *out)
{
    (void)out;
    if (strstr(path, "bad")) {
        errno = EIO;
        return -1;
    }
    return 0;
}

static void test_failure_reported(void **state)
{
    (void)state;
    outdir_queue_t *q = mf_outdir__queue_new(s_fail_eio);
    mf_outdir__queue_add(q, "/x/good");
    mf_outdir__queue_add(q, "/x/bad");
    mf_outdir__queue_add(q, "/x/bad2");
    const char *failed = NULL;
    errno = 0;
    assert_int_equal(mf_outdir__queue_wait(q, &failed), -1);
    assert_int_equal(errno, EIO);
    assert_string_equal(failed, "/x/bad"); /* the first */
    assert_true(mf_outdir__queue_done(q, "/x/good", NULL));
    assert_false(mf_outdir__queue_done(q, "/x/bad", NULL));
    mf_outdir__queue_free(&q);
}

static int s_slow(const char *path, mf_hash_t *out)
{
    (void)path, (void)out;
    usleep(20 * 1000);
    return 0;
}

/* A stop waits for the job under way, not for the rest. */
static void test_stop_leaves_the_rest(void **state)
{
    (void)state;
    outdir_queue_t *q = mf_outdir__queue_new(s_slow);
    char names[20][16];
    for (int i = 0; i < 20; i++) {
        snprintf(names[i], sizeof names[i], "/p%d", i);
        mf_outdir__queue_add(q, names[i]);
    }
    usleep(30 * 1000);
    mf_outdir__queue_stop(q);
    int done = 0;
    for (int i = 0; i < 20; i++) done += mf_outdir__queue_done(q, names[i], NULL);
    assert_true(done >= 1 && done < 20);
    assert_false(mf_outdir__queue_done(q, names[19], NULL));
    const char *failed = NULL;
    assert_int_equal(mf_outdir__queue_wait(q, &failed), 0); /* returns: nothing runs */
    mf_outdir__queue_free(&q);
}

/* Through mf_outdir: x.bin staged from blob a (linked in from a temporary
 * store), then staged again from blob b. The file is b's, its manifest
 * entry has b's hash, and the store's blob a is untouched. */
static void test_staged_again(void **state)
{
    (void)state;
    char sd[300], out[300];
    s_path(sd, sizeof sd, "store");
    s_path(out, sizeof out, "out");
    mf_store_t *st = mf_store_open(sd);
    assert_non_null(st);
    mf_hash_t a, b;
    static char big_a[1 << 20], big_b[1 << 20];
    memset(big_a, 'a', sizeof big_a), memset(big_b, 'b', sizeof big_b);
    assert_int_equal(mf_store_put_bytes(st, big_a, sizeof big_a, &a), MF_OK);
    assert_int_equal(mf_store_put_bytes(st, big_b, sizeof big_b, &b), MF_OK);
    for (int wait_us = 0; wait_us <= 100000; wait_us += 100000) {
        mf_fs_remove_tree(out);
        mf_outdir_t *o = mf_outdir_open(out);
        assert_non_null(o);
        assert_int_equal(mf_outdir_write_raw(o, "x.bin", st, &a, "bin"), MF_OK);
        usleep((useconds_t)wait_us); /* the thread hashes a's file, or not yet */
        assert_int_equal(mf_outdir_write_raw(o, "x.bin", st, &b, "bin"), MF_OK);
        assert_int_equal(mf_outdir_commit(o, "t"), MF_OK);
        mf_outdir_free(&o);
        char mp[400], xp[400];
        snprintf(mp, sizeof mp, "%s/manifest.json", out);
        snprintf(xp, sizeof xp, "%s/x.bin", out);
        json_t *m = json_load_file(mp, 0, NULL);
        assert_non_null(m);
        json_t *e = json_array_get(json_object_get(m, "files"), 0);
        assert_string_equal(json_string_value(json_object_get(e, "path")), "x.bin");
        assert_string_equal(json_string_value(json_object_get(e, "sha256")), b.hex);
        json_decref(m);
        mf_hash_t got;
        assert_int_equal(mf_hash_file(xp, &got), 0);
        assert_string_equal(got.hex, b.hex);
        char *ap = mf_store_path(st, &a);
        assert_int_equal(mf_hash_file(ap, &got), 0);
        assert_string_equal(got.hex, a.hex);
        free(ap);
    }
    mf_store_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_jobs_in_order_with_results, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_last_add_decides, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_failure_reported, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_stop_leaves_the_rest, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_staged_again, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
