/* bench_dsp: ns per sample of every kernel for the C reference and each
 * SIMD variant this CPU supports (4096-frame blocks in cache, median of 15
 * runs), then of every processor with default parameters, then of the
 * partitioned convolution against direct-form convolution.
 *   bench_dsp           benchmarks
 *   bench_dsp --docs    the processors' parameter tables as Markdown */
#include "mf_biquad.h"
#include "mf_bqb.h"
#include "mf_conv.h"
#include "mf_kernels.h"
#include "mf_processor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FRAMES 4096
#define RUNS 15
#define REPS 40

static float s_in[2 * FRAMES], s_out[2 * FRAMES], s_aux[FRAMES];

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef void (*bench_fn)(const mf_dsp_kernels_t *k, void *arg);

/* Median over RUNS of REPS calls, in ns per sample (samples = frames x ch). */
static double measure(bench_fn fn, const mf_dsp_kernels_t *k, void *arg, double samples)
{
    double t[RUNS];
    for (int r = 0; r < RUNS; r++) {
        const double t0 = now_ns();
        for (int i = 0; i < REPS; i++) fn(k, arg);
        t[r] = (now_ns() - t0) / (REPS * samples);
    }
    qsort(t, RUNS, sizeof t[0], cmp);
    return t[RUNS / 2];
}

static void b_biquad(const mf_dsp_kernels_t *k, void *arg)
{
    k->biquad(s_out, s_out, FRAMES, arg);
}
/* arg: an mf_bqb_t made for k. */
static void b_blocks(const mf_dsp_kernels_t *k, void *arg)
{
    (void)k;
    mf_bqb_run(arg, s_out, s_out, FRAMES);
}
static void b_ramp(const mf_dsp_kernels_t *k, void *arg)
{
    (void)arg;
    k->gain_ramp(s_out, s_in, FRAMES, 2, 0.5f, 0.7f);
}
static void b_apply(const mf_dsp_kernels_t *k, void *arg)
{
    (void)arg;
    k->gain_apply(s_out, s_in, s_aux, FRAMES, 2);
}
static void b_detect(const mf_dsp_kernels_t *k, void *arg)
{
    (void)arg;
    k->detect(s_out, s_in, FRAMES, 2, 0);
}
static void b_curve(const mf_dsp_kernels_t *k, void *arg)
{
    k->gain_computer(s_out, s_aux, FRAMES, arg);
}
static void b_db(const mf_dsp_kernels_t *k, void *arg)
{
    (void)arg;
    k->db_to_gain(s_out, s_in, FRAMES);
}

/* arg: the coefficients; the kernel runs in place, its outputs (>= 0)
 * the next call's gain changes, negated (so still <= 0 dB). */
static void b_ballistics(const mf_dsp_kernels_t *k, void *arg)
{
    float st[2] = {0.0f, 0.0f};
    k->ballistics(s_out, FRAMES / MF_BALLISTICS_LANES, arg, st);
}

/* A 33-tap FIR (a phase of the 4x oversampler) over s_in's first FRAMES. */
static void b_fir(const mf_dsp_kernels_t *k, void *arg)
{
    k->fir(s_out, s_in, FRAMES, arg, 33, 0);
}
static void b_tanh(const mf_dsp_kernels_t *k, void *arg)
{
    (void)arg;
    k->tanh_curve(s_out, s_in, FRAMES);
}

/* Raw PCM bytes, as many as FRAMES stereo 24-bit frames hold. */
static unsigned char s_raw[3 * 2 * FRAMES];
static void b_pcm(const mf_dsp_kernels_t *k, void *arg)
{
    k->pcm_to_float(s_out, s_raw, 2 * FRAMES, *(const int *)arg);
}

static mf_biquad_cascade_t s_bq;
static void setup_bq(int ch, int nsec)
{
    mf_biquad_cascade_reset(&s_bq, ch, nsec);
    for (int s = 0; s < nsec; s++) {
        double c[5];
        mf_biquad_design(c, MF_BQ_PEAK, 48000, 200.0 * (s + 1), 3, 1);
        for (int j = 0; j < 5; j++) s_bq.c[s][j] = (float)c[j];
    }
    for (size_t i = 0; i < 2 * FRAMES; i++) s_out[i] = s_in[i];
}

