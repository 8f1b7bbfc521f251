/* The client's list of recent renders (client/mf_recent.h) and the hash
 * cache's part in it (mf_hashcache.h): newest first, each folder once, at
 * most MF_RECENT_MAX; a folder that falls off the list takes its files'
 * hashes along; a file noted too fresh to trust is not recorded. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "mf_fs.h"
#include "mf_hash.h"
#include "mf_hashcache.h"
#include "mf_recent.h"

static char s_root[1024];

static int setup(void **state)
{
    (void)state;
    snprintf(s_root, sizeof s_root, "%s/mf-recent-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(s_root)) return -1;
    char cache[PATH_MAX + 16];
    snprintf(cache, sizeof cache, "%s/cache", s_root);
    return setenv("MIXFARM_CACHE_DIR", cache, 1);
}

static int teardown(void **state)
{
    (void)state;
    return mf_fs_remove_tree(s_root);
}

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

/* A render's folder: out<i>/a.wav, listed by its manifest.json, its stat
 * made 1 s old so that the hash cache takes it. */
static void s_render_dir(int i, char *dir, size_t n, char *file, size_t m)
{
    snprintf(dir, n, "%s/out%d", s_root, i);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(file, m, "%s/a.wav", dir);
    char text[64], manifest[PATH_MAX + 32];
    snprintf(text, sizeof text, "audio %d", i);
    s_write(file, text);
    struct timespec old[2];
    clock_gettime(CLOCK_REALTIME, &old[0]);
    old[0].tv_sec -= 1, old[1] = old[0];
    assert_int_equal(utimensat(AT_FDCWD, file, old, 0), 0);
    snprintf(manifest, sizeof manifest, "%s/manifest.json", dir);
    s_write(manifest, "{\"files\": [{\"path\": \"a.wav\"}]}");
}

static void test_newest_first_bounded(void **state)
{
    (void)state;
    char dir[MF_RECENT_MAX + 2][PATH_MAX], file[MF_RECENT_MAX + 2][PATH_MAX + 16];
    mf_hash_t h[MF_RECENT_MAX + 2], got;
    for (int i = 0; i < MF_RECENT_MAX + 2; i++) {
        s_render_dir(i, dir[i], sizeof dir[i], file[i], sizeof file[i]);
        struct stat st;
        assert_int_equal(stat(file[i], &st), 0);
        mf_hash_bytes(file[i], strlen(file[i]), &h[i]); /* any hash will do */
        mf_hashcache_note(file[i], &st, &h[i]);
        assert_int_equal(mf_hashcache_known(file[i], &got), 1);
        assert_string_equal(got.hex, h[i].hex);
        mf_recent_add(dir[i]);
    }
    mf_recent_add(dir[MF_RECENT_MAX + 1]); /* again: still once */
    mf_recent_add(dir[4]);                 /* back to the front */
    char *list[MF_RECENT_MAX];
    const size_t n = mf_recent_list(list);
    assert_int_equal(n, MF_RECENT_MAX);
    const int want[MF_RECENT_MAX] = {4, 9, 8, 7, 6, 5, 3, 2};
    for (size_t i = 0; i < n; i++) {
        char abs[PATH_MAX];
        assert_non_null(realpath(dir[want[i]], abs));
        assert_string_equal(list[i], abs);
        free(list[i]);
    }
    /* out0 and out1 fell off the end: their files' hashes went with them. */
    for (int i = 0; i < MF_RECENT_MAX + 2; i++)
        assert_int_equal(mf_hashcache_known(file[i], &got), i >= 2);
    /* A file changed since: its hash is not known any more. */
    s_write(file[5], "audio 5!");
    assert_int_equal(mf_hashcache_known(file[5], &got), 0);
}

static void test_fresh_file_not_noted(void **state)
{
    (void)state;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/fresh.wav", s_root);
    s_write(path, "just written");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    mf_hash_t h, got;
    mf_hash_bytes("x", 1, &h);
    /* Written now: a write in the same tick of the clock would keep its
     * time stamp, so the cache does not take it. */
    mf_hashcache_note(path, &st, &h);
    assert_int_equal(mf_hashcache_known(path, &got), 0);
    /* 60 ms later it does (time stamps here are finer than seconds). */
    if (st.st_mtim.tv_nsec == 0) skip();
    nanosleep(&(struct timespec){0, 60000000L}, NULL);
    mf_hashcache_note(path, &st, &h);
    assert_int_equal(mf_hashcache_known(path, &got), 1);
}

