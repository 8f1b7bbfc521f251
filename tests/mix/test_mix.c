/* dsp/mf_gain.h and dsp/mf_envelope.h: level arithmetic, pan laws, balance
 * and automation envelopes, against values computed by hand. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mf_envelope.h"
#include "mf_gain.h"

#define EPS 1e-9

/* |a - b| <= tol, in double, saying the values when it fails. */
#define assert_near(a, b, tol)                                                                     \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (tol)))                                                             \
            fail_msg("%s = %.12g, expected %.12g (within %g)", #a, a_, b_, (double)(tol));         \
    } while (0)

/* ---- dB <-> gain -------------------------------------------------------- */

static void test_db_gain(void **state)
{
    (void)state;
    assert_near(mf_db_to_gain(0.0), 1.0, EPS);
    assert_near(mf_db_to_gain(-20.0), 0.1, EPS);
    assert_near(mf_db_to_gain(20.0), 10.0, EPS);
    assert_near(mf_db_to_gain(-6.0), 0.501187233627, 1e-11);
    assert_near(mf_db_to_gain(-3.0), 0.707945784384, 1e-11);
    /* "-inf" and anything at or below the floor is silence, exactly. */
    assert_true(mf_db_to_gain(-INFINITY) == 0.0);
    assert_true(mf_db_to_gain(MF_DB_SILENT) == 0.0);
    assert_true(mf_db_to_gain(-1000.0) == 0.0);
    assert_true(mf_db_to_gain(MF_DB_SILENT + 1.0) > 0.0);

    assert_near(mf_gain_to_db(1.0), 0.0, EPS);
    assert_near(mf_gain_to_db(0.5), -6.020599913, 1e-8);
    assert_near(mf_gain_to_db(M_SQRT1_2), -3.010299957, 1e-8);
    assert_near(mf_gain_to_db(10.0), 20.0, EPS);
    assert_true(isinf(mf_gain_to_db(0.0)) && mf_gain_to_db(0.0) < 0);
    assert_true(isinf(mf_gain_to_db(-1.0)) && mf_gain_to_db(-1.0) < 0);
    for (double db = -120.0; db <= 24.0; db += 0.37)
        assert_near(mf_gain_to_db(mf_db_to_gain(db)), db, 1e-9);
}

static void test_gain_apply_mix_add(void **state)
{
    (void)state;
    float a[5] = {1.0f, -2.0f, 0.5f, 0.0f, 4.0f};
    float b[5] = {0.25f, 0.25f, -0.5f, 1.0f, -4.0f};
    mf_gain_apply(a, 5, 0.5f);
    const float ga[5] = {0.5f, -1.0f, 0.25f, 0.0f, 2.0f};
    for (int i = 0; i < 5; i++) assert_true(a[i] == ga[i]);
    mf_mix_add(a, b, 4); /* the fifth stays */
    const float sum[5] = {0.75f, -0.75f, -0.25f, 1.0f, 2.0f};
    for (int i = 0; i < 5; i++) assert_true(a[i] == sum[i]);
}

/* ---- pan laws ----------------------------------------------------------- */

static void pan(double p, double law, double *l, double *r)
{
    *l = *r = -1.0;
    mf_pan_gains(p, law, l, r);
}

