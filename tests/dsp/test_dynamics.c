/* gate and limiter: gate range and unity when open; the limiter's output
 * true peak, measured here with an independent 16x windowed-sinc
 * interpolator, never exceeds the ceiling, and a quiet signal passes
 * unchanged apart from the reported latency; slow falls over the ceiling
 * (a 40 Hz tone) with every look-ahead of the range. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dsp_test_util.h"
#include "mf_biquad.h"

#include <fftw3.h>
#include <stdio.h>

#define FS 48000.0
#define N 96000
static float s_buf[2 * N], s_in[2 * N], s_noise[2 * N];

static void test_gate(void **state)
{
    (void)state;
    tp_t p;
    tp_init(&p, "gate", 0, FS, 2);
    tp_set(&p, "threshold_db", -50);
    tp_set(&p, "range_db", -40);
    tp_set(&p, "release_ms", 20);
    assert_non_null(tp_create(&p));
    for (size_t i = 0; i < N; i++) {
        const float a = i < N / 2 ? 0.0316f : 0.000316f; /* -30 dBFS, then -70 */
        s_buf[2 * i] = s_buf[2 * i + 1] = a * (float)sin(2 * M_PI * 1000 * (double)i / FS);
    }
    tp_run(&p, s_buf, N, NULL, 4096);
    tp_free(&p);
    const double open = db(tone_amp(s_buf + 2 * 24000, 24000, 2, 1000, FS) / 0.0316);
    const double closed = db(tone_amp(s_buf + 2 * 72000, 24000, 2, 1000, FS) / 0.000316);
    printf("gate: open %.3f dB, closed %.3f dB (range -40)\n", open, closed);
    assert_true(fabs(open) < 0.01);
    assert_true(fabs(closed + 40) < 0.1);
}

/* True peak by 16x band-limited interpolation, done independently of the
 * limiter: zero-padded FFTs (FFTW) of 8192-sample segments, keeping only the
 * middle 6144 samples of each where edge effects have died out. */
#define SEG 8192
#define EDGE 1024
#define UP 16
static double true_peak(const float *x, size_t n, size_t stride)
{
    float *in = fftwf_alloc_real(SEG), *out = fftwf_alloc_real(SEG * UP);
    fftwf_complex *spec = fftwf_alloc_complex(SEG * UP / 2 + 1);
    fftwf_plan fw = fftwf_plan_dft_r2c_1d(SEG, in, spec, FFTW_ESTIMATE);
    fftwf_plan bw = fftwf_plan_dft_c2r_1d(SEG * UP, spec, out, FFTW_ESTIMATE);
    double peak = 0;
    for (size_t s = 0; s + SEG <= n; s += SEG - 2 * EDGE) {
        for (size_t i = 0; i < SEG; i++) in[i] = x[(s + i) * stride];
        fftwf_execute(fw);
        memset(spec + SEG / 2 + 1, 0, sizeof(fftwf_complex) * (SEG * UP / 2 - SEG / 2));
        spec[SEG / 2][0] *= 0.5f, spec[SEG / 2][1] = 0; /* split the Nyquist bin */
        fftwf_execute(bw);
        for (size_t i = EDGE * UP; i < (SEG - EDGE) * UP; i++)
            peak = fmax(peak, fabs(out[i]) / SEG);
    }
    fftwf_destroy_plan(fw), fftwf_destroy_plan(bw);
    fftwf_free(in), fftwf_free(out), fftwf_free(spec);
    return peak;
}

