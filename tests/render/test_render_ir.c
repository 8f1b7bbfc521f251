/* End to end through the mixfarm binary (MF_BIN_DIR): a session whose bus
 * runs a convolution reverb with an impulse-response file next to it. The
 * client sends the IR as a source, the coordinator plans its decode, the
 * worker convolves; mix.wav must equal a direct convolution computed here
 * (relative error < 1e-5). A stereo IR at 44.1 kHz is resampled to the
 * session rate first, so that case checks the length and the level only. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mf_fs.h"
#include "test_audio.h"
#include "test_proc.h"

#define RATE 48000
#define NX 24000
#define NH 12000

static char s_dir[512], s_bin[1024];
static float s_x[NX], s_h[2 * NH];

static uint32_t s_rng = 7;
static float rnd(void)
{
    s_rng = s_rng * 1664525u + 1013904223u;
    return (float)((double)s_rng / 4294967296.0 - 0.5);
}

static void write_wav(const char *name, int channels, int rate, const float *x, int frames)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    test_audio_write(path, channels, rate, SF_FORMAT_WAV | SF_FORMAT_FLOAT, x, frames);
}

static float *read_wav(const char *rel, SF_INFO *info)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", s_dir, rel);
    memset(info, 0, sizeof *info);
    SNDFILE *f = sf_open(path, SFM_READ, info);
    if (!f) fail_msg("%s: %s", path, sf_strerror(NULL));
    float *y = malloc((size_t)info->frames * (size_t)info->channels * sizeof *y + 1);
    assert_int_equal(sf_readf_float(f, y, info->frames), info->frames);
    sf_close(f);
    return y;
}

/* mixfarm render DIR/session -o DIR/out --workers 2 --quiet; its exit
 * code, with its stderr in DIR/stderr.txt. */
