/* store/ and proto/mf_task.h: the content-addressed blob store, the action
 * cache, signal blobs (write, read spans, corruption) and the task's key and
 * wire form. Every test works in its own mkdtemp folder. */
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
#include "mf_writes.h"
#include "mf_task.h"
#include "mixfarm.pb-c.h"

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

static void *read_whole(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return buf;
}

static void write_whole(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Deterministic bytes. */
static void fill(unsigned char *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (unsigned char)(seed >> 24);
    }
}

static void put_bytes(mf_store_t *s, const void *data, size_t n, mf_hash_t *out)
{
    mf_blob_writer_t *w = mf_blob_writer_new(s);
    assert_non_null(w);
    if (n) assert_int_equal(mf_blob_writer_write(w, data, n), MF_OK);
    assert_int_equal(mf_blob_writer_commit(w, out), MF_OK);
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

/* ---- signal blobs ---------------------------------------------------------------- */

/* A stereo signal with a recognisable value per sample: frame i, channel c
 * holds i + 0.25 + 0.5c (exact in float for i < 2^22). */
static float sample_at(int64_t i, int c)
{
    return (float)i + 0.25f + 0.5f * (float)c;
}

static void write_signal(mf_store_t *s, int ch, int64_t start, int64_t frames, mf_hash_t *h)
{
    mf_pcm_writer_t *w = mf_pcm_writer_new(s, ch, 48000, start);
    assert_non_null(w);
    float buf[2 * 333];
    for (int64_t i = 0; i < frames;) {
        size_t k = (size_t)(frames - i < 333 ? frames - i : 333);
        for (size_t j = 0; j < k; j++)
            for (int c = 0; c < ch; c++)
                buf[j * (size_t)ch + (size_t)c] = sample_at(i + (int64_t)j, c);
        assert_int_equal(mf_pcm_writer_write(w, buf, k), MF_OK);
        i += (int64_t)k;
    }
    assert_int_equal(mf_pcm_writer_commit(w, h), MF_OK);
}

/* Checks out[0..n) for timeline frames [t, t+n) of a signal at start. */
static void check_span(const float *out, int ch, int64_t start, int64_t frames, int64_t t, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        int64_t rel = t + (int64_t)j - start;
        for (int c = 0; c < ch; c++) {
            float want = rel >= 0 && rel < frames ? sample_at(rel, c) : 0.0f;
            float got = out[j * (size_t)ch + (size_t)c];
            if (got != want)
                fail_msg("frame %lld ch %d: got %g, want %g", (long long)(t + (int64_t)j), c,
                         (double)got, (double)want);
        }
    }
}

/* Named writes a store publishes (mf_writes.h): only expected names, the
 * bytes in whole steps while it grows (and readable through the given
 * descriptor), the size once committed, a failure on abort; nothing for a
 * name nobody expects. */
static void test_writes_published(void **state)
{
    fixture_t *f = *state;
    mf_writes_t *ws = mf_store_watch_writes(f->store);
    assert_non_null(ws);
    mf_hash_t a, b, c, out;
    mf_hash_bytes("a", 1, &a), mf_hash_bytes("b", 1, &b), mf_hash_bytes("c", 1, &c);
    int64_t n = -1;
    int fd = -1;
    mf_writes_expect(ws, &a);
    mf_writes_expect(ws, &c);
    assert_int_equal(mf_writes_state(ws, &a, &n, NULL), MF_WRITE_NONE); /* not begun */
    mf_blob_writer_t *wa = mf_blob_writer_new_named(f->store, &a);
    mf_blob_writer_t *wb = mf_blob_writer_new_named(f->store, &b);
    static uint8_t block[MF_WRITES_STEP / 4 + 1];
    memset(block, 7, sizeof block);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(mf_blob_writer_write(wa, block, sizeof block), MF_OK);
        assert_int_equal(mf_blob_writer_write(wb, block, sizeof block), MF_OK);
    }
    assert_int_equal(mf_writes_state(ws, &a, &n, &fd), MF_WRITE_OPEN);
    assert_int_equal(n, 4 * (int64_t)sizeof block); /* past one step: flushed */
    assert_true(fd >= 0);
    uint8_t back[16];
    assert_int_equal(pread(fd, back, sizeof back, (off_t)n - 16), 16);
    assert_int_equal(back[15], 7);
    assert_int_equal(mf_writes_state(ws, &b, &n, NULL), MF_WRITE_NONE); /* not expected */
    assert_int_equal(mf_blob_writer_commit(wa, &out), MF_OK);
    assert_int_equal(mf_writes_state(ws, &a, &n, NULL), MF_WRITE_DONE);
    assert_int_equal(n, 4 * (int64_t)sizeof block);
    /* The descriptor still reads the file once it is renamed into place. */
    assert_int_equal(pread(fd, back, 1, 0), 1);
    close(fd);
    assert_int_equal(mf_blob_writer_commit(wb, &out), MF_OK);
    mf_blob_writer_t *wc = mf_blob_writer_new_named(f->store, &c);
    assert_int_equal(mf_writes_state(ws, &c, &n, NULL), MF_WRITE_OPEN);
    mf_blob_writer_abort(wc);
    assert_int_equal(mf_writes_state(ws, &c, &n, NULL), MF_WRITE_FAILED);
    mf_writes_forget(ws, &a);
    mf_writes_forget(ws, &c);
    assert_int_equal(mf_writes_state(ws, &a, &n, NULL), MF_WRITE_NONE);
}

/* Reads r (a signal of frames frames of sample_at(i, c) * scale from start,
 * one channel stored when mono) and checks every frame is the stereo
 * products of its gains, bit for bit, across 1024-frame chunk boundaries,
 * skips and silence. Frees r. */
