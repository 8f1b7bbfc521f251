/* mf_wavf.h against libsndfile: the header it writes for a 32-bit float WAV
 * (no PEAK chunk) is byte for byte the one libsndfile writes, for mono and
 * stereo, several rates and lengths; and the form refuses what needs RF64.
 * A signal streamed into OUTDIR as its blob arrives (mf_outdir_stream_*)
 * gives the file and manifest that writing it from the store gives, and a
 * blob whose trailer disagrees with what was announced stages nothing; the
 * same for a file (a listening copy) streamed with its report, and for a
 * signal streamed before its file's length is known (held, then ended). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

#include "mf_outdir.h"
#include "mf_pcm.h"
#include "mf_wavf.h"

/* The file libsndfile writes for frames of float samples. */
static unsigned char *s_libsndfile(int channels, int rate, long frames, size_t *size)
{
    char path[] = "/tmp/mixfarm-test-wavf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    SF_INFO info = {
        .samplerate = rate, .channels = channels, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    SNDFILE *sf = sf_open_fd(fd, SFM_WRITE, &info, SF_TRUE);
    assert_non_null(sf);
    sf_command(sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE); /* as mf_outdir.c */
    float buf[2 * 256];
    for (long t = 0; t < frames;) {
        long n = frames - t < 256 ? frames - t : 256;
        for (long i = 0; i < n * channels; i++) buf[i] = (float)((t * channels + i) % 97) / 100.0f;
        assert_int_equal(sf_writef_float(sf, buf, n), n);
        t += n;
    }
    assert_int_equal(sf_close(sf), 0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    rewind(f);
    unsigned char *bytes = malloc(*size + 1);
    assert_int_equal(fread(bytes, 1, *size, f), *size);
    fclose(f);
    unlink(path);
    return bytes;
}

static void test_header_is_libsndfiles(void **state)
{
    (void)state;
    const int rates[] = {44100, 48000, 96000};
    const long lengths[] = {0, 1, 1000, 48001};
    for (int ch = 1; ch <= 2; ch++)
        for (size_t r = 0; r < 3; r++)
            for (size_t l = 0; l < 4; l++) {
                size_t size;
                unsigned char *want = s_libsndfile(ch, rates[r], lengths[l], &size);
                uint8_t got[MF_WAVF_HEADER_MAX];
                size_t len = mf_wavf_header(got, ch, rates[r], lengths[l]);
                assert_int_equal(len + (size_t)lengths[l] * (size_t)ch * 4, size);
                if (memcmp(got, want, len) != 0)
                    fail_msg("%d channels, %d Hz, %ld frames: the header differs from "
                             "libsndfile's",
                             ch, rates[r], lengths[l]);
                free(want);
            }
}

static void test_refuses_what_needs_rf64(void **state)
{
    (void)state;
    uint8_t h[MF_WAVF_HEADER_MAX];
    assert_true(mf_wavf_header(h, 2, 48000, 0x1FFFC000L) > 0);     /* 4 GiB - 64 KiB of data */
    assert_int_equal(mf_wavf_header(h, 2, 48000, 0x20000000L), 0); /* 4 GiB */
    assert_int_equal(mf_wavf_header(h, 3, 48000, 10), 0);
    assert_int_equal(mf_wavf_header(h, 2, 48000, -1), 0);
}

static char *s_slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    char *b = malloc(*n + 1);
    assert_int_equal(fread(b, 1, *n, f), *n);
    b[*n] = 0;
    fclose(f);
    return b;
}

/* Feeds blob (size bytes) to st in pieces of 1000 (for a signal, pieces
 * that straddle the trailer); a failure aborts the stream. */
static mf_err_t s_feed(mf_outdir_stream_t *st, const uint8_t *blob, size_t size)
{
    mf_err_t err = MF_OK;
    for (size_t at = 0; err == MF_OK && at < size; at += 1000)
        err = mf_outdir_stream_write(st, blob + at, size - at < 1000 ? size - at : 1000);
    if (err != MF_OK) mf_outdir_stream_abort(st);
    return err;
}

