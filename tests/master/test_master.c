/* Mastering through the whole render (mixfarm render): the master lands on
 * its loudness target within 0.5 LU and under its true-peak ceiling, as
 * libebur128 (an independent meter) and our own qc.json both read it; the
 * deliverables are named and encoded as CLI.md says; a master that fails a
 * QC check makes the render exit 1; a mix with no mastering gets a qc.json
 * too and exits 0. Audio is synthesised here, deterministic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <ebur128.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <sndfile.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_audio.h"

extern char **environ;

static char s_dir[512];
static char s_bin[512];

/* Drums-like bursts on a tone bed: a signal whose loudness and peaks
 * behave like music (crest factor ~15 dB). */
static void write_music(const char *name, int channels, double amp, unsigned seed)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    const int rate = 48000, frames = 20 * rate;
    float *x = malloc(sizeof(float) * (size_t)frames * (size_t)channels);
    assert_non_null(x);
    unsigned st = seed;
    for (int i = 0; i < frames; i++) {
        st = st * 1664525u + 1013904223u;
        double noise = ((double)(st >> 8) / 8388608.0 - 1.0);
        double t = (double)i / rate, beat = fmod(t, 0.5);
        double hit = exp(-beat * 30.0) * noise * 0.8;
        double bed = 0.25 * sin(2 * M_PI * 110 * t) + 0.15 * sin(2 * M_PI * 330.5 * t + seed);
        for (int c = 0; c < channels; c++)
            x[(size_t)i * (size_t)channels + (size_t)c] =
                (float)(amp * (hit + bed * (c ? 0.9 : 1.0)));
    }
    test_audio_write(path, channels, rate, SF_FORMAT_WAV | SF_FORMAT_PCM_24, x, frames);
    free(x);
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

/* mixfarm render DIR/session -o DIR/out; returns the exit code. */
/* Renders session into out; its standard error goes to err (relative to
 * the test's folder) when err is not NULL. */
static int render_logged(const char *session, const char *out, const char *err)
{
    char sp[1024], op[1024], ep[1024];
    snprintf(sp, sizeof sp, "%s/%s", s_dir, session);
    snprintf(op, sizeof op, "%s/%s", s_dir, out);
    char *argv[] = {s_bin, "render", sp, "-o", op, "--quiet", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
    if (err) {
        snprintf(ep, sizeof ep, "%s/%s", s_dir, err);
        posix_spawn_file_actions_addopen(&fa, 2, ep, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, s_bin, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    int status;
    while (waitpid(pid, &status, 0) < 0) assert_int_equal(errno, EINTR);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int render(const char *session, const char *out)
{
    return render_logged(session, out, NULL);
}

typedef struct {
    double lufs, tp_dbtp;
    long frames;
    int format;
} measured_t;

/* Loudness and true peak by libebur128. */
static measured_t measure(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", s_dir, rel);
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) fail_msg("%s: %s", path, sf_strerror(NULL));
    ebur128_state *st = ebur128_init((unsigned)info.channels, (unsigned long)info.samplerate,
                                     EBUR128_MODE_I | EBUR128_MODE_TRUE_PEAK);
    float buf[4096 * 2];
    sf_count_t n;
    while ((n = sf_readf_float(f, buf, 4096)) > 0) ebur128_add_frames_float(st, buf, (size_t)n);
    measured_t m = {.frames = (long)info.frames, .format = info.format, .tp_dbtp = -INFINITY};
    ebur128_loudness_global(st, &m.lufs);
    for (unsigned c = 0; c < (unsigned)info.channels; c++) {
        double tp;
        ebur128_true_peak(st, c, &tp);
        if (20 * log10(tp) > m.tp_dbtp) m.tp_dbtp = 20 * log10(tp);
    }
    ebur128_destroy(&st);
    sf_close(f);
    return m;
}

static json_t *load_json(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", s_dir, rel);
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (!j) fail_msg("%s: %s", path, e.text);
    return j;
}

static const char *s_tracks =
    "\"tracks\": [{\"name\": \"Beat\", \"file\": \"beat.wav\", \"pan\": -0.3},"
    " {\"name\": \"Pad\", \"file\": \"pad.wav\", \"gain_db\": -6}]";

static void master_to(const char *target, double lufs, double ceiling)
{
    char doc[2048], sname[64], out[64];
    snprintf(sname, sizeof sname, "%s.json", target);
    snprintf(out, sizeof out, "out-%s", target);
    snprintf(
        doc, sizeof doc,
        "{\"mixfarm\": 1, \"name\": \"Song\", %s,"
        " \"mastering\": {\"target\": \"%s\", \"inserts\": [{\"type\": \"eq\", \"bands\":"
        " [{\"kind\": \"lowshelf\", \"freq_hz\": 100, \"gain_db\": 1}]}]},"
        " \"outputs\": [{\"format\": \"wav\", \"bits\": 24}, {\"format\": \"flac\", \"bits\": 16}],"
        " \"metadata\": {\"title\": \"Night / Drive\"}}",
        s_tracks, target);
    write_text(sname, doc);
    assert_int_equal(render(sname, out), 0);
    const char *files[] = {"master/Night _ Drive.wav", "master/Night _ Drive.flac"};
    const int formats[] = {SF_FORMAT_WAV | SF_FORMAT_PCM_24, SF_FORMAT_FLAC | SF_FORMAT_PCM_16};
    for (int i = 0; i < 2; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "%s/%s", out, files[i]);
        measured_t m = measure(rel);
        print_message("    %s %s: %.2f LUFS, %.2f dBTP (libebur128)\n", target, files[i], m.lufs,
                      m.tp_dbtp);
        assert_int_equal(m.format, formats[i]);
        assert_true(fabs(m.lufs - lufs) <= 0.5);
        assert_true(m.tp_dbtp <= ceiling);
    }
    char rel[256];
    snprintf(rel, sizeof rel, "%s/qc.json", out);
    json_t *qc = load_json(rel);
    assert_true(json_is_true(json_object_get(qc, "pass")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(qc, "target"), "name")),
                        target);
    json_t *f0 = json_array_get(json_object_get(qc, "files"), 0);
    assert_string_equal(json_string_value(json_object_get(f0, "path")), files[0]);
    assert_true(fabs(json_number_value(json_object_get(f0, "integrated_lufs")) - lufs) <= 0.5);
    assert_true(json_number_value(json_object_get(f0, "true_peak_dbtp")) <= ceiling);
    json_decref(qc);
    snprintf(rel, sizeof rel, "%s/manifest.json", out);
    json_t *man = load_json(rel);
    /* mix, masters, qc, listen/ (6) and listen.json, render.json */
    assert_int_equal(json_array_size(json_object_get(man, "files")), 1 + 2 + 2 + 7 + 1);
    json_decref(man);
}

static void test_streaming(void **state)
{
    (void)state;
    master_to("streaming", -14.0, -1.0);
}

static void test_ebu_r128(void **state)
{
    (void)state;
    master_to("ebu-r128", -23.0, -1.0);
}

/* Whether qc.json's first file failed the check named check. */
static int s_failed_check(const json_t *qc, const char *check)
{
    json_t *probs = json_object_get(json_array_get(json_object_get(qc, "files"), 0), "problems");
    for (size_t i = 0; i < json_array_size(probs); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(probs, i), "check")), check))
            return 1;
    return 0;
}

