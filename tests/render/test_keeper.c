/* The keeper (client/mf_keeper.h): outputs taken from an earlier render on
 * a thread of their own. Every queued output comes back once, with its id:
 * copied when the earlier file holds the bytes its manifest lists, refused
 * (left to the fetch) when it does not or no render wrote it; the commit
 * then places exactly the copies. Freed with outputs still queued, it drops
 * them and leaks nothing (the sanitizer build checks). */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "client_internal.h"
#include "mf_fs.h"
#include "mf_hash.h"
#include "mf_keeper.h"
#include "mf_recent.h"

static char s_root[1024], s_old[1100], s_new[1100];

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

/* The earlier render: a.bin and b.bin as its render.json and manifest.json
 * list them (blobs "aa..." and "bb..."); b.bin changed since, at the same
 * size. */
static int setup(void **state)
{
    (void)state;
    snprintf(s_root, sizeof s_root, "%s/mf-keeper-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(s_root)) return -1;
    char cache[1100], path[1200], text[1024];
    snprintf(cache, sizeof cache, "%s/cache", s_root);
    snprintf(s_old, sizeof s_old, "%s/old", s_root);
    snprintf(s_new, sizeof s_new, "%s/new", s_root);
    if (setenv("MIXFARM_CACHE_DIR", cache, 1) != 0 || mkdir(s_old, 0755) != 0) return -1;
    const char *body[2] = {"the first file", "the other file"};
    mf_hash_t sha[2];
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%c.bin", s_old, 'a' + i);
        s_write(path, body[i]);
        mf_hash_bytes(body[i], strlen(body[i]), &sha[i]);
    }
    snprintf(path, sizeof path, "%s/render.json", s_old);
    snprintf(text, sizeof text,
             "{\"outputs\": [{\"path\": \"a.bin\", \"blob\": \"%s\", \"format\": \"raw\", "
             "\"bits\": 0, \"frames\": -1}, {\"path\": \"b.bin\", \"blob\": \"%s\", \"format\": "
             "\"raw\", \"bits\": 0, \"frames\": -1}]}",
             "aa", "bb");
    s_write(path, text);
    snprintf(path, sizeof path, "%s/manifest.json", s_old);
    snprintf(text, sizeof text,
             "{\"files\": [{\"path\": \"a.bin\", \"size\": %zu, \"sha256\": \"%s\", \"format\": "
             "\"raw\"}, {\"path\": \"b.bin\", \"size\": %zu, \"sha256\": \"%s\", \"format\": "
             "\"raw\"}]}",
             strlen(body[0]), sha[0].hex, strlen(body[1]), sha[1].hex);
    s_write(path, text);
    snprintf(path, sizeof path, "%s/b.bin", s_old);
    s_write(path, "the other FILE"); /* edited in place, same size */
    mf_recent_add(s_old);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return mf_fs_remove_tree(s_root);
}

static void s_add(mf_keeper_t *k, size_t id, const char *path, const char *blob)
{
    const mf_prev_how_t how = {blob, "raw", 0, -1};
    assert_int_equal(mf_keeper_add(k, id, path, &how), MF_OK);
}

static void test_each_output_once(void **state)
{
    (void)state;
    mf_prev_t *prev = mf_prev_load(s_new, 1);
    assert_non_null(prev);
    mf_outdir_t *o = mf_outdir_open(s_new);
    assert_non_null(o);
    mf_keeper_t *k = mf_keeper_new(o, prev);
    assert_non_null(k);
    size_t id;
    int kept, seen[3] = {0}, got[3] = {-1, -1, -1};
    assert_int_equal(mf_keeper_done(k, 1, &id, &kept), 0); /* nothing queued: no wait */
    s_add(k, 0, "a.bin", "aa");
    s_add(k, 1, "b.bin", "bb"); /* its bytes are not its manifest's */
    s_add(k, 2, "c.bin", "cc"); /* no render wrote it */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(mf_keeper_done(k, 1, &id, &kept), 1);
        assert_true(id < 3);
        seen[id]++, got[id] = kept;
    }
    assert_int_equal(mf_keeper_done(k, 1, &id, &kept), 0);
    assert_int_equal(mf_keeper_done(k, 0, &id, &kept), 0);
    for (int i = 0; i < 3; i++) assert_int_equal(seen[i], 1);
    assert_int_equal(got[0], MF_KEPT_COPIED);
    assert_int_equal(got[1], 0);
    assert_int_equal(got[2], 0);
    mf_keeper_free(&k);
    assert_null(k);
    assert_int_equal(mf_outdir_commit(o, "keeper"), MF_OK);
    mf_outdir_free(&o);
    mf_prev_free(&prev);
    char path[1200], buf[64] = "";
    snprintf(path, sizeof path, "%s/a.bin", s_new);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "the first file");
    snprintf(path, sizeof path, "%s/b.bin", s_new);
    assert_int_not_equal(access(path, F_OK), 0);
}

static void test_free_drops_queued(void **state)
{
    (void)state;
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/dropped", s_root);
    mf_prev_t *prev = mf_prev_load(dir, 1);
    mf_outdir_t *o = mf_outdir_open(dir);
    assert_non_null(o);
    mf_keeper_t *k = mf_keeper_new(o, prev);
    assert_non_null(k);
    for (size_t i = 0; i < 64; i++) s_add(k, i, i % 2 ? "a.bin" : "c.bin", i % 2 ? "aa" : "cc");
    mf_keeper_free(&k); /* while most are queued */
    mf_keeper_free(&k); /* NULL-safe */
    mf_outdir_free(&o);
    mf_prev_free(&prev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_output_once),
        cmocka_unit_test(test_free_drops_queued),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
