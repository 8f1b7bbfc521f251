/* store/mf_pipe.c and the pcm pipe of mf_pcm.h: a signal handed from a
 * producer to a reader in memory reads, bit for bit, as the same signal
 * stored as a blob would (mono, stereo, panned, viewed through gains;
 * read_span, add_span and span; spans shorter and longer than the
 * reader's window, before, across and past the signal), and a pipe that
 * ends short, makes nothing, fails or is read backwards says so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unistd.h>

#include "mf_fs.h"
#include "mf_pcm.h"
#include "mf_pipe.h"
#include "mf_store.h"
#include "test_store_dir.h"

#define START 700
#define BLOCK 333 /* frames a produce() writes */

static const float s_gains[2][MF_PCM_GAINS] = {{0.70710677f, 0.56234133f, 1.0f},
                                               {0.3f, 0.56234133f, 0.1f}};

static float sample_at(int64_t i, int c)
{
    return ((float)i + 0.25f + 0.5f * (float)c) * 1e-3f;
}

typedef struct {
    mf_pcm_writer_t *w;
    int ch;                   /* stored channels */
    int64_t at, frames, made; /* made: frames it writes before its end */
    mf_err_t fail_at_end;     /* produce() fails past made instead of ending */
    int stall;                /* produce() writes nothing */
} producer_t;

static mf_err_t s_produce(void *ctx)
{
    producer_t *p = ctx;
    if (p->stall) return MF_OK;
    if (p->at >= p->made) {
        if (p->fail_at_end) return p->fail_at_end;
        mf_hash_t none;
        const mf_err_t err = mf_pcm_writer_commit(p->w, &none);
        p->w = NULL;
        return err;
    }
    float buf[2 * BLOCK];
    const size_t k = (size_t)(p->made - p->at < BLOCK ? p->made - p->at : BLOCK);
    for (size_t j = 0; j < k; j++)
        for (int c = 0; c < p->ch; c++)
            buf[j * (size_t)p->ch + (size_t)c] = sample_at(p->at + (int64_t)j, c);
    p->at += (int64_t)k;
    return mf_pcm_writer_write(p->w, buf, k);
}

typedef test_store_dir_t fixture_t;

static int setup(void **state)
{
    return test_store_dir_setup(state, "mf-pipe", NULL);
}

static int teardown(void **state)
{
    return test_store_dir_teardown(state);
}

/* kind 0 mono, 1 stereo, 2 panned mono, 3 mono viewed, 4 stereo viewed. */
static int s_stored(int kind)
{
    return kind == 1 || kind == 4 ? 2 : 1;
}

/* The signal of kind as a blob. */
static void s_blob(mf_store_t *s, int kind, int64_t frames, mf_hash_t *h)
{
    mf_hash_t name;
    char text[32];
    snprintf(text, sizeof text, "pipe kind %d %lld", kind, (long long)frames);
    mf_hash_bytes(text, strlen(text), &name);
    float g[2][MF_PCM_GAINS];
    memcpy(g, s_gains, sizeof g);
    producer_t p = {.ch = s_stored(kind), .frames = frames, .made = frames};
    p.w = kind == 2 ? mf_pcm_writer_new_panned(s, &name, g, 48000, START)
                    : mf_pcm_writer_new_named(s, &name, p.ch, 48000, START);
    assert_non_null(p.w);
    while (p.at < frames) assert_int_equal(s_produce(&p), MF_OK);
    assert_int_equal(mf_pcm_writer_commit(p.w, h), MF_OK);
}

/* The same signal through a pipe: *pipe and *p set up, the reader open. */
static void s_piped(int kind, int64_t frames, producer_t *p, mf_pipe_t **pipe, mf_pcm_reader_t **r)
{
    float g[2][MF_PCM_GAINS];
    memcpy(g, s_gains, sizeof g);
    *p = (producer_t){.ch = s_stored(kind), .frames = frames, .made = frames};
    *pipe = mf_pipe_new(s_produce, p);
    assert_non_null(*pipe);
    p->w = mf_pcm_writer_new_pipe(*pipe, p->ch, kind == 2 ? g : NULL, 48000, START);
    assert_non_null(p->w);
    assert_int_equal(mf_pcm_reader_open_pipe(*pipe, p->w, frames, r), MF_OK);
}

static void s_view(int kind, mf_pcm_reader_t *r)
{
    float g[2][MF_PCM_GAINS];
    memcpy(g, s_gains, sizeof g);
    if (kind >= 3) assert_int_equal(mf_pcm_reader_view(r, g), MF_OK);
}