static void check_products(mf_pcm_reader_t *r, float g[2][MF_PCM_GAINS], int64_t start,
                           int64_t frames, int mono, float scale)
{
    float *out = malloc(sizeof(float) * 2 * 3000);
    assert_non_null(out);
    /* Silence before the start, then a span over two 1024-frame chunks, a
     * skip forward, and a span running past the end. */
    const int64_t spans[][2] = {{0, 500}, {600, 2500}, {4000, 1000}, {5200, 3000}};
    for (size_t s = 0; s < 4; s++) {
        const int64_t t = spans[s][0];
        const size_t n = (size_t)spans[s][1];
        assert_int_equal(mf_pcm_reader_read_span(r, t, n, out), MF_OK);
        for (size_t j = 0; j < n; j++) {
            const int64_t rel = t + (int64_t)j - start;
            for (int c = 0; c < 2; c++) {
                const float x =
                    rel >= 0 && rel < frames ? sample_at(rel, mono ? 0 : c) * scale : 0.0f;
                const float want = ((x * g[c][0]) * g[c][1]) * g[c][2];
                if (out[2 * j + (size_t)c] != want)
                    fail_msg("frame %lld ch %d: got %a, want %a", (long long)(t + (int64_t)j), c,
                             (double)out[2 * j + (size_t)c], (double)want);
            }
        }
    }
    free(out);
    mf_pcm_reader_free(&r);
}

/* A panned signal reads as the stereo products, in the writer's order of
 * multiplication, bit for bit, across chunk boundaries, skips and silence;
 * and costs one channel of bytes plus its gains. */
static void test_pcm_panned(void **state)
{
    fixture_t *f = *state;
    const int64_t start = 700, frames = 5000;
    float g[2][MF_PCM_GAINS] = {{0.70710677f, 0.56234133f, 1.0f}, {0.3f, 0.56234133f, 0.1f}};
    mf_hash_t name, h;
    mf_hash_bytes("panned", 6, &name);
    mf_pcm_writer_t *w = mf_pcm_writer_new_panned(f->store, &name, g, 48000, start);
    assert_non_null(w);
    float mono[333];
    for (int64_t i = 0; i < frames;) {
        size_t k = (size_t)(frames - i < 333 ? frames - i : 333);
        for (size_t j = 0; j < k; j++) mono[j] = sample_at(i + (int64_t)j, 0) * 1e-3f;
        assert_int_equal(mf_pcm_writer_write(w, mono, k), MF_OK);
        i += (int64_t)k;
    }
    assert_int_equal(mf_pcm_writer_commit(w, &h), MF_OK);
    assert_string_equal(h.hex, name.hex); /* named, not hashed */
    assert_int_equal(mf_store_size(f->store, &h), frames * 4 + 24 + 32);
    mf_pcm_reader_t *r;
    assert_int_equal(mf_pcm_reader_open(f->store, &h, &r), MF_OK);
    assert_int_equal(mf_pcm_reader_info(r)->channels, 2);
    assert_int_equal(mf_pcm_reader_info(r)->frames, frames);
    check_products(r, g, start, frames, 1, 1e-3f);
}

/* A plain mono or stereo signal viewed through gains (how a bus reads an
 * unpanned strip) reads as the panned signal of the same gains would. */
static void test_pcm_view(void **state)
{
    fixture_t *f = *state;
    const int64_t start = 700, frames = 5000;
    float g[2][MF_PCM_GAINS] = {{0.70710677f, 0.56234133f, 1.0f}, {0.3f, 0.56234133f, 0.1f}};
    for (int ch = 1; ch <= 2; ch++) {
        mf_hash_t h;
        write_signal(f->store, ch, start, frames, &h);
        mf_pcm_reader_t *r;
        assert_int_equal(mf_pcm_reader_open(f->store, &h, &r), MF_OK);
        assert_int_equal(mf_pcm_reader_info(r)->channels, ch);
        assert_int_equal(mf_pcm_reader_view(r, g), MF_OK);
        assert_int_equal(mf_pcm_reader_info(r)->channels, 2);
        assert_int_equal(mf_pcm_reader_view(r, g), MF_ERR_INVALID); /* once */
        check_products(r, g, start, frames, ch == 1, 1.0f);
    }
}

/* add_span gives read_span's frames added, for a mono, a stereo, a viewed
 * and a panned blob; spans that start before the signal, cross its end and
 * lie past it; the sum a bus keeps, bit for bit. Twice: short spans of a
 * short signal, and spans longer than the reader's 128 KB window over a
 * signal several windows long. */
