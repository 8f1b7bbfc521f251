/* Helpers of the reference tests: deterministic signals, WAV files, running
 * the mixfarm binary, JSON. Header-only: each test file is one executable. */
#ifndef REF_UTIL_H
#define REF_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_proc.h"

#define RATE 48000

#define assert_near(a, b, tol)                                                                     \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (tol)))                                                             \
            fail_msg("%s = %.4f, expected %.4f (within %g)", #a, a_, b_, (double)(tol));           \
    } while (0)

static char s_root[512], s_bin[1024];

static inline void ref_setup(void)
{
    const char *bin = getenv("MF_BIN_DIR");
    snprintf(s_bin, sizeof s_bin, "%s/mixfarm", bin ? bin : "build/bin");
    snprintf(s_root, sizeof s_root, "%s/mf-reference-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(s_root)) abort();
}

static inline void ref_teardown(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_root);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", s_root);
}

static inline void ref_dir(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", s_root, name);
    mkdir(out, 0755);
}

/* xorshift64*: the same noise everywhere. */
static inline double ref_noise(uint64_t *st)
{
    *st ^= *st >> 12, *st ^= *st << 25, *st ^= *st >> 27;
    return (double)((*st * 2685821657736338717ull) >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

/* RBJ low/high-pass, Q = 1/sqrt(2), direct form I in double. */
typedef struct {
    double b0, b1, b2, a1, a2, x1, x2, y1, y2;
} ref_bq_t;

static inline ref_bq_t ref_bq(int high, double f0)
{
    const double w = 2 * M_PI * f0 / RATE, c = cos(w), al = sin(w) / (2 * M_SQRT1_2);
    const double a0 = 1 + al;
    ref_bq_t q = {0};
    q.b0 = (high ? (1 + c) / 2 : (1 - c) / 2) / a0;
    q.b1 = (high ? -(1 + c) : 1 - c) / a0;
    q.b2 = q.b0, q.a1 = -2 * c / a0, q.a2 = (1 - al) / a0;
    return q;
}

static inline double ref_bq_run(ref_bq_t *q, double x)
{
    const double y = q->b0 * x + q->b1 * q->x1 + q->b2 * q->x2 - q->a1 * q->y1 - q->a2 * q->y2;
    q->x2 = q->x1, q->x1 = x, q->y2 = q->y1, q->y1 = y;
    return y;
}

static inline void ref_write(const char *path, const float *x, long frames, int ch, int rate)
{
    SF_INFO si = {.samplerate = rate, .channels = ch, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    SNDFILE *f = sf_open(path, SFM_WRITE, &si);
    if (!f) fail_msg("%s: %s", path, sf_strerror(NULL));
    assert_int_equal(sf_writef_float(f, x, frames), frames);
    sf_close(f);
}

/* Stereo noise (half of it common to both channels: correlation 0.5), gain
 * g, optionally with a +6 dB shelf above 2 kHz: low + 2 high through a
 * Linkwitz-Riley crossover. */
static inline void ref_noise_wav(const char *path, double seconds, double g, int shelf,
                                 uint64_t seed)
{
    const long n = (long)(seconds * RATE);
    float *x = malloc(sizeof *x * 2 * (size_t)n);
    assert_non_null(x);
    for (int c = 0; c < 2; c++) {
        uint64_t st = seed + 7919u * (uint64_t)c, common = seed * 31u + 17u;
        ref_bq_t l1 = ref_bq(0, 2000), l2 = l1, h1 = ref_bq(1, 2000), h2 = h1;
        for (long i = 0; i < n; i++) {
            double v = M_SQRT1_2 * (ref_noise(&st) + ref_noise(&common));
            if (shelf)
                v = ref_bq_run(&l2, ref_bq_run(&l1, v)) + 2 * ref_bq_run(&h2, ref_bq_run(&h1, v));
            x[2 * i + c] = (float)(g * v);
        }
    }
    ref_write(path, x, n, 2, RATE);
    free(x);
}

/* mixfarm ARGS..., NULL-terminated; stdout and stderr captured. */
static inline test_run_t ref_run(const char *first, ...)
{
    const char *args[32] = {first};
    va_list ap;
    va_start(ap, first);
    for (int i = 1; i < 31 && (args[i] = va_arg(ap, const char *)); i++) {
    }
    va_end(ap);
    return test_run(s_bin, args, s_root);
}

static inline json_t *ref_json(const char *dir, const char *file)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    json_error_t e;
    json_t *j = json_load_file(p, 0, &e);
    if (!j) fail_msg("%s: %s", p, e.text);
    return j;
}

static inline void ref_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static inline double ref_num(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(b ? json_object_get(o, a) : o, b ? b : a);
    if (json_is_string(v) && !strcmp(json_string_value(v), "-inf")) return -INFINITY;
    if (!json_is_number(v)) fail_msg("%s%s%s: not a number", a, b ? "." : "", b ? b : "");
    return json_number_value(v);
}

#endif
