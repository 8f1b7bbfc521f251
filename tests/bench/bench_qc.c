/* bench_qc: QC analysis and mastering speed on 240 s of music-like stereo
 * at 48 kHz (median of RUNS runs each):
 *   - the analyzer in-process (I + LRA + true peak; and everything) against
 *     libebur128 in EBUR128_MODE_I | _LRA | _TRUE_PEAK;
 *   - `mixfarm qc FILE` against `ffmpeg -af ebur128=peak=true` on the same
 *     24-bit WAV (wall time of the spawned process, decoding included);
 *   - the true-peak kernel per instruction set;
 *   - mastering to -14 LUFS / -1 dBTP, with and without mastering inserts.
 * Usage: bench_qc [SECONDS]   (mixfarm is looked for beside this program) */
#include "master_spill.h"
#include "mf_master.h"
#include "mf_qc_kernels.h"

#include <ebur128.h>
#include <libgen.h>
#include <math.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUNS 5
#define FS 48000.0

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp);
    return t[n / 2];
}

static double s_rand(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return (double)(*s >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

static void s_music(float *x, size_t n)
{
    double lp[2] = {0, 0};
    uint64_t s = 1234567;
    for (size_t i = 0; i < n; i++) {
        const double t = (double)i / FS, env = 0.3 + 0.25 * sin(2 * M_PI * 0.13 * t);
        for (int c = 0; c < 2; c++) {
            lp[c] += (0.12 + 0.05 * c) * (s_rand(&s) - lp[c]);
            x[2 * i + (size_t)c] =
                (float)(env * (0.5 * lp[c] + 0.2 * sin(2 * M_PI * 110 * t + c) +
                               0.1 * sin(2 * M_PI * (440 + 220 * c) * t) + 0.04 * s_rand(&s)));
        }
    }
}

static double s_ours(const float *x, size_t n, unsigned flags, double *I)
{
    const double t0 = now();
    mf_analyzer_t *a = mf_analyzer_new(2, FS, flags);
    for (size_t i = 0; i < n; i += 4096)
        mf_analyzer_feed(a, x + 2 * i, n - i < 4096 ? n - i : 4096);
    mf_analysis_t r;
    mf_analyzer_finish(a, &r);
    const double t = now() - t0;
    *I = r.integrated_lufs;
    mf_analysis_fini(&r);
    mf_analyzer_free(&a);
    return t;
}

static double s_ebur128(const float *x, size_t n, double *I)
{
    const double t0 = now();
    ebur128_state *st = ebur128_init(2, (unsigned long)FS,
                                     EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_TRUE_PEAK);
    for (size_t i = 0; i < n; i += 4096)
        ebur128_add_frames_float(st, x + 2 * i, n - i < 4096 ? n - i : 4096);
    double lra, tp;
    ebur128_loudness_global(st, I);
    ebur128_loudness_range(st, &lra);
    ebur128_true_peak(st, 0, &tp);
    const double t = now() - t0;
    ebur128_destroy(&st);
    return t;
}

/* The wall time of cmd; NAN when it did not run to an end (exit 0, or 1:
 * qc's "a check failed"). A missing binary must not time as a fast one. */
static double s_spawn(const char *cmd)
{
    const double t0 = now();
    const int rc = system(cmd);
    const double t = now() - t0;
    if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) > 1) {
        fprintf(stderr, "bench_qc: failed: %s\n", cmd);
        return NAN;
    }
    return t;
}

typedef struct {
    const float *x;
    size_t n, pos;
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
    memcpy(b, s->x + 2 * s->pos, 2 * k * sizeof *b);
    s->pos += k, *got = k;
    return MF_OK;
}
static mf_err_t s_begin(void *c)
{
    (void)c;
    return MF_OK;
}
static mf_err_t s_write(void *c, const float *b, size_t n)
{
    (void)b, (void)n, (void)c;
    return MF_OK;
}

static double s_master(const float *x, size_t n, int with_inserts, const char *target,
                       mf_master_result_t *r)
{
    static double eq[64], cp[32];
    const mf_processor_class_t *e = mf_processor_find("eq"), *c = mf_processor_find("compressor");
    for (size_t i = 0; i < e->n_params; i++) eq[i] = e->params[i].def;
    for (size_t i = 0; i < e->n_band_params; i++) eq[e->n_params + i] = e->band_params[i].def;
    eq[e->n_params + (size_t)mf_processor_param_index(e, 1, "kind")] = 1; /* lowshelf */
    eq[e->n_params + (size_t)mf_processor_param_index(e, 1, "freq_hz")] = 100;
    eq[e->n_params + (size_t)mf_processor_param_index(e, 1, "gain_db")] = 1;
    for (size_t i = 0; i < c->n_params; i++) cp[i] = c->params[i].def;
    cp[mf_processor_param_index(c, 0, "threshold_db")] = -10;
    cp[mf_processor_param_index(c, 0, "ratio")] = 1.5;
    const mf_master_insert_t ins[2] = {{e, eq, 1, NULL}, {c, cp, 0, NULL}};
    src_t src = {x, n, 0};
    const mf_master_source_t s = {s_rewind, s_read, &src};
    const mf_master_sink_t k = {s_begin, s_write, NULL};
    /* As a worker runs it: the inserts' output waits in a spill file. */
    const char *tmp = getenv("TMPDIR");
    mf_master_spill_file_t file = {0};
    const mf_master_config_t cfg = {
        .channels = 2,
        .rate = FS,
        .inserts = with_inserts ? ins : NULL,
        .n_inserts = with_inserts ? 2 : 0,
        .target = *mf_qc_preset(target),
        .ceiling_dbtp = NAN,
        .margin_db = NAN,
        .spill =
            with_inserts ? mf_master_spill_open_in(tmp && tmp[0] ? tmp : "/tmp", &file) : NULL};
    const double t0 = now();
    mf_master_run(&cfg, &s, &k, r);
    const double t = now() - t0;
    mf_master_spill_close(&file);
    return t;
}

