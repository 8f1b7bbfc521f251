/* coordinator/store_budget.h: the blob store held to a disk budget, and
 * mf_parse_size (store/mf_fs.h), which reads the budget.
 *
 *   counts_what_is_on_disk   a store opened with blobs in it counts them all
 *   trims_least_recent_first past the budget the oldest blobs go first, down
 *                            to 90 % of it; kept and recent blobs stay
 *   max_files_bounds_a_pass  one pass deletes at most max_files
 *   many_blobs_property      thousands of blobs, random uses and keeps: the
 *                            count always equals the files on disk, and
 *                            every blob kept or in grace survives
 *   discard_and_trash        a discarded blob leaves the store at once and
 *                            its bytes with the trash; one written again
 *                            meanwhile survives the emptying
 *   parse_size               the sizes an option takes, and what it refuses */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mf_fs.h"
#include "mf_store.h"
#include "test_store_dir.h"
#include "store_budget.h"

typedef test_store_dir_t fixture_t;

static int setup(void **state)
{
    return test_store_dir_setup(state, "mf-budget", NULL);
}

static int teardown(void **state)
{
    return test_store_dir_teardown(state);
}

/* A blob of n bytes whose content is seeded by i (so each hash differs). */
static mf_hash_t s_blob(mf_store_t *s, int i, size_t n)
{
    unsigned char *b = malloc(n);
    for (size_t k = 0; k < n; k++) b[k] = (unsigned char)(k * 31 + (size_t)i * 7 + (k >> 8));
    memcpy(b, &i, sizeof i < n ? sizeof i : n);
    mf_hash_t h;
    assert_int_equal(mf_store_put_bytes(s, b, n, &h), MF_OK);
    free(b);
    return h;
}

static int s_never(void *ctx, const mf_hash_t *h)
{
    (void)ctx, (void)h;
    return 0;
}

/* Keeps the blobs in ctx (an array of two hashes). */
static int s_keep_listed(void *ctx, const mf_hash_t *h)
{
    const mf_hash_t *keep = ctx;
    return !strcmp(keep[0].hex, h->hex) || !strcmp(keep[1].hex, h->hex);
}

static void counts_what_is_on_disk(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 10; i++) s_blob(f->store, i, 1000 + (size_t)i);
    mf_budget_t *b = mf_budget_new(f->store, 1 << 20, 100.0);
    assert_non_null(b);
    assert_int_equal(mf_budget_blobs(b), 10);
    assert_int_equal(mf_budget_bytes(b), 10 * 1000 + 45);
    assert_int_equal(mf_budget_limit(b), 1 << 20);
    /* Under budget: nothing to do. */
    mf_budget_trim_t t = mf_budget_trim(b, 100.0, 0, s_never, NULL, 100);
    assert_int_equal(t.deleted, 0);
    mf_budget_free(&b);
}

static void trims_least_recent_first(void **state)
{
    fixture_t *f = *state;
    mf_budget_t *b = mf_budget_new(f->store, 10000, 0.0);
    mf_hash_t h[8];
    for (int i = 0; i < 8; i++) {
        h[i] = s_blob(f->store, i, 2000);
        mf_budget_use(b, &h[i], 10.0 + i); /* blob 0 the least recent */
    }
    mf_budget_use(b, &h[1], 50.0); /* now the most recent but for the grace */
    assert_int_equal(mf_budget_bytes(b), 16000);
    /* Keep 0 (the oldest) and 4; blob 7 (used at 17) is within a 4 s grace at 20. */
    mf_hash_t keep[2] = {h[0], h[4]};
    mf_budget_trim_t t = mf_budget_trim(b, 20.0, 4.0, s_keep_listed, keep, 100);
    /* Down to 9000 or less: 2, 3 and 5 (the oldest that may go), then 6,
     * leaving 0, 1, 4 and 7: 8000 bytes. */
    assert_int_equal(t.deleted, 4);
    assert_int_equal(t.freed, 8000);
    assert_int_equal(mf_budget_bytes(b), 8000);
    assert_int_equal(mf_budget_blobs(b), 4);
    const int alive[8] = {1, 1, 0, 0, 1, 0, 0, 1};
    for (int i = 0; i < 8; i++) {
        assert_int_equal(mf_store_has(f->store, &h[i]), alive[i]);
    }
    /* Blob 1 is still counted where it is: a use moves it, nothing new. */
    mf_budget_use(b, &h[1], 60.0);
    assert_int_equal(mf_budget_blobs(b), 4);
    /* A blob that is not in the store is not counted. */
    mf_hash_t gone = h[2];
    mf_budget_use(b, &gone, 61.0);
    assert_int_equal(mf_budget_blobs(b), 4);
    mf_budget_free(&b);
    /* Opened again, the count is what the disk holds. */
    b = mf_budget_new(f->store, 10000, 100.0);
    assert_int_equal(mf_budget_bytes(b), 8000);
    mf_budget_free(&b);
}

