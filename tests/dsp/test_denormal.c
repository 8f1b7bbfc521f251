/* Denormals: every registered processor, fed a loud burst and then long
 * silence, must produce no subnormal output (flush-to-zero inside
 * processing), must leave the caller's floating-point mode as it was, and
 * must survive blocks of 1 frame and of 4096. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dsp_test_util.h"
#include "mf_playback.h"

#include <stdio.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#define FS 48000.0
#define N (6 * 48000)
static float s_buf[2 * N];

/* s_buf: n samples of noise (0.1 s, interleaved), then silence. */
static void s_burst(size_t n, uint32_t seed)
{
    memset(s_buf, 0, sizeof s_buf);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        s_buf[i] = (float)((double)seed / 4294967296.0 - 0.5);
    }
}

static void test_silence_after_burst(void **state)
{
    (void)state;
    size_t count;
    const mf_processor_class_t *const *cls = mf_processors(&count);
    for (size_t c = 0; c < count; c++)
        for (int ch = 1; ch <= 2; ch++) {
            tp_t p;
            tp_init(&p, cls[c]->type, cls[c]->max_bands ? 2 : 0, FS, ch);
            if (strcmp(cls[c]->type, "reverb") == 0) tp_set(&p, "decay_s", 0.3);
            assert_non_null(tp_create(&p));
            s_burst(4800 * (size_t)ch, 7);
#if defined(__x86_64__) || defined(__i386__)
            const unsigned csr = _mm_getcsr();
#endif
            tp_run(&p, s_buf, 100, NULL, 1);
            tp_run(&p, s_buf + 100 * (size_t)ch, N - 100, NULL, 4096);
#if defined(__x86_64__) || defined(__i386__)
            assert_int_equal(csr, _mm_getcsr());
#endif
            size_t sub = 0, zeros = 0;
            for (size_t i = 0; i < N * (size_t)ch; i++) {
                sub += fpclassify(s_buf[i]) == FP_SUBNORMAL;
                assert_true(isfinite(s_buf[i]));
            }
            for (size_t i = (N - 4800) * (size_t)ch; i < N * (size_t)ch; i++)
                zeros += s_buf[i] == 0;
            printf("%-10s ch=%d: %zu subnormal samples; last 0.1 s %s\n", cls[c]->type, ch, sub,
                   zeros == 4800 * (size_t)ch ? "exact zeros" : "not all zero");
            assert_int_equal(sub, 0);
            tp_free(&p);
        }
}

/* The playback models of listen/ (not processors, the same rule): a burst,
 * then silence, stereo in; no subnormal output, the mode left as it was. */
static float s_out[2 * N];
static void test_playback_models(void **state)
{
    (void)state;
    size_t count;
    const mf_playback_model_t *m = mf_playback_models(&count);
    for (size_t k = 0; k < count; k++) {
        mf_playback_t *pb = mf_playback_new(&m[k], FS, 2);
        assert_non_null(pb);
        s_burst(2 * 4800, 11);
#if defined(__x86_64__) || defined(__i386__)
        const unsigned csr = _mm_getcsr();
#endif
        for (size_t at = 0; at < N; at += 1024) {
            const size_t n = N - at < 1024 ? N - at : 1024;
            mf_playback_process(pb, s_out + at * (size_t)mf_playback_channels(pb), s_buf + 2 * at,
                                n);
        }
#if defined(__x86_64__) || defined(__i386__)
        assert_int_equal(csr, _mm_getcsr());
#endif
        size_t sub = 0;
        for (size_t i = 0; i < N * (size_t)mf_playback_channels(pb); i++)
            sub += fpclassify(s_out[i]) == FP_SUBNORMAL;
        printf("playback %-8s: %zu subnormal samples\n", m[k].name, sub);
        assert_int_equal(sub, 0);
        mf_playback_free(&pb);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_silence_after_burst),
                                       cmocka_unit_test(test_playback_models)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
