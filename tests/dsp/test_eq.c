/* eq against analytic truth: each kind's magnitude response, measured with
 * sines, must match |H(e^jw)| of the cookbook sections (designed in double)
 * within 0.05 dB; Butterworth cascades are -3 dB at the corner and fall at
 * their nominal slope. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dsp_test_util.h"
#include "mf_biquad.h"

#include <stdio.h>

#define FS 48000.0
#define N_MEAS 48000 /* one second: integer cycles for integer frequencies */
#define N_SETTLE 24000

static float s_buf[2 * (N_SETTLE + N_MEAS)];

/* Measured gain at f of an eq with one band, on a stereo signal (checks L == R). */
static double measure(tp_t *p, double f)
{
    const size_t n = N_SETTLE + N_MEAS;
    assert_non_null(tp_create(p));
    fill_sine(s_buf, n, 2, f, FS, 0.5);
    tp_run(p, s_buf, n, NULL, 4096);
    tp_free(p);
    for (size_t i = 0; i < n; i++) assert_true(s_buf[2 * i] == s_buf[2 * i + 1]);
    return tone_amp(s_buf + 2 * N_SETTLE, N_MEAS, 2, f, FS) / 0.5;
}

static double analytic(mf_bq_kind_t kind, double f0, double g, double q, int order, double f)
{
    double m = 1;
    for (int s = 0; s < (order ? order / 2 : 1); s++) {
        double c[5];
        mf_biquad_design(c, kind, FS, f0, g, order > 2 ? mf_butterworth_q(order, s) : q);
        m *= mf_biquad_mag(c, f, FS);
    }
    return m;
}

static void check_kind(const char *name, mf_bq_kind_t kind, double f0, double g, double q,
                       int slope)
{
    double worst = 0;
    for (int i = 0; i < 24; i++) {
        const double f = round(20.0 * pow(1000.0, i / 23.0)); /* 20 Hz .. 20 kHz */
        tp_t p;
        tp_init(&p, "eq", 1, FS, 2);
        tp_bands(&p, 0, "kind", name);
        tp_band(&p, 0, "freq_hz", f0);
        tp_band(&p, 0, "gain_db", g);
        tp_band(&p, 0, "q", q);
        tp_band(&p, 0, "slope_db_oct", slope);
        const double m = measure(&p, f), a = analytic(kind, f0, g, q, slope / 6, f);
        if (a < 1e-3) { /* deep in a stopband: compare linearly */
            assert_true(fabs(m - a) < 2e-4);
            continue;
        }
        const double e = fabs(db(m) - db(a));
        worst = fmax(worst, e);
        if (e > 0.05) fail_msg("%s at %g Hz: %.3f dB, expected %.3f", name, f, db(m), db(a));
    }
    printf("eq %-9s (slope %d): worst error %.4f dB over 24 frequencies\n", name, slope, worst);
}

static void test_kinds(void **state)
{
    (void)state;
    check_kind("peak", MF_BQ_PEAK, 1000, 6, 1.5, 12);
    check_kind("peak", MF_BQ_PEAK, 150, -9, 4, 12);
    check_kind("lowshelf", MF_BQ_LOWSHELF, 200, 4, 0.707, 12);
    check_kind("highshelf", MF_BQ_HIGHSHELF, 6000, -5, 0.707, 12);
    check_kind("notch", MF_BQ_NOTCH, 1000, 0, 2, 12);
    check_kind("bandpass", MF_BQ_BANDPASS, 2000, 0, 1, 12);
    check_kind("highpass", MF_BQ_HIGHPASS, 300, 0, 0.707, 12);
    check_kind("lowpass", MF_BQ_LOWPASS, 5000, 0, 2.0, 12);
    for (int slope = 24; slope <= 48; slope += 12) {
        check_kind("highpass", MF_BQ_HIGHPASS, 300, 0, 0.707, slope);
        check_kind("lowpass", MF_BQ_LOWPASS, 3000, 0, 0.707, slope);
    }
}

/* Cookbook identities: peak gain at f0, shelf plateaus, notch zero. */
static void test_design(void **state)
{
    (void)state;
    double c[5];
    mf_biquad_design(c, MF_BQ_PEAK, FS, 1000, 6, 1);
    assert_true(fabs(db(mf_biquad_mag(c, 1000, FS)) - 6) < 1e-9);
    mf_biquad_design(c, MF_BQ_LOWSHELF, FS, 200, 4, 0.707);
    assert_true(fabs(db(mf_biquad_mag(c, 0.01, FS)) - 4) < 1e-6);
    assert_true(fabs(db(mf_biquad_mag(c, 200, FS)) - 2) < 1e-6); /* half gain at the midpoint */
    mf_biquad_design(c, MF_BQ_HIGHSHELF, FS, 6000, -5, 0.707);
    assert_true(fabs(db(mf_biquad_mag(c, 23999.99, FS)) + 5) < 1e-4);
    mf_biquad_design(c, MF_BQ_NOTCH, FS, 1000, 0, 2);
    assert_true(mf_biquad_mag(c, 1000, FS) < 1e-9);
}

/* Butterworth: -3.01 dB at the corner for every order; the nominal slope
 * two to one octave below it (|H|^2 = 1 / (1 + (fc/f)^2n): within 0.3 dB of
 * 6n there); four octaves down, the sections' response, or at least 120 dB of
 * attenuation where that is deeper (a static eq runs in blocks, mf_bqb.h,
 * whose float output matrices resolve the stopband to about 130 dB). */
static void test_butterworth(void **state)
{
    (void)state;
    for (int slope = 12; slope <= 48; slope += 12) {
        tp_t p;
        tp_init(&p, "eq", 1, FS, 2);
        tp_bands(&p, 0, "kind", "highpass");
        tp_band(&p, 0, "freq_hz", 2000);
        tp_band(&p, 0, "slope_db_oct", slope + 1); /* rounds to slope */
        const double corner = db(measure(&p, 2000));
        const double a = db(measure(&p, 500)), b = db(measure(&p, 1000));
        const double deep = db(measure(&p, 125));
        const double want = db(analytic(MF_BQ_HIGHPASS, 2000, 0, 0.70710678, slope / 6, 125));
        printf("highpass %d dB/oct: %.3f dB at corner, %.2f dB/oct at 500-1000 Hz, %.1f dB at "
               "125 Hz (analytic %.1f)\n",
               slope, corner, b - a, deep, want);
        assert_true(fabs(corner + 3.0103) < 0.05);
        assert_true(fabs((b - a) - slope) < 0.5);
        assert_true(want > -120.0 ? fabs(deep - want) < 0.1 : deep < -120.0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_design),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_butterworth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
