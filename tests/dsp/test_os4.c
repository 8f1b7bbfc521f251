/* The 4x oversampler (dsp/mf_os4.c) against analytic truth: a sine in the
 * passband comes out of the interpolator as the same sine sampled at the
 * quarter frames (MF_OS4_UP_DELAY late), and out of the interpolator and
 * decimator as the input MF_OS4_LATENCY frames late; a constant passes at
 * unity gain. Run through every kernel table this CPU has, in blocks of
 * several sizes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mf_os4.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define FS 48000.0
#define FRAMES 6000

static double s_sine(double f, double t)
{
    return 0.5 * sin(2.0 * M_PI * f / FS * t);
}

/* Worst errors of the 4x signal and of the round trip for a sine at f. */
static void run(const mf_dsp_kernels_t *k, double f, size_t block, double *up_err, double *rt_err)
{
    static mf_os4_filter_t flt;
    static mf_os4_chan_t c;
    static float x[FRAMES], out[MF_OS4_BLOCK];
    mf_os4_filter_init(&flt, k);
    memset(&c, 0, sizeof c);
    for (size_t i = 0; i < FRAMES; i++) x[i] = (float)s_sine(f, (double)i);
    *up_err = *rt_err = 0;
    for (size_t at = 0; at < FRAMES; at += block) {
        const size_t n = FRAMES - at < block ? FRAMES - at : block;
        mf_os4_up(&flt, &c, x + at, 1, n);
        for (size_t i = 0; i < n; i++) {
            const double t = (double)(at + i) - MF_OS4_UP_DELAY;
            if (t < 100) continue; /* the filter's start */
            for (int p = 0; p < 4; p++)
                *up_err = fmax(*up_err, fabs(mf_os4_phase(&c, p)[i] - s_sine(f, t + p / 4.0)));
        }
        mf_os4_down(&flt, &c, out);
        for (size_t i = 0; i < n; i++) {
            const double t = (double)(at + i) - MF_OS4_LATENCY;
            if (t >= 100) *rt_err = fmax(*rt_err, fabs(out[i] - s_sine(f, t)));
        }
    }
}

static void test_sines(void **state)
{
    (void)state;
    static const double freqs[] = {50.0, 1000.0, 9000.0, 17000.0};
    static const size_t blocks[] = {MF_OS4_BLOCK, 1, 77};
    for (int isa = 0; isa < MF_ISA_COUNT; isa++) {
        const mf_dsp_kernels_t *k = mf_dsp_kernels_for((mf_isa_t)isa);
        if (!k) continue;
        for (size_t fi = 0; fi < sizeof freqs / sizeof freqs[0]; fi++)
            for (size_t bi = 0; bi < sizeof blocks / sizeof blocks[0]; bi++) {
                double up, rt;
                run(k, freqs[fi], blocks[bi], &up, &rt);
                if (bi == 0)
                    printf("os4 %-6s %5.0f Hz: 4x signal within %.2g, round trip within %.2g\n",
                           k->name, freqs[fi], up, rt);
                /* of 0.5; the passband's ripple (measured: 1.1e-5 at most) */
                assert_true(up < 5e-5);
                assert_true(rt < 5e-5);
            }
    }
}

/* Unity gain at DC on every phase. */
static void test_dc(void **state)
{
    (void)state;
    static mf_os4_filter_t flt;
    static mf_os4_chan_t c;
    static float x[MF_OS4_BLOCK], out[MF_OS4_BLOCK];
    mf_os4_filter_init(&flt, NULL);
    for (size_t i = 0; i < MF_OS4_BLOCK; i++) x[i] = 1.0f;
    for (int b = 0; b < 2; b++) mf_os4_up(&flt, &c, x, 1, MF_OS4_BLOCK), mf_os4_down(&flt, &c, out);
    for (int p = 0; p < 4; p++) assert_true(fabs(mf_os4_phase(&c, p)[100] - 1.0) < 1e-4);
    assert_true(fabs(out[100] - 1.0) < 1e-4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sines), cmocka_unit_test(test_dc)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
