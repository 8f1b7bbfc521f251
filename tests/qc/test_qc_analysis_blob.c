/* qc/mf_analysis_blob.c: an analysis of music with silence at its head and
 * a gap inside (NaN and -inf in its series, a gap span) comes back from
 * its bytes field for field and bit for bit, a mono one too; every
 * truncation, a byte more, another version and a count the bytes cannot
 * hold are refused, with nothing left allocated (ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mf_analysis_blob.h"
#include "qc_test_util.h"

#include <stdlib.h>
#include <string.h>

#define FS 48000.0

static void s_analysis(int channels, mf_analysis_t *a)
{
    const size_t n = (size_t)(20.0 * FS);
    float *x = malloc(n * (size_t)channels * sizeof *x);
    assert_non_null(x);
    qt_music(x, n, channels, FS, 5);
    const size_t head = (size_t)(3.0 * FS), gap = (size_t)(8.0 * FS);
    memset(x, 0, head * (size_t)channels * sizeof *x); /* head silence */
    memset(x + gap * (size_t)channels, 0, (size_t)(3.0 * FS) * (size_t)channels * sizeof *x);
    qt_analyse(x, n, channels, FS, MF_ANALYZE_ALL, a);
    free(x);
}

static void s_same_f(const float *x, const float *y, size_t n)
{
    assert_true((x == NULL) == (y == NULL));
    if (x) assert_memory_equal(x, y, n * sizeof *x); /* bits: NaN == NaN */
}

static void s_round_trip(int channels)
{
    mf_analysis_t a, b;
    s_analysis(channels, &a);
    assert_true(a.n_gaps >= 1 && a.n_hops > 100 && a.true_peak);
    assert_true(channels == 1 || a.correlation_s);
    unsigned char *bytes;
    size_t len;
    assert_int_equal(mf_analysis_pack(&a, &bytes, &len), MF_OK);
    assert_int_equal(mf_analysis_unpack(bytes, len, &b), MF_OK);
    /* Scalars: the struct without its pointers. */
    mf_analysis_t x = a, y = b;
    x.gaps = y.gaps = NULL;
    x.momentary = y.momentary = x.short_term = y.short_term = NULL;
    x.peak = y.peak = x.true_peak = y.true_peak = x.rms = y.rms = NULL;
    x.correlation_s = y.correlation_s = NULL;
    assert_memory_equal(&x, &y, sizeof x);
    assert_memory_equal(a.gaps, b.gaps, a.n_gaps * sizeof *a.gaps);
    s_same_f(a.momentary, b.momentary, a.n_hops);
    s_same_f(a.short_term, b.short_term, a.n_hops);
    s_same_f(a.peak, b.peak, a.n_hops);
    s_same_f(a.true_peak, b.true_peak, a.n_hops);
    s_same_f(a.rms, b.rms, a.n_hops);
    s_same_f(a.correlation_s, b.correlation_s, a.n_seconds);
    mf_analysis_fini(&b);
    mf_analysis_fini(&a);
    free(bytes);
}

static void test_round_trip_stereo(void **state)
{
    (void)state;
    s_round_trip(2);
}

static void test_round_trip_mono(void **state)
{
    (void)state;
    s_round_trip(1);
}

static void test_malformed_refused(void **state)
{
    (void)state;
    mf_analysis_t a, b;
    s_analysis(2, &a);
    unsigned char *bytes;
    size_t len;
    assert_int_equal(mf_analysis_pack(&a, &bytes, &len), MF_OK);
    mf_analysis_fini(&a);
    for (size_t cut = 0; cut < len; cut += cut < 400 ? 1 : 97) {
        assert_int_equal(mf_analysis_unpack(bytes, cut, &b), MF_ERR_INVALID);
        assert_null(b.gaps);
        assert_null(b.momentary);
    }
    unsigned char *more = malloc(len + 1);
    memcpy(more, bytes, len);
    more[len] = 0;
    assert_int_equal(mf_analysis_unpack(more, len + 1, &b), MF_ERR_INVALID);
    free(more);
    bytes[4] ^= 2; /* another version */
    assert_int_equal(mf_analysis_unpack(bytes, len, &b), MF_ERR_INVALID);
    bytes[4] ^= 2;
    bytes[8 + 8 * 6 + 5] = 0x7f; /* n_hops far beyond the bytes */
    assert_int_equal(mf_analysis_unpack(bytes, len, &b), MF_ERR_INVALID);
    assert_int_equal(mf_analysis_unpack(NULL, 0, &b), MF_ERR_INVALID);
    free(bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_stereo),
        cmocka_unit_test(test_round_trip_mono),
        cmocka_unit_test(test_malformed_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