static void kernels(void)
{
    static const mf_gain_curve_t curve = {-20, -0.75f, 6, 20};
    static const int b16 = 2, b24 = 3;
    static mf_ballistics_t bal; /* 10 ms attack, 120 ms release at 48 kHz */
    mf_ballistics_set(&bal, expf(-1.0f / 480.0f), expf(-1.0f / 5760.0f));
    static float taps[33];
    for (int i = 0; i < 33; i++) taps[i] = 0.03f * (float)(i % 7) - 0.1f;
    for (size_t i = 0; i < sizeof s_raw; i++) s_raw[i] = (unsigned char)(i * 2654435761u >> 24);
    printf("| kernel | unit |");
    for (int isa = 0; isa < MF_ISA_COUNT; isa++)
        if (mf_dsp_kernels_for((mf_isa_t)isa))
            printf(" %s |", mf_dsp_kernels_for((mf_isa_t)isa)->name);
    printf("\n| --- | --- |");
    for (int isa = 0; isa < MF_ISA_COUNT; isa++)
        if (mf_dsp_kernels_for((mf_isa_t)isa)) printf(" --- |");
    printf("\n");
    const struct {
        const char *name;
        int ch, nsec;
        bench_fn fn;
        void *arg;
    } rows[] = {
        {"biquad, 4 sections, mono", 1, 4, b_biquad, &s_bq},
        {"biquad, 4 sections, stereo", 2, 4, b_biquad, &s_bq},
        {"biquad, 8 sections, mono", 1, 8, b_biquad, &s_bq},
        {"biquad, 8 sections, stereo", 2, 8, b_biquad, &s_bq},
        {"biquad, 16 sections, stereo", 2, 16, b_biquad, &s_bq},
        {"biquad in blocks (static), 4 sections, mono", 1, 4, b_blocks, NULL},
        {"biquad in blocks (static), 4 sections, stereo", 2, 4, b_blocks, NULL},
        {"biquad in blocks (static), 8 sections, mono", 1, 8, b_blocks, NULL},
        {"biquad in blocks (static), 8 sections, stereo", 2, 8, b_blocks, NULL},
        {"biquad in blocks (static), 16 sections, stereo", 2, 16, b_blocks, NULL},
        {"gain_ramp, stereo", 2, 0, b_ramp, NULL},
        {"gain_apply, stereo", 2, 0, b_apply, NULL},
        {"detect (peak), stereo", 2, 0, b_detect, NULL},
        {"gain_computer", 1, 0, b_curve, (void *)&curve},
        {"db_to_gain", 1, 0, b_db, NULL},
        {"ballistics (compressor attack/release)", 1, 0, b_ballistics, &bal},
        {"pcm_to_float, 16-bit, stereo", 2, 0, b_pcm, (void *)&b16},
        {"pcm_to_float, 24-bit, stereo", 2, 0, b_pcm, (void *)&b24},
        {"fir, 33 taps", 1, 0, b_fir, taps},
        {"tanh_curve", 1, 0, b_tanh, NULL},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        printf("| %s | ns/sample%s |", rows[r].name, rows[r].ch == 2 ? "/channel" : "");
        for (int isa = 0; isa < MF_ISA_COUNT; isa++) {
            const mf_dsp_kernels_t *k = mf_dsp_kernels_for((mf_isa_t)isa);
            if (!k) continue;
            if (rows[r].nsec) setup_bq(rows[r].ch, rows[r].nsec);
            mf_bqb_t *b = rows[r].fn == b_blocks ? mf_bqb_new(&s_bq, k) : NULL;
            printf(" %.3f |", measure(rows[r].fn, k, b ? (void *)b : rows[r].arg,
                                      (double)FRAMES * rows[r].ch));
            mf_bqb_free(&b);
        }
        printf("\n");
    }
}

