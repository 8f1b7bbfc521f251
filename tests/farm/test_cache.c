/* The worker's LRU cache: eviction order, pins, the budget across a
 * restart, one worker per folder, and a disk smaller than the budget. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fake_coord.h"
#include "mf_log.h"
#include "worker_int.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

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

/* On a disk smaller than its budget (a container's few GB against the
 * 4G default): the budget shrinks to three quarters of what is free, so
 * blobs go on being stored; and when another program fills the disk, a
 * task's pin evicts until a twentieth of the disk is free again. Needs a
 * mount namespace of its own (root); skipped without. */
static void test_small_disk(void **state)
{
    (void)state;
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) skip();
    char *dir = test_tmpdir();
    char disk[300], path[400], filler[400];
    snprintf(disk, sizeof disk, "%s/disk", dir);
    assert_int_equal(mkdir(disk, 0755), 0);
    assert_int_equal(mount("tmpfs", disk, "tmpfs", 0, "size=8m"), 0);
    snprintf(path, sizeof path, "%s/cache", disk);
    mf_cache_t *c = mf_cache_open(path, 4LL << 30);
    assert_non_null(c);
    mf_store_t *s = mf_cache_store(c);
    mf_hash_t h[16];
    for (unsigned i = 0; i < 12; i++) { /* 12 MiB through a disk of 8 */
        test_random_blob(s, 1 << 20, i + 1, &h[i]);
        mf_cache_added(c, &h[i]);
    }
    assert_true(mf_cache_bytes(c) <= 6 << 20);
    assert_true(mf_store_has(s, &h[11]));

    /* Another program takes what is free, but 64 KiB. */
    snprintf(filler, sizeof filler, "%s/filler", disk);
    struct statvfs v;
    assert_int_equal(statvfs(disk, &v), 0);
    const long long take = (long long)v.f_bavail * (long long)v.f_frsize - (64 << 10);
    FILE *f = fopen(filler, "wb");
    assert_non_null(f);
    static char zeros[1 << 16];
    for (long long done = 0; done < take; done += (long long)sizeof zeros)
        fwrite(zeros, 1,
               take - done < (long long)sizeof zeros ? (size_t)(take - done) : sizeof zeros, f);
    assert_int_equal(fclose(f), 0);
    mf_cache_pin(c, &h[12]); /* a task is about to fetch it */
    assert_int_equal(statvfs(disk, &v), 0);
    assert_true((long long)v.f_bavail * (long long)v.f_frsize >= (8 << 20) / 20);
    test_random_blob(s, 256 << 10, 99, &h[12]); /* fits the room made */
    mf_cache_added(c, &h[12]);
    mf_cache_unpin(c, &h[12]);
    assert_true(mf_store_has(s, &h[12]));
    mf_cache_free(&c);
    umount2(disk, MNT_DETACH);
    test_rmdir(&dir);
}

int main(void)
{
    mf_log_init("test_cache", MF_LOG_ERROR + 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lru),
        cmocka_unit_test(test_small_disk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
