/* checkasm, after FFmpeg's tests/checkasm: every SIMD variant this CPU
 * supports runs on random input against the C reference, with an explicit
 * tolerance per kernel. Prints which variants ran. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mf_biquad.h"
#include "mf_bqb.h"
#include "mf_kernels.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t s_rng = 0x9e3779b97f4a7c15ull;
static double rnd(void) /* uniform [0, 1) */
{
    s_rng ^= s_rng << 13, s_rng ^= s_rng >> 7, s_rng ^= s_rng << 17;
    return (double)(s_rng >> 11) * (1.0 / 9007199254740992.0);
}
static float rndf(float lo, float hi)
{
    return lo + (hi - lo) * (float)rnd();
}

#define MAXF 2100

static void random_cascade(mf_biquad_cascade_t *st, int ch, int nsec)
{
    mf_biquad_cascade_reset(st, ch, nsec);
    for (int s = 0; s < nsec; s++) {
        double c[5];
        const mf_bq_kind_t kind = (mf_bq_kind_t)(rnd() * 7);
        mf_biquad_design(c, kind, 48000, 30 * pow(600, rnd()), rnd() * 24 - 12, 0.3 + rnd() * 4);
        for (int j = 0; j < 5; j++) st->c[s][j] = (float)c[j];
        for (int c2 = 0; c2 < ch; c2++)
            st->z[s][c2][0] = rndf(-.1f, .1f), st->z[s][c2][1] = rndf(-.1f, .1f);
    }
}

static double check_biquad(const mf_dsp_kernels_t *k)
{
    static const int nsecs[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 64};
    static const size_t lens[][2] = {{0, 5}, {1, 1}, {3, 40}, {7, 2}, {64, 1000}, {2048, 17}};
    static float in[2 * MAXF], ref[2 * MAXF], out[2 * MAXF];
    static mf_biquad_cascade_t a, b;
    double worst = 0;
    for (int ch = 1; ch <= 2; ch++)
        for (size_t si = 0; si < sizeof nsecs / sizeof nsecs[0]; si++)
            for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
                random_cascade(&a, ch, nsecs[si]);
                b = a;
                for (int blk = 0; blk < 2; blk++) { /* two blocks: state must carry over */
                    const size_t n = lens[li][blk], ns = n * (size_t)ch;
                    for (size_t i = 0; i < ns; i++) in[i] = rndf(-1, 1);
                    mf_dsp_kernels_c.biquad(ref, in, n, &a);
                    memcpy(out, in, ns * sizeof *out); /* in place, as processors use it */
                    k->biquad(out, out, n, &b);
                    double peak = 1;
                    for (size_t i = 0; i < ns; i++) peak = fmax(peak, fabs(ref[i]));
                    for (size_t i = 0; i < ns; i++) {
                        const double e = fabs((double)out[i] - ref[i]) / peak;
                        worst = fmax(worst, e);
                        if (e > 1e-5)
                            fail_msg("%s biquad ch=%d nsec=%d n=%zu i=%zu: %g vs %g", k->name, ch,
                                     nsecs[si], n, i, out[i], ref[i]);
                    }
                    for (int s = 0; s < nsecs[si]; s++)
                        for (int c = 0; c < ch; c++)
                            for (int j = 0; j < 2; j++)
                                assert_true(fabs(a.z[s][c][j] - b.z[s][c][j]) <= 1e-5 * peak);
                }
            }
    return worst;
}

/* The block form (mf_bqb.h) gives the C reference's bits exactly, through
 * calls of every size (whole blocks, unfinished ones, one frame). */
