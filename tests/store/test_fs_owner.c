/* Scratch folders owned by a living process (store/fs_owner.c): a sweep
 * keeps the folders whose owner lives and removes those whose owner ended,
 * counting their bytes; a folder not yet marked is kept unless an hour old;
 * other names are never touched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mf_fs.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char s_dir[512];

static void s_mkdir(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", s_dir, name);
    assert_int_equal(mkdir(out, 0755), 0);
}

static void s_file(const char *dir, const char *name, size_t bytes)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    static const char block[4096];
    for (size_t done = 0; done < bytes; done += sizeof block)
        fwrite(block, 1, bytes - done < sizeof block ? bytes - done : sizeof block, f);
    assert_int_equal(fclose(f), 0);
}

static int s_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void test_sweep(void **state)
{
    (void)state;
    char live[700], dead[700], young[700], old[700], other[700];
    s_mkdir(live, sizeof live, "scratch-live");
    s_mkdir(dead, sizeof dead, "scratch-dead");
    s_mkdir(young, sizeof young, "scratch-young");
    s_mkdir(old, sizeof old, "scratch-old");
    s_mkdir(other, sizeof other, "other-dead");
    const int live_fd = mf_fs_own(live), dead_fd = mf_fs_own(dead), other_fd = mf_fs_own(other);
    assert_true(live_fd >= 0 && dead_fd >= 0 && other_fd >= 0);
    assert_int_equal(mf_fs_own(live), -1); /* owned already */
    s_file(dead, "blob", 1 << 20);
    s_file(live, "blob", 4096);
    close(dead_fd), close(other_fd); /* their owners end */
    /* Unmarked: one just made (its maker may be about to mark it), one two
     * hours old. */
    const struct timespec times[2] = {{.tv_sec = time(NULL) - 7200}, {.tv_sec = time(NULL) - 7200}};
    assert_int_equal(utimensat(AT_FDCWD, old, times, 0), 0);

    int64_t bytes = 0;
    assert_int_equal(mf_fs_sweep_stale(s_dir, "scratch-", &bytes), 2);
    assert_true(bytes >= 1 << 20 && bytes < 2 << 20);
    assert_true(s_exists(live));
    assert_false(s_exists(dead));
    assert_true(s_exists(young));
    assert_false(s_exists(old));
    assert_true(s_exists(other)); /* another prefix: not this sweep's */
    assert_int_equal(mf_fs_sweep_stale(s_dir, "scratch-", NULL), 0);

    close(live_fd);
    assert_int_equal(mf_fs_sweep_stale(s_dir, "scratch-", &bytes), 1);
    assert_false(s_exists(live));
}

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(s_dir, sizeof s_dir, "%s/fs-owner-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return mf_fs_remove_tree(s_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sweep)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
