/* compressor against analytic truth: the static curve (steady sines in and
 * out, hard and soft knee), attack and release time constants on level
 * steps, look-ahead latency, sidechain key, parallel mix; and the gain
 * path's ballistics (a prefix scan over 8 frames) against the plain
 * recursion in double precision, with the same bits however the signal is
 * cut into calls. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dsp_test_util.h"
#include "mf_comp.h"

#include <stdio.h>

#define FS 48000.0
static float s_buf[2 * 96000], s_key[2 * 96000];

/* The curve of Giannoulis et al. (2012), coded again here: output level for
 * input level x (dB). */
static double curve(double x, double t, double r, double w)
{
    if (2 * (x - t) < -w) return x;
    if (w > 0 && 2 * fabs(x - t) <= w) return x + (1 / r - 1) * pow(x - t + w / 2, 2) / (2 * w);
    return t + (x - t) / r;
}

/* Steady state: a 1 kHz sine at in_db (RMS level with the rms detector, peak
 * level with the peak detector), gain measured over the last 0.5 s. */
static double steady_gain_db(const char *det, double in_db, double knee, double mix)
{
    tp_t p;
    tp_init(&p, "compressor", 0, FS, 2);
    tp_set(&p, "threshold_db", -20);
    tp_set(&p, "ratio", 4);
    tp_set(&p, "knee_db", knee);
    tp_set(&p, "attack_ms", 20);
    tp_set(&p, "release_ms", 1000);
    tp_set(&p, "mix", mix);
    tp_sets(&p, "detector", det);
    assert_non_null(tp_create(&p));
    const double amp = pow(10, in_db / 20) * (strcmp(det, "rms") == 0 ? M_SQRT2 : 1);
    fill_sine(s_buf, 96000, 2, 1000, FS, amp);
    tp_run(&p, s_buf, 96000, NULL, 4096);
    tp_free(&p);
    return db(tone_amp(s_buf + 2 * 72000, 24000, 2, 1000, FS) / amp);
}

static void test_static_curve(void **state)
{
    (void)state;
    for (int knee = 0; knee <= 12; knee += 12)
        for (double x = -40; x <= 0; x += 4) {
            const double g = steady_gain_db("rms", x, knee, 1), want = curve(x, -20, 4, knee) - x;
            if (fabs(g - want) > 0.1)
                fail_msg("rms knee %d at %g dB: gain %.3f, expected %.3f", knee, x, g, want);
        }
    /* Peak detector: a sine's peaks set the reduction; release 1 s keeps
     * the ripple small. */
    for (double x = -30; x <= 0; x += 10) {
        const double g = steady_gain_db("peak", x, 0, 1), want = curve(x, -20, 4, 0) - x;
        printf("peak detector at %g dBFS: gain %.3f dB (curve %.3f)\n", x, g, want);
        assert_true(fabs(g - want) < 0.25);
    }
    /* Parallel: mix 0.5 is the average of dry and compressed amplitudes. */
    const double g = steady_gain_db("rms", -4, 0, 0.5);
    const double want = db(0.5 + 0.5 * pow(10, (curve(-4, -20, 4, 0) + 4) / 20));
    assert_true(fabs(g - want) < 0.1);
    printf("static curve within 0.1 dB (rms, hard and 12 dB knee), mix 0.5 ok\n");
}

/* Level steps on DC (peak detector): the reduction follows
 * -15 (1 - exp(-t/ta)) going up, and going down the release one-pole
 * followed by the attack one-pole:
 * -15 (tr exp(-t/tr) - ta exp(-t/ta)) / (tr - ta). */
static void test_time_constants(void **state)
{
    (void)state;
    tp_t p;
    tp_init(&p, "compressor", 0, FS, 1);
    tp_set(&p, "threshold_db", -20);
    tp_set(&p, "ratio", 4);
    tp_set(&p, "attack_ms", 5);
    tp_set(&p, "release_ms", 50);
    assert_non_null(tp_create(&p));
    const size_t step = 4800, n = 24000; /* 0.1 s quiet, 0.5 s loud... */
    for (size_t i = 0; i < n; i++) s_buf[i] = i < step ? 0.01f : 1.0f;
    for (size_t i = n; i < 2 * n; i++) s_buf[i] = 0.01f;
    tp_run(&p, s_buf, 2 * n, NULL, 1000);
    tp_free(&p);
    const size_t ta = step + (size_t)(0.005 * FS), tr = n + (size_t)(0.050 * FS);
    const double ga = db(s_buf[ta] / 1.0), gr = db(s_buf[tr] / 0.01);
    const double wa = -15 * (1 - exp(-1)), wr = -15 * (50 * exp(-1) - 5 * exp(-10)) / 45;
    printf("attack: %.3f dB at 5 ms (expected %.3f); release: %.3f dB at 50 ms (expected %.3f)\n",
           ga, wa, gr, wr);
    assert_true(fabs(ga - wa) < 0.1);
    assert_true(fabs(gr - wr) < 0.1);
    assert_true(fabs(db(s_buf[n - 1]) + 15) < 0.01); /* settled */
}