static void test_pan_law_3db(void **state)
{
    (void)state;
    double l, r;
    pan(0.0, -3.0, &l, &r);
    assert_near(l, 0.70710678, 1e-8);
    assert_near(r, 0.70710678, 1e-8);
    assert_near(mf_gain_to_db(l), -3.0103, 1e-4);
    pan(-1.0, -3.0, &l, &r);
    assert_near(l, 1.0, EPS);
    assert_near(r, 0.0, EPS);
    pan(1.0, -3.0, &l, &r);
    assert_near(l, 0.0, EPS);
    assert_near(r, 1.0, EPS);
    pan(0.5, -3.0, &l, &r);
    assert_near(l, cos(3.0 * M_PI / 8.0), EPS); /* 0.38268 */
    assert_near(r, sin(3.0 * M_PI / 8.0), EPS); /* 0.92388 */
    assert_near(l, 0.382683432, 1e-8);
    assert_near(r, 0.923879533, 1e-8);
    pan(-0.5, -3.0, &l, &r);
    assert_near(l, 0.923879533, 1e-8);
    assert_near(r, 0.382683432, 1e-8);
    /* Constant power everywhere. */
    for (double p = -1.0; p <= 1.0; p += 0.05) {
        pan(p, -3.0, &l, &r);
        assert_near(l * l + r * r, 1.0, 1e-12);
    }
    /* Out of range is clamped. */
    pan(-3.0, -3.0, &l, &r);
    assert_near(l, 1.0, EPS);
    assert_near(r, 0.0, EPS);
}

static void test_pan_law_6db(void **state)
{
    (void)state;
    double l, r;
    pan(0.0, -6.0, &l, &r);
    assert_near(l, 0.5, 1e-12);
    assert_near(r, 0.5, 1e-12);
    pan(-1.0, -6.0, &l, &r);
    assert_near(l, 1.0, EPS);
    assert_near(r, 0.0, EPS);
    pan(1.0, -6.0, &l, &r);
    assert_near(l, 0.0, EPS);
    assert_near(r, 1.0, EPS);
    pan(0.5, -6.0, &l, &r);
    assert_near(l, 0.25, EPS);
    assert_near(r, 0.75, EPS);
    /* Constant voltage everywhere. */
    for (double p = -1.0; p <= 1.0; p += 0.05) {
        pan(p, -6.0, &l, &r);
        assert_near(l + r, 1.0, 1e-12);
    }
}

static void test_pan_law_4_5db(void **state)
{
    (void)state;
    double l, r;
    pan(0.0, -4.5, &l, &r);
    assert_near(l, pow(10.0, -4.5 / 20.0), 1e-6); /* 0.59566 */
    assert_near(r, 0.59566, 1e-5);
    assert_near(mf_gain_to_db(l), -4.5, 1e-4);
    pan(-1.0, -4.5, &l, &r);
    assert_near(l, 1.0, EPS);
    assert_near(r, 0.0, EPS);
    pan(1.0, -4.5, &l, &r);
    assert_near(l, 0.0, EPS);
    assert_near(r, 1.0, EPS);
    /* In between the two laws, in dB, wherever it is panned. */
    for (double p = -0.95; p <= 0.95; p += 0.05) {
        double l3, r3, l6, r6;
        pan(p, -3.0, &l3, &r3);
        pan(p, -6.0, &l6, &r6);
        pan(p, -4.5, &l, &r);
        assert_true(l <= l3 + 1e-12 && l >= l6 - 1e-12);
        assert_true(r <= r3 + 1e-12 && r >= r6 - 1e-12);
    }
    /* Mirror symmetry. */
    double l2, r2;
    pan(0.3, -4.5, &l, &r);
    pan(-0.3, -4.5, &l2, &r2);
    assert_near(l, r2, 1e-12);
    assert_near(r, l2, 1e-12);
}

/* Hard panned, the far side is silent: exactly 0, not a -320 dB leak, on
 * either side and with every law (a "mono right" track must null). */
static void test_pan_hard_far_side_exact(void **state)
{
    (void)state;
    const double laws[] = {-3.0, -4.5, -6.0};
    for (int k = 0; k < 3; k++) {
        double l, r;
        pan(-1.0, laws[k], &l, &r);
        if (r != 0.0 || l != 1.0) fail_msg("law %g, pan -1: %g / %g, want 1 / 0", laws[k], l, r);
        pan(1.0, laws[k], &l, &r);
        if (l != 0.0 || r != 1.0) fail_msg("law %g, pan +1: %g / %g, want 0 / 1", laws[k], l, r);
    }
}