/* The cache is bounded: past its size, the least recently written
 * entries go, down to half of it; their files are read again when next
 * met. */
static void test_trimmed(void **state)
{
    (void)state;
    enum { FILES = 40 };
    char file[FILES][PATH_MAX + 32];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    for (int i = 0; i < FILES; i++) {
        snprintf(file[i], sizeof file[i], "%s/src%02d.wav", s_root, i);
        s_write(file[i], "audio");
        struct timespec old[2] = {{now.tv_sec - 10, 0}, {now.tv_sec - 10, 0}};
        assert_int_equal(utimensat(AT_FDCWD, file[i], old, 0), 0);
        struct stat st;
        assert_int_equal(stat(file[i], &st), 0);
        mf_hash_t h, got;
        mf_hash_bytes(file[i], strlen(file[i]), &h);
        mf_hashcache_note(file[i], &st, &h);
        assert_int_equal(mf_hashcache_known(file[i], &got), 1);
        /* Written in the order of i: entry i a second after entry i - 1. */
        char abs[PATH_MAX], entry[PATH_MAX + 200];
        assert_non_null(realpath(file[i], abs));
        mf_hash_bytes(abs, strlen(abs), &h);
        snprintf(entry, sizeof entry, "%s/cache/sources/%s", s_root, h.hex);
        struct timespec t[2] = {{now.tv_sec - FILES + i, 0}, {now.tv_sec - FILES + i, 0}};
        assert_int_equal(utimensat(AT_FDCWD, entry, t, 0), 0);
    }
    assert_int_equal(mf_hashcache_trim(FILES), 0); /* not past it: nothing goes */
    assert_int_equal(mf_hashcache_trim(20), FILES - 10);
    mf_hash_t got;
    for (int i = 0; i < FILES; i++) assert_int_equal(mf_hashcache_known(file[i], &got), i >= 30);
    /* By itself: one record in 256 (an entry named 00...) trims to the
     * limit. A source whose entry is so named is found by trying names. */
    setenv("MIXFARM_HASHCACHE_MAX", "8", 1);
    char path[PATH_MAX + 32], real[PATH_MAX], abs[PATH_MAX + 32];
    assert_non_null(realpath(s_root, real)); /* entries are named by the real path */
    mf_hash_t h;
    for (int k = 0;; k++) {
        assert_true(k < 100000);
        snprintf(path, sizeof path, "%s/trigger%d.wav", s_root, k);
        snprintf(abs, sizeof abs, "%s/trigger%d.wav", real, k);
        mf_hash_bytes(abs, strlen(abs), &h);
        if (!strncmp(h.hex, "00", 2)) break;
    }
    s_write(path, "audio");
    struct timespec old[2] = {{now.tv_sec - 10, 0}, {now.tv_sec - 10, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    mf_hashcache_note(path, &st, &h); /* the 11th entry: down to 4, the newest */
    unsetenv("MIXFARM_HASHCACHE_MAX");
    assert_int_equal(mf_hashcache_known(path, &got), 1);
    int kept = 0;
    for (int i = 0; i < FILES; i++) kept += mf_hashcache_known(file[i], &got);
    assert_int_equal(kept, 3);
    assert_int_equal(mf_hashcache_known(file[FILES - 1], &got), 1);
}

static void test_no_cache_folder(void **state)
{
    (void)state;
    char *saved = strdup(getenv("MIXFARM_CACHE_DIR"));
    unsetenv("MIXFARM_CACHE_DIR");
    setenv("XDG_CACHE_HOME", "", 1);
    char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    unsetenv("HOME");
    mf_recent_add(s_root); /* nowhere to keep it: nothing happens */
    char *list[MF_RECENT_MAX];
    assert_int_equal(mf_recent_list(list), 0);
    if (home) setenv("HOME", home, 1);
    free(home);
    setenv("MIXFARM_CACHE_DIR", saved, 1);
    free(saved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_newest_first_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fresh_file_not_noted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trimmed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_cache_folder, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
