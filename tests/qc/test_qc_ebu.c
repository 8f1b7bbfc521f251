/* EBU Tech 3341 (cases 1-5, 9, 12, 15-19) and Tech 3342 (cases 1-4),
 * synthesised here at 44.1 and 48 kHz, within the standards' tolerances.
 * Plus the true-peak meter against an ideal band-limited reconstruction
 * (zero-padded 16x FFT interpolation) of sines that start abruptly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "qc_test_util.h"

#include <fftw3.h>
#include <stdio.h>
#include <string.h>

static const double s_rates[] = {44100.0, 48000.0};

#define N_(a) (sizeof(a) / sizeof((a)[0]))

static void s_check_i(const char *name, const qt_seg_t *seg, size_t n, double expect)
{
    for (size_t r = 0; r < N_(s_rates); r++) {
        mf_analysis_t a;
        qt_sines(s_rates[r], seg, n, MF_ANALYZE_LOUDNESS, &a);
        printf("3341-%s @ %.0f: I %.3f LUFS (expected %.1f +-0.1)\n", name, s_rates[r],
               a.integrated_lufs, expect);
        assert_true(fabs(a.integrated_lufs - expect) <= 0.1);
        mf_analysis_fini(&a);
    }
}

static void test_3341_1_2(void **state)
{
    (void)state;
    for (int c = 0; c < 2; c++) {
        const double lvl = c ? -33.0 : -23.0;
        const qt_seg_t seg[] = {{lvl, 20.0}};
        for (size_t r = 0; r < N_(s_rates); r++) {
            mf_analysis_t a;
            qt_sines(s_rates[r], seg, 1, MF_ANALYZE_LOUDNESS, &a);
            printf("3341-%d @ %.0f: I %.3f, M max %.3f, S max %.3f (expected %.1f)\n", c + 1,
                   s_rates[r], a.integrated_lufs, a.momentary_max_lufs, a.short_term_max_lufs, lvl);
            assert_true(fabs(a.integrated_lufs - lvl) <= 0.1);
            assert_true(fabs(a.momentary_max_lufs - lvl) <= 0.1);
            assert_true(fabs(a.short_term_max_lufs - lvl) <= 0.1);
            /* Every full window, not only the maxima. */
            for (size_t i = 29; i < a.n_hops && isfinite(a.short_term[i]); i++)
                assert_true(fabs(a.short_term[i] - lvl) <= 0.1);
            mf_analysis_fini(&a);
        }
    }
}

static void test_3341_3_4_5(void **state)
{
    (void)state;
    const qt_seg_t c3[] = {{-36, 10}, {-23, 60}, {-36, 10}};
    const qt_seg_t c4[] = {{-72, 10}, {-36, 10}, {-23, 60}, {-36, 10}, {-72, 10}};
    const qt_seg_t c5[] = {{-26, 20}, {-20, 20.1}, {-26, 20}};
    s_check_i("3", c3, N_(c3), -23.0);
    s_check_i("4", c4, N_(c4), -23.0);
    s_check_i("5", c5, N_(c5), -23.0);
}

/* Alternating levels: every full window holds the same mix of both. */
static void s_alternating(int ebu_case, double loud_s, double quiet_s, int reps, size_t first)
{
    qt_seg_t seg[50];
    for (int i = 0; i < reps; i++)
        seg[2 * i] = (qt_seg_t){-20, loud_s}, seg[2 * i + 1] = (qt_seg_t){-30, quiet_s};
    for (size_t r = 0; r < N_(s_rates); r++) {
        mf_analysis_t a;
        qt_sines(s_rates[r], seg, 2 * (size_t)reps, MF_ANALYZE_LOUDNESS, &a);
        const float *v = ebu_case == 9 ? a.short_term : a.momentary;
        double lo = 1e9, hi = -1e9;
        for (size_t i = first; i < a.n_hops; i++)
            if (isfinite(v[i])) lo = fmin(lo, v[i]), hi = fmax(hi, v[i]);
        printf("3341-%d @ %.0f: %s loudness %.3f .. %.3f (expected -23.0 +-0.1)\n", ebu_case,
               s_rates[r], ebu_case == 9 ? "short-term" : "momentary", lo, hi);
        assert_true(lo >= -23.1 && hi <= -22.9);
        mf_analysis_fini(&a);
    }
}

static void test_3341_9_12(void **state)
{
    (void)state;
    s_alternating(9, 1.34, 1.66, 5, 29);
    s_alternating(12, 0.18, 0.22, 25, 3);
}

/* Tech 3341 cases 15-19: sines of peak a at fs/k, phase ph, with 10 ms
 * raised-cosine fades in and out (as the EBU test files). */
static void s_tp_signal(float *x, size_t n, double fs, double fk, double ph_deg, double a, int fade)
{
    const size_t nf = fade ? (size_t)(0.010 * fs) : 0;
    for (size_t i = 0; i < n; i++) {
        double g = 1.0;
        if (i < nf) g = 0.5 - 0.5 * cos(M_PI * (double)i / (double)nf);
        if (n - 1 - i < nf) g = 0.5 - 0.5 * cos(M_PI * (double)(n - 1 - i) / (double)nf);
        x[2 * i] = x[2 * i + 1] =
            (float)(g * a * sin(2 * M_PI * (double)i / fk + ph_deg * M_PI / 180.0));
    }
}

static const struct {
    int id;
    double fk, ph, a, expect;
} s_tp_cases[] = {{15, 4, 0, 0.5, -6.0},
                  {16, 4, 45, 0.5, -6.0},
                  {17, 6, 60, 0.5, -6.0},
                  {18, 8, 67.5, 0.5, -6.0},
                  {19, 4, 45, 1.41, 3.0}};

