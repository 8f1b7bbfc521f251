/* width, saturation, delay and reverb against analytic truth: width 0 is
 * exact mono; saturation aliasing stays far below the fundamental; delay is
 * exact to the sample (time, note at tempo, ping-pong) and passes DC at
 * unity however high its feedback; the reverb's decay
 * (Schroeder integration) matches decay_s, and it passes no DC. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dsp_test_util.h"

#include <fftw3.h>
#include <stdio.h>

#define FS 48000.0
#define N 96000
static float s_buf[2 * 5 * N], s_in[2 * N];

static void test_width(void **state)
{
    (void)state;
    for (size_t i = 0; i < 2 * N; i++) s_in[i] = (float)sin(0.001 * (double)i * (double)(i % 7));
    const double amounts[] = {0, 1};
    for (int a = 0; a < 2; a++) {
        tp_t p;
        tp_init(&p, "width", 0, FS, 2);
        tp_set(&p, "amount", amounts[a]);
        tp_set(&p, "mono_below_hz", a ? 0 : 120);
        assert_non_null(tp_create(&p));
        memcpy(s_buf, s_in, sizeof(float) * 2 * N);
        tp_run(&p, s_buf, N, NULL, 4096);
        tp_free(&p);
        for (size_t i = 0; i < N; i++) {
            if (a == 0)
                assert_true(s_buf[2 * i] == s_buf[2 * i + 1]);
            else
                assert_true(fabsf(s_buf[2 * i] - s_in[2 * i]) < 1e-6f);
        }
    }
    tp_t p; /* mono: untouched */
    tp_init(&p, "width", 0, FS, 1);
    tp_set(&p, "amount", 2);
    assert_non_null(tp_create(&p));
    memcpy(s_buf, s_in, sizeof(float) * N);
    tp_run(&p, s_buf, N, NULL, 4096);
    tp_free(&p);
    assert_memory_equal(s_buf, s_in, sizeof(float) * N);
}

/* A 10 kHz sine (bin-centred in a 16384 FFT) through drive 12 dB: every
 * component not at a harmonic below Nyquist is aliasing. */
static void test_saturation_alias(void **state)
{
    (void)state;
    const size_t nfft = 16384, bin = 3413, skip = 4096;
    const double f0 = FS * (double)bin / (double)nfft;
    tp_t p;
    tp_init(&p, "saturation", 0, FS, 1);
    tp_set(&p, "drive_db", 12);
    assert_non_null(tp_create(&p));
    fill_sine(s_buf, skip + nfft, 1, f0, FS, 0.5);
    tp_run(&p, s_buf, skip + nfft, NULL, 4096);
    tp_free(&p);
    float *in = fftwf_alloc_real(nfft);
    fftwf_complex *out = fftwf_alloc_complex(nfft / 2 + 1);
    fftwf_plan pl = fftwf_plan_dft_r2c_1d((int)nfft, in, out, FFTW_ESTIMATE);
    memcpy(in, s_buf + skip, nfft * sizeof *in);
    fftwf_execute(pl);
    double fund = 0, alias = 0, harm = 0;
    for (size_t k = 1; k <= nfft / 2; k++) {
        const double pw = (double)out[k][0] * out[k][0] + (double)out[k][1] * out[k][1];
        if (k == bin)
            fund = pw;
        else if (k % bin == 0)
            harm += pw;
        else
            alias = fmax(alias, pw);
    }
    fftwf_destroy_plan(pl), fftwf_free(in), fftwf_free(out);
    printf("saturation: harmonics below Nyquist %.1f dB, worst alias %.1f dB re fundamental\n",
           10 * log10(harm / fund), 10 * log10(alias / fund));
    assert_true(10 * log10(alias / fund) < -80);
    /* Unoversampled tanh would fold its 3rd harmonic (30 kHz) to 18 kHz at about -20 dB. */
}