static double check_biquad_block(const mf_dsp_kernels_t *k)
{
    static const int nsecs[] = {1, 2, 3, 4, 5, 8, 9, 17};
    static const size_t lens[] = {0, 1, 15, 16, 17, 100, 513, 2048};
    static float in[2 * MAXF], ref[2 * MAXF], out[2 * MAXF];
    static mf_biquad_cascade_t a;
    for (int ch = 1; ch <= 2; ch++)
        for (size_t si = 0; si < sizeof nsecs / sizeof nsecs[0]; si++) {
            random_cascade(&a, ch, nsecs[si]);
            mf_bqb_t *r = mf_bqb_new(&a, &mf_dsp_kernels_c), *b = mf_bqb_new(&a, k);
            assert_non_null(r), assert_non_null(b);
            for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
                const size_t n = lens[(li * 5 + si) % (sizeof lens / sizeof lens[0])];
                for (size_t i = 0; i < n * (size_t)ch; i++) in[i] = rndf(-1, 1);
                mf_bqb_run(r, ref, in, n);
                memcpy(out, in, n * (size_t)ch * sizeof *out);
                mf_bqb_run(b, out, out, n);
                if (memcmp(out, ref, n * (size_t)ch * sizeof *out))
                    fail_msg("%s biquad_block ch=%d nsec=%d n=%zu: not the C bits", k->name, ch,
                             nsecs[si], n);
            }
            mf_bqb_free(&r), mf_bqb_free(&b);
        }
    return 0.0;
}

static double check_gain(const mf_dsp_kernels_t *k)
{
    static float in[2 * MAXF], ref[2 * MAXF], out[2 * MAXF], g[MAXF];
    double worst = 0;
    for (int iter = 0; iter < 200; iter++) {
        const int ch = 1 + iter % 2;
        const size_t n = (size_t)(rnd() * MAXF), ns = n * (size_t)ch;
        const float g0 = rndf(0, 2), g1 = rndf(0, 2);
        for (size_t i = 0; i < ns; i++) in[i] = rndf(-1, 1);
        for (size_t i = 0; i < n; i++) g[i] = rndf(0, 4);
        mf_dsp_kernels_c.gain_ramp(ref, in, n, ch, g0, g1);
        k->gain_ramp(out, in, n, ch, g0, g1);
        for (size_t i = 0; i < ns; i++) {
            worst = fmax(worst, fabs(out[i] - ref[i]));
            if (fabs(out[i] - ref[i]) > 1e-6) fail_msg("%s gain_ramp n=%zu i=%zu", k->name, n, i);
        }
        mf_dsp_kernels_c.gain_apply(ref, in, g, n, ch);
        memcpy(out, in, ns * sizeof *out);
        k->gain_apply(out, out, g, n, ch);
        assert_memory_equal(out, ref, ns * sizeof *out);
        for (int power = 0; power <= 1; power++) {
            mf_dsp_kernels_c.detect(ref, in, n, ch, power);
            k->detect(out, in, n, ch, power);
            for (size_t i = 0; i < n; i++) {
                worst = fmax(worst, fabs(out[i] - ref[i]));
                if (fabs(out[i] - ref[i]) > 1e-6)
                    fail_msg("%s detect p=%d i=%zu", k->name, power, i);
            }
        }
    }
    return worst;
}

static double check_curve(const mf_dsp_kernels_t *k)
{
    static float lvl[MAXF], ref[MAXF], out[MAXF];
    double worst = 0;
    for (int iter = 0; iter < 100; iter++) {
        const size_t n = (size_t)(rnd() * MAXF);
        mf_gain_curve_t cv = {rndf(-60, 0), 1.0f / rndf(1, 100) - 1.0f, iter % 3 ? rndf(0, 24) : 0,
                              iter % 2 ? 20.0f : 10.0f};
        for (size_t i = 0; i < n; i++) lvl[i] = rnd() < 0.02 ? 0.0f : (float)pow(10, rnd() * 9 - 8);
        mf_dsp_kernels_c.gain_computer(ref, lvl, n, &cv);
        k->gain_computer(out, lvl, n, &cv);
        for (size_t i = 0; i < n; i++) {
            worst = fmax(worst, fabs(out[i] - ref[i]));
            if (fabs(out[i] - ref[i]) > 1e-3) /* dB */
                fail_msg("%s gain_computer i=%zu: %g vs %g dB", k->name, i, out[i], ref[i]);
        }
        for (size_t i = 0; i < n; i++) lvl[i] = rndf(-800, 60);
        lvl[0] = -758.5f;
        mf_dsp_kernels_c.db_to_gain(ref, lvl, n);
        k->db_to_gain(out, lvl, n);
        for (size_t i = 0; i < n; i++) {
            const double e = ref[i] == 0 ? fabs(out[i]) : fabs(out[i] / ref[i] - 1);
            worst = fmax(worst, e);
            if (e > 2e-6) fail_msg("%s db_to_gain(%g): %g vs %g", k->name, lvl[i], out[i], ref[i]);
        }
    }
    return worst;
}

