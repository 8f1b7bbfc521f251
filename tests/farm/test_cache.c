/* The worker's LRU cache: eviction order, pins, the budget across a
 * restart, and one worker per folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fake_coord.h"
#include "mf_log.h"
#include "worker_int.h"

#include <stdio.h>
#include <stdlib.h>

static void test_lru(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    char path[300];
    snprintf(path, sizeof path, "%s/cache", dir);
    mf_cache_t *c = mf_cache_open(path, 3500);
    assert_non_null(c);
    mf_store_t *s = mf_cache_store(c);
    mf_hash_t h[5];
    for (int i = 0; i < 3; i++) {
        test_random_blob(s, 1000, (unsigned)i + 1, &h[i]);
        mf_cache_added(c, &h[i]);
    }
    assert_int_equal(mf_cache_bytes(c), 3000);
    mf_cache_pin(c, &h[0]);   /* in use: never evicted; also the most recent now */
    mf_cache_added(c, &h[1]); /* used: h[2] is now the least recent */
    test_random_blob(s, 1000, 9, &h[3]);
    mf_cache_added(c, &h[3]);
    assert_true(mf_store_has(s, &h[0]));
    assert_true(mf_store_has(s, &h[1]));
    assert_false(mf_store_has(s, &h[2]));
    assert_int_equal(mf_cache_bytes(c), 3000);

    /* Everything else pinned: the cache may run over, then catches up. */
    mf_cache_pin(c, &h[1]);
    mf_cache_pin(c, &h[3]);
    test_random_blob(s, 1000, 10, &h[4]);
    mf_cache_pin(c, &h[4]);
    mf_cache_added(c, &h[4]);
    assert_int_equal(mf_cache_bytes(c), 4000);
    mf_cache_unpin(c, &h[1]);
    assert_false(mf_store_has(s, &h[1]));
    assert_int_equal(mf_cache_bytes(c), 3000);

    /* A second worker on the same folder is turned away. */
    assert_null(mf_cache_open(path, 3500));
    mf_cache_free(&c);

    /* Reopened with a smaller budget, it trims what is there. */
    c = mf_cache_open(path, 2000);
    assert_non_null(c);
    assert_int_equal(mf_cache_bytes(c), 2000);
    mf_cache_free(&c);
    test_rmdir(&dir);
}

int main(void)
{
    mf_log_init("test_cache", MF_LOG_ERROR + 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lru),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
