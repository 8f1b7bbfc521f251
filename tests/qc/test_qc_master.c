/* The mastering core: a music-like mix through mastering inserts to the
 * streaming and EBU R 128 targets lands within 0.5 LU and under the
 * true-peak ceiling by our meter and by ffmpeg's ebur128 filter (skipped,
 * saying so, when ffmpeg is not installed); target none is the limiter
 * alone and leaves a quiet mix untouched, latency compensated to the sample;
 * the inserts' output read back from a spill (or not, when the spill
 * fails) gives the same bits as the inserts run again. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mf_master.h"
#include "mf_tplimit.h"
#include "qc_test_util.h"

#include <sndfile.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FS 48000.0
#define LEN 30.0

typedef struct {
    const float *x;
    size_t n, pos;
    int ch;
} src_t;

static mf_err_t s_rewind(void *c)
{
    ((src_t *)c)->pos = 0;
    return MF_OK;
}

static mf_err_t s_read(void *c, float *b, size_t max, size_t *got)
{
    src_t *s = c;
    const size_t k = s->n - s->pos < max ? s->n - s->pos : max;
    memcpy(b, s->x + s->pos * (size_t)s->ch, k * (size_t)s->ch * sizeof *b);
    s->pos += k, *got = k;
    return MF_OK;
}

typedef struct {
    float *y;
    size_t n, cap, begins;
    int ch;
} sink_t;

static mf_err_t s_begin(void *c)
{
    ((sink_t *)c)->n = 0, ((sink_t *)c)->begins++;
    return MF_OK;
}

static mf_err_t s_write(void *c, const float *b, size_t n)
{
    sink_t *s = c;
    if (s->n + n > s->cap) return MF_ERR_LIMIT;
    memcpy(s->y + s->n * (size_t)s->ch, b, n * (size_t)s->ch * sizeof *b);
    s->n += n;
    return MF_OK;
}

/* The session example's mastering inserts: a low shelf and a gentle compressor. */
static double s_eq[64], s_comp[32];
static mf_master_insert_t s_ins[2];

static void s_set(const mf_processor_class_t *c, double *v, int band, const char *name, double x)
{
    const int i = mf_processor_param_index(c, band >= 0, name);
    assert_true(i >= 0);
    v[band >= 0 ? c->n_params + (size_t)band * c->n_band_params + (size_t)i : (size_t)i] = x;
}

static void s_inserts(void)
{
    const mf_processor_class_t *eq = mf_processor_find("eq"), *cp = mf_processor_find("compressor");
    for (size_t i = 0; i < eq->n_params; i++) s_eq[i] = eq->params[i].def;
    for (size_t i = 0; i < eq->n_band_params; i++) s_eq[eq->n_params + i] = eq->band_params[i].def;
    s_set(eq, s_eq, 0, "kind", 1); /* lowshelf */
    assert_string_equal(eq->band_params[mf_processor_param_index(eq, 1, "kind")].choices[1],
                        "lowshelf");
    s_set(eq, s_eq, 0, "freq_hz", 100), s_set(eq, s_eq, 0, "gain_db", 1);
    for (size_t i = 0; i < cp->n_params; i++) s_comp[i] = cp->params[i].def;
    s_set(cp, s_comp, -1, "threshold_db", -10), s_set(cp, s_comp, -1, "ratio", 1.5);
    s_set(cp, s_comp, -1, "attack_ms", 30), s_set(cp, s_comp, -1, "release_ms", 200);
    s_ins[0] = (mf_master_insert_t){eq, s_eq, 1, NULL};
    s_ins[1] = (mf_master_insert_t){cp, s_comp, 0, NULL};
}

static int s_have_ffmpeg(void)
{
    return system("command -v ffmpeg >/dev/null 2>&1") == 0;
}

/* ffmpeg's integrated loudness and true peak of a file. */
static int s_ffmpeg(const char *path, double *I, double *peak)
{
    char cmd[512], line[256];
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostats -hide_banner -i '%s' -af ebur128=peak=true -f null - 2>&1", path);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    int got = 0;
    while (fgets(line, sizeof line, p)) {
        if (sscanf(line, " I: %lf LUFS", I) == 1) got |= 1;
        if (sscanf(line, " Peak: %lf dBFS", peak) == 1) got |= 2;
    }
    return pclose(p) == 0 && got == 3 ? 0 : -1;
}