static void test_delay(void **state)
{
    (void)state;
    tp_t p;
    tp_init(&p, "delay", 0, FS, 2);
    tp_set(&p, "time_ms", 10);
    tp_set(&p, "feedback", 0.5);
    tp_set(&p, "mix", 1);
    assert_non_null(tp_create(&p));
    memset(s_buf, 0, sizeof(float) * 2 * 4000);
    s_buf[200] = s_buf[201] = 1; /* frame 100 */
    tp_run(&p, s_buf, 4000, NULL, 333);
    const size_t tail = p.cls->tail_frames(p.st);
    tp_free(&p);
    /* Echoes at 10 ms, each half the one before: the first is the input to
     * the sample; the later ones went through the loop's 5 Hz highpass,
     * which leaves a tail of a few 1e-4 and moves them as little. */
    for (size_t i = 0; i < 4000; i++) {
        const float want =
            i >= 580 && (i - 580) % 480 == 0 ? ldexpf(1, -(int)((i - 580) / 480)) : 0;
        const float tol = i <= 580 ? 0 : 1e-3f;
        if (fabsf(s_buf[2 * i] - want) > tol || fabsf(s_buf[2 * i + 1] - want) > tol)
            fail_msg("delay frame %zu: %g %g, expected %g", i, s_buf[2 * i], s_buf[2 * i + 1],
                     want);
    }
    assert_int_equal(tail, 16 * 480); /* 0.5^15 is the first echo 90 dB down */
    /* note 1/8. at 120 bpm = 0.375 s; ping-pong alternates sides. */
    tp_init(&p, "delay", 0, FS, 2);
    tp_sets(&p, "note", "1/8.");
    tp_set(&p, "ping_pong", 1);
    tp_set(&p, "feedback", 0.5);
    tp_set(&p, "mix", 1);
    assert_non_null(tp_create(&p));
    memset(s_buf, 0, sizeof(float) * 2 * 40000);
    s_buf[0] = s_buf[1] = 1;
    tp_run(&p, s_buf, 40000, NULL, 4096);
    tp_free(&p);
    assert_true(s_buf[2 * 18000] == 1.0f && s_buf[2 * 18000 + 1] == 0.0f);
    assert_true(s_buf[2 * 36000] == 0.0f && fabsf(s_buf[2 * 36000 + 1] - 0.5f) < 1e-3f);
    /* DC, fed back at 0.99 for 3 s: the echoes hold the input's own level
     * (0.01), where the loop's gain at DC, 100, took it towards 1. */
    tp_init(&p, "delay", 0, FS, 2);
    tp_set(&p, "time_ms", 50);
    tp_set(&p, "feedback", 0.99);
    tp_set(&p, "mix", 1);
    assert_non_null(tp_create(&p));
    for (size_t i = 0; i < 2 * 3 * (size_t)FS; i++) s_buf[i] = 0.01f;
    tp_run(&p, s_buf, 3 * (size_t)FS, NULL, 4096);
    tp_free(&p);
    double mean = 0;
    for (size_t i = 2 * (size_t)(2.5 * FS); i < 2 * 3 * (size_t)FS; i++) mean += s_buf[i];
    mean /= FS;
    printf("delay at feedback 0.99: DC 0.01 in, %.4f out\n", mean);
    assert_true(mean > 0.008 && mean < 0.012);
}

/* RT60 from the Schroeder energy decay curve of the impulse response:
 * T20 (the -5 to -25 dB span) times 3. */
static void test_reverb_rt60(void **state)
{
    (void)state;
    static const char *const models[] = {"room", "hall", "plate"};
    const double decay = 1.5;
    const size_t n = 3 * N;
    for (int m = 0; m < 3; m++) {
        tp_t p;
        tp_init(&p, "reverb", 0, FS, 2);
        tp_sets(&p, "model", models[m]);
        tp_set(&p, "decay_s", decay);
        tp_set(&p, "damping", 0);
        tp_set(&p, "mix", 1);
        assert_non_null(tp_create(&p));
        memset(s_buf, 0, sizeof(float) * 2 * n);
        s_buf[0] = s_buf[1] = 1;
        tp_run(&p, s_buf, n, NULL, 4096);
        const size_t tail = p.cls->tail_frames(p.st);
        tp_free(&p);
        double *edc = malloc(n * sizeof *edc), acc = 0;
        for (size_t i = n; i-- > 0;)
            edc[i] = acc +=
                (double)s_buf[2 * i] * s_buf[2 * i] + (double)s_buf[2 * i + 1] * s_buf[2 * i + 1];
        size_t t5 = 0, t25 = 0;
        for (size_t i = 0; i < n; i++) {
            const double l = 10 * log10(edc[i] / edc[0]);
            if (!t5 && l <= -5) t5 = i;
            if (!t25 && l <= -25) t25 = i;
        }
        free(edc);
        const double rt = 3.0 * (double)(t25 - t5) / FS;
        printf("reverb %-5s: RT60 %.2f s measured for decay_s %.2f; tail %.2f s\n", models[m], rt,
               decay, (double)tail / FS);
        assert_true(fabs(rt - decay) < 0.15 * decay);
        assert_true(tail >= (size_t)(1.5 * decay * FS));
    }
}

/* DC into the network: out after its highpass. A source with a slight
 * offset came out of a plate (wet) with the offset 15 dB louder, and the
 * master failed its DC check; the wet signal's mean over its last second
 * is now under a thousandth of the offset (it decays as the 10 Hz pole's
 * 16 ms time constant and the network's decay). */
static void test_reverb_blocks_dc(void **state)
{
    (void)state;
    static const char *const models[] = {"room", "hall", "plate"};
    const size_t n = 3 * N;
    for (int m = 0; m < 3; m++) {
        tp_t p;
        tp_init(&p, "reverb", 0, FS, 2);
        tp_sets(&p, "model", models[m]);
        tp_set(&p, "decay_s", 2.5);
        tp_set(&p, "mix", 1);
        assert_non_null(tp_create(&p));
        for (size_t i = 0; i < 2 * n; i++) s_buf[i] = 0.01f;
        tp_run(&p, s_buf, n, NULL, 4096);
        tp_free(&p);
        double mean = 0;
        for (size_t i = n - N / 2; i < n; i++) mean += s_buf[2 * i] + s_buf[2 * i + 1];
        mean /= (double)N;
        printf("reverb %-5s: DC 0.01 in, %.2e out (wet)\n", models[m], mean);
        assert_true(fabs(mean) < 1e-5);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_width),
        cmocka_unit_test(test_saturation_alias),
        cmocka_unit_test(test_delay),
        cmocka_unit_test(test_reverb_rt60),
        cmocka_unit_test(test_reverb_blocks_dc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
