/* The action cache's key filter (coordinator/key_filter.h): never a false
 * "not cached", even past its capacity; few false "perhaps" within it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "key_filter.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A key as a digest would be: 32 pseudo-random bytes from a counter. */
static void s_key(uint64_t i, int salt, unsigned char k[MF_KEYFILTER_KEY])
{
    uint64_t x = i * 0x9E3779B97F4A7C15ull + (uint64_t)salt * 0xD1B54A32D192ED03ull;
    for (int w = 0; w < 4; w++) {
        x ^= x >> 31, x *= 0xBF58476D1CE4E5B9ull, x ^= x >> 29, x *= 0x94D049BB133111EBull;
        x ^= x >> 32;
        memcpy(k + 8 * w, &x, sizeof x);
    }
}

static void no_false_negatives(void **state)
{
    (void)state;
    mf_keyfilter_t *f = mf_keyfilter_new(10000);
    assert_non_null(f);
    assert_true(mf_keyfilter_capacity(f) >= 10000);
    unsigned char k[MF_KEYFILTER_KEY];
    const size_t n = 4 * mf_keyfilter_capacity(f); /* far past what it was made for */
    for (size_t i = 0; i < n; i++) {
        s_key(i, 1, k);
        mf_keyfilter_add(f, k);
        if (i + 1 == mf_keyfilter_capacity(f)) assert_false(mf_keyfilter_full(f));
    }
    assert_true(mf_keyfilter_full(f));
    for (size_t i = 0; i < n; i++) {
        s_key(i, 1, k);
        assert_true(mf_keyfilter_maybe(f, k));
    }
    mf_keyfilter_free(&f);
    mf_keyfilter_free(&f); /* twice is fine */
}

static void few_false_positives(void **state)
{
    (void)state;
    mf_keyfilter_t *f = mf_keyfilter_new(100000);
    assert_non_null(f);
    unsigned char k[MF_KEYFILTER_KEY];
    const size_t n = mf_keyfilter_capacity(f);
    for (size_t i = 0; i < n; i++) s_key(i, 2, k), mf_keyfilter_add(f, k);
    size_t fp = 0;
    for (size_t i = 0; i < n; i++) s_key(i, 3, k), fp += (size_t)mf_keyfilter_maybe(f, k);
    print_message("    %zu keys: %.3f %% false positives\n", n, 100.0 * (double)fp / (double)n);
    assert_true(fp * 100 < n); /* under 1 % (about 0.25 % expected) */
    mf_keyfilter_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_false_negatives),
        cmocka_unit_test(few_false_positives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