static void s_master(const char *target, int channels, int restart)
{
    const size_t n = (size_t)(LEN * FS);
    float *x = malloc(n * (size_t)channels * sizeof *x);
    qt_music(x, n, channels, FS, 21);
    src_t src = {x, n, 0, channels};
    sink_t snk = {malloc((n + 48000) * (size_t)channels * sizeof(float)), 0, n + 48000, 0,
                  channels};
    const mf_master_source_t s = {s_rewind, s_read, &src};
    const mf_master_sink_t k = {restart ? s_begin : NULL, s_write, &snk};
    s_inserts();
    const mf_master_config_t cfg = {.channels = channels,
                                    .rate = FS,
                                    .inserts = s_ins,
                                    .n_inserts = 2,
                                    .target = *mf_qc_preset(target),
                                    .ceiling_dbtp = NAN,
                                    .margin_db = NAN};
    mf_master_result_t r;
    assert_int_equal(mf_master_run(&cfg, &s, &k, &r), MF_OK);
    printf("%s, %d ch%s: gain %+.2f dB, I %.2f LUFS, TP %.2f dBTP, GR %.2f dB, %d passes, %zu "
           "begins\n",
           target, channels, restart ? "" : " (sink cannot restart)", r.gain_db, r.integrated_lufs,
           r.true_peak_dbtp, r.max_reduction_db, r.passes, snk.begins);
    assert_true(r.within_target);
    assert_int_equal(snk.n, n);
    /* Our meter, measuring the written master afresh. */
    mf_analysis_t a;
    qt_analyse(snk.y, snk.n, channels, FS, MF_ANALYZE_ALL, &a);
    const mf_qc_target_t *t = mf_qc_preset(target);
    assert_true(fabs(a.integrated_lufs - t->lufs) <= 0.5);
    assert_true(a.true_peak_dbtp <= t->true_peak_dbtp);
    assert_true(a.clipped_samples == 0);
    mf_analysis_fini(&a);
    /* ffmpeg's meter, on the master written as a float WAV. */
    if (!s_have_ffmpeg()) {
        printf("  ffmpeg not found: its cross-check was skipped\n");
    } else {
        char path[] = "/tmp/mf-qcmaster-XXXXXX.wav";
        const int fd = mkstemps(path, 4);
        assert_true(fd >= 0);
        close(fd);
        SF_INFO si = {
            .samplerate = (int)FS, .channels = channels, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
        SNDFILE *f = sf_open(path, SFM_WRITE, &si);
        sf_writef_float(f, snk.y, (sf_count_t)snk.n);
        sf_close(f);
        double I = NAN, peak = NAN;
        assert_int_equal(s_ffmpeg(path, &I, &peak), 0);
        unlink(path);
        printf("  ffmpeg ebur128: I %.1f LUFS, true peak %.1f dBFS (ceiling %.1f)\n", I, peak,
               t->true_peak_dbtp);
        assert_true(fabs(I - t->lufs) <= 0.5);
        assert_true(peak <= t->true_peak_dbtp + 0.1);
    }
    free(x), free(snk.y);
}

/* A spill in memory for the test; fail_after: samples it takes before its
 * append fails (a full disk), 0 never. */
typedef struct {
    float *x;
    size_t n, cap, pos, fail_after, appends, reads;
} mem_spill_t;

static mf_err_t s_sp_append(void *c, const float *x, size_t n)
{
    mem_spill_t *m = c;
    m->appends++;
    if (m->fail_after && m->n + n > m->fail_after) return MF_ERR_IO;
    if (m->n + n > m->cap) {
        m->cap = (m->n + n) * 2;
        m->x = realloc(m->x, m->cap * sizeof *m->x);
        assert_non_null(m->x);
    }
    memcpy(m->x + m->n, x, n * sizeof *x);
    m->n += n;
    return MF_OK;
}

static mf_err_t s_sp_rewind(void *c)
{
    ((mem_spill_t *)c)->pos = 0;
    return MF_OK;
}

static mf_err_t s_sp_read(void *c, float *x, size_t max, size_t *got)
{
    mem_spill_t *m = c;
    m->reads++;
    *got = m->n - m->pos < max ? m->n - m->pos : max;
    memcpy(x, m->x + m->pos, *got * sizeof *x);
    m->pos += *got;
    return MF_OK;
}

/* The master written with the inserts' output spilled, or with a spill
 * that fails half way, has the bits of the master made without one. */
static void test_spill_same_bits(void **state)
{
    (void)state;
    const size_t n = (size_t)(10.0 * FS);
    float *x = malloc(2 * n * sizeof *x);
    qt_music(x, n, 2, FS, 7);
    s_inserts();
    float *out[3];
    mf_master_result_t r[3];
    mem_spill_t sp[3] = {{0}, {0}, {.fail_after = n}};
    for (int k = 0; k < 3; k++) {
        src_t src = {x, n, 0, 2};
        sink_t snk = {malloc((n + 48000) * 2 * sizeof(float)), 0, n + 48000, 0, 2};
        const mf_master_source_t s = {s_rewind, s_read, &src};
        const mf_master_sink_t sink = {s_begin, s_write, &snk};
        const mf_master_spill_t spill = {s_sp_append, s_sp_rewind, s_sp_read, &sp[k]};
        const mf_master_config_t cfg = {.channels = 2,
                                        .rate = FS,
                                        .inserts = s_ins,
                                        .n_inserts = 2,
                                        .target = *mf_qc_preset("streaming"),
                                        .ceiling_dbtp = NAN,
                                        .margin_db = NAN,
                                        .spill = k ? &spill : NULL};
        assert_int_equal(mf_master_run(&cfg, &s, &sink, &r[k]), MF_OK);
        assert_int_equal(snk.n, n);
        out[k] = snk.y;
    }
    assert_true(r[0].passes >= 2);    /* or nothing was read back */
    assert_true(sp[1].reads > 0);     /* the passes after the first read the spill */
    assert_int_equal(sp[2].reads, 0); /* the failed one is not read */
    for (int k = 1; k < 3; k++) {
        assert_int_equal(r[k].passes, r[0].passes);
        assert_memory_equal(out[k], out[0], 2 * n * sizeof(float));
    }
    for (int k = 0; k < 3; k++) free(out[k]), free(sp[k].x);
    free(x);
}

static void test_streaming(void **state)
{
    (void)state;
    s_master("streaming", 2, 1);
    s_master("streaming", 1, 1);
}

static void test_ebu(void **state)
{
    (void)state;
    s_master("ebu-r128", 2, 1);
    s_master("ebu-r128", 2, 0);
}

static void test_loud(void **state)
{
    (void)state;
    s_master("cd", 2, 1); /* -9 LUFS under -0.3 dBTP: several dB of limiting */
}

/* Target none on a quiet mix: the limiter never acts, and the output is
 * the input to the bit, with its latency removed. */
static void test_none_is_transparent(void **state)
{
    (void)state;
    const size_t n = (size_t)(5 * FS);
    float *x = malloc(2 * n * sizeof *x);
    qt_music(x, n, 2, FS, 3);
    src_t src = {x, n, 0, 2};
    sink_t snk = {malloc(2 * n * sizeof(float)), 0, n, 0, 2};
    const mf_master_source_t s = {s_rewind, s_read, &src};
    const mf_master_sink_t k = {s_begin, s_write, &snk};
    const mf_master_config_t cfg = {.channels = 2,
                                    .rate = FS,
                                    .target = *mf_qc_preset("none"),
                                    .ceiling_dbtp = NAN,
                                    .margin_db = NAN};
    mf_master_result_t r;
    assert_int_equal(mf_master_run(&cfg, &s, &k, &r), MF_OK);
    assert_int_equal(r.passes, 1);
    assert_int_equal(snk.n, n);
    assert_memory_equal(snk.y, x, 2 * n * sizeof *x);
    free(x), free(snk.y);
}

/* A pulse train (64 equal harmonics of 40 Hz in phase: a peak every 25 ms,
 * quicker than the limiter's 80 ms release) has nothing between its peaks
 * for gain to lift: past a few dB of limiting more gain adds no loudness,
 * and -14 LUFS under -1 dBTP is out of reach. The search says so
 * (within_target 0) after a few passes instead of spending all eight on
 * gains that change nothing, and the master it wrote is the pass it
 * reports: measured afresh, its loudness is the result's. */
/* The true-peak limiter's look-ahead minimum where L + 1 is a power of
 * two (L = 255 and 127 frames at 48 kHz): its ring holds exactly L + 1,
 * and the newest value came in before the oldest left, so the L + 1
 * rising gains of a slow fall from a crest (40 Hz, 6 dB over) made L + 2
 * and the ring wrapped over its oldest. The output holds the ceiling. */
static void test_tplim_ring_full(void **state)
{
    (void)state;
    static const double looks_ms[] = {255.0 / 48.0, 127.0 / 48.0, 5.0};
    const size_t n = 96000;
    float *x = malloc(sizeof(float) * 2 * n), *y = malloc(sizeof(float) * 2 * n);
    assert_non_null(x), assert_non_null(y);
    for (size_t i = 0; i < n; i++)
        x[2 * i] = x[2 * i + 1] = (float)(2.0 * sin(2 * M_PI * 40 * (double)i / FS));
    for (size_t k = 0; k < sizeof looks_ms / sizeof *looks_ms; k++) {
        mf_tplim_t *l = mf_tplim_new(2, FS, -1.0, 80.0, looks_ms[k]);
        assert_non_null(l);
        for (size_t at = 0; at < n; at += 1000)
            mf_tplim_process(l, y + 2 * at, x + 2 * at, 1000, 1.0f);
        double sp = 0;
        for (size_t i = 2 * mf_tplim_latency(l); i < 2 * n; i++) sp = fmax(sp, fabs(y[i]));
        mf_tplim_free(&l);
        printf("true-peak limiter, 40 Hz at +6 dBFS, look-ahead %.4f ms: sample peak %+.3f dBFS\n",
               looks_ms[k], 20 * log10(sp));
        assert_true(20 * log10(sp) <= -1.0);
    }
    free(x), free(y);
}

static void test_beyond_reach_stops(void **state)
{
    (void)state;
    const size_t n = (size_t)(10.0 * FS);
    float *x = malloc(2 * n * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        double v = 0.0;
        for (int k = 1; k <= 64; k++) v += cos(2 * M_PI * 40.0 * k * (double)i / FS);
        x[2 * i] = (float)(0.002 * v), x[2 * i + 1] = (float)(0.0018 * v);
    }
    src_t src = {x, n, 0, 2};
    sink_t snk = {malloc((n + 48000) * 2 * sizeof(float)), 0, n + 48000, 0, 2};
    const mf_master_source_t s = {s_rewind, s_read, &src};
    const mf_master_sink_t k = {s_begin, s_write, &snk};
    const mf_master_config_t cfg = {.channels = 2,
                                    .rate = FS,
                                    .target = *mf_qc_preset("streaming"),
                                    .ceiling_dbtp = NAN,
                                    .margin_db = NAN};
    mf_master_result_t r;
    assert_int_equal(mf_master_run(&cfg, &s, &k, &r), MF_OK);
    printf("pulse train: gain %+.2f dB, I %.2f LUFS, TP %.2f dBTP, GR %.2f dB, %d passes, %zu "
           "begins\n",
           r.gain_db, r.integrated_lufs, r.true_peak_dbtp, r.max_reduction_db, r.passes,
           snk.begins);
    assert_false(r.within_target);
    assert_true(r.integrated_lufs < -14.0 - MF_QC_LOUDNESS_TOL_LU);
    assert_true(r.passes <= 6);
    assert_int_equal(snk.n, n);
    mf_analysis_t a;
    qt_analyse(snk.y, snk.n, 2, FS, MF_ANALYZE_ALL, &a);
    assert_true(fabs(a.integrated_lufs - r.integrated_lufs) < 0.01);
    assert_true(a.true_peak_dbtp <= -1.0);
    mf_analysis_fini(&a);
    free(x), free(snk.y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_streaming),
        cmocka_unit_test(test_ebu),
        cmocka_unit_test(test_loud),
        cmocka_unit_test(test_none_is_transparent),
        cmocka_unit_test(test_spill_same_bits),
        cmocka_unit_test(test_beyond_reach_stops),
        cmocka_unit_test(test_tplim_ring_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