static void test_balance(void **state)
{
    (void)state;
    double l, r;
    mf_balance_gains(0.0, &l, &r);
    assert_near(l, 1.0, EPS);
    assert_near(r, 1.0, EPS);
    mf_balance_gains(0.5, &l, &r);
    assert_near(l, 0.5, EPS);
    assert_near(r, 1.0, EPS);
    mf_balance_gains(-0.25, &l, &r);
    assert_near(l, 1.0, EPS);
    assert_near(r, 0.75, EPS);
    mf_balance_gains(1.0, &l, &r);
    assert_near(l, 0.0, EPS);
    assert_near(r, 1.0, EPS);
    mf_balance_gains(-1.0, &l, &r);
    assert_near(l, 1.0, EPS);
    assert_near(r, 0.0, EPS);
    mf_balance_gains(7.0, &l, &r);
    assert_near(l, 0.0, EPS);
    assert_near(r, 1.0, EPS);
}

/* ---- envelopes ------------------------------------------------------------ */

static void env_init(mf_envelope_t *e, const mf_point_t *p, size_t n, double rate,
                     mf_env_mode_t mode)
{
    assert_int_equal(mf_envelope_init(e, p, n, rate, mode), 0);
}

static void test_envelope_held_and_linear(void **state)
{
    (void)state;
    const double rate = 48000.0;
    const mf_point_t pts[] = {{1.0, 2.0}, {2.0, 4.0}, {4.0, -1.0}};
    mf_envelope_t e;
    env_init(&e, pts, 3, rate, MF_ENV_VALUE);
    /* Held before the first point, and after the last. */
    assert_near(mf_envelope_value_at(&e, 0), 2.0, EPS);
    assert_near(mf_envelope_value_at(&e, -5000), 2.0, EPS);
    assert_near(mf_envelope_value_at(&e, 47999), 2.0, EPS);
    assert_near(mf_envelope_value_at(&e, 48000), 2.0, EPS);
    assert_near(mf_envelope_value_at(&e, 192000), -1.0, EPS);
    assert_near(mf_envelope_value_at(&e, 10 * 48000), -1.0, EPS);
    /* Linear in between. */
    assert_near(mf_envelope_value_at(&e, 72000), 3.0, EPS);
    assert_near(mf_envelope_value_at(&e, 60000), 2.5, EPS);
    assert_near(mf_envelope_value_at(&e, 96000), 4.0, EPS);
    assert_near(mf_envelope_value_at(&e, 144000), 1.5, EPS);
    assert_near(mf_envelope_value_at(&e, 48001), 2.0 + 2.0 / 48000.0, 1e-12);

    /* The rendered values agree with value_at (linear segments are exact on
     * the grid, so the interpolation between grid points is too). */
    const size_t n = 5 * 48000;
    float *out = malloc(n * sizeof *out);
    assert_non_null(out);
    mf_envelope_render(&e, 0, n, out);
    for (size_t i = 0; i < n; i += 7)
        assert_near(out[i], (float)mf_envelope_value_at(&e, (int64_t)i), 1e-5);
    assert_true(out[0] == 2.0f);
    assert_true(out[n - 1] == -1.0f);
    assert_near(out[72000], 3.0f, 1e-6);
    free(out);
    mf_envelope_fini(&e);
}

static void test_envelope_single_point(void **state)
{
    (void)state;
    const mf_point_t pts[] = {{3.0, 0.25}};
    mf_envelope_t e;
    env_init(&e, pts, 1, 44100.0, MF_ENV_VALUE);
    float out[300];
    mf_envelope_render(&e, 44100 * 3 - 150, 300, out);
    for (int i = 0; i < 300; i++) assert_true(out[i] == 0.25f);
    mf_envelope_fini(&e);
}