/* Integer PCM to float is exact: every variant gives the C reference's
 * bits, whatever the length (the vector loops' tails). */
static void check_pcm(const mf_dsp_kernels_t *k)
{
    static unsigned char raw[3 * MAXF];
    static float ref[MAXF], out[MAXF];
    for (int iter = 0; iter < 200; iter++) {
        const size_t n = iter < 40 ? (size_t)iter : (size_t)(rnd() * MAXF);
        const int bytes = 2 + iter % 2;
        for (size_t i = 0; i < (size_t)bytes * n; i++) raw[i] = (unsigned char)(rnd() * 256);
        if (n) memset(raw, 0x80, (size_t)bytes), raw[0] = 0; /* the most negative sample */
        mf_dsp_kernels_c.pcm_to_float(ref, raw, n, bytes);
        k->pcm_to_float(out, raw, n, bytes);
        if (n && memcmp(out, ref, n * sizeof *out))
            fail_msg("%s pcm_to_float: %d-byte samples, n=%zu differ", k->name, bytes, n);
    }
}

/* The FIR and tanh kernels give the C reference's bits on every variant
 * (mf_fir_kernel.h, mf_tanh_kernel.h), for every length (the vector
 * loops' tails), in place for tanh, and adding into out for the FIR. */
static void check_fir_tanh(const mf_dsp_kernels_t *k)
{
    static float x[MAXF + 64], taps[64], ref[MAXF], out[MAXF];
    for (int iter = 0; iter < 200; iter++) {
        const size_t n = iter < 40 ? (size_t)iter : (size_t)(rnd() * MAXF);
        const int ntaps = 1 + (int)(rnd() * 64), add = iter % 2;
        for (size_t i = 0; i < n + (size_t)ntaps - 1; i++) x[i] = rndf(-1, 1);
        for (int i = 0; i < ntaps; i++) taps[i] = rndf(-0.5f, 0.5f);
        for (size_t i = 0; i < n; i++) ref[i] = out[i] = rndf(-1, 1);
        mf_dsp_kernels_c.fir(ref, x, n, taps, ntaps, add);
        k->fir(out, x, n, taps, ntaps, add);
        if (n && memcmp(out, ref, n * sizeof *out))
            fail_msg("%s fir: n=%zu ntaps=%d add=%d: not the C bits", k->name, n, ntaps, add);
        for (size_t i = 0; i < n; i++) x[i] = rndf(-12, 12) * (float)rnd();
        mf_dsp_kernels_c.tanh_curve(ref, x, n);
        memcpy(out, x, n * sizeof *out);
        k->tanh_curve(out, out, n);
        if (n && memcmp(out, ref, n * sizeof *out))
            fail_msg("%s tanh_curve: n=%zu: not the C bits", k->name, n);
    }
}

/* Gain changes (<= 0 dB) with runs of silence (0) and jumps, as a
 * compressor's static curve gives them. */
static void s_gain_changes(float *gr, size_t n)
{
    float level = 0.0f;
    for (size_t i = 0; i < n; i++) {
        if (rnd() < 0.05) level = rnd() < 0.3 ? 0.0f : -rndf(0, 30);
        gr[i] = level == 0.0f ? 0.0f : level - rndf(0, 3);
    }
}

/* The ballistics give the C reference's bits on every variant: outputs
 * and the state carried on, over calls of any number of groups, from
 * any start state, for attack and release times from 0.01 ms to 5 s. */
static void check_ballistics(const mf_dsp_kernels_t *k)
{
    enum { L = MF_BALLISTICS_LANES };
    static float in[MAXF], ref[MAXF], out[MAXF];
    for (int iter = 0; iter < 200; iter++) {
        mf_ballistics_t c;
        const float att = (float)exp(-1.0 / (48.0 * pow(10, rnd() * 4 - 2)));
        mf_ballistics_set(&c, att, (float)exp(-1.0 / (48.0 * pow(10, rnd() * 3.7))));
        const size_t groups = iter < 20 ? (size_t)iter : (size_t)(rnd() * (MAXF / L));
        s_gain_changes(in, groups * L);
        float st_ref[2] = {rndf(0, 20), rndf(0, 20)}, st[2] = {st_ref[0], st_ref[1]};
        memcpy(ref, in, groups * L * sizeof *in), memcpy(out, in, groups * L * sizeof *in);
        mf_dsp_kernels_c.ballistics(ref, groups, &c, st_ref);
        /* The variant in two calls: the state must carry across them. */
        const size_t first = groups / 3;
        k->ballistics(out, first, &c, st);
        k->ballistics(out + first * L, groups - first, &c, st);
        if (groups && memcmp(out, ref, groups * L * sizeof *out))
            fail_msg("%s ballistics: %zu groups: not the C bits", k->name, groups);
        if (memcmp(st, st_ref, sizeof st))
            fail_msg("%s ballistics: %zu groups: the state differs", k->name, groups);
    }
}

