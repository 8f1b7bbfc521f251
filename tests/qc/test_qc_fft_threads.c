/* FFTW plans made and destroyed from many threads at once, as an embedded
 * farm's workers do (a spectrum in one, a convolution reverb, a long-term
 * spectrum or a reference match in others): every FFTW user goes through
 * dsp/mf_fft.h, one lock for the whole process. When one of them planned
 * under a lock of its own, two threads could be inside FFTW's planner
 * together, which AddressSanitizer caught as a double free inside
 * fftwf_plan_dft_r2c in a render. Each thread also checks that the plans
 * it gets compute what they should. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mf_conv.h"
#include "mf_ltas.h"
#include "mf_match.h"
#include "mf_spectrum.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#define THREADS 8
#define ROUNDS 40

/* A convolver with a one-tap IR passes a signal through: its plans work. */
static int s_conv_passes(void)
{
    const float h[1] = {0.5f};
    mf_conv_ir_t *ir = mf_conv_ir_new(h, 1, 1, 1.0f);
    mf_conv_t *c = ir ? mf_conv_new(ir) : NULL;
    int ok = c != NULL;
    float x[256], y[256];
    for (int i = 0; i < 256; i++) x[i] = (float)((i * 37) % 101) / 101.0f;
    if (ok) mf_conv_process(c, x, y, 256, 1);
    for (int i = 0; ok && i < 256; i++) ok = fabsf(y[i] - 0.5f * x[i]) < 1e-5f;
    mf_conv_free(&c);
    mf_conv_ir_free(&ir);
    return ok;
}

static void *s_worker(void *arg)
{
    int *ok = arg;
    for (int r = 0; r < ROUNDS && *ok; r++) {
        mf_spectrum_t *s = mf_spectrum_new(48000.0 + 100.0 * (r % 3), r & 1);
        mf_ltas_t *l = mf_ltas_new(2, 44100.0 + 100.0 * (r % 5));
        float taps[300];
        for (int i = 0; i < 300; i++) taps[i] = i == 0 ? 1.0f : 0.0f;
        mf_fftconv_t *fc = mf_fftconv_new(taps, 300, 64 << (r % 3));
        *ok = s && l && fc && s_conv_passes();
        mf_fftconv_free(&fc);
        mf_ltas_free(&l);
        mf_spectrum_free(&s);
    }
    return NULL;
}

static void test_plans_from_many_threads(void **state)
{
    (void)state;
    pthread_t t[THREADS];
    int ok[THREADS];
    for (int i = 0; i < THREADS; i++) {
        ok[i] = 1;
        assert_int_equal(pthread_create(&t[i], NULL, s_worker, &ok[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++)
        if (!ok[i]) fail_msg("thread %d: a plan failed or computed wrong", i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plans_from_many_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