/* A mono source panned to the centre is delivered as "mono as stereo":
 * the master fails QC, the render says so and exits 1, and writes it all. */
static void test_failed_qc_exits_1(void **state)
{
    (void)state;
    write_text("mono.json", "{\"mixfarm\": 1, \"name\": \"Mono\","
                            " \"tracks\": [{\"name\": \"A\", \"file\": \"mono.wav\"}],"
                            " \"mastering\": {\"target\": \"streaming\"}}");
    assert_int_equal(render_logged("mono.json", "out-mono", "mono.err"), 1);
    json_t *qc = load_json("out-mono/qc.json");
    assert_true(json_is_false(json_object_get(qc, "pass")));
    assert_true(s_failed_check(qc, "mono_as_stereo"));
    json_decref(qc);
    /* Each problem is printed as the failed check it is, not as a warning. */
    char ep[1024], log[4096] = {0};
    snprintf(ep, sizeof ep, "%s/mono.err", s_dir);
    FILE *f = fopen(ep, "r");
    assert_non_null(f);
    (void)!fread(log, 1, sizeof log - 1, f);
    fclose(f);
    assert_non_null(strstr(log, "qc failed: master/Mono.wav: mono_as_stereo: "));
    assert_null(strstr(log, "warning: qc"));
    measured_t m = measure("out-mono/master/Mono.wav"); /* a 24-bit WAV by default */
    assert_int_equal(m.format, SF_FORMAT_WAV | SF_FORMAT_PCM_24);
}

/* A silent mix (a recording of nothing) has no loudness to bring to a target:
 * it is mastered as it is, its length kept, and QC says why the master fails
 * (exit 1). It
 * used to fail as "out of memory": the report of its loudness, -inf, was
 * not JSON. */