static void s_add_span_case(fixture_t *f, int64_t frames, size_t span, const char *panned_name)
{
    const int64_t start = 700;
    float g[2][MF_PCM_GAINS] = {{0.70710677f, 0.56234133f, 1.0f}, {0.3f, 0.56234133f, 0.1f}};
    mf_hash_t blobs[3], name;
    write_signal(f->store, 1, start, frames, &blobs[0]);
    write_signal(f->store, 2, start, frames, &blobs[1]);
    mf_hash_bytes(panned_name, strlen(panned_name), &name);
    mf_pcm_writer_t *w = mf_pcm_writer_new_panned(f->store, &name, g, 48000, start);
    const size_t cap = 2 * span;
    float *mono = malloc(sizeof(float) * (size_t)frames), *tmp = malloc(sizeof(float) * cap);
    float *a1 = malloc(sizeof(float) * cap), *a2 = malloc(sizeof(float) * cap);
    assert_true(mono && tmp && a1 && a2);
    for (int64_t i = 0; i < frames; i++) mono[i] = sample_at(i, 0) * 1e-3f;
    assert_int_equal(mf_pcm_writer_write(w, mono, (size_t)frames), MF_OK);
    assert_int_equal(mf_pcm_writer_commit(w, &blobs[2]), MF_OK);
    for (int kind = 0; kind < 5; kind++) { /* mono, stereo, stereo view, mono view, panned */
        const mf_hash_t *h = &blobs[kind == 4 ? 2 : kind == 1 || kind == 2 ? 1 : 0];
        mf_pcm_reader_t *r1, *r2;
        assert_int_equal(mf_pcm_reader_open(f->store, h, &r1), MF_OK);
        assert_int_equal(mf_pcm_reader_open(f->store, h, &r2), MF_OK);
        if (kind == 2 || kind == 3) {
            assert_int_equal(mf_pcm_reader_view(r1, g), MF_OK);
            assert_int_equal(mf_pcm_reader_view(r2, g), MF_OK);
        }
        const size_t ch = (size_t)mf_pcm_reader_info(r1)->channels;
        for (int64_t t = 0; t < start + frames + 2 * (int64_t)span; t += (int64_t)span) {
            for (size_t i = 0; i < cap; i++) a1[i] = a2[i] = 0.25f + (float)(i % 1000) * 1e-4f;
            assert_int_equal(mf_pcm_reader_read_span(r1, t, span, tmp), MF_OK);
            for (size_t i = 0; i < span * ch; i++) a1[i] += tmp[i];
            assert_int_equal(mf_pcm_reader_add_span(r2, t, span, a2), MF_OK);
            if (memcmp(a1, a2, span * ch * sizeof *a1))
                fail_msg("kind %d, span at %lld: add_span differs from read_span + add", kind,
                         (long long)t);
            if (kind == 1 || kind == 0) /* a plain read against the samples themselves */
                check_span(tmp, (int)ch, start, frames, t, span);
        }
        mf_pcm_reader_free(&r1);
        mf_pcm_reader_free(&r2);
    }
    free(mono), free(tmp), free(a1), free(a2);
}

static void test_pcm_add_span(void **state)
{
    s_add_span_case(*state, 5000, 1021, "add-panned");
    s_add_span_case(*state, 100000, 40009, "add-panned-long"); /* 160-320 KB spans */
}

/* A blob cut short under an open reader is an I/O error of the read, not
 * a signal that kills the process (as a mapping's would). */
static void test_pcm_truncated_under_reader(void **state)
{
    fixture_t *f = *state;
    mf_hash_t h;
    write_signal(f->store, 2, 0, 50000, &h);
    mf_pcm_reader_t *r1, *r2;
    assert_int_equal(mf_pcm_reader_open(f->store, &h, &r1), MF_OK);
    assert_int_equal(mf_pcm_reader_open(f->store, &h, &r2), MF_OK);
    assert_int_equal(mf_pcm_reader_view(r2, (float[2][MF_PCM_GAINS]){{1, 1, 1}, {1, 1, 1}}), MF_OK);
    char *path = mf_store_path(f->store, &h);
    assert_int_equal(truncate(path, 1000), 0);
    free(path);
    static float out[2 * 50000];
    assert_int_equal(mf_pcm_reader_read_span(r1, 0, 50000, out), MF_ERR_IO);
    assert_int_equal(mf_pcm_reader_read_span(r2, 0, 50000, out), MF_ERR_IO);
    mf_pcm_reader_free(&r1);
    mf_pcm_reader_free(&r2);
}

/* mf_pcm_reader_span gives read_span's frames: from the reader's window
 * when the span lies inside a signal read as stored and fits the 128 KB
 * window, from buf otherwise (across its ends, through a view, longer
 * than the window). Short spans of a short signal, then 20,011-frame
 * stereo spans (156 KB) of a longer one, and 3,001-frame spans of it that
 * straddle the windows' ends. */
static void s_span_case(fixture_t *f, int64_t frames, size_t span, int want_windowed)
{
    const int64_t start = 700;
    float g[2][MF_PCM_GAINS] = {{0.5f, 1.0f, 1.0f}, {0.25f, 1.0f, 1.0f}};
    mf_hash_t h;
    write_signal(f->store, 2, start, frames, &h);
    float *want = malloc(sizeof(float) * 2 * span), *buf = malloc(sizeof(float) * 2 * span);
    assert_true(want && buf);
    for (int view = 0; view <= 1; view++) {
        mf_pcm_reader_t *r1, *r2;
        assert_int_equal(mf_pcm_reader_open(f->store, &h, &r1), MF_OK);
        assert_int_equal(mf_pcm_reader_open(f->store, &h, &r2), MF_OK);
        if (view) {
            assert_int_equal(mf_pcm_reader_view(r1, g), MF_OK);
            assert_int_equal(mf_pcm_reader_view(r2, g), MF_OK);
        }
        int windowed = 0;
        for (int64_t t = 0; t < start + frames + (int64_t)span; t += (int64_t)span) {
            assert_int_equal(mf_pcm_reader_read_span(r1, t, span, want), MF_OK);
            mf_err_t err;
            const float *x = mf_pcm_reader_span(r2, t, span, buf, &err);
            assert_int_equal(err, MF_OK);
            assert_non_null(x);
            windowed += x != buf;
            assert_memory_equal(x, want, sizeof(float) * 2 * span);
        }
        /* Spans inside the signal come from the window, unless viewed or
         * too long for it. */
        if (view || !want_windowed ? windowed != 0 : windowed < 2)
            fail_msg("view %d, span %zu: %d spans from the window", view, span, windowed);
        mf_pcm_reader_free(&r1);
        mf_pcm_reader_free(&r2);
    }
    free(want), free(buf);
}

static void test_pcm_span(void **state)
{
    s_span_case(*state, 5000, 1021, 1);
    s_span_case(*state, 100000, 20011, 0);
    s_span_case(*state, 100003, 3001, 1);
}