/* Streams a signal blob: frames from start, in a file of file_frames. */
static mf_err_t s_stream_span(mf_outdir_t *o, const char *rel, const uint8_t *blob, size_t size,
                              int ch, int64_t start, int64_t frames, int64_t file_frames)
{
    mf_outdir_stream_t *st = mf_outdir_stream_signal(o, rel, ch, 48000, start, frames, file_frames);
    assert_non_null(st);
    const mf_err_t err = s_feed(st, blob, size);
    return err == MF_OK ? mf_outdir_stream_commit(st, size) : err;
}

static mf_err_t s_stream(mf_outdir_t *o, const uint8_t *blob, size_t size, int ch, int64_t frames)
{
    return s_stream_span(o, "mix.wav", blob, size, ch, 0, frames, frames);
}

/* A signal blob of frames stereo frames from start, and its bytes. */
static uint8_t *s_blob(mf_store_t *store, int64_t start, int64_t frames, mf_hash_t *h, size_t *size)
{
    mf_pcm_writer_t *w = mf_pcm_writer_new(store, 2, 48000, start);
    float *x = malloc(sizeof(float) * 2 * (size_t)frames);
    for (int64_t i = 0; i < 2 * frames; i++) x[i] = (float)((i * 7919) % 2001 - 1000) / 1000.0f;
    assert_int_equal(mf_pcm_writer_write(w, x, (size_t)frames), MF_OK);
    free(x);
    assert_int_equal(mf_pcm_writer_commit(w, h), MF_OK);
    char *path = mf_store_path(store, h);
    uint8_t *blob = (uint8_t *)s_slurp(path, size);
    free(path);
    return blob;
}

/* A temporary root with a store and three output folders: streamed into,
 * written from the store, and refused. */
typedef struct {
    char root[64], a[300], b[300], c[300];
    mf_store_t *store;
} dirs_t;

static void s_dirs(dirs_t *d)
{
    snprintf(d->root, sizeof d->root, "/tmp/mixfarm-test-stream-XXXXXX");
    assert_non_null(mkdtemp(d->root));
    char dir[300];
    snprintf(dir, sizeof dir, "%s/store", d->root);
    snprintf(d->a, sizeof d->a, "%s/streamed", d->root);
    snprintf(d->b, sizeof d->b, "%s/stored", d->root);
    snprintf(d->c, sizeof d->c, "%s/refused", d->root);
    assert_non_null(d->store = mf_store_open(dir));
}

static void s_dirs_free(dirs_t *d)
{
    mf_store_free(&d->store);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->root);
    assert_int_equal(system(cmd), 0);
}

/* The n files are byte for byte the same in folders a and b. */
static void s_same_files(const char *a, const char *b, const char *const *files, int n)
{
    for (int k = 0; k < n; k++) {
        char pa[400], pb[400];
        snprintf(pa, sizeof pa, "%s/%s", a, files[k]);
        snprintf(pb, sizeof pb, "%s/%s", b, files[k]);
        size_t na, nb;
        char *ba = s_slurp(pa, &na), *bb = s_slurp(pb, &nb);
        assert_int_equal(na, nb);
        if (memcmp(ba, bb, na) != 0) fail_msg("%s: streamed and stored differ", files[k]);
        free(ba), free(bb);
    }
}