static void test_3341_15_19(void **state)
{
    (void)state;
    for (size_t r = 0; r < N_(s_rates); r++) {
        const size_t n = (size_t)(2.0 * s_rates[r]);
        float *x = malloc(2 * n * sizeof *x);
        for (size_t k = 0; k < N_(s_tp_cases); k++) {
            s_tp_signal(x, n, s_rates[r], s_tp_cases[k].fk, s_tp_cases[k].ph, s_tp_cases[k].a, 1);
            mf_analysis_t a;
            qt_analyse(x, n, 2, s_rates[r], MF_ANALYZE_TRUE_PEAK, &a);
            const double exact = 20 * log10(s_tp_cases[k].a);
            printf("3341-%d @ %.0f: true peak %.3f dBTP (expected %.1f +0.2/-0.4; exact %.3f), "
                   "sample peak %.3f\n",
                   s_tp_cases[k].id, s_rates[r], a.true_peak_dbtp, s_tp_cases[k].expect, exact,
                   a.sample_peak_dbfs);
            assert_true(a.true_peak_dbtp <= s_tp_cases[k].expect + 0.2);
            assert_true(a.true_peak_dbtp >= s_tp_cases[k].expect - 0.4);
            assert_true(fabs(a.true_peak_dbtp - exact) <= 0.05); /* and much closer */
            mf_analysis_fini(&a);
        }
        free(x);
    }
}

/* The peak of the band-limited signal the samples stand for: zero-padded
 * FFT, spectrum zero-padded 16x, inverse. */
static double s_ideal_peak(const float *x, size_t n, size_t stride)
{
    const size_t N = 65536, U = 16;
    float *in = fftwf_alloc_real(N), *out = fftwf_alloc_real(N * U);
    fftwf_complex *sp = fftwf_alloc_complex(N * U / 2 + 1);
    fftwf_plan f = fftwf_plan_dft_r2c_1d((int)N, in, sp, FFTW_ESTIMATE);
    fftwf_plan b = fftwf_plan_dft_c2r_1d((int)(N * U), sp, out, FFTW_ESTIMATE);
    memset(in, 0, N * sizeof *in);
    for (size_t i = 0; i < n; i++) in[(N - n) / 2 + i] = x[i * stride];
    fftwf_execute(f);
    memset(sp + N / 2 + 1, 0, sizeof(fftwf_complex) * (N * U / 2 - N / 2));
    sp[N / 2][0] *= 0.5f, sp[N / 2][1] = 0;
    fftwf_execute(b);
    double pk = 0;
    for (size_t i = 0; i < N * U; i++) pk = fmax(pk, fabs(out[i]) / (double)N);
    fftwf_destroy_plan(f), fftwf_destroy_plan(b);
    fftwf_free(in), fftwf_free(out), fftwf_free(sp);
    return 20 * log10(pk);
}

/* Abrupt starts and ends have real inter-sample overshoot (the band-limited
 * signal rings): up to +0.7 dB on these cases, which is why meters read
 * them above -6.0 when the files are made without fades. Ours follows the
 * ideal reconstruction: never above it, and below it only by what a 4x grid
 * can miss of a transient's peak. */
static void test_abrupt_vs_ideal(void **state)
{
    (void)state;
    const size_t n = 24000;
    float *x = malloc(2 * n * sizeof *x);
    for (size_t k = 0; k < N_(s_tp_cases); k++) {
        s_tp_signal(x, n, 48000, s_tp_cases[k].fk, s_tp_cases[k].ph, s_tp_cases[k].a, 0);
        mf_analysis_t a;
        qt_analyse(x, n, 2, 48000, MF_ANALYZE_TRUE_PEAK, &a);
        const double ideal = s_ideal_peak(x, n, 2);
        printf("3341-%d without fades: ours %.3f dBTP, ideal %.3f\n", s_tp_cases[k].id,
               a.true_peak_dbtp, ideal);
        assert_true(a.true_peak_dbtp <= ideal + 0.02 && a.true_peak_dbtp >= ideal - 0.25);
        mf_analysis_fini(&a);
    }
    free(x);
}

static void test_3342(void **state)
{
    (void)state;
    const qt_seg_t c1[] = {{-20, 20}, {-30, 20}}, c2[] = {{-20, 20}, {-15, 20}};
    const qt_seg_t c3[] = {{-40, 20}, {-20, 20}};
    const qt_seg_t c4[] = {{-50, 20}, {-35, 20}, {-20, 20}, {-35, 20}, {-50, 20}};
    const struct {
        const qt_seg_t *s;
        size_t n;
        double lra;
    } cases[] = {{c1, 2, 10}, {c2, 2, 5}, {c3, 2, 20}, {c4, 5, 15}};
    for (size_t k = 0; k < N_(cases); k++)
        for (size_t r = 0; r < N_(s_rates); r++) {
            mf_analysis_t a;
            qt_sines(s_rates[r], cases[k].s, cases[k].n, MF_ANALYZE_LOUDNESS, &a);
            printf("3342-%zu @ %.0f: LRA %.3f LU (expected %.0f +-1)\n", k + 1, s_rates[r],
                   a.lra_lu, cases[k].lra);
            assert_true(fabs(a.lra_lu - cases[k].lra) <= 1.0);
            mf_analysis_fini(&a);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_3341_1_2),        cmocka_unit_test(test_3341_3_4_5),
        cmocka_unit_test(test_3341_9_12),       cmocka_unit_test(test_3341_15_19),
        cmocka_unit_test(test_abrupt_vs_ideal), cmocka_unit_test(test_3342),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
