/* The QC kernels: every SIMD variant the CPU has against the C reference
 * (checkasm style, odd lengths and split calls), the K-weighting design
 * against the BS.1770-4 coefficients, and integrated loudness against
 * libebur128 on music-like signals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mf_qc_kernels.h"
#include "qc_test_util.h"

#include <ebur128.h>
#include <stdio.h>
#include <string.h>

#define N 5003 /* odd on purpose */
static float s_x[2 * N + 64], s_pl[N + 64];

static void s_fill(uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = 0; i < sizeof s_x / sizeof s_x[0]; i++) s_x[i] = (float)(0.7 * qt_rand(&s));
    for (size_t i = 0; i < sizeof s_pl / sizeof s_pl[0]; i++) s_pl[i] = (float)(0.9 * qt_rand(&s));
}

static void test_checkasm(void **state)
{
    (void)state;
    const mf_qc_kernels_t *c = mf_qc_kernels_for(MF_QC_ISA_C);
    s_fill(7);
    for (int isa = 1; isa < MF_QC_ISA_COUNT; isa++) {
        const mf_qc_kernels_t *k = mf_qc_kernels_for((mf_qc_isa_t)isa);
        if (!k) continue;
        for (int r = 0; r < 3; r++) {
            const double rate = r == 0 ? 44100 : r == 1 ? 48000 : 96000;
            mf_kw_coef_t kw;
            mf_tp_coef_t tp;
            mf_kw_design(&kw, rate);
            mf_tp_design(&tp, rate);
            /* K-weighting: the same state must come out of one call or three. */
            float s0[4] = {0}, s1[4] = {0};
            const double e0 = c->kweight(&kw, s0, s_pl, N);
            const double e1 = k->kweight(&kw, s1, s_pl, 1000) +
                              k->kweight(&kw, s1, s_pl + 1000, 3) +
                              k->kweight(&kw, s1, s_pl + 1003, N - 1003);
            printf("%s @ %.0f: kweight %.9g vs %.9g\n", k->name, rate, e1, e0);
            assert_true(fabs(e1 - e0) <= 1e-5 * e0);
            /* Float rounding differs between the two forms; the RLB state
             * integrates near DC, so allow 1e-3 on unit-level noise. */
            for (int i = 0; i < 4; i++) assert_true(fabsf(s1[i] - s0[i]) <= 1e-3f);
            /* True peak: the max and the per-frame envelope. */
            const float *x = s_pl + 20;
            const float m0 = c->tp_max(&tp, x, N - 40), m1 = k->tp_max(&tp, x, N - 40);
            assert_true(fabsf(m1 - m0) <= 1e-5f * m0);
            static float e_c[N], e_k[N];
            memset(e_c, 0, sizeof e_c), memset(e_k, 0, sizeof e_k);
            c->tp_env(&tp, x, N - 40, e_c), k->tp_env(&tp, x, N - 40, e_k);
            for (size_t i = 0; i < N - 40; i++) assert_true(fabsf(e_k[i] - e_c[i]) <= 1e-5f);
        }
        /* De-interleaving and block statistics. */
        for (int ch = 1; ch <= 2; ch++) {
            static float l0[N], r0[N], l1[N], r1[N];
            mf_blk_stats_t a, b;
            c->deint(s_x, N, ch, l0, ch == 2 ? r0 : NULL, &a);
            k->deint(s_x, N, ch, l1, ch == 2 ? r1 : NULL, &b);
            assert_memory_equal(l0, l1, sizeof l0);
            if (ch == 2) assert_memory_equal(r0, r1, sizeof r0);
            for (int i = 0; i < ch; i++) {
                assert_true(a.peak[i] == b.peak[i]);
                assert_true(fabs(a.sum[i] - b.sum[i]) <= 1e-3);
                assert_true(fabs(a.sumsq[i] - b.sumsq[i]) <= 1e-5 * a.sumsq[i]);
            }
            assert_true(fabs(a.sumlr - b.sumlr) <= 1e-3 && a.side == b.side);
        }
        printf("%s matches the C reference\n", k->name);
    }
}