static void test_stream_equals_store(void **state)
{
    (void)state;
    dirs_t d;
    s_dirs(&d);
    mf_store_t *store = d.store;
    const char *a = d.a, *b = d.b, *c = d.c;
    const int64_t frames = 12345;
    mf_hash_t h, h2;
    size_t size, size2;
    uint8_t *blob = s_blob(store, 0, frames, &h, &size);
    uint8_t *late = s_blob(store, 100, 5000, &h2, &size2); /* silence around it in the file */

    mf_outdir_t *o = mf_outdir_open(a);
    assert_int_equal(s_stream(o, blob, size, 2, frames), MF_OK);
    assert_int_equal(s_stream_span(o, "stems/late.wav", late, size2, 2, 100, 5000, 6000), MF_OK);
    assert_int_equal(mf_outdir_commit(o, "t"), MF_OK);
    mf_outdir_free(&o);
    o = mf_outdir_open(b);
    assert_int_equal(mf_outdir_write_signal(o, "mix.wav", store, &h, -1, "wav", 32), MF_OK);
    assert_int_equal(mf_outdir_write_signal(o, "stems/late.wav", store, &h2, 6000, "wav", 32),
                     MF_OK);
    assert_int_equal(mf_outdir_commit(o, "t"), MF_OK);
    mf_outdir_free(&o);
    const char *files[] = {"mix.wav", "stems/late.wav", "manifest.json"};
    s_same_files(a, b, files, 3);

    /* Announced mono, or a damaged trailer, or a byte short: nothing staged. */
    o = mf_outdir_open(c);
    assert_int_equal(s_stream(o, blob, size, 1, 2 * frames), MF_ERR_CORRUPT);
    blob[size - 32] ^= 1; /* the magic */
    assert_int_equal(s_stream(o, blob, size, 2, frames), MF_ERR_CORRUPT);
    blob[size - 32] ^= 1;
    assert_int_equal(s_stream(o, blob, size - 1, 2, frames), MF_ERR_CORRUPT);
    assert_int_equal(mf_outdir_commit(o, "t"), MF_OK);
    mf_outdir_free(&o);
    char pc[400];
    snprintf(pc, sizeof pc, "%s/mix.wav", c);
    assert_int_equal(access(pc, F_OK), -1);
    size_t nm;
    snprintf(pc, sizeof pc, "%s/manifest.json", c);
    char *man = s_slurp(pc, &nm);
    assert_null(strstr(man, "mix.wav"));
    free(man), free(blob), free(late);
    s_dirs_free(&d);
}

/* Streams a signal blob whose file's length is not known yet and holds it
 * (the stream is NULL when the hold failed). */
static mf_outdir_stream_t *s_stream_held(mf_outdir_t *o, const char *rel, const uint8_t *blob,
                                         size_t size, int64_t start, int64_t frames)
{
    mf_outdir_stream_t *st = mf_outdir_stream_signal(o, rel, 2, 48000, start, frames, -1);
    assert_non_null(st);
    if (s_feed(st, blob, size) != MF_OK) return NULL;
    return mf_outdir_stream_hold(st, size) == MF_OK ? st : NULL;
}

/* A stem streamed before the mix's length is known and ended once it is
 * gives the file and manifest entry that writing it from the store gives,
 * whether the length is the signal's own (the header as begun holds) or
 * longer (the header written again), hashed by the outdir's thread (a
 * commit some time after) or at the commit (one at once). Ended shorter
 * than its signal, or held with a damaged trailer, it stages nothing. */
static void test_held_stream_equals_store(void **state)
{
    (void)state;
    for (int later = 0; later <= 1; later++) {
        dirs_t d;
        s_dirs(&d);
        mf_hash_t h, h2;
        size_t size, size2;
        uint8_t *blob = s_blob(d.store, 0, 12345, &h, &size);
        uint8_t *late = s_blob(d.store, 100, 5000, &h2, &size2);

        mf_outdir_t *o = mf_outdir_open(d.a);
        mf_outdir_stream_t *mix = s_stream_held(o, "mix.wav", blob, size, 0, 12345);
        mf_outdir_stream_t *stem = s_stream_held(o, "stems/late.wav", late, size2, 100, 5000);
        assert_non_null(mix);
        assert_non_null(stem);
        assert_int_equal(mf_outdir_stream_end(mix, 12345), MF_OK);
        assert_int_equal(mf_outdir_stream_end(stem, 12345), MF_OK);
        if (later) usleep(200 * 1000);
        assert_int_equal(mf_outdir_commit(o, "t"), MF_OK);
        mf_outdir_free(&o);
        o = mf_outdir_open(d.b);
        assert_int_equal(mf_outdir_write_signal(o, "mix.wav", d.store, &h, 12345, "wav", 32),
                         MF_OK);
        assert_int_equal(
            mf_outdir_write_signal(o, "stems/late.wav", d.store, &h2, 12345, "wav", 32), MF_OK);
        assert_int_equal(mf_outdir_commit(o, "t"), MF_OK);
        mf_outdir_free(&o);
        const char *files[] = {"mix.wav", "stems/late.wav", "manifest.json"};
        s_same_files(d.a, d.b, files, 3);

        o = mf_outdir_open(d.c);
        mf_outdir_stream_t *st = s_stream_held(o, "mix.wav", blob, size, 0, 12345);
        assert_non_null(st);
        assert_int_equal(mf_outdir_stream_end(st, 12344), MF_ERR_INVALID);
        late[size2 - 32] ^= 1; /* the magic */
        assert_null(s_stream_held(o, "stems/late.wav", late, size2, 100, 5000));
        assert_int_equal(mf_outdir_commit(o, "t"), MF_OK);
        mf_outdir_free(&o);
        char pc[400];
        snprintf(pc, sizeof pc, "%s/mix.wav", d.c);
        assert_int_equal(access(pc, F_OK), -1);
        snprintf(pc, sizeof pc, "%s/stems/late.wav", d.c);
        assert_int_equal(access(pc, F_OK), -1);
        free(blob), free(late);
        s_dirs_free(&d);
    }
}

