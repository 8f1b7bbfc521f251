/* Convolution: the partitioned FFT convolver (dsp/mf_conv.c) against direct
 * convolution in double (relative error < 1e-5) for IR lengths around every
 * partition boundary, in random block sizes; and the reverb's convolution
 * mode (ir): impulse in -> the IR out, normalize to unit energy, channel
 * mapping of mono and stereo IRs, mix, tail. Prints the cost of a 10 s IR. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dsp_test_util.h"
#include "mf_conv.h"

#include <stdio.h>
#include <time.h>

#define FS 48000.0

static uint32_t s_rng = 12345;
static float rnd(void)
{
    s_rng = s_rng * 1664525u + 1013904223u;
    return (float)((double)s_rng / 4294967296.0 - 0.5);
}

/* Direct convolution at output t, in double. */
static double direct(const float *h, size_t nh, const float *x, size_t nx, size_t t)
{
    double acc = 0;
    for (size_t k = 0; k < nh && k <= t; k++)
        if (t - k < nx) acc += (double)h[k] * x[t - k];
    return acc;
}

/* Runs an IR of nh taps over nx samples of noise (then silence to the end of
 * the tail) in random blocks; checks every output (or every step-th, for
 * long ones) against direct convolution. Returns the relative error. */
static double check_len(size_t nh, size_t nx, size_t step)
{
    const size_t ny = nx + nh - 1;
    float *h = malloc(nh * sizeof *h), *x = calloc(ny, sizeof *x), *y = malloc(ny * sizeof *y);
    assert_true(h && x && y);
    /* A decaying noise, like a room's response. */
    for (size_t i = 0; i < nh; i++) h[i] = rnd() * (float)exp(-3.0 * (double)i / (double)nh);
    for (size_t i = 0; i < nx; i++) x[i] = rnd();
    mf_conv_ir_t *ir = mf_conv_ir_new(h, nh, 1, 1.0f);
    assert_non_null(ir);
    assert_int_equal(mf_conv_ir_taps(ir), nh);
    mf_conv_t *c = mf_conv_new(ir);
    assert_non_null(c);
    for (size_t i = 0; i < ny;) {
        size_t n = 1 + (size_t)((rnd() + 0.5f) * 700.0f);
        if (n > ny - i) n = ny - i;
        mf_conv_process(c, x + i, y + i, n, 1); /* in place would do too */
        i += n;
    }
    double err = 0, ref = 0;
    for (size_t t = 0; t < ny; t += (t < 4096 ? 1 : step)) {
        const double d = direct(h, nh, x, nx, t);
        err = fmax(err, fabs(y[t] - d));
        ref = fmax(ref, fabs(d));
    }
    mf_conv_free(&c);
    mf_conv_ir_free(&ir);
    free(h), free(x), free(y);
    return err / ref;
}

static void test_partitioned_equals_direct(void **state)
{
    (void)state;
    /* Every level starts at a power of two (the head's 64 taps, times 8
     * per level); where a level takes every remaining tap instead of
     * opening the next depends on the length, so lengths between too. */
    for (size_t p = 1; p <= 16384; p *= 2)
        for (size_t d = 0; d < 3; d++) {
            const size_t nh = p + d - 1 ? p + d - 1 : 1;
            const double e = check_len(nh, 3000 + nh, 1);
            if (!(e < 1e-5)) fail_msg("%zu taps: relative error %.3g", nh, e);
        }
    static const size_t lens[] = {3000, 5000, 7000, 12000, 20000, 32769};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        const double e = check_len(lens[i], 3000 + lens[i], 1);
        if (!(e < 1e-5)) fail_msg("%zu taps: relative error %.3g", lens[i], e);
    }
    /* Longer: 48000 (a 1 s IR, whose last level takes 11 partitions of
     * 4096) and 100000 taps (past the largest block), every 7th output
     * checked. */
    static const size_t big[] = {48000, 100000};
    for (size_t i = 0; i < 2; i++) {
        const double e = check_len(big[i], 40000, 7);
        printf("%zu taps: relative error %.3g\n", big[i], e);
        assert_true(e < 1e-5);
    }
}

static void test_stride_and_in_place(void **state)
{
    (void)state;
    enum { NH = 3000, NX = 9000 };
    static float h[NH], x[2 * NX], y[NX];
    for (size_t i = 0; i < NH; i++) h[i] = rnd();
    for (size_t i = 0; i < 2 * NX; i++) x[i] = rnd();
    mf_conv_ir_t *ir = mf_conv_ir_new(h, NH, 1, 2.0f);
    mf_conv_t *a = mf_conv_new(ir), *b = mf_conv_new(ir);
    assert_true(ir && a && b);
    for (size_t i = 0; i < NX; i++) y[i] = x[2 * i + 1];
    mf_conv_process(b, y, y, NX, 1);         /* contiguous, in place */
    mf_conv_process(a, x + 1, x + 1, NX, 2); /* odd samples of interleaved, in place */
    for (size_t i = 0; i < NX; i++) assert_true(x[2 * i + 1] == y[i]);
    mf_conv_free(&a), mf_conv_free(&b), mf_conv_ir_free(&ir);
}