static void test_envelope_db_mode(void **state)
{
    (void)state;
    const double rate = 48000.0;
    const mf_point_t pts[] = {{0.0, -20.0}, {1.0, 0.0}};
    mf_envelope_t e;
    env_init(&e, pts, 2, rate, MF_ENV_DB);
    /* value_at stays in dB; linear in dB. */
    assert_near(mf_envelope_value_at(&e, 24000), -10.0, 1e-9);
    assert_near(mf_envelope_value_at(&e, 12000), -15.0, 1e-9);
    /* render gives linear gain of the interpolated dB. */
    float out[1];
    mf_envelope_render(&e, 24000, 1, out);
    assert_near(out[0], 0.316227766f, 1e-6);
    mf_envelope_render(&e, 0, 1, out);
    assert_near(out[0], 0.1f, 1e-7);
    mf_envelope_render(&e, 48000 * 3, 1, out);
    assert_near(out[0], 1.0f, 1e-7);
    mf_envelope_fini(&e);

    /* A fade from "-inf" (the floor) is silent at its start, exactly. */
    const mf_point_t fade[] = {{0.0, MF_DB_SILENT}, {1.0, 0.0}};
    env_init(&e, fade, 2, rate, MF_ENV_DB);
    float f[64];
    mf_envelope_render(&e, 0, 64, f);
    assert_true(f[0] == 0.0f);
    for (int i = 1; i < 64; i++) assert_true(f[i] >= f[i - 1] && f[i] < 1e-6f);
    mf_envelope_render(&e, 24000, 1, f);
    assert_near(f[0], (float)pow(10.0, -72.0 / 20.0), 1e-8);
    mf_envelope_fini(&e);
}

/* Largest |out[i] - out[i-1]| over a render. */
static double max_jump(const mf_envelope_t *e, int64_t start, size_t n)
{
    float *out = malloc(n * sizeof *out);
    assert_non_null(out);
    mf_envelope_render(e, start, n, out);
    double m = 0;
    for (size_t i = 1; i < n; i++) m = fmax(m, fabs((double)out[i] - out[i - 1]));
    free(out);
    return m;
}

static void test_envelope_steps_ramped(void **state)
{
    (void)state;
    const double rates[] = {48000.0, 44100.0, 96000.0};
    for (size_t k = 0; k < 3; k++) {
        const double rate = rates[k];
        /* A step up at 1 s and a step back down at 1.5 s. */
        const mf_point_t pts[] = {{1.0, 0.0}, {1.0, 1.0}, {1.5, 1.0}, {1.5, 0.0}};
        mf_envelope_t e;
        env_init(&e, pts, 4, rate, MF_ENV_VALUE);
        /* Over the ramp time, never faster than a straight ramp. */
        const double bound = 1.0 / (MF_ENV_STEP_S * rate) + 1e-6;
        double m = max_jump(&e, 0, (size_t)(2.0 * rate));
        assert_true(m <= bound);
        assert_true(m > 0.5 * bound); /* it does move */
        /* It still reaches the new value, and quickly. */
        assert_near(mf_envelope_value_at(&e, (int64_t)(1.0 * rate)), 1.0, 1e-9);
        assert_near(mf_envelope_value_at(&e, (int64_t)(1.25 * rate)), 1.0, 1e-9);
        assert_near(mf_envelope_value_at(&e, (int64_t)(1.5 * rate) + 1), 0.0, 1e-9);
        assert_near(mf_envelope_value_at(&e, (int64_t)(0.99 * rate)), 0.0, 1e-9);
        float v;
        mf_envelope_render(&e, (int64_t)(1.01 * rate), 1, &v);
        assert_near(v, 1.0f, 1e-6);
        mf_envelope_fini(&e);

        /* A gain step in dB: no jump in the linear gain larger than the
         * same ramp would give. */
        const mf_point_t db[] = {{0.5, -40.0}, {0.5, 0.0}};
        env_init(&e, db, 2, rate, MF_ENV_DB);
        m = max_jump(&e, 0, (size_t)rate);
        assert_true(m < 0.2); /* an unramped step would jump by 0.99 */
        mf_envelope_fini(&e);
    }
}