/* Every kernel's output for the same inputs, into out (a fixed layout). */
static size_t s_run_all(const mf_qc_kernels_t *k, double rate, float *out)
{
    mf_kw_coef_t kw;
    mf_tp_coef_t tp;
    mf_kw_design(&kw, rate);
    mf_tp_design(&tp, rate);
    size_t w = 0;
    float s[4] = {0};
    const double e = k->kweight(&kw, s, s_pl, 1000) + k->kweight(&kw, s, s_pl + 1000, N - 1000);
    out[w++] = (float)e, memcpy(out + w, s, sizeof s), w += 4;
    const float *x = s_pl + 20;
    out[w++] = k->tp_max(&tp, x, N - 40);
    memset(out + w, 0, (N - 40) * sizeof *out);
    k->tp_env(&tp, x, N - 40, out + w), w += N - 40;
    return w;
}

/* The mastering limiter and the loudness search read these kernels, so a
 * master's bits follow them: every SIMD variant this CPU has gives the
 * same bits as the first of its family (mf_qc_kernels.h). */
static void test_variants_agree(void **state)
{
    (void)state;
    static float first[N + 64], other[N + 64];
    s_fill(11);
    const mf_qc_kernels_t *k0 = NULL;
    for (int isa = 1; isa < MF_QC_ISA_COUNT; isa++) {
        const mf_qc_kernels_t *k = mf_qc_kernels_for((mf_qc_isa_t)isa);
        if (!k) continue;
        if (k0 && strcmp(k->family, k0->family)) k0 = NULL; /* a family of its own */
        for (int r = 0; r < 2; r++) {
            const double rate = r ? 96000 : 48000;
            if (!k0) continue;
            const size_t n = s_run_all(k0, rate, first);
            assert_int_equal(s_run_all(k, rate, other), n);
            for (size_t i = 0; i < n; i++)
                if (memcmp(&first[i], &other[i], sizeof *first))
                    fail_msg("%s and %s differ at %.0f Hz, output %zu: %.9g vs %.9g", k0->name,
                             k->name, rate, i, first[i], other[i]);
        }
        if (k0) printf("%s gives %s's bits on every kernel\n", k->name, k0->name);
        if (!k0) k0 = k;
    }
}

/* BS.1770-4 Table 1 and 2 (48 kHz). */
static void test_kweight_48k(void **state)
{
    (void)state;
    mf_kw_coef_t k;
    mf_kw_design(&k, 48000);
    const double pre[5] = {1.53512485958697, -2.69169618940638, 1.19839281085285, -1.69065929318241,
                           0.73248077421585};
    const double rlb[5] = {1.0, -2.0, 1.0, -1.99004745483398, 0.99007225036621};
    for (int i = 0; i < 5; i++) {
        assert_true(fabs(k.c[0][i] - pre[i]) < 1e-6);
        assert_true(fabs(k.c[1][i] - rlb[i]) < 1e-6);
    }
}

static double s_ebur128(const float *x, size_t n, int ch, double fs)
{
    ebur128_state *st = ebur128_init((unsigned)ch, (unsigned long)fs, EBUR128_MODE_I);
    ebur128_add_frames_float(st, x, n);
    double i;
    ebur128_loudness_global(st, &i);
    ebur128_destroy(&st);
    return i;
}

static void test_vs_libebur128(void **state)
{
    (void)state;
    const double rates[] = {44100, 48000, 96000, 32000};
    for (size_t r = 0; r < 4; r++)
        for (int ch = 1; ch <= 2; ch++) {
            const size_t n = (size_t)(20.0 * rates[r]);
            float *x = malloc(n * (size_t)ch * sizeof *x);
            qt_music(x, n, ch, rates[r], 11 + r);
            mf_analysis_t a;
            qt_analyse(x, n, ch, rates[r], MF_ANALYZE_LOUDNESS, &a);
            const double ref = s_ebur128(x, n, ch, rates[r]);
            printf("music %d ch @ %.0f: I %.4f, libebur128 %.4f (diff %+.4f LU)\n", ch, rates[r],
                   a.integrated_lufs, ref, a.integrated_lufs - ref);
            assert_true(fabs(a.integrated_lufs - ref) <= 0.05);
            mf_analysis_fini(&a);
            free(x);
        }
}

