/* The block form of a static cascade (dsp/mf_bqb.h) against a recursion in
 * double of the same float coefficients: accurate to better than -100 dB;
 * the same bits however the signal is cut into calls; a state handed to the
 * recursive kernel carries on where the blocks stopped. */
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

#define FS 48000.0
#define LEN 48000

static uint32_t s_rng = 12345;
static float noise(void)
{
    s_rng = s_rng * 1664525u + 1013904223u;
    return (float)(s_rng >> 8) / 16777216.0f - 0.5f;
}

/* An EQ a mix might have: a 48 dB/oct rumble filter at 30 Hz, a low shelf,
 * bells, a notch, a high shelf and a 24 dB/oct lowpass: 13 sections. */
static void cascade(mf_biquad_cascade_t *st, int ch)
{
    static const struct {
        mf_bq_kind_t kind;
        double f0, g, q;
    } b[] = {{MF_BQ_HIGHPASS, 30, 0, -8},   {MF_BQ_LOWSHELF, 80, 4, 0.7},
             {MF_BQ_PEAK, 300, -3, 2},      {MF_BQ_PEAK, 2500, 2, 0.7},
             {MF_BQ_NOTCH, 6000, 0, 8},     {MF_BQ_HIGHSHELF, 10000, -2, 0.7},
             {MF_BQ_LOWPASS, 18000, 0, -4}, {MF_BQ_PEAK, 60, 6, 4}};
    mf_biquad_cascade_reset(st, ch, 0);
    int n = 0;
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) {
        const int order = b[i].q < 0 ? (int)-b[i].q : 2; /* q < 0: a Butterworth of that order */
        for (int k = 0; k < order / 2; k++, n++) {
            double c[5];
            mf_biquad_design(c, b[i].kind, FS, b[i].f0, b[i].g,
                             order > 2 ? mf_butterworth_q(order, k) : b[i].q);
            for (int j = 0; j < 5; j++) st->c[n][j] = (float)c[j];
        }
    }
    st->nsec = n;
}

/* The float coefficients' filter in double, from st's state: the truth both
 * forms approach. */
static void reference(const mf_biquad_cascade_t *st, const float *in, double *out, size_t frames)
{
    const int ch = st->channels;
    for (int c = 0; c < ch; c++) {
        double z[64][2];
        for (int k = 0; k < st->nsec; k++) z[k][0] = st->z[k][c][0], z[k][1] = st->z[k][c][1];
        for (size_t i = 0; i < frames; i++) {
            double u = in[i * (size_t)ch + (size_t)c];
            for (int s = 0; s < st->nsec; s++) {
                const float *k = st->c[s];
                const double y = (double)k[0] * u + z[s][0];
                z[s][0] = ((double)k[1] * u + z[s][1]) - (double)k[3] * y;
                z[s][1] = (double)k[2] * u - (double)k[4] * y;
                u = y;
            }
            out[i * (size_t)ch + (size_t)c] = u;
        }
    }
}

static double error_db(const float *y, const double *ref, size_t n)
{
    double e = 0, p = 0;
    for (size_t i = 0; i < n; i++) e += (y[i] - ref[i]) * (y[i] - ref[i]), p += ref[i] * ref[i];
    return 10.0 * log10(e / p);
}

static float s_in[2 * LEN], s_out[2 * LEN], s_rec[2 * LEN];
static double s_ref[2 * LEN];

static void fill(int ch)
{
    for (size_t i = 0; i < LEN; i++) {
        const float tone = 0.3f * (float)sin(2 * M_PI * 45.0 * (double)i / FS);
        for (int c = 0; c < ch; c++) s_in[i * (size_t)ch + (size_t)c] = tone + 0.5f * noise();
    }
}

/* The cascade, the input and its reference for ch channels; a block form
 * of the cascade. */
static mf_bqb_t *setup(mf_biquad_cascade_t *st, int ch)
{
    cascade(st, ch);
    fill(ch);
    reference(st, s_in, s_ref, LEN);
    mf_bqb_t *b = mf_bqb_new(st, NULL);
    assert_non_null(b);
    return b;
}