static void max_files_bounds_a_pass(void **state)
{
    fixture_t *f = *state;
    mf_budget_t *b = mf_budget_new(f->store, 1000, 0.0);
    for (int i = 0; i < 20; i++) {
        mf_hash_t h = s_blob(f->store, i, 500);
        mf_budget_use(b, &h, (double)i);
    }
    mf_budget_trim_t t = mf_budget_trim(b, 100.0, 0, s_never, NULL, 5);
    assert_int_equal(t.deleted, 5);
    assert_int_equal(mf_budget_bytes(b), 15 * 500);
    t = mf_budget_trim(b, 100.0, 0, s_never, NULL, 100);
    assert_int_equal(t.deleted, 14); /* down to 900: one blob */
    assert_int_equal(mf_budget_blobs(b), 1);
    mf_budget_free(&b);
}

static size_t s_files(const char *dir)
{
    char path[700];
    snprintf(path, sizeof path, "%s/objects", dir);
    DIR *top = opendir(path);
    size_t n = 0;
    for (struct dirent *fan; top && (fan = readdir(top));) {
        if (fan->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/objects/%s", dir, fan->d_name);
        DIR *d = opendir(path);
        for (struct dirent *de; d && (de = readdir(d));)
            if (de->d_name[0] != '.') n++;
        if (d) closedir(d);
    }
    if (top) closedir(top);
    return n;
}

static int s_keep_odd(void *ctx, const mf_hash_t *h)
{
    (void)ctx;
    return (h->hex[63] - '0') & 1; /* a fixed half of the blobs, by their last digit */
}

static void many_blobs_property(void **state)
{
    fixture_t *f = *state;
    enum { N = 3000 };
    mf_hash_t *h = malloc(N * sizeof *h);
    unsigned rng = 12345;
    mf_budget_t *b = mf_budget_new(f->store, 200 * 1000, 0.0);
    double now = 0;
    for (int i = 0; i < N; i++) {
        h[i] = s_blob(f->store, i, 100 + (size_t)(i % 7));
        mf_budget_use(b, &h[i], now += 1.0);
        for (int k = 0; k < 3; k++) { /* uses of earlier blobs, some already gone */
            rng = rng * 1103515245u + 12345u;
            mf_budget_use(b, &h[(rng >> 8) % (unsigned)(i + 1)], now);
        }
        if (i % 100 == 99) {
            mf_budget_trim(b, now, 50.0, s_keep_odd, NULL, 1000);
            assert_int_equal(mf_budget_blobs(b), s_files(f->dir));
        }
    }
    int64_t bytes = 0;
    for (int i = 0; i < N; i++) {
        const int present = mf_store_has(f->store, &h[i]);
        if (present) bytes += mf_store_size(f->store, &h[i]);
        if (s_keep_odd(NULL, &h[i])) assert_true(present);
        if ((double)(i + 1) > now - 50.0) assert_true(present);
    }
    assert_int_equal(mf_budget_bytes(b), bytes);
    mf_budget_free(&b);
    free(h);
}

static void discard_and_trash(void **state)
{
    fixture_t *f = *state;
    mf_hash_t a = s_blob(f->store, 1, 5000), b = s_blob(f->store, 2, 5000);
    assert_int_equal(mf_store_discard(f->store, &a), 0);
    assert_int_equal(mf_store_discard(f->store, &b), 0);
    assert_false(mf_store_has(f->store, &a));
    assert_false(mf_store_has(f->store, &b));
    assert_int_equal(s_files(f->dir), 0);
    mf_hash_t again = s_blob(f->store, 2, 5000); /* b's bytes, uploaded again */
    assert_string_equal(again.hex, b.hex);
    assert_int_equal(mf_store_empty_trash(f->store), 2);
    assert_true(mf_store_has(f->store, &b));
    assert_false(mf_store_has(f->store, &a));
    assert_int_equal(mf_store_empty_trash(f->store), 0);
    assert_int_equal(mf_store_discard(f->store, &a), -1); /* not there */
}

static void parse_size(void **state)
{
    (void)state;
    assert_int_equal(mf_parse_size("4096"), 4096);
    assert_int_equal(mf_parse_size("500M"), 500ll << 20);
    assert_int_equal(mf_parse_size("4G"), 4ll << 30);
    assert_int_equal(mf_parse_size("2t"), 2ll << 40);
    assert_int_equal(mf_parse_size("1.5KiB"), 1536);
    assert_int_equal(mf_parse_size("3GB"), 3ll << 30);
    assert_int_equal(mf_parse_size("0"), -1);
    assert_int_equal(mf_parse_size("-5G"), -1);
    assert_int_equal(mf_parse_size("12x"), -1);
    assert_int_equal(mf_parse_size("G"), -1);
    assert_int_equal(mf_parse_size("5Gb!"), -1);
    assert_int_equal(mf_parse_size("nan"), -1);
    assert_int_equal(mf_parse_size("1e30"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(counts_what_is_on_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(trims_least_recent_first, setup, teardown),
        cmocka_unit_test_setup_teardown(max_files_bounds_a_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(many_blobs_property, setup, teardown),
        cmocka_unit_test_setup_teardown(discard_and_trash, setup, teardown),
        cmocka_unit_test(parse_size),
    };
    return cmocka_run_group_tests_name("store_budget", tests, NULL, NULL);
}