/* Surround (3 to 8 channels, WAV order): each channel weighed as
 * mf_qc_channel_weights says, against libebur128 told the same layout
 * (its own default leaves the last two of 7.1 out, as ffmpeg does not). */
static void test_surround_vs_libebur128(void **state)
{
    (void)state;
    const double fs = 48000;
    const size_t n = (size_t)(12.0 * fs);
    for (int ch = 3; ch <= MF_QC_MAX_CHANNELS; ch++) {
        float *x = malloc(n * (size_t)ch * sizeof *x), w[MF_QC_MAX_CHANNELS];
        qt_music(x, n, ch, fs, 40 + (uint64_t)ch);
        mf_qc_channel_weights(ch, w);
        mf_analysis_t a;
        qt_analyse(x, n, ch, fs, MF_ANALYZE_LOUDNESS | MF_ANALYZE_TRUE_PEAK, &a);
        ebur128_state *st = ebur128_init((unsigned)ch, (unsigned long)fs, EBUR128_MODE_I);
        for (int c = 0; c < ch; c++) {
            assert_true(w[c] == 0.0f || w[c] == 1.0f || w[c] == MF_QC_SURROUND_WEIGHT);
            assert_float_equal(a.loudness_weight[c], w[c], 0.0);
            ebur128_set_channel(st, (unsigned)c,
                                w[c] == 0.0f   ? EBUR128_UNUSED
                                : w[c] == 1.0f ? EBUR128_LEFT
                                               : EBUR128_LEFT_SURROUND);
        }
        ebur128_add_frames_float(st, x, n);
        double ref;
        ebur128_loudness_global(st, &ref);
        ebur128_destroy(&st);
        printf("%d channels (weights", ch);
        for (int c = 0; c < ch; c++) printf(" %.2f", w[c]);
        printf("): I %.4f, libebur128 %.4f\n", a.integrated_lufs, ref);
        assert_true(fabs(a.integrated_lufs - ref) <= 0.05);
        /* The sample peak is every channel's. */
        float pk = 0.0f;
        for (size_t i = 0; i < n * (size_t)ch; i++) pk = fmaxf(pk, fabsf(x[i]));
        assert_true(fabs(a.sample_peak_dbfs - 20.0 * log10(pk)) < 1e-4);
        assert_true(a.true_peak_dbtp >= a.sample_peak_dbfs);
        mf_analysis_fini(&a);
        free(x);
    }
    /* 5.1: the LFE is left out, a surround weighs +1.5 dB (10 log10 1.41). */
    const size_t m = (size_t)(5.0 * fs);
    float *x = calloc(m * 6, sizeof *x);
    for (int c = 0; c < 3; c++) {
        const int chan[3] = {0, 3, 4}; /* L, LFE, Ls */
        for (size_t i = 0; i < m; i++)
            x[i * 6 + (size_t)chan[c]] = (float)(0.1 * sin(2 * M_PI * 997.0 * (double)i / fs));
        mf_analysis_t a;
        qt_analyse(x, m, 6, fs, MF_ANALYZE_LOUDNESS, &a);
        static double base;
        if (c == 0) base = a.integrated_lufs;
        const double want = c == 0 ? base : c == 1 ? base : base + 10.0 * log10(1.0 + 1.41);
        printf("5.1 with %s: I %.3f (want %.3f)\n",
               c == 0   ? "L"
               : c == 1 ? "L, LFE"
                        : "L, LFE, Ls",
               a.integrated_lufs, want);
        assert_true(fabs(a.integrated_lufs - want) < 0.01);
        mf_analysis_fini(&a);
    }
    free(x);
    assert_null(mf_analyzer_new(MF_QC_MAX_CHANNELS + 1, fs, MF_ANALYZE_ALL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkasm),
        cmocka_unit_test(test_variants_agree),
        cmocka_unit_test(test_kweight_48k),
        cmocka_unit_test(test_vs_libebur128),
        cmocka_unit_test(test_surround_vs_libebur128),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
