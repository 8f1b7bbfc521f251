/* Every processor gives the same bits however its signal is cut into
 * calls (issue 3: "identical output whatever the block size"): each class
 * of the registry, with its defaults, mono and stereo, runs a signal once
 * in 4096-frame calls and once in calls of random sizes from 1 to 4096
 * frames (odd ones, one frame, a call that ends a kernel's block early),
 * keyed from the same signal where it takes a side-chain; both as a fixed
 * insert and as one automation may update (env.automated, which picks
 * other kernels: the EQ's recursion instead of its blocks). Bands get
 * 3 dB of gain where they have one. The signal is
 * noise with loud bursts and a stretch of silence, so that dynamics act
 * and release. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mf_processor.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAMES 40000
#define MAX_CALL 4096

static uint64_t s_rng;
static uint32_t rnd32(void)
{
    s_rng ^= s_rng << 13, s_rng ^= s_rng >> 7, s_rng ^= s_rng << 17;
    return (uint32_t)(s_rng >> 32);
}
static float rndf(void) /* [-1, 1) */
{
    return (float)rnd32() / 2147483648.0f - 1.0f;
}

/* The class's defaults in the flat value layout (mf_processor.h); returns
 * the band count. */
static size_t defaults(const mf_processor_class_t *cls, double *v)
{
    size_t nbands = cls->max_bands ? (cls->max_bands < 3 ? cls->max_bands : 3) : 0;
    for (size_t l = 0; l < cls->n_lists; l++)
        if (cls->lists[l].sets_bands) nbands = cls->lists[l].n_defaults + 1;
    memset(v, 0, mf_processor_value_count(cls, nbands) * sizeof *v);
    for (size_t i = 0; i < cls->n_params; i++) v[i] = cls->params[i].def;
    const int gain = mf_processor_param_index(cls, 1, "gain_db");
    for (size_t b = 0; b < nbands; b++)
        for (size_t i = 0; i < cls->n_band_params; i++)
            v[cls->n_params + b * cls->n_band_params + i] =
                cls->band_params[i].def + ((int)i == gain ? 3.0 : 0.0);
    for (size_t l = 0; l < cls->n_lists; l++) {
        const size_t at = mf_processor_list_offset(cls, nbands, l);
        v[at] = (double)cls->lists[l].n_defaults;
        for (size_t k = 0; k < cls->lists[l].n_defaults; k++)
            v[at + 1 + k] = cls->lists[l].defaults[k];
    }
    return nbands;
}

static float *render(const mf_processor_class_t *cls, const double *v, size_t nbands, int ch,
                     int automated, const float *in, int random_cuts)
{
    const mf_proc_env_t env = {
        .sample_rate = 48000, .channels = ch, .tempo_bpm = 120, .automated = automated};
    void *st = cls->create(v, nbands, &env);
    assert_non_null(st);
    float *buf = malloc(FRAMES * (size_t)ch * sizeof *buf);
    assert_non_null(buf);
    memcpy(buf, in, FRAMES * (size_t)ch * sizeof *buf);
    for (size_t at = 0; at < FRAMES;) {
        size_t n = random_cuts ? 1 + rnd32() % MAX_CALL : MAX_CALL;
        if (random_cuts && rnd32() % 4 == 0) n = 1 + rnd32() % 40;
        if (n > FRAMES - at) n = FRAMES - at;
        cls->process(st, buf + at * (size_t)ch, n,
                     cls->has_sidechain ? in + at * (size_t)ch : NULL);
        at += n;
    }
    cls->destroy(st);
    return buf;
}

static void test_every_processor(void **state)
{
    (void)state;
    static float in[2 * FRAMES];
    static double v[4096];
    size_t count;
    const mf_processor_class_t *const *cls = mf_processors(&count);
    for (int ch = 1; ch <= 2; ch++) {
        s_rng = 0x9e3779b97f4a7c15ull;
        for (size_t i = 0; i < FRAMES; i++) {
            const float level = i % 9000 < 1500 ? 2.0f : i >= 30000 && i < 34000 ? 0.0f : 0.1f;
            for (int c = 0; c < ch; c++) in[i * (size_t)ch + (size_t)c] = level * rndf();
        }
        for (size_t k = 0; k < count; k++)
            for (int automated = 0; automated <= 1; automated++) {
                const size_t nbands = defaults(cls[k], v);
                float *whole = render(cls[k], v, nbands, ch, automated, in, 0);
                float *cut = render(cls[k], v, nbands, ch, automated, in, 1);
                for (size_t i = 0; i < FRAMES * (size_t)ch; i++)
                    if (memcmp(&whole[i], &cut[i], sizeof *cut))
                        fail_msg("%s, %d channel(s)%s: frame %zu differs when cut into other "
                                 "calls (%.9g vs %.9g)",
                                 cls[k]->type, ch, automated ? ", automated" : "", i / (size_t)ch,
                                 whole[i], cut[i]);
                printf("blocks: %-11s %d channel(s)%s: the same bits in calls of any size\n",
                       cls[k]->type, ch, automated ? ", automated" : "");
                free(whole), free(cut);
            }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_processor)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