int main(int argc, char **argv)
{
    const double secs = argc > 1 ? atof(argv[1]) : 240.0;
    const size_t n = (size_t)(secs * FS);
    float *x = malloc(2 * n * sizeof *x);
    s_music(x, n);
    printf("bench_qc: %.0f s of stereo at 48 kHz (%zu frames), median of %d runs; kernels: %s\n\n",
           secs, n, RUNS, mf_qc_kernels()->name);
    double t[RUNS], I = 0, Iref = 0;
    for (int r = 0; r < RUNS; r++)
        t[r] = s_ours(x, n, MF_ANALYZE_LOUDNESS | MF_ANALYZE_TRUE_PEAK, &I);
    const double ours = median(t, RUNS);
    for (int r = 0; r < RUNS; r++) t[r] = s_ours(x, n, MF_ANALYZE_ALL, &I);
    const double ours_all = median(t, RUNS);
    for (int r = 0; r < 3; r++) t[r] = s_ebur128(x, n, &Iref);
    const double ref = median(t, 3);
    printf("| in-process analysis | time | vs libebur128 |\n| --- | --- | --- |\n");
    printf("| libebur128 I+LRA+TP | %.0f ms | 1x |\n", ref * 1e3);
    printf("| mixfarm I+LRA+TP | %.0f ms | %.1fx |\n", ours * 1e3, ref / ours);
    printf("| mixfarm everything (+ stats, spectrum) | %.0f ms | %.1fx |\n", ours_all * 1e3,
           ref / ours_all);
    printf("(integrated: ours %.3f, libebur128 %.3f LUFS)\n\n", I, Iref);

    /* The same signal as a file, through both programs. */
    char wav[] = "/tmp/bench-qc-XXXXXX.wav", bin[4096], cmd[8192];
    const int fd = mkstemps(wav, 4);
    if (fd >= 0) close(fd);
    SF_INFO si = {.samplerate = (int)FS, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_24};
    SNDFILE *f = sf_open(wav, SFM_WRITE, &si);
    sf_writef_float(f, x, (sf_count_t)n);
    sf_close(f);
    const ssize_t len = readlink("/proc/self/exe", bin, sizeof bin - 1);
    bin[len > 0 ? len : 0] = '\0';
    printf("| file (24-bit WAV) | wall time | vs ffmpeg |\n| --- | --- | --- |\n");
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostats -hide_banner -i %s -af ebur128=peak=true -f null - >/dev/null 2>&1",
             wav);
    for (int r = 0; r < 3; r++) t[r] = s_spawn(cmd);
    const double ff = median(t, 3);
    printf("| ffmpeg -af ebur128=peak=true | %.0f ms | 1x |\n", ff * 1e3);
    snprintf(cmd, sizeof cmd, "%s/mixfarm qc %s >/dev/null 2>&1", dirname(bin), wav);
    for (int r = 0; r < 3; r++) t[r] = s_spawn(cmd);
    const double mq = median(t, 3);
    printf("| mixfarm qc (everything) | %.0f ms | %.1fx |\n\n", mq * 1e3, ff / mq);
    unlink(wav);

    printf("| true-peak kernel | ns/sample |\n| --- | --- |\n");
    mf_tp_coef_t tp;
    mf_tp_design(&tp, FS);
    static float pl[4096 + 64];
    for (size_t i = 0; i < sizeof pl / sizeof pl[0]; i++) pl[i] = x[2 * i];
    for (int isa = 0; isa < MF_QC_ISA_COUNT; isa++) {
        const mf_qc_kernels_t *k = mf_qc_kernels_for((mf_qc_isa_t)isa);
        if (!k) continue;
        const int reps = isa ? 2000 : 100;
        float m = 0;
        for (int r = 0; r < RUNS; r++) {
            const double t0 = now();
            for (int i = 0; i < reps; i++) m += k->tp_max(&tp, pl + 16, 4096);
            t[r] = (now() - t0) / (reps * 4096.0) * 1e9;
        }
        printf("| %s | %.2f |\n", k->name, median(t, RUNS));
        if (m < 0) puts("");
    }
    printf("\n| mastering | time | passes | I | TP | limiting |\n| --- | --- | --- | --- | --- | "
           "--- |\n");
    for (int c = 0; c < 4; c++) {
        const int w = c & 1;
        const char *tg = c < 2 ? "streaming" : "cd";
        mf_master_result_t r;
        for (int k = 0; k < 3; k++) t[k] = s_master(x, n, w, tg, &r);
        printf("| %s, %s | %.0f ms | %d | %.2f | %.2f | %.1f dB |\n", tg,
               w ? "low shelf + compressor inserts" : "no inserts", median(t, 3) * 1e3, r.passes,
               r.integrated_lufs, r.true_peak_dbtp, r.max_reduction_db);
    }
    free(x);
    return 0;
}
