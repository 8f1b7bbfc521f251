/* store/mf_pcm.h and mf_writes.h: signal blobs (written, read back in
 * spans, panned and viewed through gains, added in, cut short under a
 * reader, corrupt) and named writes published while they run. Every test
 * works in its own mkdtemp folder. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pcm_round_trip_and_spans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcm_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcm_panned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcm_view, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcm_add_span, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcm_truncated_under_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcm_span, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcm_reader_memory_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writes_published, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