static void test_lookahead_and_key(void **state)
{
    (void)state;
    tp_t p;
    tp_init(&p, "compressor", 0, FS, 2);
    tp_set(&p, "lookahead_ms", 5);
    tp_set(&p, "threshold_db", -20);
    assert_non_null(tp_create(&p));
    assert_int_equal(p.cls->latency_frames(p.st), 240);
    float in[2 * 2000];
    for (size_t i = 0; i < 2 * 2000; i++) s_buf[i] = in[i] = (float)(0.01 * sin(0.01 * (double)i));
    tp_run(&p, s_buf, 2000, NULL, 333);
    for (size_t i = 240; i < 2000; i++) assert_true(s_buf[2 * i] == in[2 * (i - 240)]);
    tp_free(&p);
    /* A loud key pulls a quiet signal down by the key's reduction. */
    tp_init(&p, "compressor", 0, FS, 2);
    tp_set(&p, "threshold_db", -20);
    tp_set(&p, "sidechain_hpf_hz", 20);
    assert_non_null(tp_create(&p));
    fill_sine(s_buf, 48000, 2, 1000, FS, 0.01);
    fill_sine(s_key, 48000, 2, 500, FS, 1.0);
    tp_run(&p, s_buf, 48000, s_key, 4096);
    tp_free(&p);
    const double g = db(tone_amp(s_buf + 2 * 24000, 24000, 2, 1000, FS) / 0.01);
    printf("keyed by a 0 dBFS sine: %.2f dB (expected about -15)\n", g);
    assert_true(fabs(g + 15) < 0.3);
}

/* A level that jumps about (so both the peak hold and the release work),
 * through the gain path in calls of the given sizes (0-terminated, cycled). */
static void run_gain_path(const int *sizes, float *out, size_t n)
{
    static mf_comp_gain_t g;
    mf_comp_gain_init(&g, 1, FS);
    const double v[MF_COMP_N_CORE] = {-30, 4, 2, 40, 6, 0};
    mf_comp_gain_set(&g, v, 0, 1.0);
    mf_comp_gain_settle(&g);
    float det[MF_DSP_CHUNK];
    uint32_t seed = 12345;
    for (size_t i = 0, c = 0; i < n; c = sizes[c + 1] ? c + 1 : 0) {
        size_t m = (size_t)sizes[c] < n - i ? (size_t)sizes[c] : n - i;
        for (size_t j = 0; j < m; j++) {
            seed = seed * 1664525u + 1013904223u;
            const double burst = ((i + j) / 2400) % 3 == 0 ? 1.0 : 0.05;
            det[j] = (float)(burst * (seed >> 8) / 16777216.0);
        }
        memcpy(out + i, mf_comp_gain_run(&g, det, m), m * sizeof *out);
        i += m;
    }
}

static void test_ballistics_scan(void **state)
{
    (void)state;
    enum { N = 48000 };
    static float whole[N], cut[N];
    run_gain_path((const int[]){512, 0}, whole, N);
    run_gain_path((const int[]){1, 7, 13, 3, 512, 29, 100, 0}, cut, N);
    if (memcmp(whole, cut, sizeof whole) != 0) fail_msg("the bits depend on the call sizes");

    /* The recursion itself, in double: detector, curve, y1 = max(r, rel y1
     * + (1 - rel) r), y = att y + (1 - att) y1, gain = 10^(-y/20). */
    const double att = exp(-1000.0 / (2 * FS)), rel = exp(-1000.0 / (40 * FS));
    double y1 = 0, y = 0, worst = 0;
    uint32_t seed = 12345;
    for (size_t i = 0; i < N; i++) {
        seed = seed * 1664525u + 1013904223u;
        const double burst = (i / 2400) % 3 == 0 ? 1.0 : 0.05;
        const double x = 20 * log10(fmax((float)(burst * (seed >> 8) / 16777216.0), 1e-30));
        double red = 0;
        if (2 * (x + 30) > 6)
            red = (x + 30) * (1 - 1.0 / 4);
        else if (2 * fabs(x + 30) <= 6)
            red = (1 - 1.0 / 4) * pow(x + 30 + 3, 2) / 12;
        y1 = fmax(red, rel * y1 + (1 - rel) * red);
        y = att * y + (1 - att) * y1;
        worst = fmax(worst, fabs(db(whole[i]) + y));
    }
    print_message("    gain path vs the plain recursion in double: %.2g dB at worst\n", worst);
    assert_true(worst < 1e-3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_curve),
        cmocka_unit_test(test_time_constants),
        cmocka_unit_test(test_lookahead_and_key),
        cmocka_unit_test(test_ballistics_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
