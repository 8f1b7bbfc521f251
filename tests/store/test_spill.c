/* store/mf_spill.h: what goes into a spill comes back, whole and in order,
 * on every read from the start, in any chunking; the file has no name in
 * its folder; a spill in a folder that does not exist is refused. */
#include <dirent.h>
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

#include "mf_spill.h"

#define N 100003 /* samples: not a multiple of any chunk below */

static char s_dir[512];

static int s_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

static void test_read_back_twice(void **state)
{
    (void)state;
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    assert_non_null(x), assert_non_null(y);
    for (size_t i = 0; i < N; i++) x[i] = (float)i * 0.5f - 1000.0f;
    mf_spill_t *s = mf_spill_new(s_dir);
    assert_non_null(s);
    assert_int_equal(s_entries(s_dir), 0); /* nameless */
    for (size_t i = 0; i < N; i += 777)
        assert_int_equal(mf_spill_append(s, x + i, N - i < 777 ? N - i : 777), MF_OK);
    const size_t chunk[2] = {4096, 1000};
    for (int pass = 0; pass < 2; pass++) {
        assert_int_equal(mf_spill_rewind(s), MF_OK);
        size_t have = 0, got;
        do {
            assert_int_equal(
                mf_spill_read(s, y + have, chunk[pass] < N - have ? chunk[pass] : N - have, &got),
                MF_OK);
            have += got;
        } while (got && have < N);
        assert_int_equal(have, N);
        assert_int_equal(mf_spill_read(s, y, 16, &got), MF_OK);
        assert_int_equal(got, 0); /* the end */
        assert_memory_equal(x, y, N * sizeof *x);
    }
    mf_spill_free(&s);
    assert_null(s);
    assert_int_equal(s_entries(s_dir), 0);
    free(x), free(y);
}

static void test_missing_folder(void **state)
{
    (void)state;
    char dir[600];
    snprintf(dir, sizeof dir, "%.500s/not-here", s_dir);
    errno = 0;
    assert_null(mf_spill_new(dir));
    assert_int_equal(errno, ENOENT);
}

static int group_setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(s_dir, sizeof s_dir, "%s/mf-spill-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    return rmdir(s_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_back_twice),
        cmocka_unit_test(test_missing_folder),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
