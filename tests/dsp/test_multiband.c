/* multiband: Linkwitz-Riley crossovers with allpass compensation sum flat
 * (compression off: within 0.01 dB at 28 frequencies, for 2 to 6 bands),
 * each band compresses its own region by the compressor's static curve and
 * leaves the others alone, and band parameters and crossovers follow
 * update() (automation). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dsp_test_util.h"

#include <stdio.h>

#define FS 48000.0
#define SETTLE 24000 /* 0.5 s */
#define WIN 48000    /* 1 s: every integer frequency has whole cycles */
static float s_buf[2 * (SETTLE + WIN)];

static const double s_freqs[] = {20,   31,   45,   63,   90,    125,   160,   200,  250,  315,
                                 400,  500,  630,  800,  1000,  1250,  1600,  2000, 2500, 3150,
                                 4000, 5000, 6300, 8000, 10000, 12500, 17000, 20000};
#define NF (sizeof s_freqs / sizeof s_freqs[0])

/* Gain in dB of a steady sine at f through p (a fresh instance), stereo. */
static double sine_gain_db(tp_t *p, double f, double amp)
{
    assert_non_null(tp_create(p));
    fill_sine(s_buf, SETTLE + WIN, 2, f, FS, amp);
    tp_run(p, s_buf, SETTLE + WIN, NULL, 1024);
    tp_free(p);
    const double l = tone_amp(s_buf + 2 * SETTLE, WIN, 2, f, FS);
    const double r = tone_amp(s_buf + 2 * SETTLE + 1, WIN, 2, f, FS);
    assert_true(fabs(l - r) <= 1e-6 * amp);
    return db(l / amp);
}

static void test_flat_sum(void **state)
{
    (void)state;
    static const double xo[][5] = {
        {1000}, {200, 2000}, {120, 800, 5000}, {80, 250, 1000, 4000}, {60, 150, 600, 2500, 9000}};
    for (size_t c = 0; c < sizeof xo / sizeof xo[0]; c++) {
        const size_t nx = c + 1;
        double worst = 0;
        for (size_t i = 0; i < NF; i++) {
            tp_t p;
            tp_init(&p, "multiband", nx + 1, FS, 2);
            tp_list(&p, "crossovers_hz", xo[c], nx);
            for (size_t b = 0; b <= nx; b++) tp_band(&p, (int)b, "ratio", 1);
            const double g = sine_gain_db(&p, s_freqs[i], 0.5);
            if (fabs(g) > fabs(worst)) worst = g;
            if (fabs(g) > 0.01)
                fail_msg("%zu bands, %g Hz: %.4f dB, expected 0 +- 0.01", nx + 1, s_freqs[i], g);
        }
        printf("%zu bands: worst deviation %.5f dB over %zu frequencies\n", nx + 1, worst, NF);
    }
}

/* The compressor's static curve (as in test_compressor.c). */
static double curve(double x, double t, double r)
{
    return x > t ? t + (x - t) / r : x;
}

/* Two tones from absolute frame start: a_lo at 40 Hz, a_hi at 7 kHz. */
static void two_tones(size_t start, double a_lo, double a_hi)
{
    for (size_t i = 0; i < SETTLE + WIN; i++) {
        const double t = (double)(start + i) / FS;
        const float x = (float)(a_lo * sin(2 * M_PI * 40 * t) + a_hi * sin(2 * M_PI * 7000 * t));
        s_buf[2 * i] = s_buf[2 * i + 1] = x;
    }
}