static void processors(void)
{
    size_t n;
    const mf_processor_class_t *const *cls = mf_processors(&n);
    printf("\n| processor (defaults; eq: 4 bands) | ns/sample/channel, stereo, best kernels |\n| "
           "--- | --- |\n");
    for (size_t c = 0; c < n; c++) {
        double v[256];
        const size_t nb = cls[c]->max_bands ? 4 : 0;
        for (size_t i = 0; i < cls[c]->n_params; i++) v[i] = cls[c]->params[i].def;
        for (size_t b = 0; b < nb; b++)
            for (size_t i = 0; i < cls[c]->n_band_params; i++)
                v[cls[c]->n_params + b * cls[c]->n_band_params + i] =
                    cls[c]->band_params[i].def + (i == 2 ? 3 : 0);
        const mf_proc_env_t env = {.sample_rate = 48000, .channels = 2, .tempo_bpm = 120};
        void *st = cls[c]->create(v, nb, &env);
        if (!st) continue;
        double t[RUNS];
        for (int r = 0; r < RUNS; r++) {
            const double t0 = now_ns();
            for (int i = 0; i < 10; i++) {
                memcpy(s_out, s_in, sizeof s_out);
                cls[c]->process(st, s_out, FRAMES, NULL);
            }
            t[r] = (now_ns() - t0) / (10.0 * 2 * FRAMES);
        }
        qsort(t, RUNS, sizeof t[0], cmp);
        printf("| %s | %.2f |\n", cls[c]->type, t[RUNS / 2]);
        cls[c]->destroy(st);
    }
}

/* The convolution reverb's engine (mf_conv.h) on 10 s of noise in 1024-frame
 * calls, median of 5, for impulse responses of 0.1, 1 and 10 s at 48 kHz;
 * against direct-form convolution (a multiply-add per tap and output
 * sample, in double as the tests' reference; about 2e8 of them timed) for
 * scale. */