static void test_accuracy(void **state)
{
    (void)state;
    for (int ch = 1; ch <= 2; ch++) {
        mf_biquad_cascade_t st;
        mf_bqb_t *b = setup(&st, ch);
        mf_bqb_run(b, s_out, s_in, LEN);
        mf_bqb_free(&b);
        memcpy(s_rec, s_in, sizeof s_rec);
        mf_dsp_kernels_c.biquad(s_rec, s_rec, LEN, &st);
        const double eb = error_db(s_out, s_ref, LEN * (size_t)ch);
        const double er = error_db(s_rec, s_ref, LEN * (size_t)ch);
        printf("%d channel(s), %d sections: blocks %.1f dB, recursive float %.1f dB\n", ch, st.nsec,
               eb, er);
        assert_true(eb < -100.0);
        assert_true(eb < er); /* the double state is the more accurate */
    }
}

/* Calls of random sizes, in place, against one call. */
static void test_any_cut(void **state)
{
    (void)state;
    for (int ch = 1; ch <= 2; ch++) {
        mf_biquad_cascade_t st;
        cascade(&st, ch);
        fill(ch);
        mf_bqb_t *one = mf_bqb_new(&st, NULL), *cut = mf_bqb_new(&st, NULL);
        assert_non_null(one), assert_non_null(cut);
        mf_bqb_run(one, s_out, s_in, LEN);
        memcpy(s_rec, s_in, sizeof s_rec);
        for (size_t at = 0; at < LEN;) {
            size_t n = (size_t)((noise() + 0.5f) * 700.0f); /* 0 .. 699 frames */
            if (n > LEN - at) n = LEN - at;
            mf_bqb_run(cut, s_rec + at * (size_t)ch, s_rec + at * (size_t)ch, n);
            at += n;
        }
        assert_memory_equal(s_out, s_rec, LEN * (size_t)ch * sizeof *s_out);
        mf_bqb_free(&one), mf_bqb_free(&cut);
    }
}

/* Blocks for a while (stopping inside a block), then the state into the
 * recursive kernel: the join is as accurate as either side. */
static void test_handover(void **state)
{
    (void)state;
    const size_t half = LEN / 2 + 7;
    for (int ch = 1; ch <= 2; ch++) {
        mf_biquad_cascade_t st;
        mf_bqb_t *b = setup(&st, ch);
        mf_bqb_run(b, s_out, s_in, half);
        mf_biquad_cascade_t next;
        mf_bqb_state(b, &next);
        mf_bqb_free(&b);
        assert_int_equal(next.nsec, st.nsec);
        mf_dsp_kernels_c.biquad(s_out + half * (size_t)ch, s_in + half * (size_t)ch, LEN - half,
                                &next);
        const size_t from = (half - 64) * (size_t)ch, n = 128 * (size_t)ch;
        const double e = error_db(s_out + from, s_ref + from, n);
        printf("%d channel(s): %.1f dB around the handover\n", ch, e);
        assert_true(e < -70.0);
    }
}

/* No sections: a copy; a cascade handed over with a state starts from it. */
static void test_edges(void **state)
{
    (void)state;
    mf_biquad_cascade_t st;
    mf_biquad_cascade_reset(&st, 2, 0);
    fill(2);
    mf_bqb_t *b = mf_bqb_new(&st, NULL);
    assert_non_null(b);
    mf_bqb_run(b, s_out, s_in, 100);
    assert_memory_equal(s_out, s_in, 200 * sizeof *s_out);
    mf_bqb_free(&b);
    mf_bqb_free(&b); /* twice is fine */
    cascade(&st, 1);
    st.z[0][0][0] = 0.25f; /* a decaying start, no input */
    memset(s_in, 0, sizeof s_in);
    b = mf_bqb_new(&st, NULL);
    assert_non_null(b);
    mf_bqb_run(b, s_out, s_in, LEN);
    reference(&st, s_in, s_ref, LEN);
    double peak = 0, diff = 0;
    for (size_t i = 0; i < LEN; i++)
        peak = fmax(peak, fabs(s_ref[i])), diff = fmax(diff, fabs(s_out[i] - s_ref[i]));
    printf("from a state: peak %.3g, largest difference %.3g\n", peak, diff);
    assert_true(peak > 0.01 && diff < 1e-5 * peak);
    mf_bqb_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accuracy),
        cmocka_unit_test(test_any_cut),
        cmocka_unit_test(test_handover),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