static void test_variants(void **state)
{
    (void)state;
    int ran = 0;
    for (int isa = MF_ISA_SSE2; isa < MF_ISA_COUNT; isa++) {
        const mf_dsp_kernels_t *k = mf_dsp_kernels_for((mf_isa_t)isa);
        if (!k) {
            printf("checkasm: isa %d not supported here, skipped\n", isa);
            continue;
        }
        const double eb = check_biquad(k), ebb = check_biquad_block(k), eg = check_gain(k),
                     ec = check_curve(k);
        check_pcm(k);
        check_fir_tanh(k);
        check_ballistics(k);
        printf("checkasm: %-6s biquad %.2g  biquad_block %.2g  gain/detect %.2g  curve/db %.2g  "
               "pcm, fir, tanh, ballistics exact  "
               "(max errors) ok\n",
               k->name, eb, ebb, eg, ec);
        ran++;
    }
    printf("checkasm: %d SIMD variant(s) checked; best is %s\n", ran, mf_dsp_kernels()->name);
}

/* Every kernel's output, for one set of random inputs, into buf (a fixed
 * layout whatever the table): what test_variants_agree compares. */
static size_t run_all(const mf_dsp_kernels_t *k, float *buf)
{
    static float in[2 * MAXF], lvl[MAXF], gains[MAXF];
    static mf_biquad_cascade_t st;
    size_t w = 0;
    s_rng = 0x2545f4914f6cdd1dull; /* the same inputs for every table */
    for (int ch = 1; ch <= 2; ch++)
        for (int nsec = 1; nsec <= 9; nsec += 2) {
            random_cascade(&st, ch, nsec);
            for (int blk = 0; blk < 3; blk++) { /* the state carries over */
                const size_t n = (size_t)(rnd() * 700) + 1;
                for (size_t i = 0; i < n * (size_t)ch; i++) in[i] = rndf(-1, 1);
                k->biquad(buf + w, in, n, &st);
                w += n * (size_t)ch;
            }
        }
    const size_t n = MAXF - 3;
    for (size_t i = 0; i < 2 * n; i++) in[i] = rndf(-1, 1);
    for (size_t i = 0; i < n; i++) gains[i] = rndf(0, 2);
    k->gain_ramp(buf + w, in, n, 2, 0.25f, 1.75f), w += 2 * n;
    k->gain_apply(buf + w, in, gains, n, 2), w += 2 * n;
    k->detect(buf + w, in, n, 2, 0), w += n;
    k->detect(buf + w, in, n, 2, 1), w += n;
    mf_gain_curve_t cv = {-24.0f, 1.0f / 4.0f - 1.0f, 6.0f, 20.0f};
    for (size_t i = 0; i < n; i++) lvl[i] = rnd() < 0.02 ? 0.0f : (float)pow(10, rnd() * 9 - 8);
    k->gain_computer(buf + w, lvl, n, &cv), w += n;
    for (size_t i = 0; i < n; i++) lvl[i] = rndf(-800, 60);
    k->db_to_gain(buf + w, lvl, n), w += n;
    static unsigned char raw[3 * MAXF];
    for (size_t i = 0; i < 3 * n; i++) raw[i] = (unsigned char)(rnd() * 256);
    k->pcm_to_float(buf + w, raw, n, 3), w += n;
    k->pcm_to_float(buf + w, raw, n, 2), w += n;
    static float taps[33];
    for (int i = 0; i < 33; i++) taps[i] = rndf(-0.5f, 0.5f);
    k->fir(buf + w, in, n - 32, taps, 33, 0), w += n - 32;
    for (size_t i = 0; i < n; i++) lvl[i] = rndf(-10, 10);
    k->tanh_curve(buf + w, lvl, n), w += n;
    mf_ballistics_t bc;
    mf_ballistics_set(&bc, 0.99f, 0.9997f);
    float bst[2] = {3.0f, 1.0f};
    s_gain_changes(buf + w, n / MF_BALLISTICS_LANES * MF_BALLISTICS_LANES);
    k->ballistics(buf + w, n / MF_BALLISTICS_LANES, &bc, bst);
    w += n / MF_BALLISTICS_LANES * MF_BALLISTICS_LANES;
    buf[w++] = bst[0];
    buf[w++] = bst[1];
    return w;
}