/* xorshift64: deterministic block sizes and points. */
static uint64_t s_rng = 0x2545F4914F6CDD1DULL;
static uint64_t rnd(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

static double s_pan_left(double v, void *ctx)
{
    double l, r;
    mf_pan_gains(v, *(const double *)ctx, &l, &r);
    return l;
}

/* Renders [start, start+n) in one call and in random blocks; compares bits. */
static void check_blocks(const mf_envelope_t *e, int64_t start, size_t n, int use_map)
{
    float *one = malloc(n * sizeof *one), *many = malloc(n * sizeof *many);
    assert_non_null(one);
    assert_non_null(many);
    double law = -4.5;
    if (use_map)
        mf_envelope_render_map(e, start, n, one, s_pan_left, &law);
    else
        mf_envelope_render(e, start, n, one);
    for (int round = 0; round < 4; round++) {
        memset(many, 0xAB, n * sizeof *many);
        size_t done = 0;
        while (done < n) {
            size_t b = 1 + (size_t)(rnd() % (round == 0 ? 7 : round == 1 ? 100 : 5000));
            if (b > n - done) b = n - done;
            if (use_map)
                mf_envelope_render_map(e, start + (int64_t)done, b, many + done, s_pan_left, &law);
            else
                mf_envelope_render(e, start + (int64_t)done, b, many + done);
            done += b;
        }
        assert_memory_equal(one, many, n * sizeof *one);
    }
    free(one);
    free(many);
}

static void test_envelope_block_size_independent(void **state)
{
    (void)state;
    /* Points at times that fall between grid points, a step and a ramp. */
    const mf_point_t db[] = {{0.0, MF_DB_SILENT}, {0.0123, -30.0}, {0.5017, -6.0},
                             {0.5017, 3.0},       {1.2345, -12.5}, {2.0, 0.0}};
    const mf_point_t val[] = {{0.1, -1.0}, {0.77, 0.6}, {0.77, -0.2}, {1.9, 1.0}};
    mf_envelope_t e;
    env_init(&e, db, 6, 48000.0, MF_ENV_DB);
    check_blocks(&e, 0, 48000 * 5 / 2, 0);
    check_blocks(&e, 12345, 100000, 0); /* not on the grid */
    check_blocks(&e, -1000, 5000, 0);   /* before the timeline's start */
    mf_envelope_fini(&e);
    env_init(&e, db, 6, 44100.0, MF_ENV_DB);
    check_blocks(&e, 17, 44100 * 2, 0);
    mf_envelope_fini(&e);
    env_init(&e, val, 4, 48000.0, MF_ENV_VALUE);
    check_blocks(&e, 0, 48000 * 2, 0);
    check_blocks(&e, 31, 48000 * 2, 1);
    mf_envelope_fini(&e);

    /* And a sample's value depends only on its frame: rendering a single
     * frame anywhere gives the same bits as the long render. */
    env_init(&e, db, 6, 48000.0, MF_ENV_DB);
    const size_t n = 48000 * 2;
    float *all = malloc(n * sizeof *all);
    assert_non_null(all);
    mf_envelope_render(&e, 0, n, all);
    for (int k = 0; k < 2000; k++) {
        size_t i = (size_t)(rnd() % n);
        float v;
        mf_envelope_render(&e, (int64_t)i, 1, &v);
        assert_memory_equal(&v, &all[i], sizeof v);
    }
    free(all);
    mf_envelope_fini(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_db_gain),
        cmocka_unit_test(test_gain_apply_mix_add),
        cmocka_unit_test(test_pan_law_3db),
        cmocka_unit_test(test_pan_law_6db),
        cmocka_unit_test(test_pan_law_4_5db),
        cmocka_unit_test(test_pan_hard_far_side_exact),
        cmocka_unit_test(test_balance),
        cmocka_unit_test(test_envelope_held_and_linear),
        cmocka_unit_test(test_envelope_single_point),
        cmocka_unit_test(test_envelope_db_mode),
        cmocka_unit_test(test_envelope_steps_ramped),
        cmocka_unit_test(test_envelope_block_size_independent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