/* The reverb in convolution mode with an IR of the given channels. */
static void make_verb(tp_t *p, int ch, const float *ir, size_t n, int irch, double mix, int norm)
{
    tp_init(p, "reverb", 0, FS, ch);
    tp_set(p, "mix", mix);
    tp_set(p, "normalize", norm);
    assert_non_null(tp_create_aux(p, ir, n, irch));
}

static void test_reverb_ir(void **state)
{
    (void)state;
    enum { N = 5000 };
    static float ir[2 * N], buf[2 * 3 * N];
    double e = 0;
    for (size_t i = 0; i < N; i++) {
        ir[2 * i] = 0.5f * rnd() * (float)exp(-4.0 * i / N);
        ir[2 * i + 1] = 0.5f * rnd() * (float)exp(-4.0 * i / N);
        e += ir[2 * i] * (double)ir[2 * i] + ir[2 * i + 1] * (double)ir[2 * i + 1];
    }
    e /= 2;

    /* Stereo IR, stereo signal: an impulse on each side gives that side's IR. */
    tp_t p;
    make_verb(&p, 2, ir, N, 2, 1.0, 0);
    assert_int_equal(p.cls->tail_frames(p.st), N);
    memset(buf, 0, sizeof buf);
    buf[0] = 1.0f, buf[2 * 10 + 1] = 1.0f; /* left at 0, right at 10 */
    tp_run(&p, buf, 3 * N, NULL, 333);
    for (size_t i = 0; i < N; i++) {
        assert_true(fabsf(buf[2 * i] - ir[2 * i]) < 1e-6f);
        assert_true(fabsf(buf[2 * (i + 10) + 1] - ir[2 * i + 1]) < 1e-6f);
    }
    /* After the tail: FFT rounding noise at most, then exact silence. */
    for (size_t i = N + 10; i < 3 * N; i++)
        assert_true(fabsf(buf[2 * i]) < 1e-6f && fabsf(buf[2 * i + 1]) < 1e-6f);
    assert_true(buf[2 * (3 * N - 1)] == 0.0f && buf[2 * (3 * N - 1) + 1] == 0.0f);
    tp_free(&p);

    /* Normalized: unit energy, averaged over the IR's channels. */
    make_verb(&p, 2, ir, N, 2, 1.0, 1);
    memset(buf, 0, sizeof buf);
    buf[0] = buf[1] = 1.0f;
    tp_run(&p, buf, 3 * N, NULL, 1024);
    double out = 0;
    for (size_t i = 0; i < 2 * 3 * N; i++) out += buf[i] * (double)buf[i];
    printf("IR energy %.4f; normalized output energy %.6f\n", e, out / 2);
    assert_true(fabs(out / 2 - 1.0) < 1e-4);
    tp_free(&p);

    /* Mono signal, stereo IR: the mid. Mix 0.5: half dry, half wet. */
    make_verb(&p, 1, ir, N, 2, 0.5, 0);
    memset(buf, 0, sizeof buf);
    buf[0] = 1.0f;
    tp_run(&p, buf, 2 * N, NULL, 4096);
    for (size_t i = 0; i < N; i++) {
        const float want = 0.5f * (i == 0) + 0.5f * 0.5f * (ir[2 * i] + ir[2 * i + 1]);
        assert_true(fabsf(buf[i] - want) < 1e-6f);
    }
    tp_free(&p);

    /* Mono IR, stereo signal: both sides with the same IR. */
    static float mono[N];
    for (size_t i = 0; i < N; i++) mono[i] = ir[2 * i];
    make_verb(&p, 2, mono, N, 1, 1.0, 0);
    memset(buf, 0, sizeof buf);
    buf[0] = 1.0f, buf[1] = -1.0f;
    tp_run(&p, buf, 2 * N, NULL, 64);
    for (size_t i = 0; i < N; i++)
        assert_true(fabsf(buf[2 * i] - mono[i]) < 1e-6f && fabsf(buf[2 * i + 1] + mono[i]) < 1e-6f);
    tp_free(&p);
}

static void test_cost_10s(void **state)
{
    (void)state;
    const size_t nh = (size_t)(10 * FS), nx = (size_t)(10 * FS);
    float *ir = malloc(2 * nh * sizeof *ir), *buf = malloc(2 * nx * sizeof *buf);
    assert_true(ir && buf);
    for (size_t i = 0; i < 2 * nh; i++) ir[i] = rnd() * (float)exp(-6.9 * (double)(i / 2) / nh);
    for (size_t i = 0; i < 2 * nx; i++) buf[i] = rnd();
    tp_t p;
    struct timespec t0, t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    make_verb(&p, 2, ir, nh, 2, 0.3, 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    tp_run(&p, buf, nx, NULL, 1024);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    tp_free(&p);
    const double make = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    const double run = (double)(t2.tv_sec - t1.tv_sec) + 1e-9 * (double)(t2.tv_nsec - t1.tv_nsec);
    printf(
        "10 s stereo IR: made in %.3f s; 10 s of stereo audio in %.3f s (%.1f ns/sample/channel)\n",
        make, run, 1e9 * run / (2.0 * (double)nx));
    free(ir), free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partitioned_equals_direct),
        cmocka_unit_test(test_stride_and_in_place),
        cmocka_unit_test(test_reverb_ir),
        cmocka_unit_test(test_cost_10s),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