/* The process's resident file-backed memory in kB (/proc/self/status). */
static long s_rss_file_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "RssFile: %ld", &kb) == 1) break;
    if (f) fclose(f);
    return kb;
}

/* A reader holds a window of its blob, not the blob: reading a 64 MB
 * signal must not leave 64 MB resident (as a mapping kept would). */
static void test_pcm_reader_memory_bounded(void **state)
{
    fixture_t *f = *state;
    enum { BLOCK = 4096, FRAMES = 8 << 20 }; /* stereo float: 64 MiB */
    float *buf = calloc(2 * BLOCK, sizeof *buf);
    mf_pcm_writer_t *w = mf_pcm_writer_new(f->store, 2, 48000, 0);
    for (int i = 0; i < 2 * BLOCK; i++) buf[i] = (float)i;
    for (int64_t t = 0; t < FRAMES; t += BLOCK)
        assert_int_equal(mf_pcm_writer_write(w, buf, BLOCK), MF_OK);
    mf_hash_t h;
    assert_int_equal(mf_pcm_writer_commit(w, &h), MF_OK);
    const long before = s_rss_file_kb();
    if (before < 0) skip(); /* no /proc here */
    mf_pcm_reader_t *r;
    assert_int_equal(mf_pcm_reader_open(f->store, &h, &r), MF_OK);
    long peak = before;
    for (int64_t t = 0; t < FRAMES; t += BLOCK) {
        assert_int_equal(mf_pcm_reader_read_span(r, t, BLOCK, buf), MF_OK);
        if (t % (1 << 20) == 0) {
            const long now = s_rss_file_kb();
            peak = now > peak ? now : peak;
        }
    }
    assert_true(buf[2 * BLOCK - 1] == (float)(2 * BLOCK - 1));
    mf_pcm_reader_free(&r);
    free(buf);
    print_message("    reading 64 MiB: resident file pages grew by at most %ld kB\n",
                  peak - before);
    assert_true(peak - before < 8 * 1024);
}

