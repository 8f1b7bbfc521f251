/* store/: the content-addressed blob store (hashing, commit, abort, a
 * write around the page cache, files put in, a lasting store) and the
 * action cache. Every test works in its
 * own mkdtemp folder. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
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
#include "mf_hash.h"
#include "mf_pcm.h"
#include "mf_store.h"
#include "test_store_dir.h"

#include "store_case.h"

typedef test_store_dir_t fixture_t;

static int setup(void **state)
{
    return test_store_dir_setup(state, "mf-store", "store");
}

static int teardown(void **state)
{
    return test_store_dir_teardown(state);
}

/* Regular files in a folder and its subfolders. */
static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) != 0) continue;
        if (S_ISDIR(st.st_mode))
            n += count_files(p);
        else
            n++;
    }
    closedir(d);
    return n;
}

static int count_sub(const mf_store_t *s, const char *sub)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", mf_store_dir(s), sub);
    return count_files(p);
}

/* ---- hashing ---------------------------------------------------------------- */

static void test_hash_known_values(void **state)
{
    (void)state;
    mf_hash_t h;
    mf_hash_bytes("", 0, &h);
    assert_string_equal(h.hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    mf_hash_bytes("abc", 3, &h);
    assert_string_equal(h.hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_true(mf_hash_valid(h.hex));
    assert_false(mf_hash_valid("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
    assert_false(mf_hash_valid("ba7816bf"));
    assert_false(
        mf_hash_valid("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0"));
    assert_false(mf_hash_valid("ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    /* Streaming in pieces gives the same digest. */
    mf_hasher_t *hs = mf_hasher_new();
    assert_non_null(hs);
    mf_hasher_update(hs, "a", 1);
    mf_hasher_update(hs, "bc", 2);
    mf_hash_t h2;
    mf_hasher_final(hs, &h2);
    assert_string_equal(h.hex, h2.hex);
    mf_hasher_free(&hs);
    assert_null(hs);
}

/* ---- blobs --------------------------------------------------------------------- */

static void test_blob_commit_is_sha256(void **state)
{
    fixture_t *f = *state;
    size_t n = 300000; /* larger than the writer's buffer */
    unsigned char *data = malloc(n);
    assert_non_null(data);
    fill(data, n, 1);
    mf_blob_writer_t *w = mf_blob_writer_new(f->store);
    assert_non_null(w);
    for (size_t off = 0; off < n; off += 7777) {
        size_t k = n - off < 7777 ? n - off : 7777;
        assert_int_equal(mf_blob_writer_write(w, data + off, k), MF_OK);
    }
    mf_hash_t got, want;
    assert_int_equal(mf_blob_writer_commit(w, &got), MF_OK);
    mf_hash_bytes(data, n, &want);
    assert_string_equal(got.hex, want.hex);
    assert_true(mf_store_has(f->store, &got));
    assert_int_equal(mf_store_size(f->store, &got), (int64_t)n);
    /* The stored file holds exactly the bytes, at objects/ab/<hash>. */
    char *path = mf_store_path(f->store, &got);
    assert_non_null(path);
    char want_tail[128];
    snprintf(want_tail, sizeof want_tail, "/objects/%.2s/%s", got.hex, got.hex);
    assert_non_null(strstr(path, want_tail));
    size_t len;
    unsigned char *back = read_whole(path, &len);
    assert_int_equal(len, n);
    assert_memory_equal(back, data, n);
    mf_hash_t fh;
    assert_int_equal(mf_hash_file(path, &fh), 0);
    assert_string_equal(fh.hex, want.hex);
    free(back);
    free(path);
    free(data);
    assert_int_equal(count_sub(f->store, "tmp"), 0);

    /* An empty blob is a blob too. */
    mf_hash_t empty;
    put_bytes(f->store, NULL, 0, &empty);
    assert_string_equal(empty.hex,
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(mf_store_size(f->store, &empty), 0);
}

/* A named blob written around the page cache: the same bytes under its
 * name, and the store handle knows their SHA-256 (no other blob's). */
static void test_blob_direct_digest(void **state)
{
    fixture_t *f = *state;
    const size_t n = (3u << 20) + 4321; /* past the direct writer's buffers, not a block multiple */
    unsigned char *data = malloc(n);
    assert_non_null(data);
    fill(data, n, 7);
    mf_hash_t name, got, sha, want;
    mf_hash_bytes("a task's output", 15, &name);
    mf_blob_writer_t *w = mf_blob_writer_new_direct(f->store, &name);
    assert_non_null(w);
    for (size_t off = 0; off < n; off += 65536)
        assert_int_equal(mf_blob_writer_write(w, data + off, n - off < 65536 ? n - off : 65536),
                         MF_OK);
    assert_int_equal(mf_blob_writer_commit(w, &got), MF_OK);
    assert_string_equal(got.hex, name.hex);
    char *path = mf_store_path(f->store, &got);
    size_t len;
    unsigned char *back = read_whole(path, &len);
    assert_int_equal(len, n);
    assert_memory_equal(back, data, n);
    mf_hash_bytes(data, n, &want);
    assert_int_equal(mf_store_digest(f->store, &name, &sha), 1);
    assert_string_equal(sha.hex, want.hex);
    /* A blob written the ordinary way: not known. */
    mf_hash_t plain;
    put_bytes(f->store, data, 1000, &plain);
    assert_int_equal(mf_store_digest(f->store, &plain, &sha), 0);
    /* An aborted direct write leaves nothing, and no digest. */
    mf_hash_t other;
    mf_hash_bytes("another", 7, &other);
    w = mf_blob_writer_new_direct(f->store, &other);
    assert_non_null(w);
    assert_int_equal(mf_blob_writer_write(w, data, 5000), MF_OK);
    mf_blob_writer_abort(w);
    assert_false(mf_store_has(f->store, &other));
    assert_int_equal(mf_store_digest(f->store, &other, &sha), 0);
    assert_int_equal(count_sub(f->store, "tmp"), 0);
    free(back);
    free(path);
    free(data);
}

static void test_blob_identical_twice_is_one(void **state)
{
    fixture_t *f = *state;
    unsigned char data[5000];
    fill(data, sizeof data, 2);
    mf_hash_t a, b;
    put_bytes(f->store, data, sizeof data, &a);
    /* A second writer of the same content, open at the same time as a third
     * of different content. */
    mf_blob_writer_t *w1 = mf_blob_writer_new(f->store);
    mf_blob_writer_t *w2 = mf_blob_writer_new(f->store);
    assert_non_null(w1);
    assert_non_null(w2);
    assert_int_equal(mf_blob_writer_write(w1, data, 2500), MF_OK);
    assert_int_equal(mf_blob_writer_write(w2, "other", 5), MF_OK);
    assert_int_equal(mf_blob_writer_write(w1, data + 2500, 2500), MF_OK);
    mf_hash_t c;
    assert_int_equal(mf_blob_writer_commit(w1, &b), MF_OK);
    assert_int_equal(mf_blob_writer_commit(w2, &c), MF_OK);
    assert_string_equal(a.hex, b.hex);
    assert_string_not_equal(a.hex, c.hex);
    assert_int_equal(count_sub(f->store, "objects"), 2);
    assert_int_equal(count_sub(f->store, "tmp"), 0);
    assert_int_equal(mf_store_size(f->store, &a), (int64_t)sizeof data);
}

static void test_blob_abort_leaves_nothing(void **state)
{
    fixture_t *f = *state;
    mf_blob_writer_t *w = mf_blob_writer_new(f->store);
    assert_non_null(w);
    assert_int_equal(count_sub(f->store, "tmp"), 1); /* it does stage there */
    unsigned char data[1000];
    fill(data, sizeof data, 3);
    assert_int_equal(mf_blob_writer_write(w, data, sizeof data), MF_OK);
    mf_blob_writer_abort(w);
    assert_int_equal(count_sub(f->store, "tmp"), 0);
    assert_int_equal(count_sub(f->store, "objects"), 0);
    mf_hash_t h;
    mf_hash_bytes(data, sizeof data, &h);
    assert_false(mf_store_has(f->store, &h));
    assert_int_equal(mf_store_size(f->store, &h), -1);
    mf_blob_writer_abort(NULL); /* harmless */

    /* A signal writer aborted leaves nothing either. */
    mf_pcm_writer_t *pw = mf_pcm_writer_new(f->store, 2, 48000, 0);
    assert_non_null(pw);
    float buf[64] = {0.5f};
    assert_int_equal(mf_pcm_writer_write(pw, buf, 32), MF_OK);
    mf_pcm_writer_abort(pw);
    assert_int_equal(count_sub(f->store, "tmp"), 0);
    assert_int_equal(count_sub(f->store, "objects"), 0);
}

/* A file of n bytes (fill's pattern for seed) in the fixture's folder. */
static void s_source_file(const fixture_t *f, const char *name, unsigned char *data, size_t n,
                          int seed, char path[700])
{
    fill(data, n, seed);
    snprintf(path, 700, "%s/%s", f->dir, name);
    write_whole(path, data, n);
}

/* The file at path holds exactly data. */
static void s_assert_bytes(const char *path, const unsigned char *data, size_t len)
{
    size_t n;
    unsigned char *back = read_whole(path, &n);
    assert_int_equal(n, len);
    assert_memory_equal(back, data, n);
    free(back);
}

static void test_put_file(void **state)
{
    fixture_t *f = *state;
    unsigned char data[70000];
    char path[700];
    s_source_file(f, "source.bin", data, sizeof data, 4, path);
    mf_hash_t h, want;
    assert_int_equal(mf_store_put_file(f->store, path, &h), MF_OK);
    mf_hash_bytes(data, sizeof data, &want);
    assert_string_equal(h.hex, want.hex);
    assert_true(mf_store_has(f->store, &h));
    char *bp = mf_store_path(f->store, &h);
    s_assert_bytes(bp, data, sizeof data);
    free(bp);
    /* Again: same blob, nothing new. */
    mf_hash_t h2;
    assert_int_equal(mf_store_put_file(f->store, path, &h2), MF_OK);
    assert_string_equal(h2.hex, h.hex);
    assert_int_equal(count_sub(f->store, "objects"), 1);
    /* The same content through a writer: still one blob. */
    mf_hash_t h3;
    put_bytes(f->store, data, sizeof data, &h3);
    assert_string_equal(h3.hex, h.hex);
    assert_int_equal(count_sub(f->store, "objects"), 1);
    /* A file that is not there. */
    char missing[700];
    snprintf(missing, sizeof missing, "%s/nope.bin", f->dir);
    assert_int_equal(mf_store_put_file(f->store, missing, &h2), MF_ERR_NOENT);
    assert_int_equal(count_sub(f->store, "tmp"), 0);
}

/* A file on another file system (a session on a data disk, the store
 * under TMPDIR on tmpfs) goes in as a symbolic link, not a copy: the blob
 * reads as the file, the store's removal leaves the file, and a lasting
 * store still copies. Skipped when no other file system is writable here
 * (/dev/shm is tmpfs on Linux). */
static void test_put_file_elsewhere(void **state)
{
    fixture_t *f = *state;
    struct stat here, there;
    char other[64] = "/dev/shm/mf-store-XXXXXX";
    if (stat(f->dir, &here) != 0 || stat("/dev/shm", &there) != 0 || here.st_dev == there.st_dev ||
        !mkdtemp(other))
        skip();
    unsigned char data[70000];
    char path[128];
    fill(data, sizeof data, 9);
    snprintf(path, sizeof path, "%s/take.wav", other);
    write_whole(path, data, sizeof data);
    mf_hash_t h, want;
    mf_hash_bytes(data, sizeof data, &want);
    assert_int_equal(mf_store_put_file(f->store, path, &h), MF_OK);
    assert_string_equal(h.hex, want.hex);
    char *bp = mf_store_path(f->store, &h);
    struct stat st;
    assert_int_equal(lstat(bp, &st), 0);
    assert_true(S_ISLNK(st.st_mode)); /* not a copy */
    assert_true(mf_store_has(f->store, &h));
    assert_int_equal(mf_store_size(f->store, &h), (int64_t)sizeof data);
    s_assert_bytes(bp, data, sizeof data);
    free(bp);
    /* Removing the store removes the link, not the file. */
    char sdir[600];
    snprintf(sdir, sizeof sdir, "%s", mf_store_dir(f->store));
    mf_store_free(&f->store);
    assert_int_equal(mf_fs_remove_tree(sdir), 0);
    assert_int_equal(stat(path, &st), 0);
    /* A lasting store copies. */
    f->store = mf_store_open(sdir);
    assert_non_null(f->store);
    mf_store_mark_lasting(f->store);
    assert_int_equal(mf_store_put_file(f->store, path, &h), MF_OK);
    bp = mf_store_path(f->store, &h);
    assert_int_equal(lstat(bp, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    free(bp);
    unlink(path);
    rmdir(other);
}

/* A source reached through a relative symbolic link (a session's file
 * pointing at ../takes/kick.wav) is linked into the store as the file it
 * names: a link of the symbolic link would point nowhere from there. */
static void test_put_file_relative_symlink(void **state)
{
    fixture_t *f = *state;
    unsigned char data[70000];
    char path[700], dir[700], link_path[750];
    snprintf(dir, sizeof dir, "%s/session", f->dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    s_source_file(f, "take.wav", data, sizeof data, 11, path);
    snprintf(link_path, sizeof link_path, "%s/kick.wav", dir);
    assert_int_equal(symlink("../take.wav", link_path), 0);
    mf_hash_t h, want;
    mf_hash_bytes(data, sizeof data, &want);
    assert_int_equal(mf_store_put_file(f->store, link_path, &h), MF_OK);
    assert_string_equal(h.hex, want.hex);
    assert_true(mf_store_has(f->store, &h));
    assert_int_equal(mf_store_size(f->store, &h), (int64_t)sizeof data);
    char *bp = mf_store_path(f->store, &h);
    s_assert_bytes(bp, data, sizeof data);
    free(bp);
    unlink(link_path);
    rmdir(dir);
}

/* A lasting store (render --state) copies files in, never links them; a
 * copy whose bytes are not the hash it was given is refused; clear_tmp
 * removes what a killed writer left. */
static void test_lasting_store(void **state)
{
    fixture_t *f = *state;
    unsigned char data[70000];
    char path[700];
    s_source_file(f, "take.wav", data, sizeof data, 7, path);
    mf_store_mark_lasting(f->store);
    assert_true(mf_store_lasting(f->store));
    mf_hash_t h;
    assert_int_equal(mf_store_put_file(f->store, path, &h), MF_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_nlink, 1); /* copied */
    /* A copy against a known hash, and one whose file changed since. */
    fill(data, sizeof data, 8);
    write_whole(path, data, sizeof data);
    mf_hash_t want;
    mf_hash_bytes(data, sizeof data, &want);
    assert_int_equal(mf_store_copy_file(f->store, path, &want), MF_OK);
    assert_true(mf_store_has(f->store, &want));
    mf_hash_t stale = want;
    stale.hex[0] = stale.hex[0] == 'a' ? 'b' : 'a';
    assert_int_equal(mf_store_copy_file(f->store, path, &stale), MF_ERR_IO);
    assert_false(mf_store_has(f->store, &stale));
    assert_int_equal(count_sub(f->store, "objects"), 2);
    /* Half-written files of a writer that died. */
    char tmp[800];
    snprintf(tmp, sizeof tmp, "%s/store/tmp/blob-dead", f->dir);
    write_whole(tmp, data, 10);
    assert_int_equal(mf_store_clear_tmp(f->store), 1);
    assert_int_equal(count_sub(f->store, "tmp"), 0);
}

/* ---- the action cache -------------------------------------------------------- */

static void test_action_cache(void **state)
{
    fixture_t *f = *state;
    mf_hash_t outs[3], key, other, got[8];
    put_bytes(f->store, "one", 3, &outs[0]);
    put_bytes(f->store, "two", 3, &outs[1]);
    put_bytes(f->store, "three", 5, &outs[2]);
    mf_hash_bytes("task key", 8, &key);
    mf_hash_bytes("another key", 11, &other);

    assert_int_equal(mf_store_action_get(f->store, &key, got, 8), -1); /* a miss */
    assert_int_equal(mf_store_action_put(f->store, &key, outs, 3), MF_OK);
    assert_int_equal(mf_store_action_get(f->store, &key, got, 8), 3);
    for (int i = 0; i < 3; i++) assert_string_equal(got[i].hex, outs[i].hex);
    assert_int_equal(mf_store_action_get(f->store, &other, got, 8), -1);
    /* max bounds what is returned. */
    assert_int_equal(mf_store_action_get(f->store, &key, got, 2), 2);
    assert_string_equal(got[1].hex, outs[1].hex);
    /* Overwriting replaces. */
    mf_hash_t two[2] = {outs[2], outs[0]};
    assert_int_equal(mf_store_action_put(f->store, &key, two, 2), MF_OK);
    assert_int_equal(mf_store_action_get(f->store, &key, got, 8), 2);
    assert_string_equal(got[0].hex, outs[2].hex);
    assert_string_equal(got[1].hex, outs[0].hex);
    assert_int_equal(count_sub(f->store, "tmp"), 0);

    /* A result whose blob is gone is a miss: it must be recomputed. */
    char *p = mf_store_path(f->store, &outs[0]);
    assert_int_equal(unlink(p), 0);
    free(p);
    assert_int_equal(mf_store_action_get(f->store, &key, got, 8), -1);
    /* A garbled action record is a miss, not a wrong answer. */
    assert_int_equal(mf_store_action_put(f->store, &other, &outs[1], 1), MF_OK);
    char ap[1024];
    snprintf(ap, sizeof ap, "%s/actions/%.2s/%s", mf_store_dir(f->store), other.hex, other.hex);
    write_whole(ap, "not a hash\n", 11);
    assert_int_equal(mf_store_action_get(f->store, &other, got, 8), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_known_values),
        cmocka_unit_test_setup_teardown(test_blob_commit_is_sha256, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blob_direct_digest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blob_identical_twice_is_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blob_abort_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_file_elsewhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_file_relative_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lasting_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_action_cache, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