/* Streams blob's bytes as relpath, then commits with meta. */
static mf_err_t s_stream_file(mf_outdir_t *o, const char *relpath, const uint8_t *blob, size_t size,
                              uint64_t said, const json_t *meta)
{
    mf_outdir_stream_t *s = mf_outdir_stream_file(o, relpath);
    assert_non_null(s);
    const mf_err_t err = s_feed(s, blob, size);
    if (err != MF_OK) return err;
    return mf_outdir_stream_commit_file(s, said, meta);
}

/* A listening copy streamed as its blob arrives gives the file and the
 * manifest entry (size, SHA-256 of the bytes, its report's fields) that
 * writing it from the store gives; a size that disagrees, or no report,
 * stages nothing. */
static void test_file_stream_equals_store(void **state)
{
    (void)state;
    dirs_t d;
    s_dirs(&d);
    mf_store_t *store = d.store;
    const char *a = d.a, *b = d.b, *c = d.c;
    size_t size = 54321;
    uint8_t *blob = malloc(size);
    for (size_t i = 0; i < size; i++) blob[i] = (uint8_t)(i * 131 + 7);
    mf_hash_t h;
    assert_int_equal(mf_store_put_bytes(store, blob, size, &h), MF_OK);
    json_t *meta = json_pack("{s:s, s:i, s:i, s:s, s:f}", "format", "wav", "sample_rate", 48000,
                             "channels", 1, "encoding", "pcm16", "duration_s", 0.5);

    mf_outdir_t *o = mf_outdir_open(a);
    assert_int_equal(s_stream_file(o, "listen/phone.wav", blob, size, size, meta), MF_OK);
    assert_int_equal(mf_outdir_commit(o, "t"), MF_OK);
    mf_outdir_free(&o);
    o = mf_outdir_open(b);
    assert_int_equal(mf_outdir_write_file(o, "listen/phone.wav", store, &h, meta), MF_OK);
    assert_int_equal(mf_outdir_commit(o, "t"), MF_OK);
    mf_outdir_free(&o);
    const char *files[] = {"listen/phone.wav", "manifest.json"};
    s_same_files(a, b, files, 2);

    o = mf_outdir_open(c);
    assert_int_equal(s_stream_file(o, "listen/phone.wav", blob, size, size + 1, meta),
                     MF_ERR_CORRUPT);
    assert_int_equal(s_stream_file(o, "listen/car.wav", blob, size, size, NULL), MF_ERR_CORRUPT);
    assert_int_equal(mf_outdir_commit(o, "t"), MF_OK);
    mf_outdir_free(&o);
    char pc[400];
    snprintf(pc, sizeof pc, "%s/listen/phone.wav", c);
    assert_int_equal(access(pc, F_OK), -1);
    snprintf(pc, sizeof pc, "%s/listen/car.wav", c);
    assert_int_equal(access(pc, F_OK), -1);
    json_decref(meta);
    free(blob);
    s_dirs_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_is_libsndfiles),
        cmocka_unit_test(test_refuses_what_needs_rf64),
        cmocka_unit_test(test_stream_equals_store),
        cmocka_unit_test(test_file_stream_equals_store),
        cmocka_unit_test(test_held_stream_equals_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