static int render_rc(const char *session, const char *out)
{
    char sp[1024], op[1024], errp[1024];
    snprintf(sp, sizeof sp, "%s/%s", s_dir, session);
    snprintf(op, sizeof op, "%s/%s", s_dir, out);
    snprintf(errp, sizeof errp, "%s/stderr.txt", s_dir);
    const pid_t pid = test_spawn_render(s_bin, sp, op, errp);
    int status;
    while (waitpid(pid, &status, 0) < 0) assert_int_equal(errno, EINTR);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The first line of the last render's stderr. */
static void first_error(char *line, size_t n)
{
    char errp[1024];
    snprintf(errp, sizeof errp, "%s/stderr.txt", s_dir);
    line[0] = 0;
    FILE *f = fopen(errp, "r");
    if (f && !fgets(line, (int)n, f)) line[0] = 0;
    if (f) fclose(f);
}

/* The same; must succeed. */
static void render(const char *session, const char *out)
{
    if (render_rc(session, out) != 0) {
        char line[512];
        first_error(line, sizeof line);
        fail_msg("render %s failed: %s", session, line);
    }
}

static void write_text(const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int group_setup(void **state)
{
    (void)state;
    const char *bin = getenv("MF_BIN_DIR"), *tmp = getenv("TMPDIR");
    if (!bin || !bin[0]) return -1;
    snprintf(s_bin, sizeof s_bin, "%s/mixfarm", bin);
    snprintf(s_dir, sizeof s_dir, "%s/mf-render-ir-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(s_dir)) return -1;
    char sub[600];
    snprintf(sub, sizeof sub, "%s/irs", s_dir);
    if (mkdir(sub, 0755)) return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return mf_fs_remove_tree(s_dir);
}

static void test_ir_render_equals_direct(void **state)
{
    (void)state;
    for (int i = 0; i < NX; i++) s_x[i] = 0.5f * rnd();
    for (int i = 0; i < NH; i++) {
        const float env = (float)exp(-4.0 * i / NH);
        s_h[2 * i] = env * rnd(), s_h[2 * i + 1] = env * rnd();
    }
    write_wav("dry.wav", 2, RATE, s_x, NX / 2); /* stereo: NX/2 frames of the noise */
    write_wav("irs/hall.wav", 2, RATE, s_h, NH);
    write_text("s.json",
               "{\"mixfarm\": 1, \"sample_rate\": 48000,"
               " \"tracks\": [{\"name\": \"Dry\", \"file\": \"dry.wav\", \"output\": \"Verb\"}],"
               " \"buses\": [{\"name\": \"Verb\", \"inserts\": [{\"type\": \"reverb\","
               " \"ir\": \"irs/hall.wav\", \"mix\": 1}]}]}");
    render("s.json", "out");
    SF_INFO info;
    float *y = read_wav("out/mix.wav", &info);
    const int nx = NX / 2;
    assert_int_equal(info.channels, 2);
    assert_int_equal(info.samplerate, RATE);
    assert_int_equal(info.frames, nx + NH);
    /* A stereo track at centre is as is (balance); so is the bus. */
    double err = 0, ref = 0;
    for (int c = 0; c < 2; c++)
        for (int t = 0; t < nx + NH; t++) {
            double acc = 0;
            for (int k = 0; k < NH && k <= t; k++)
                if (t - k < nx) acc += (double)s_h[2 * k + c] * s_x[2 * (t - k) + c];
            err = fmax(err, fabs(y[2 * t + c] - acc));
            ref = fmax(ref, fabs(acc));
        }
    printf("mix.wav vs direct convolution: relative error %.3g\n", err / ref);
    assert_true(err / ref < 1e-5);
    free(y);
}

static void test_ir_resampled_and_normalized(void **state)
{
    (void)state;
    /* A unit impulse through a 44.1 kHz mono IR that is a scaled impulse:
     * normalized, the output is the impulse again (unit energy), at 48 kHz. */
    static float imp[4410], dry[RATE];
    imp[0] = 0.25f;
    dry[100] = 1.0f;
    write_wav("irs/click44.wav", 1, 44100, imp, 4410);
    write_wav("click.wav", 1, RATE, dry, RATE);
    write_text("n.json", "{\"mixfarm\": 1, \"sample_rate\": 48000, \"pan_law_db\": -6,"
                         " \"tracks\": [{\"name\": \"C\", \"file\": \"click.wav\", \"pan\": -1,"
                         " \"inserts\": [{\"type\": \"reverb\", \"ir\": \"irs/click44.wav\","
                         " \"normalize\": true, \"mix\": 1}]}]}");
    render("n.json", "outn");
    SF_INFO info;
    float *y = read_wav("outn/mix.wav", &info);
    assert_int_equal(info.frames, RATE + 4800); /* 0.1 s of IR at 48 kHz */
    double e = 0;
    for (long i = 0; i < info.frames; i++) e += (double)y[2 * i] * y[2 * i];
    printf("normalized, resampled impulse: output energy %.6f\n", e);
    assert_true(fabs(e - 1.0) < 0.01);
    free(y);
}

/* A convolution reverb in mastering.inserts: its IR, a single impulse D
 * frames late, makes the master the plain one (no inserts) D frames later.
 * Target "none" and a quiet mix keep the limiter out of it. */
static void test_ir_in_mastering(void **state)
{
    (void)state;
    enum { N = 96000, D = 480 }; /* 2 s: QC wants a master of 1 s at least */
    static float x[2 * N], late[D + 1];
    for (int i = 0; i < 2 * N; i++) x[i] = 0.2f * rnd();
    late[D] = 1.0f;
    write_wav("m.wav", 2, RATE, x, N);
    write_wav("irs/late.wav", 1, RATE, late, D + 1);
    const char *fmt = "{\"mixfarm\": 1, \"sample_rate\": 48000, \"metadata\": {\"title\": \"T\"},"
                      " \"tracks\": [{\"name\": \"M\", \"file\": \"m.wav\"}],"
                      " \"mastering\": {\"target\": \"none\", \"inserts\": [%s]},"
                      " \"outputs\": [{\"format\": \"wav\", \"bits\": 32}]}";
    char doc[1024];
    snprintf(doc, sizeof doc, fmt, "");
    write_text("mp.json", doc);
    snprintf(doc, sizeof doc, fmt, "{\"type\": \"reverb\", \"ir\": \"irs/late.wav\", \"mix\": 1}");
    write_text("mi.json", doc);
    render("mp.json", "outmp");
    render("mi.json", "outmi");
    SF_INFO ip, ii;
    float *yp = read_wav("outmp/master/T.wav", &ip), *yi = read_wav("outmi/master/T.wav", &ii);
    assert_true(ip.frames >= N && ii.frames >= N + D);
    double err = 0, ref = 0, head = 0;
    for (int t = 0; t < N; t++)
        for (int c = 0; c < 2; c++) {
            err = fmax(err, fabs(yi[2 * (t + D) + c] - yp[2 * t + c]));
            ref = fmax(ref, fabs(yp[2 * t + c]));
        }
    for (int t = 0; t < D - 8; t++) head = fmax(head, fabs(yi[2 * t]) + fabs(yi[2 * t + 1]));
    printf("mastering IR: master vs the plain master %d frames later: relative error %.3g, "
           "head %.3g\n",
           D, err / ref, head);
    assert_true(ref > 0.01);
    assert_true(err / ref < 1e-4);
    assert_true(head < 1e-5);
    /* Matched to a reference (the mix itself: a flat curve), loudness from
     * it: the match task runs the inserts, so the file moves there. */
    snprintf(doc, sizeof doc,
             "{\"mixfarm\": 1, \"sample_rate\": 48000, \"metadata\": {\"title\": \"T\"},"
             " \"tracks\": [{\"name\": \"M\", \"file\": \"m.wav\"}],"
             " \"mastering\": {\"target\": \"none\", \"reference\": \"m.wav\","
             " \"match_reference\": true, \"inserts\": [{\"type\": \"reverb\","
             " \"ir\": \"irs/late.wav\", \"mix\": 1}]},"
             " \"outputs\": [{\"format\": \"wav\", \"bits\": 32}]}");
    write_text("mr.json", doc);
    render("mr.json", "outmr");
    SF_INFO im;
    float *ym = read_wav("outmr/master/T.wav", &im);
    assert_true(im.frames >= N + D);
    double xy = 0, xx = 0;
    for (int t = 0; t < 2 * N; t++)
        xy += (double)ym[2 * D + t] * yp[t], xx += (double)yp[t] * yp[t];
    const double g = xy / xx;
    err = 0;
    for (int t = 0; t < 2 * N; t++) err = fmax(err, fabs(ym[2 * D + t] - g * yp[t]));
    printf("matched to the reference: gain %.4f, relative error %.3g\n", g, err / ref);
    assert_true(fabs(g - 1.0) < 0.01);
    assert_true(err / ref < 1e-4);
    free(yp), free(yi), free(ym);
}

/* Rendering name (a document written first) is bad input, exit 2, and
 * the first line of stderr holds both strings. */
static void refused(const char *name, const char *doc, const char *key, const char *why)
{
    char line[512];
    write_text(name, doc);
    assert_int_equal(render_rc(name, "out-refused"), 2);
    first_error(line, sizeof line);
    printf("%s", line);
    assert_non_null(strstr(line, key));
    assert_non_null(strstr(line, why));
}

/* A missing IR in mastering is bad input naming its key (exit 2); an
 * album's mastering takes no file input at all. */
static void test_ir_in_mastering_errors(void **state)
{
    (void)state;
    refused("mx.json",
            "{\"mixfarm\": 1, \"sample_rate\": 48000,"
            " \"tracks\": [{\"name\": \"M\", \"file\": \"m.wav\"}],"
            " \"mastering\": {\"target\": \"none\", \"inserts\": [{\"type\": "
            "\"reverb\", \"ir\": \"irs/gone.wav\"}]}}",
            "mastering.inserts[0].ir", "gone.wav");
    refused("a.json",
            "{\"mixfarm\": 1, \"album\": {\"title\": \"A\"}, \"sample_rate\": 48000,"
            " \"mastering\": {\"target\": \"none\", \"inserts\": [{\"type\": "
            "\"reverb\", \"ir\": \"irs/late.wav\"}]},"
            " \"tracks\": [{\"mix\": \"m.wav\"}], \"outputs\": [{\"format\": \"wav\"}]}",
            "mastering.inserts[0].ir", "album's mastering takes no file input");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ir_render_equals_direct),
        cmocka_unit_test(test_ir_resampled_and_normalized),
        cmocka_unit_test(test_ir_in_mastering),
        cmocka_unit_test(test_ir_in_mastering_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