static void test_silent_mix_masters(void **state)
{
    (void)state;
    char doc[1024];
    snprintf(doc, sizeof doc,
             "{\"mixfarm\": 1, \"name\": \"Quiet\","
             " \"tracks\": [{\"name\": \"A\", \"file\": \"silence.wav\"}],"
             " \"mastering\": {\"target\": \"streaming\"}}");
    write_text("silent.json", doc);
    assert_int_equal(render("silent.json", "out-silent"), 1);
    json_t *qc = load_json("out-silent/qc.json");
    assert_true(json_is_false(json_object_get(qc, "pass")));
    assert_true(s_failed_check(qc, "loudness")); /* no integrated loudness to reach the target */
    json_decref(qc);
    char path[1024];
    snprintf(path, sizeof path, "%s/out-silent/master/Quiet.wav", s_dir);
    assert_int_equal(access(path, F_OK), 0);
    /* As long as the mix: no tail to trim after music there is not (it
     * was cut to half a second). */
    assert_int_equal(measure("out-silent/master/Quiet.wav").frames,
                     measure("out-silent/mix.wav").frames);
}

/* A pulse train (64 equal harmonics of 40 Hz in phase) cannot be brought
 * to -14 LUFS under -1 dBTP: past a few dB of limiting more gain adds no
 * loudness. The render exits 1, qc.json says what the mastering search did
 * (mastering.within_target false, a few passes rather than all nine), and
 * the loudness problem says it is out of reach and what to do about it. */
static void test_target_out_of_reach(void **state)
{
    (void)state;
    const int rate = 48000, frames = 10 * rate;
    float *x = malloc(sizeof(float) * 2 * (size_t)frames);
    assert_non_null(x);
    for (int i = 0; i < frames; i++) {
        double v = 0.0;
        for (int k = 1; k <= 64; k++) v += cos(2 * M_PI * 40.0 * k * i / rate);
        x[2 * i] = (float)(0.002 * v), x[2 * i + 1] = (float)(0.0018 * v);
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/pulses.wav", s_dir);
    test_audio_write(path, 2, rate, SF_FORMAT_WAV | SF_FORMAT_PCM_24, x, frames);
    free(x);
    write_text("pulses.json", "{\"mixfarm\": 1, \"name\": \"Pulses\","
                              " \"tracks\": [{\"name\": \"A\", \"file\": \"pulses.wav\"}],"
                              " \"mastering\": {\"target\": \"streaming\"}}");
    assert_int_equal(render("pulses.json", "out-pulses"), 1);
    json_t *qc = load_json("out-pulses/qc.json");
    const json_t *f = json_array_get(json_object_get(qc, "files"), 0);
    const json_t *m = json_object_get(f, "mastering");
    assert_true(json_is_false(json_object_get(m, "within_target")));
    const json_int_t passes = json_integer_value(json_object_get(m, "passes"));
    assert_true(passes >= 2 && passes <= 6);
    assert_true(json_number_value(json_object_get(m, "max_reduction_db")) < -1.0);
    const json_t *pr = json_array_get(json_object_get(f, "problems"), 0);
    assert_string_equal(json_string_value(json_object_get(pr, "check")), "loudness");
    assert_non_null(strstr(json_string_value(json_object_get(pr, "message")), "out of reach"));
    json_decref(qc);
}

/* No mastering: the mix is checked (no loudness target) and the render
 * exits 0 whatever QC found. */
static void test_unmastered_mix_has_qc(void **state)
{
    (void)state;
    char doc[1024];
    snprintf(doc, sizeof doc, "{\"mixfarm\": 1, %s}", s_tracks);
    write_text("mix.json", doc);
    assert_int_equal(render("mix.json", "out-mix"), 0);
    json_t *qc = load_json("out-mix/qc.json");
    assert_string_equal(json_string_value(json_object_get(json_object_get(qc, "target"), "name")),
                        "none");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(qc, "files"), 0), "path")),
        "mix.wav");
    json_decref(qc);
    char path[1024];
    snprintf(path, sizeof path, "%s/out-mix/master", s_dir);
    assert_int_not_equal(access(path, F_OK), 0); /* nothing mastered */
}

static int setup(void **state)
{
    (void)state;
    const char *bin = getenv("MF_BIN_DIR");
    snprintf(s_bin, sizeof s_bin, "%s/mixfarm", bin ? bin : "build/bin");
    snprintf(s_dir, sizeof s_dir, "%s/mf-master-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(s_dir)) return -1;
    write_music("beat.wav", 1, 0.5, 1);
    write_music("pad.wav", 2, 0.3, 7);
    write_music("mono.wav", 1, 0.5, 3);
    write_music("silence.wav", 1, 0.0, 5);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_streaming),          cmocka_unit_test(test_ebu_r128),
        cmocka_unit_test(test_failed_qc_exits_1),  cmocka_unit_test(test_unmastered_mix_has_qc),
        cmocka_unit_test(test_silent_mix_masters), cmocka_unit_test(test_target_out_of_reach),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