static void test_pcm_round_trip_and_spans(void **state)
{
    fixture_t *f = *state;
    const int64_t start = 1000, frames = 5000;
    mf_hash_t h;
    write_signal(f->store, 2, start, frames, &h);
    /* The blob is float32 interleaved plus a 32-byte trailer. */
    assert_int_equal(mf_store_size(f->store, &h), frames * 2 * 4 + 32);
    mf_pcm_info_t info;
    assert_int_equal(mf_pcm_info(f->store, &h, &info), MF_OK);
    assert_int_equal(info.channels, 2);
    assert_int_equal(info.rate, 48000);
    assert_int_equal(info.start, start);
    assert_int_equal(info.frames, frames);

    mf_pcm_reader_t *r;
    assert_int_equal(mf_pcm_reader_open(f->store, &h, &r), MF_OK);
    assert_int_equal(mf_pcm_reader_info(r)->frames, frames);
    float *out = malloc(2 * 8000 * sizeof *out);
    assert_non_null(out);
    /* Wholly before the signal: zeros (and the buffer is overwritten). */
    memset(out, 0x7f, 2 * 8000 * sizeof *out);
    assert_int_equal(mf_pcm_reader_read_span(r, 0, 500, out), MF_OK);
    check_span(out, 2, start, frames, 0, 500);
    /* Across the start boundary. */
    memset(out, 0x7f, 2 * 8000 * sizeof *out);
    assert_int_equal(mf_pcm_reader_read_span(r, 900, 300, out), MF_OK);
    check_span(out, 2, start, frames, 900, 300);
    /* Inside, with a gap (forward seek). */
    assert_int_equal(mf_pcm_reader_read_span(r, 3000, 1, out), MF_OK);
    check_span(out, 2, start, frames, 3000, 1);
    assert_int_equal(mf_pcm_reader_read_span(r, 3001, 1024, out), MF_OK);
    check_span(out, 2, start, frames, 3001, 1024);
    /* Across the end boundary. */
    memset(out, 0x7f, 2 * 8000 * sizeof *out);
    assert_int_equal(mf_pcm_reader_read_span(r, 5900, 200, out), MF_OK);
    check_span(out, 2, start, frames, 5900, 200);
    /* Wholly after. */
    memset(out, 0x7f, 2 * 8000 * sizeof *out);
    assert_int_equal(mf_pcm_reader_read_span(r, 6100, 700, out), MF_OK);
    check_span(out, 2, start, frames, 6100, 700);
    /* Going backwards inside the signal is refused. */
    assert_int_not_equal(mf_pcm_reader_read_span(r, 1500, 10, out), MF_OK);
    mf_pcm_reader_free(&r);
    assert_null(r);

    /* One span covering the signal and both sides. */
    assert_int_equal(mf_pcm_reader_open(f->store, &h, &r), MF_OK);
    memset(out, 0x7f, 2 * 8000 * sizeof *out);
    assert_int_equal(mf_pcm_reader_read_span(r, 0, 8000, out), MF_OK);
    check_span(out, 2, start, frames, 0, 8000);
    mf_pcm_reader_free(&r);

    /* Consecutive small spans read it all, block by block. */
    assert_int_equal(mf_pcm_reader_open(f->store, &h, &r), MF_OK);
    for (int64_t t = 0; t < 7000; t += 97) {
        assert_int_equal(mf_pcm_reader_read_span(r, t, 97, out), MF_OK);
        check_span(out, 2, start, frames, t, 97);
    }
    mf_pcm_reader_free(&r);
    free(out);

    /* Mono, starting at 0; identical content and placement is the same blob. */
    mf_hash_t m1, m2, m3;
    write_signal(f->store, 1, 0, 100, &m1);
    write_signal(f->store, 1, 0, 100, &m2);
    write_signal(f->store, 1, 1, 100, &m3); /* placed elsewhere: another blob */
    assert_string_equal(m1.hex, m2.hex);
    assert_string_not_equal(m1.hex, m3.hex);
    assert_int_equal(mf_pcm_reader_open(f->store, &m1, &r), MF_OK);
    float mono[150];
    assert_int_equal(mf_pcm_reader_read_span(r, 0, 150, mono), MF_OK);
    check_span(mono, 1, 0, 100, 0, 150);
    mf_pcm_reader_free(&r);

    /* An empty signal reads as silence. */
    mf_pcm_writer_t *w = mf_pcm_writer_new(f->store, 2, 48000, 10);
    mf_hash_t e;
    assert_int_equal(mf_pcm_writer_commit(w, &e), MF_OK);
    assert_int_equal(mf_pcm_reader_open(f->store, &e, &r), MF_OK);
    assert_int_equal(mf_pcm_reader_info(r)->frames, 0);
    float z[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    assert_int_equal(mf_pcm_reader_read_span(r, 0, 4, z), MF_OK);
    for (int i = 0; i < 8; i++) assert_true(z[i] == 0.0f);
    mf_pcm_reader_free(&r);
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_i64(unsigned char *p, int64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)((uint64_t)v >> (8 * i));
}

/* A blob of `data_bytes` zero bytes then a hand-made trailer. */
static void put_raw_signal(mf_store_t *s, size_t data_bytes, const char *magic, uint32_t ch,
                           uint32_t rate, int64_t start, int64_t frames, mf_hash_t *h)
{
    size_t n = data_bytes + 32;
    unsigned char *b = calloc(1, n);
    assert_non_null(b);
    unsigned char *t = b + data_bytes;
    memcpy(t, magic, 8);
    put_u32(t + 8, ch);
    put_u32(t + 12, rate);
    put_i64(t + 16, start);
    put_i64(t + 24, frames);
    put_bytes(s, b, n, h);
    free(b);
}

static void expect_corrupt(mf_store_t *s, const mf_hash_t *h)
{
    mf_pcm_reader_t *r = (mf_pcm_reader_t *)(uintptr_t)1;
    assert_int_equal(mf_pcm_reader_open(s, h, &r), MF_ERR_CORRUPT);
    assert_null(r);
    mf_pcm_info_t info;
    assert_int_equal(mf_pcm_info(s, h, &info), MF_ERR_CORRUPT);
}

static void test_pcm_corrupt(void **state)
{
    fixture_t *f = *state;
    mf_store_t *s = f->store;
    mf_hash_t h;
    /* Missing. */
    mf_hash_bytes("never stored", 12, &h);
    mf_pcm_reader_t *r;
    assert_int_equal(mf_pcm_reader_open(s, &h, &r), MF_ERR_NOENT);
    assert_null(r);

    /* A good hand-made blob opens (so the trailer layout below is right). */
    put_raw_signal(s, 16, "MFPCM001", 2, 48000, 5, 2, &h);
    assert_int_equal(mf_pcm_reader_open(s, &h, &r), MF_OK);
    assert_int_equal(mf_pcm_reader_info(r)->start, 5);
    assert_int_equal(mf_pcm_reader_info(r)->frames, 2);
    mf_pcm_reader_free(&r);

    /* Shorter than a trailer, or not a signal at all. */
    put_bytes(s, "short", 5, &h);
    expect_corrupt(s, &h);
    put_bytes(s, NULL, 0, &h);
    expect_corrupt(s, &h);
    unsigned char junk[4096];
    fill(junk, sizeof junk, 5);
    put_bytes(s, junk, sizeof junk, &h);
    expect_corrupt(s, &h);
    /* Wrong magic, bad channel counts, bad rate, negative frames. */
    put_raw_signal(s, 16, "MFPCM002", 2, 48000, 0, 2, &h);
    expect_corrupt(s, &h);
    put_raw_signal(s, 16, "MFPCM001", 0, 48000, 0, 2, &h);
    expect_corrupt(s, &h);
    put_raw_signal(s, 24, "MFPCM001", 3, 48000, 0, 2, &h);
    expect_corrupt(s, &h);
    put_raw_signal(s, 16, "MFPCM001", 2, 0, 0, 2, &h);
    expect_corrupt(s, &h);
    put_raw_signal(s, 0, "MFPCM001", 2, 48000, 0, -1, &h);
    expect_corrupt(s, &h);
    /* The size does not add up: data for 2 frames, trailer says 3 or 1. */
    put_raw_signal(s, 16, "MFPCM001", 2, 48000, 0, 3, &h);
    expect_corrupt(s, &h);
    put_raw_signal(s, 16, "MFPCM001", 2, 48000, 0, 1, &h);
    expect_corrupt(s, &h);
    /* A frame count so large that frames * channels * 4 overflows 64 bits
     * (to 0, the data size here) must not pass for an empty signal. */
    put_raw_signal(s, 0, "MFPCM001", 2, 48000, 0, INT64_C(0x2000000000000000), &h);
    expect_corrupt(s, &h);
    put_raw_signal(s, 0, "MFPCM001", 1, 48000, 0, INT64_C(0x4000000000000000), &h);
    expect_corrupt(s, &h);

    /* A real signal truncated, or with a byte of its trailer flipped. */
    mf_hash_t good;
    write_signal(s, 2, 0, 1000, &good);
    char *path = mf_store_path(s, &good);
    size_t n;
    unsigned char *bytes = read_whole(path, &n);
    assert_int_equal(n, 1000 * 8 + 32);
    assert_int_equal(truncate(path, (off_t)n - 1), 0);
    expect_corrupt(s, &good);
    assert_int_equal(truncate(path, (off_t)(n - 32 - 8)), 0); /* lost a frame and the trailer */
    expect_corrupt(s, &good);
    bytes[n - 32 + 3] ^= 0x20; /* the magic */
    write_whole(path, bytes, n);
    expect_corrupt(s, &good);
    bytes[n - 32 + 3] ^= 0x20;
    bytes[n - 8] ^= 0x01; /* frames: 1001 */
    write_whole(path, bytes, n);
    expect_corrupt(s, &good);
    bytes[n - 8] ^= 0x01;
    write_whole(path, bytes, n); /* restored: fine again */
    assert_int_equal(mf_pcm_reader_open(s, &good, &r), MF_OK);
    mf_pcm_reader_free(&r);
    free(bytes);
    free(path);
}

/* ---- tasks --------------------------------------------------------------------------- */

static void make_task(mf_task_t *t, size_t n_inputs)
{
    memset(t, 0, sizeof *t);
    t->id = 0x1234567890ULL;
    t->kind = strdup("strip");
    t->params = strdup("{\"gain_db\":-3.5,\"pan\":0.25,\"name\":\"Kick \\u00e9\"}");
    t->inputs = calloc(n_inputs + 1, sizeof *t->inputs);
    assert_non_null(t->kind);
    assert_non_null(t->params);
    assert_non_null(t->inputs);
    t->n_inputs = n_inputs;
    for (size_t i = 0; i < n_inputs; i++) {
        char b[32];
        snprintf(b, sizeof b, "input %zu", i);
        mf_hash_bytes(b, strlen(b), &t->inputs[i]);
    }
}

static void test_task_key(void **state)
{
    (void)state;
    mf_task_t a, b;
    make_task(&a, 3);
    make_task(&b, 3);
    mf_hash_t ka, kb;
    mf_task_key(&a, &ka);
    mf_task_key(&b, &kb);
    assert_true(mf_hash_valid(ka.hex));
    assert_string_equal(ka.hex, kb.hex);
    /* The id is not part of the work. */
    b.id = 7;
    mf_task_key(&b, &kb);
    assert_string_equal(ka.hex, kb.hex);
    /* Kind, params, each input and the input order are. */
    free(b.kind);
    b.kind = strdup("bus");
    mf_task_key(&b, &kb);
    assert_string_not_equal(ka.hex, kb.hex);
    mf_task_fini(&b);
    make_task(&b, 3);
    b.params[strlen(b.params) - 2] = 'f';
    mf_task_key(&b, &kb);
    assert_string_not_equal(ka.hex, kb.hex);
    mf_task_fini(&b);
    make_task(&b, 3);
    mf_hash_t tmp = b.inputs[0];
    b.inputs[0] = b.inputs[1];
    b.inputs[1] = tmp;
    mf_task_key(&b, &kb);
    assert_string_not_equal(ka.hex, kb.hex);
    mf_task_fini(&b);
    make_task(&b, 2);
    mf_task_key(&b, &kb);
    assert_string_not_equal(ka.hex, kb.hex);
    mf_task_fini(&b);
    /* So is the arithmetic it is computed with; none is "". */
    make_task(&b, 3);
    b.numerics = strdup("");
    mf_task_key(&b, &kb);
    assert_string_equal(ka.hex, kb.hex);
    free(b.numerics);
    b.numerics = strdup("dsp=x86 qc=x86");
    mf_task_key(&b, &kb);
    assert_string_not_equal(ka.hex, kb.hex);
    mf_hash_t kc;
    free(b.numerics);
    b.numerics = strdup("dsp=neon qc=c");
    mf_task_key(&b, &kc);
    assert_string_not_equal(kb.hex, kc.hex);
    assert_string_not_equal(ka.hex, kc.hex);
    mf_task_fini(&a);
    mf_task_fini(&b);
}

static void test_task_pack_round_trip(void **state)
{
    (void)state;
    for (size_t n_in = 0; n_in <= 5; n_in += 5) {
        mf_task_t t, u;
        make_task(&t, n_in);
        if (n_in) t.numerics = strdup("dsp=x86 qc=x86"); /* and without */
        size_t len = 0;
        uint8_t *buf = mf_task_pack(&t, &len);
        assert_non_null(buf);
        assert_true(len > 0);
        assert_int_equal(mf_task_unpack(buf, len, &u), MF_OK);
        assert_int_equal(u.id, t.id);
        assert_string_equal(u.kind, t.kind);
        assert_string_equal(u.params, t.params);
        assert_int_equal(u.n_inputs, t.n_inputs);
        for (size_t i = 0; i < n_in; i++) assert_string_equal(u.inputs[i].hex, t.inputs[i].hex);
        if (n_in)
            assert_string_equal(u.numerics, t.numerics);
        else
            assert_null(u.numerics);
        mf_hash_t k1, k2;
        mf_task_key(&t, &k1);
        mf_task_key(&u, &k2);
        assert_string_equal(k1.hex, k2.hex);
        free(buf);
        mf_task_fini(&t);
        mf_task_fini(&u);
        assert_null(u.kind);
    }

    /* Results too, with and without an error. */
    mf_task_result_t r = {.id = 99, .seconds = 1.5, .audio_seconds = 12.25}, q;
    r.n_outputs = 2;
    r.outputs = calloc(2, sizeof *r.outputs);
    assert_non_null(r.outputs);
    mf_hash_bytes("o1", 2, &r.outputs[0]);
    mf_hash_bytes("o2", 2, &r.outputs[1]);
    size_t len;
    uint8_t *buf = mf_task_result_pack(&r, &len);
    assert_non_null(buf);
    assert_int_equal(mf_task_result_unpack(buf, len, &q), MF_OK);
    assert_int_equal(q.id, 99);
    assert_int_equal(q.n_outputs, 2);
    assert_string_equal(q.outputs[1].hex, r.outputs[1].hex);
    assert_true(q.seconds == 1.5 && q.audio_seconds == 12.25);
    assert_null(q.error);
    free(buf);
    mf_task_result_fini(&q);
    r.error = strdup("strip Kick: input 0: data is corrupt");
    buf = mf_task_result_pack(&r, &len);
    assert_int_equal(mf_task_result_unpack(buf, len, &q), MF_OK);
    assert_non_null(q.error);
    assert_string_equal(q.error, r.error);
    free(buf);
    mf_task_result_fini(&q);
    mf_task_result_fini(&r);
}

/* Packs a Task message built by hand (to forge what mf_task_pack never would). */
static uint8_t *pack_raw(Mixfarm__Task *m, size_t *len)
{
    uint8_t *buf = malloc(mixfarm__task__get_packed_size(m) + 1);
    assert_non_null(buf);
    *len = mixfarm__task__pack(m, buf);
    return buf;
}

static void expect_protocol(const uint8_t *buf, size_t len)
{
    mf_task_t u;
    assert_int_equal(mf_task_unpack(buf, len, &u), MF_ERR_PROTOCOL);
    assert_null(u.kind);
    assert_null(u.inputs);
}

/* A bus with two of its strips inlined (mf_task_t.inlined): the strips
 * travel with their keys, each producing one of the bus's inputs; the
 * bus's key ignores them (the same work, run in one task). */
static void s_inlined_bus(mf_task_t *bus)
{
    make_task(bus, 3);
    free(bus->kind);
    bus->kind = strdup("bus");
    bus->inlined = calloc(2, sizeof *bus->inlined);
    assert_non_null(bus->inlined);
    bus->n_inlined = 2;
    for (size_t j = 0; j < 2; j++) {
        mf_task_t *x = &bus->inlined[j];
        make_task(x, 1 + j);
        x->id = 0;
        mf_task_key(x, &x->key);
        mf_task_output_name(&x->key, 0, &bus->inputs[2 * j]); /* inputs 0 and 2 */
    }
}

static void test_task_inlined(void **state)
{
    (void)state;
    mf_task_t bus, u;
    s_inlined_bus(&bus);
    mf_hash_t alone, with;
    mf_task_key(&bus, &with);
    mf_task_t copy = bus;
    copy.inlined = NULL, copy.n_inlined = 0;
    mf_task_key(&copy, &alone);
    assert_string_equal(with.hex, alone.hex);
    size_t len;
    uint8_t *buf = mf_task_pack(&bus, &len);
    assert_non_null(buf);
    assert_int_equal(mf_task_unpack(buf, len, &u), MF_OK);
    free(buf);
    assert_int_equal(u.n_inlined, 2);
    for (size_t j = 0; j < 2; j++) {
        assert_string_equal(u.inlined[j].kind, "strip");
        assert_string_equal(u.inlined[j].key.hex, bus.inlined[j].key.hex);
        assert_int_equal(u.inlined[j].n_inputs, 1 + j);
        assert_int_equal(u.inlined[j].n_inlined, 0);
    }
    assert_int_equal(mf_task_inlined_for(&u, 0), 0);
    assert_int_equal(mf_task_inlined_for(&u, 1), -1); /* a blob to read */
    assert_int_equal(mf_task_inlined_for(&u, 2), 1);
    mf_task_fini(&u);
    assert_null(u.inlined);

    /* Forged: an inlined task producing none of the inputs, one with a key
     * that is not its own, one with tasks of its own. */
    Mixfarm__Task m;
    mf_hash_t key;
    assert_int_equal(mf_task_to_pb(&bus, &m, &key), 0);
    char *keep = m.inputs[2];
    m.inputs[2] = bus.inputs[1].hex;
    uint8_t *raw = pack_raw(&m, &len);
    m.inputs[2] = keep;
    mf_task_t other;
    assert_int_equal(mf_task_unpack(raw, len, &other), MF_ERR_PROTOCOL);
    free(raw);
    char *key1 = m.inlined[1]->key;
    m.inlined[1]->key = m.inlined[0]->key;
    raw = pack_raw(&m, &len);
    m.inlined[1]->key = key1;
    assert_int_equal(mf_task_unpack(raw, len, &other), MF_ERR_PROTOCOL);
    free(raw);
    /* Field 9 nested in itself 200,000 times (781 KB, under a frame's
     * limit): when an inlined task was a Task, protobuf-c's recursive
     * unpack overflowed the stack on it; now the depth ends at one. */
    const size_t depth = 200000, cap = depth * 4 + 16;
    uint8_t *deep = malloc(cap);
    assert_non_null(deep);
    size_t at = cap; /* built from the innermost out, backwards */
    for (size_t i = 0; i < depth; i++) {
        uint8_t head[8];
        size_t h = 0, v = cap - at;
        head[h++] = 0x4a; /* field 9, length-delimited */
        do {
            head[h++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
            v >>= 7;
        } while (v);
        at -= h;
        memcpy(deep + at, head, h);
    }
    const size_t dl = cap - at;
    memmove(deep, deep + at, dl);
    assert_int_equal(mf_task_unpack(deep, dl, &other), MF_ERR_PROTOCOL);
    free(deep);
    raw = pack_raw(&m, &len); /* the control case */
    assert_int_equal(mf_task_unpack(raw, len, &other), MF_OK);
    mf_task_fini(&other);
    free(raw);
    mf_task_pb_fini(&m);
    /* An inlined task goes out with its key, or not at all. */
    bus.inlined[1].key.hex[0] = 0;
    assert_int_equal(mf_task_to_pb(&bus, &m, &key), -1);
    mf_task_fini(&bus);
}

static void test_task_unpack_rejects(void **state)
{
    (void)state;
    mf_task_t t;
    make_task(&t, 3);
    mf_hash_t key;
    mf_task_key(&t, &key);
    size_t len;
    uint8_t *buf = mf_task_pack(&t, &len);
    assert_non_null(buf);

    /* The key travels as hex: change one digit of it. */
    uint8_t *at = memmem(buf, len, key.hex, 64);
    assert_non_null(at);
    uint8_t *bad = malloc(len);
    memcpy(bad, buf, len);
    bad[at - buf + 10] = bad[at - buf + 10] == 'a' ? 'b' : 'a';
    expect_protocol(bad, len);
    /* Change a byte of the params instead: the key no longer matches. */
    memcpy(bad, buf, len);
    uint8_t *pp = memmem(bad, len, "gain_db", 7);
    assert_non_null(pp);
    pp[0] = 'G';
    expect_protocol(bad, len);
    /* Or an input hash. */
    memcpy(bad, buf, len);
    uint8_t *ip = memmem(bad, len, t.inputs[1].hex, 64);
    assert_non_null(ip);
    ip[5] = ip[5] == '0' ? '1' : '0';
    expect_protocol(bad, len);
    /* Truncated anywhere up to the end of the key (only the id follows it,
     * and an id of 0 is a valid id). */
    size_t key_end = (size_t)(at - buf) + 64;
    for (size_t cut = 0; cut < key_end; cut++) expect_protocol(buf, cut);
    free(bad);

    /* Garbage. */
    uint8_t junk[512];
    for (uint32_t seed = 1; seed <= 200; seed++) {
        size_t n = 1 + seed * 7 % sizeof junk;
        fill(junk, n, seed);
        expect_protocol(junk, n);
    }

    /* Well-formed protobuf that breaks the rules: wrong version, empty kind,
     * an input that is not a hash, too many inputs. */
    char *hexes[3] = {t.inputs[0].hex, t.inputs[1].hex, t.inputs[2].hex};
    Mixfarm__Task m = MIXFARM__TASK__INIT;
    m.version = MF_PROTOCOL_VERSION;
    m.kind = t.kind;
    m.params = t.params;
    m.key = key.hex;
    m.n_inputs = 3;
    m.inputs = hexes;
    size_t rl;
    uint8_t *raw = pack_raw(&m, &rl);
    mf_task_t u;
    assert_int_equal(mf_task_unpack(raw, rl, &u), MF_OK); /* the control case */
    mf_task_fini(&u);
    free(raw);

    m.version = MF_PROTOCOL_VERSION + 1;
    raw = pack_raw(&m, &rl);
    expect_protocol(raw, rl);
    free(raw);
    m.version = MF_PROTOCOL_VERSION;

    m.kind = "";
    raw = pack_raw(&m, &rl);
    expect_protocol(raw, rl);
    free(raw);
    m.kind = t.kind;

    char upper[65];
    memcpy(upper, t.inputs[2].hex, 65);
    for (int i = 0; i < 64; i++)
        if (upper[i] >= 'a' && upper[i] <= 'f') upper[i] = (char)(upper[i] - 'a' + 'A');
    hexes[2] = upper;
    raw = pack_raw(&m, &rl);
    expect_protocol(raw, rl);
    free(raw);
    hexes[2] = "0123";
    raw = pack_raw(&m, &rl);
    expect_protocol(raw, rl);
    free(raw);

    size_t many = MF_TASK_MAX_INPUTS + 1;
    char **lots = calloc(many, sizeof *lots);
    assert_non_null(lots);
    for (size_t i = 0; i < many; i++) lots[i] = t.inputs[0].hex;
    m.inputs = lots;
    m.n_inputs = many;
    raw = pack_raw(&m, &rl);
    expect_protocol(raw, rl);
    free(raw);
    free(lots);

    /* A result with a bad output hash or version. */
    Mixfarm__TaskResult rm = MIXFARM__TASK_RESULT__INIT;
    char *outs[1] = {"xyz"};
    rm.version = MF_PROTOCOL_VERSION;
    rm.n_outputs = 1;
    rm.outputs = outs;
    uint8_t rb[256];
    size_t rlen = mixfarm__task_result__pack(&rm, rb);
    mf_task_result_t q;
    assert_int_equal(mf_task_result_unpack(rb, rlen, &q), MF_ERR_PROTOCOL);
    outs[0] = t.inputs[0].hex;
    rm.version = 9;
    rlen = mixfarm__task_result__pack(&rm, rb);
    assert_int_equal(mf_task_result_unpack(rb, rlen, &q), MF_ERR_PROTOCOL);
    for (uint32_t seed = 1; seed <= 100; seed++) {
        size_t n = 1 + seed * 5 % 200;
        fill(junk, n, seed + 1000);
        assert_int_equal(mf_task_result_unpack(junk, n, &q), MF_ERR_PROTOCOL);
    }

    free(buf);
    mf_task_fini(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_known_values),
        cmocka_unit_test_setup_teardown(test_blob_commit_is_sha256, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blob_identical_twice_is_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blob_abort_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_file_elsewhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lasting_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_action_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcm_round_trip_and_spans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcm_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcm_panned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcm_view, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcm_add_span, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcm_truncated_under_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcm_span, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcm_reader_memory_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writes_published, setup, teardown),
        cmocka_unit_test(test_task_key),
        cmocka_unit_test(test_task_pack_round_trip),
        cmocka_unit_test(test_task_inlined),
        cmocka_unit_test(test_task_unpack_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