static void test_limiter(void **state)
{
    (void)state;
    uint64_t r = 1;
    for (size_t i = 0; i < N; i++) { /* loud, bright, bursty */
        const double t = (double)i / FS, env = 0.6 + 0.8 * (fmod(t, 0.25) < 0.05);
        for (int c = 0; c < 2; c++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            const double noise = ((double)(r >> 11) / 9007199254740992.0 - 0.5) * 0.6;
            s_noise[2 * i + (size_t)c] = (float)(env * noise);
            s_buf[2 * i + (size_t)c] =
                (float)(env * (0.5 * sin(2 * M_PI * 110 * t + c) + 0.4 * sin(2 * M_PI * 3000 * t) +
                               0.3 * sin(2 * M_PI * 11025 * t + 0.7 * c) +
                               0.15 * sin(2 * M_PI * 17000 * t)));
        }
    }
    /* Band-limit the noise part like a real master: 8th-order lowpass at
     * 18 kHz (the 4x detector, like BS.1770 meters, reads content in the
     * last few kHz below Nyquist low). */
    for (int c = 0; c < 2; c++)
        for (int s = 0; s < 4; s++) {
            double k[5], z1 = 0, z2 = 0;
            mf_biquad_design(k, MF_BQ_LOWPASS, FS, 18000, 0, mf_butterworth_q(8, s));
            for (size_t i = 0; i < N; i++) {
                const double x = s_noise[2 * i + (size_t)c], y = k[0] * x + z1;
                z1 = k[1] * x + z2 - k[3] * y, z2 = k[2] * x - k[4] * y;
                s_noise[2 * i + (size_t)c] = (float)y;
            }
        }
    for (size_t i = 0; i < 2 * N; i++) s_buf[i] += s_noise[i];
    const double in_tp = fmax(true_peak(s_buf, N, 2), true_peak(s_buf + 1, N, 2));
    tp_t p;
    tp_init(&p, "limiter", 0, FS, 2);
    tp_set(&p, "ceiling_dbtp", -1);
    assert_non_null(tp_create(&p));
    tp_run(&p, s_buf, N, NULL, 1024);
    tp_free(&p);
    const double out_tp = fmax(true_peak(s_buf, N, 2), true_peak(s_buf + 1, N, 2));
    double sp = 0;
    for (size_t i = 0; i < 2 * N; i++) sp = fmax(sp, fabs(s_buf[i]));
    printf("limiter: input true peak %+.2f dBTP -> output %+.3f dBTP (sample peak %+.3f dBFS), "
           "ceiling -1\n",
           db(in_tp), db(out_tp), db(sp));
    assert_true(db(in_tp) > 4);
    assert_true(db(out_tp) <= -1.0);
    assert_true(db(out_tp) > -1.5); /* and it does not pump far below */

    /* Quiet signal: unchanged, late by the latency. */
    tp_init(&p, "limiter", 0, FS, 2);
    assert_non_null(tp_create(&p));
    const size_t lat = p.cls->latency_frames(p.st);
    fill_sine(s_buf, 4800, 2, 440, FS, 0.25);
    memcpy(s_in, s_buf, sizeof(float) * 2 * 4800);
    tp_run(&p, s_buf, 4800, NULL, 100);
    tp_free(&p);
    assert_int_equal(lat, 240 + 17);
    for (size_t i = lat; i < 4800; i++)
        assert_true(fabsf(s_buf[2 * i] - s_in[2 * (i - lat)]) < 1e-6f);
}

/* Slow falls over the ceiling: a 40 Hz tone 6 dB over full scale falls
 * from each crest for hundreds of frames, each frame's gain a little
 * higher than the one before, longer than the shortest look-ahead. The
 * look-ahead's sliding minimum kept L+2 values in a ring of L+1 then, and
 * wrote past its end (AddressSanitizer: heap-buffer-overflow); the output
 * still holds the ceiling, with every look-ahead of the range. */
static void test_limiter_slow_fall(void **state)
{
    (void)state;
    static const double looks[] = {0.5, 1.0, 5.0, 20.0};
    for (size_t k = 0; k < sizeof looks / sizeof *looks; k++) {
        fill_sine(s_buf, N, 2, 40, FS, 2.0);
        tp_t p;
        tp_init(&p, "limiter", 0, FS, 2);
        tp_set(&p, "ceiling_dbtp", -1);
        tp_set(&p, "lookahead_ms", looks[k]);
        assert_non_null(tp_create(&p));
        tp_run(&p, s_buf, N, NULL, 1000);
        tp_free(&p);
        double sp = 0;
        for (size_t i = 0; i < 2 * N; i++) sp = fmax(sp, fabs(s_buf[i]));
        printf("limiter, 40 Hz at +6 dBFS, look-ahead %.1f ms: sample peak %+.3f dBFS\n", looks[k],
               db(sp));
        assert_true(db(sp) <= -1.0);
        assert_true(db(sp) > -1.5);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gate),
        cmocka_unit_test(test_limiter),
        cmocka_unit_test(test_limiter_slow_fall),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