static void test_bands_independent(void **state)
{
    (void)state;
    /* 40 Hz in band 0 (compressed), 7 kHz in band 2 (not): both far enough
     * from the crossovers (over 55 dB down in the neighbouring bands) that
     * what leaks, uncompressed, does not move the measured gains. */
    const double xo[] = {200, 1000}, a_lo = 0.5, a_hi = 0.25;
    const size_t len = SETTLE + WIN;
    tp_t p;
    tp_init(&p, "multiband", 3, FS, 2);
    tp_list(&p, "crossovers_hz", xo, 2);
    tp_band(&p, 0, "threshold_db", -20);
    tp_band(&p, 0, "ratio", 4);
    tp_band(&p, 0, "release_ms", 1000);
    tp_band(&p, 1, "ratio", 1);
    tp_band(&p, 2, "threshold_db", -40);
    tp_band(&p, 2, "ratio", 1);
    assert_non_null(tp_create(&p));
    two_tones(0, a_lo, a_hi);
    tp_run(&p, s_buf, len, NULL, 512);
    const double g_lo = db(tone_amp(s_buf + 2 * SETTLE, WIN, 2, 40, FS) / a_lo);
    const double g_hi = db(tone_amp(s_buf + 2 * SETTLE, WIN, 2, 7000, FS) / a_hi);
    const double x = db(a_lo), want = curve(x, -20, 4) - x;
    printf("band 0: %.3f dB (curve %.3f); band 2: %.4f dB\n", g_lo, want, g_hi);
    assert_true(fabs(g_lo - want) < 0.3);
    assert_true(fabs(g_hi) < 0.02);

    /* Automation: band 0's threshold up to 0 dB -> the low tone comes back;
     * band 2 to ratio 10 -> the high tone is compressed now. */
    tp_band(&p, 0, "threshold_db", 0);
    tp_band(&p, 0, "release_ms", 50);
    tp_band(&p, 2, "ratio", 10);
    p.cls->update(p.st, p.v);
    two_tones(len, a_lo, a_hi);
    tp_run(&p, s_buf, len, NULL, 700);
    two_tones(2 * len, a_lo, a_hi);
    tp_run(&p, s_buf, len, NULL, 700);
    const double g_lo2 = db(tone_amp(s_buf + 2 * SETTLE, WIN, 2, 40, FS) / a_lo);
    const double g_hi2 = db(tone_amp(s_buf + 2 * SETTLE, WIN, 2, 7000, FS) / a_hi);
    const double xh = db(a_hi), want_hi = curve(xh, -40, 10) - xh;
    printf("after update: band 0 %.4f dB; band 2 %.3f dB (curve %.3f)\n", g_lo2, g_hi2, want_hi);
    assert_true(fabs(g_lo2) < 0.02);
    assert_true(fabs(g_hi2 - want_hi) < 0.3);
    tp_free(&p);
}

static void test_crossover_moves(void **state)
{
    (void)state;
    /* A crossover moved by update() keeps the sum flat; a 1 kHz tone with
     * only the upper band compressed is reduced while the crossover is below
     * it and left alone once the crossover is above it. */
    const double lo[] = {300}, hi[] = {5000};
    tp_t p;
    tp_init(&p, "multiband", 2, FS, 1);
    tp_list(&p, "crossovers_hz", lo, 1);
    tp_band(&p, 0, "ratio", 1);
    tp_band(&p, 1, "threshold_db", -30);
    tp_band(&p, 1, "ratio", 8);
    assert_non_null(tp_create(&p));
    fill_sine(s_buf, SETTLE + WIN, 1, 1000, FS, 0.5);
    tp_run(&p, s_buf, SETTLE + WIN, NULL, 1024);
    const double g1 = db(tone_amp(s_buf + SETTLE, WIN, 1, 1000, FS) / 0.5);
    tp_list(&p, "crossovers_hz", hi, 1);
    p.cls->update(p.st, p.v);
    for (size_t i = 0; i < SETTLE + WIN; i++)
        s_buf[i] = (float)(0.5 * sin(2 * M_PI * 1000 * (double)(i + SETTLE + WIN) / FS));
    tp_run(&p, s_buf, SETTLE + WIN, NULL, 1024);
    const double g2 = db(tone_amp(s_buf + SETTLE, WIN, 1, 1000, FS) / 0.5);
    printf("1 kHz: %.3f dB with the crossover at 300 Hz, %.4f dB at 5 kHz\n", g1, g2);
    assert_true(g1 < -10);
    assert_true(fabs(g2) < 0.05);
    tp_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_sum),
        cmocka_unit_test(test_bands_independent),
        cmocka_unit_test(test_crossover_moves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