/* mode 0: read_span, 1: add_span, 2: span (a pointer). */
static void s_compare(fixture_t *f, int kind, int64_t frames, size_t span, int mode)
{
    mf_hash_t h;
    s_blob(f->store, kind, frames, &h);
    mf_pcm_reader_t *a, *b;
    assert_int_equal(mf_pcm_reader_open(f->store, &h, &a), MF_OK);
    producer_t p;
    mf_pipe_t *pipe;
    s_piped(kind, frames, &p, &pipe, &b);
    s_view(kind, a), s_view(kind, b);
    const mf_pcm_info_t *ia = mf_pcm_reader_info(a), *ib = mf_pcm_reader_info(b);
    assert_int_equal(ia->channels, ib->channels);
    assert_int_equal(ia->rate, ib->rate);
    assert_int_equal(ia->start, ib->start);
    assert_int_equal(ia->frames, ib->frames);
    const size_t n = span * (size_t)ia->channels;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *bx = malloc(n * sizeof *bx);
    float *by = malloc(n * sizeof *by);
    assert_true(x && y && bx && by);
    for (int64_t t = 0; t < START + frames + 2 * (int64_t)span; t += (int64_t)span) {
        const float *px = x, *py = y;
        for (size_t i = 0; i < n; i++) x[i] = y[i] = 0.25f + (float)(i % 1000) * 1e-4f;
        mf_err_t ea = MF_OK, eb = MF_OK;
        if (mode == 0) {
            ea = mf_pcm_reader_read_span(a, t, span, x),
            eb = mf_pcm_reader_read_span(b, t, span, y);
        } else if (mode == 1) {
            ea = mf_pcm_reader_add_span(a, t, span, x), eb = mf_pcm_reader_add_span(b, t, span, y);
        } else {
            px = mf_pcm_reader_span(a, t, span, bx, &ea),
            py = mf_pcm_reader_span(b, t, span, by, &eb);
        }
        assert_int_equal(ea, MF_OK);
        assert_int_equal(eb, MF_OK);
        if (memcmp(px, py, n * sizeof *px))
            fail_msg("kind %d, mode %d, span %zu at %lld: the pipe reads otherwise", kind, mode,
                     span, (long long)t);
    }
    free(x), free(y), free(bx), free(by);
    mf_pcm_reader_free(&a);
    mf_pcm_reader_free(&b);
    mf_pcm_writer_abort(p.w); /* ended already when it was all read */
    mf_pipe_free(&pipe);
}

static void test_pipe_reads_as_the_blob(void **state)
{
    for (int kind = 0; kind < 5; kind++)
        for (int mode = 0; mode < 3; mode++) {
            s_compare(*state, kind, 5000, 1021, mode);
            s_compare(*state, kind, 100000, 40009, mode); /* spans past the 128 KB window */
            s_compare(*state, kind, 0, 512, mode);        /* nothing at all */
        }
}

/* The pipe's own failures. */
static void test_pipe_failures(void **state)
{
    (void)state;
    float out[2 * 4096];
    producer_t p;
    mf_pipe_t *pipe;
    mf_pcm_reader_t *r;
    /* It ends short of what its reader was told. */
    s_piped(0, 10000, &p, &pipe, &r);
    p.made = 9000;
    assert_int_equal(mf_pcm_reader_read_span(r, START, 4096, out), MF_OK);
    assert_int_equal(mf_pcm_reader_read_span(r, START + 8192, 4096, out), MF_ERR_CORRUPT);
    mf_pcm_reader_free(&r);
    mf_pcm_writer_abort(p.w);
    mf_pipe_free(&pipe);
    /* It fails: its error is the read's. */
    s_piped(1, 10000, &p, &pipe, &r);
    p.made = 2000, p.fail_at_end = MF_ERR_IO;
    assert_int_equal(mf_pcm_reader_read_span(r, START, 4096, out), MF_ERR_IO);
    mf_pcm_reader_free(&r);
    mf_pcm_writer_abort(p.w);
    mf_pipe_free(&pipe);
    /* It makes nothing: no endless loop. */
    s_piped(0, 10000, &p, &pipe, &r);
    p.stall = 1;
    assert_int_equal(mf_pcm_reader_read_span(r, START, 16, out), MF_ERR_CORRUPT);
    mf_pcm_reader_free(&r);
    mf_pcm_writer_abort(p.w);
    mf_pipe_free(&pipe);
    /* Read backwards: refused, at the pipe and at the reader. */
    pipe = mf_pipe_new(s_produce, &p);
    assert_non_null(pipe);
    unsigned char bytes[64] = {0}, got[8];
    assert_int_equal(mf_pipe_write(pipe, bytes, sizeof bytes), MF_OK);
    assert_int_equal(mf_pipe_read(pipe, got, 8, 32), MF_OK);
    assert_int_equal(mf_pipe_read(pipe, got, 8, 16), MF_ERR_INVALID);
    mf_pipe_end(pipe);
    assert_int_equal(mf_pipe_write(pipe, bytes, 8), MF_ERR_INVALID);  /* ended */
    assert_int_equal(mf_pipe_read(pipe, got, 8, 60), MF_ERR_CORRUPT); /* past its end */
    mf_pipe_free(&pipe);
    /* A reader is opened on its own pipe's writer only. */
    s_piped(0, 100, &p, &pipe, &r);
    mf_pipe_t *other = mf_pipe_new(s_produce, &p);
    mf_pcm_reader_t *r2 = NULL;
    assert_int_equal(mf_pcm_reader_open_pipe(other, p.w, 100, &r2), MF_ERR_INVALID);
    assert_null(r2);
    mf_pipe_free(&other);
    mf_pcm_reader_free(&r);
    mf_pcm_writer_abort(p.w);
    mf_pipe_free(&pipe);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pipe_reads_as_the_blob, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipe_failures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