static void convolution(void)
{
    enum { RATE = 48000, LEN = 10 * RATE, BLK = 1024 };
    const double irs_s[] = {0.1, 1.0, 10.0};
    float *x = malloc(11 * RATE * sizeof *x), *y = malloc(LEN * sizeof *y),
          *h = malloc(10 * RATE * sizeof *h);
    if (!x || !y || !h) return;
    for (size_t i = 0; i < 11 * RATE; i++) x[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    printf("\n| convolution (mf_conv), IR | ns/sample | direct form | ratio |\n"
           "| --- | --- | --- | --- |\n");
    for (size_t r = 0; r < sizeof irs_s / sizeof *irs_s; r++) {
        const size_t taps = (size_t)(irs_s[r] * RATE);
        for (size_t i = 0; i < taps; i++)
            h[i] = ((float)rand() / (float)RAND_MAX - 0.5f) * expf(-6.9f * (float)i / (float)taps);
        mf_conv_ir_t *ir = mf_conv_ir_new(h, taps, 1, 1.0f);
        double t[5] = {0};
        for (int run = 0; run < 5 && ir; run++) {
            mf_conv_t *c = mf_conv_new(ir);
            const double t0 = now_ns();
            for (size_t i = 0; c && i < LEN; i += BLK)
                mf_conv_process(c, x + i, y + i, LEN - i < BLK ? LEN - i : BLK, 1);
            t[run] = (now_ns() - t0) / LEN;
            mf_conv_free(&c);
        }
        mf_conv_ir_free(&ir);
        qsort(t, 5, sizeof t[0], cmp);
        /* Outputs taps .. taps + nd, where every input the sum reads exists. */
        const size_t nd = 200000000 / taps;
        const double t0 = now_ns();
        for (size_t i = taps; i < taps + nd; i++) {
            double acc = 0.0;
            for (size_t k = 0; k < taps; k++) acc += (double)h[k] * x[i - k];
            y[i - taps] = (float)acc;
        }
        const double direct = (now_ns() - t0) / (double)nd;
        printf("| %.1f s (%zu taps) | %.1f | %.0f | %.0fx |\n", irs_s[r], taps, t[2], direct,
               direct / t[2]);
    }
    free(x), free(y), free(h);
}

static void fmt_num(char *out, size_t n, double v)
{
    snprintf(out, n, "%g", v);
}

static void docs_table(const mf_param_desc_t *p, size_t n)
{
    printf("| name | unit | default | range | |\n| --- | --- | --- | --- | --- |\n");
    for (size_t i = 0; i < n; i++) {
        char d[64], lo[32], hi[32];
        if (p[i].choices) {
            snprintf(d, sizeof d, "`%s`", p[i].choices[(int)p[i].def]);
            printf("| `%s` | | %s | ", p[i].name, d);
            for (int j = 0; p[i].choices[j]; j++) printf("%s`%s`", j ? ", " : "", p[i].choices[j]);
        } else {
            fmt_num(d, sizeof d, p[i].def), fmt_num(lo, sizeof lo, p[i].min),
                fmt_num(hi, sizeof hi, p[i].max);
            printf("| `%s` | %s | %s | %s … %s", p[i].name, p[i].unit, d, lo, hi);
        }
        printf(" | %s |\n", p[i].help ? p[i].help : "");
    }
}

/* A list parameter's row: its defaults, count and item range. */
static void docs_list(const mf_list_param_t *l)
{
    char v[32], lo[32], hi[32];
    printf("| `%s` | %s | [", l->item.name, l->item.unit);
    for (size_t k = 0; k < l->n_defaults; k++)
        fmt_num(v, sizeof v, l->defaults[k]), printf("%s%s", k ? ", " : "", v);
    fmt_num(lo, sizeof lo, l->item.min), fmt_num(hi, sizeof hi, l->item.max);
    printf("] | %zu to %zu values, %seach %s … %s | %s |\n", l->min_count, l->max_count,
           l->increasing ? "ascending, " : "", lo, hi, l->item.help ? l->item.help : "");
}

static void docs(void)
{
    size_t n;
    const mf_processor_class_t *const *cls = mf_processors(&n);
    for (size_t c = 0; c < n; c++) {
        const mf_processor_class_t *k = cls[c];
        printf("### `%s`\n\n%s.%s\n\n", k->type, k->summary,
               k->has_sidechain ? " Accepts a `sidechain` source." : "");
        const int rows = k->n_params || k->n_lists || k->aux;
        if (k->n_params) docs_table(k->params, k->n_params);
        if (!k->n_params && rows) docs_table(NULL, 0);
        for (size_t i = 0; i < k->n_lists; i++) docs_list(&k->lists[i]);
        if (k->aux)
            printf("| `%s` | file | none | mono or stereo audio, at most %g s | %s |\n",
                   k->aux->name, k->aux->max_seconds, k->aux->help ? k->aux->help : "");
        const mf_list_param_t *sets = NULL;
        for (size_t i = 0; i < k->n_lists; i++)
            if (k->lists[i].sets_bands) sets = &k->lists[i];
        if (k->max_bands && sets)
            printf("%s`bands`: up to %zu (exactly one more than `%s`; absent: that many\n"
                   "default bands), each:\n\n",
                   rows ? "\n" : "", k->max_bands, sets->item.name);
        else if (k->max_bands)
            printf("%s`bands`: up to %zu, each:\n\n", rows ? "\n" : "", k->max_bands);
        if (k->max_bands) docs_table(k->band_params, k->n_band_params);
        printf("\n");
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--docs") == 0) {
        docs();
        return 0;
    }
    srand(1);
    for (size_t i = 0; i < 2 * FRAMES; i++) s_in[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    for (size_t i = 0; i < FRAMES; i++) s_aux[i] = (float)rand() / (float)RAND_MAX;
    printf("bench_dsp: best kernels here: %s\n\n", mf_dsp_kernels()->name);
    kernels();
    processors();
    convolution();
    return 0;
}
