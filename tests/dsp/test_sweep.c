/* Every processor of the registry with random parameters, their ends of
 * range included (each value its minimum, its maximum, its default or
 * anything between), random band counts and list items, at 8 to 192 kHz,
 * mono and stereo, fixed and with random updates between calls of random
 * sizes, on hot noise bursts (+12 dBFS) and a quiet tone: the output stays
 * finite and every instance ends. Run under AddressSanitizer in CI, where a
 * write past a buffer fails it: a limiter with a 0.5 ms look-ahead on a
 * low tone over its ceiling did (session 31). A fixed seed: the same cases
 * every run. A file input (the reverb's "ir") has tests of its own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mf_processor.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FRAMES 12000
#define ROUNDS 24

static uint64_t s_rng = 0x2545F4914F6CDD1Dull;
static uint32_t rnd32(void)
{
    s_rng ^= s_rng << 13, s_rng ^= s_rng >> 7, s_rng ^= s_rng << 17;
    return (uint32_t)(s_rng >> 32);
}
static double rnd01(void)
{
    return rnd32() / 4294967296.0;
}

static double s_pick(const mf_param_desc_t *p)
{
    if (p->choices) {
        uint32_t n = 0;
        while (p->choices[n]) n++;
        return rnd32() % n;
    }
    switch (rnd32() % 5) {
    case 0:
        return p->min;
    case 1:
        return p->max;
    case 2:
        return p->def;
    default:
        return p->min + (p->max - p->min) * rnd01();
    }
}

/* Random values in the flat layout; list items evenly spread over their
 * range, so that increasing lists stay increasing. */
static void s_values(const mf_processor_class_t *c, size_t nb, double *v)
{
    for (size_t i = 0; i < c->n_params; i++) v[i] = s_pick(&c->params[i]);
    for (size_t b = 0; b < nb; b++)
        for (size_t i = 0; i < c->n_band_params; i++)
            v[c->n_params + b * c->n_band_params + i] = s_pick(&c->band_params[i]);
    for (size_t l = 0; l < c->n_lists; l++) {
        const mf_list_param_t *L = &c->lists[l];
        const size_t off = mf_processor_list_offset(c, nb, l);
        const size_t n =
            L->sets_bands ? nb - 1 : L->min_count + rnd32() % (L->max_count - L->min_count + 1);
        v[off] = (double)n;
        for (size_t k = 0; k < n; k++)
            v[off + 1 + k] =
                L->item.min + (L->item.max - L->item.min) * (double)(k + 1) / (double)(n + 1);
    }
}

static size_t s_bands(const mf_processor_class_t *c)
{
    if (c->n_lists && c->lists[0].sets_bands) {
        const mf_list_param_t *L = &c->lists[0];
        return L->min_count + rnd32() % (L->max_count - L->min_count + 1) + 1;
    }
    return c->max_bands ? 1 + rnd32() % c->max_bands : 0;
}

static void s_case(const mf_processor_class_t *c, float *buf, float *key)
{
    static const double rates[] = {8000, 22050, 44100, 48000, 96000, 192000};
    const size_t nb = s_bands(c), nv = mf_processor_value_count(c, nb);
    double *v = calloc(nv + 1, sizeof *v);
    assert_non_null(v);
    s_values(c, nb, v);
    const mf_proc_env_t env = {.sample_rate = rates[rnd32() % 6],
                               .channels = 1 + (int)(rnd32() % 2),
                               .tempo_bpm = 20 + 280 * rnd01(),
                               .automated = (int)(rnd32() % 2)};
    void *st = c->create(v, nb, &env);
    assert_non_null(st);
    const size_t ch = (size_t)env.channels;
    const double hot = rnd32() % 2 ? 4.0 : 0.9, f = 20 + 2000 * rnd01();
    for (size_t i = 0; i < FRAMES; i++)
        for (size_t k = 0; k < ch; k++) {
            const double tone = sin(2 * M_PI * f * (double)i / env.sample_rate);
            buf[i * ch + k] = (float)(i % 4000 < 1500 ? hot * (2 * rnd01() - 1) : 0.1 * tone);
            key[i * ch + k] = buf[i * ch + k];
        }
    for (size_t at = 0; at < FRAMES;) {
        size_t m = 1 + rnd32() % 4096;
        if (m > FRAMES - at) m = FRAMES - at;
        if (env.automated && rnd32() % 4 == 0) {
            s_values(c, nb, v);
            c->update(st, v);
        }
        c->process(st, buf + at * ch, m, c->has_sidechain ? key + at * ch : NULL);
        at += m;
    }
    for (size_t i = 0; i < FRAMES * ch; i++)
        if (!isfinite(buf[i]))
            fail_msg("%s at %.0f Hz, %zu channel(s)%s: sample %zu is %g", c->type, env.sample_rate,
                     ch, env.automated ? ", automated" : "", i, buf[i]);
    c->destroy(st);
    free(v);
}

static void test_sweep(void **state)
{
    (void)state;
    size_t n, cases = 0;
    const mf_processor_class_t *const *cls = mf_processors(&n);
    float *buf = malloc(sizeof(float) * 2 * FRAMES), *key = malloc(sizeof(float) * 2 * FRAMES);
    assert_non_null(buf), assert_non_null(key);
    for (int r = 0; r < ROUNDS; r++)
        for (size_t i = 0; i < n; i++)
            if (!cls[i]->aux) s_case(cls[i], buf, key), cases++;
    printf("%zu cases, every output finite\n", cases);
    free(buf), free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sweep)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