/* A farm mixes CPU generations: every SIMD variant this CPU has gives the
 * same bits as the first of its family (mf_kernels.h), so an AVX-512
 * worker and an SSE2 one render a task alike. */
static void test_variants_agree(void **state)
{
    (void)state;
    enum { CAP = 64 * MAXF };
    float *first = calloc(CAP, sizeof *first), *other = calloc(CAP, sizeof *other);
    assert_non_null(first), assert_non_null(other);
    const mf_dsp_kernels_t *k0 = NULL;
    size_t n0 = 0;
    for (int isa = MF_ISA_SSE2; isa < MF_ISA_COUNT; isa++) {
        const mf_dsp_kernels_t *k = mf_dsp_kernels_for((mf_isa_t)isa);
        if (!k) continue;
        if (!k0 || strcmp(k->family, k0->family)) { /* the first of its family */
            k0 = k, n0 = run_all(k, first);
            assert_true(n0 <= CAP);
            continue;
        }
        assert_int_equal(run_all(k, other), n0);
        for (size_t i = 0; i < n0; i++)
            if (memcmp(&first[i], &other[i], sizeof *first))
                fail_msg("%s and %s differ at output %zu: %.9g vs %.9g", k0->name, k->name, i,
                         first[i], other[i]);
        printf("checkasm: %s gives %s's bits on every kernel\n", k->name, k0->name);
    }
    free(first), free(other);
}

/* The tanh approximation (mf_approx.h) against the libm's double tanh:
 * values from 2^-30 to 12, each 1.0002 times the last, both signs, and
 * the values at the edges of its branches. */
static void test_tanh_accuracy(void **state)
{
    (void)state;
    enum { N = 1 << 18 };
    static float x[N], y[N];
    double worst_abs = 0, worst_rel = 0, at_abs = 0, at_rel = 0;
    size_t n = 0;
    const float edges[] = {0.0f,  -0.0f,      1e-38f, 0.49999997f, 0.5f,     0.50000006f, 9.999999f,
                           10.0f, 10.000001f, 40.0f,  1e30f,       INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) x[n++] = edges[i];
    for (double v = 0x1p-30; v < 12.0 && n + 2 <= N; v *= 1.0002)
        x[n++] = (float)v, x[n++] = -(float)v;
    mf_dsp_kernels_c.tanh_curve(y, x, n);
    for (size_t i = 0; i < n; i++) {
        const double t = tanh((double)x[i]), e = fabs((double)y[i] - t);
        if (e > worst_abs) worst_abs = e, at_abs = x[i];
        if (t != 0 && e / fabs(t) > worst_rel) worst_rel = e / fabs(t), at_rel = x[i];
        if (fabs(y[i]) > 1.0f) fail_msg("tanh(%g) = %.9g: beyond full scale", x[i], y[i]);
        if (signbit(y[i]) != signbit(x[i])) fail_msg("tanh(%g) = %g: the wrong sign", x[i], y[i]);
    }
    assert_true(x[n - 2] > 11.9f && y[n - 2] == 1.0f && y[n - 1] == -1.0f); /* the sweep's end */
    printf("checkasm: tanh_curve over %zu values: worst %.3g absolute (at %g), %.3g relative (at "
           "%g)\n",
           n, worst_abs, at_abs, worst_rel, at_rel);
    assert_true(worst_abs <= 2e-7);
    assert_true(worst_rel <= 5e-7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_variants),
                                       cmocka_unit_test(test_variants_agree),
                                       cmocka_unit_test(test_tanh_accuracy)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
