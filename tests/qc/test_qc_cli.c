/* mixfarm qc as a user runs it: exit codes 0 / 1 / 2, messages naming the
 * file, --json on stdout, -o writing the HTML report, --reference, --help. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "qc_test_util.h"

#include <fcntl.h>
#include <jansson.h>
#include <sndfile.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char s_dir[64], s_bin[512];
static char s_out[1 << 16], s_err[4096];

/* Runs mixfarm with args (NULL-terminated), capturing stdout and stderr. */
static int s_run(const char *const *args)
{
    char out[128], err[128];
    snprintf(out, sizeof out, "%s/stdout", s_dir), snprintf(err, sizeof err, "%s/stderr", s_dir);
    const pid_t pid = fork();
    if (pid == 0) {
        const int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644),
                  e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(o, 1), dup2(e, 2);
        char *argv[16] = {s_bin, "qc"};
        for (int i = 0; args[i] && i < 13; i++) argv[i + 2] = (char *)args[i];
        execv(s_bin, argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    FILE *f = fopen(out, "r");
    s_out[fread(s_out, 1, sizeof s_out - 1, f)] = '\0';
    fclose(f);
    f = fopen(err, "r");
    s_err[fread(s_err, 1, sizeof s_err - 1, f)] = '\0';
    fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void s_wav(const char *name, const float *x, size_t n, int format)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    SF_INFO si = {.samplerate = 48000, .channels = 2, .format = format};
    SNDFILE *f = sf_open(path, SFM_WRITE, &si);
    assert_non_null(f);
    sf_writef_float(f, x, (sf_count_t)n);
    sf_close(f);
}

static int s_setup(void **state)
{
    (void)state;
    const char *bin = getenv("MF_BIN_DIR");
    snprintf(s_bin, sizeof s_bin, "%s/mixfarm", bin ? bin : "bin");
    snprintf(s_dir, sizeof s_dir, "/tmp/mf-qccli-XXXXXX");
    if (!mkdtemp(s_dir)) return -1;
    const size_t n = 4 * 48000;
    float *x = malloc(2 * n * sizeof *x);
    qt_music(x, n, 2, 48000, 9);
    s_wav("clean.wav", x, n, SF_FORMAT_WAV | SF_FORMAT_PCM_24);
    /* The same in float, with a NaN at 1 s and an infinity at 2 s. */
    x[2 * 48000] = NAN, x[2 * 2 * 48000 + 1] = INFINITY;
    s_wav("nan.wav", x, n, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    x[2 * 48000] = x[2 * 48000 + 2], x[2 * 2 * 48000 + 1] = x[2 * 2 * 48000 + 3];
    for (size_t i = 0; i < 2 * n; i++) /* driven into hard clipping */
        x[i] = fmaxf(-1.0f, fminf(1.0f, 6.0f * x[i]));
    s_wav("hot.flac", x, n, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
    for (size_t i = 0; i < n; i++) /* a mono record delivered as stereo */
        x[2 * i] = x[2 * i + 1] = 0.125f * x[2 * i];
    s_wav("mono.wav", x, n, SF_FORMAT_WAV | SF_FORMAT_PCM_24);
    s_wav("ulaw.wav", x, n, SF_FORMAT_WAV | SF_FORMAT_ULAW); /* telephony */
    free(x);
    char path[128];
    snprintf(path, sizeof path, "%s/notes.txt", s_dir);
    FILE *f = fopen(path, "w");
    fputs("not audio\n", f);
    fclose(f);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *s_p(const char *name)
{
    static char buf[4][160];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", s_dir, name);
    return buf[k];
}

static void test_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(s_run((const char *[]){s_p("clean.wav"), NULL}), 0);
    printf("%s", s_out);
    assert_non_null(strstr(s_out, "LUFS integrated"));
    assert_int_equal(s_run((const char *[]){s_p("clean.wav"), s_p("hot.flac"), NULL}), 1);
    printf("%s", s_out);
    assert_non_null(strstr(s_out, "FAIL clipping"));
    assert_int_equal(s_run((const char *[]){s_p("clean.wav"), "--target", "streaming", NULL}), 1);
    assert_int_equal(s_run((const char *[]){s_p("missing.wav"), NULL}), 2);
    printf("stderr: %s", s_err);
    assert_non_null(strstr(s_err, "missing.wav"));
    assert_int_equal(s_run((const char *[]){s_p("notes.txt"), NULL}), 2);
    assert_non_null(strstr(s_err, "notes.txt"));
    assert_int_equal(s_run((const char *[]){s_p("clean.wav"), "--target", "loud", NULL}), 2);
    assert_int_equal(
        s_run((const char *[]){s_p("clean.wav"), "--reference", s_p("missing.wav"), NULL}), 2);
    printf("stderr: %s", s_err);
    assert_non_null(strstr(s_err, "missing.wav"));
    assert_int_equal(
        s_run((const char *[]){s_p("clean.wav"), "--reference", s_p("notes.txt"), NULL}), 2);
    assert_non_null(strstr(s_err, "notes.txt"));
    assert_int_equal(s_run((const char *[]){NULL}), 2);
    assert_int_equal(s_run((const char *[]){"--help", NULL}), 0);
    assert_non_null(strstr(s_out, "ebu-r128"));

    /* A copy cut short (2 of its 4 s): it reads as a shorter file, but its
     * header tells, and QC fails it. */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "head -c %d %s > %s", 44 + 2 * 48000 * 2 * 3, s_p("clean.wav"),
             s_p("cut.wav"));
    assert_int_equal(system(cmd), 0);
    assert_int_equal(s_run((const char *[]){s_p("cut.wav"), NULL}), 1);
    if (!strstr(s_out, "FAIL truncated: the file is cut short: header says 4.000 s, data holds"))
        fail_msg("qc of a file cut short:\n%s", s_out);

    /* Identical channels fail, unless --mono says the record is mono. */
    assert_int_equal(s_run((const char *[]){s_p("mono.wav"), NULL}), 1);
    assert_non_null(strstr(s_out, "FAIL mono_as_stereo"));
    assert_int_equal(s_run((const char *[]){s_p("mono.wav"), "--mono", NULL}), 0);
    assert_null(strstr(s_out, "mono_as_stereo"));
    /* Companded 8-bit samples are named as what they are, not as PCM. */
    s_run((const char *[]){s_p("ulaw.wav"), "--mono", NULL});
    if (!strstr(s_out, "48000 Hz, stereo, u-law WAV")) fail_msg("qc of a u-law file:\n%s", s_out);

    /* Samples that are not numbers: measured as silence, and failed. */
    assert_int_equal(s_run((const char *[]){s_p("nan.wav"), NULL}), 1);
    if (!strstr(s_out, "FAIL not_a_number: 2 samples are not numbers (NaN or infinite), the first "
                       "at 1.000 s") ||
        !strstr(s_out, "LUFS integrated") || strstr(s_out, "inf dBTP"))
        fail_msg("qc of a file with NaN:\n%s", s_out);
}

static void test_json_and_html(void **state)
{
    (void)state;
    /* A custom target the clean file meets: its loudness, -1 dBTP. */
    assert_int_equal(s_run((const char *[]){s_p("clean.wav"), "--json", NULL}), 0);
    json_error_t je;
    json_t *doc = json_loads(s_out, 0, &je);
    assert_non_null(doc);
    const double lufs = json_real_value(
        json_object_get(json_array_get(json_object_get(doc, "files"), 0), "integrated_lufs"));
    json_decref(doc);
    char tg[32];
    snprintf(tg, sizeof tg, "%.1f,-1", lufs);
    assert_int_equal(s_run((const char *[]){s_p("clean.wav"), "--target", tg, "--json", "-o",
                                            s_p("report.html"), NULL}),
                     0);
    doc = json_loads(s_out, 0, &je);
    assert_non_null(doc);
    assert_true(json_is_true(json_object_get(doc, "pass")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "target"), "name")),
                        "custom");
    json_t *f0 = json_array_get(json_object_get(doc, "files"), 0);
    assert_string_equal(json_string_value(json_object_get(f0, "path")), s_p("clean.wav"));
    assert_int_equal(json_array_size(json_object_get(f0, "problems")), 0);
    json_decref(doc);
    struct stat st;
    assert_int_equal(stat(s_p("report.html"), &st), 0);
    assert_true(st.st_size > 1000);
    /* An unwritable report path: usage error naming it. */
    assert_int_equal(
        s_run((const char *[]){s_p("clean.wav"), "-o", "/nonexistent/dir/r.html", NULL}), 2);
    assert_non_null(strstr(s_err, "/nonexistent/dir/r.html"));
}

/* A surround WAV of ch channels of music (WAVE_FORMAT_EXTENSIBLE), whose
 * channel mask is set to mask unless it is 0; returns the path. */
static const char *s_surround(const char *name, int ch, uint32_t mask)
{
    const size_t n = 3 * 48000;
    float *x = malloc(n * (size_t)ch * sizeof *x);
    qt_music(x, n, ch, 48000, 60);
    SF_INFO si = {
        .samplerate = 48000, .channels = ch, .format = SF_FORMAT_WAVEX | SF_FORMAT_PCM_24};
    SNDFILE *f = sf_open(s_p(name), SFM_WRITE, &si);
    assert_non_null(f);
    sf_writef_float(f, x, (sf_count_t)n);
    sf_close(f);
    free(x);
    if (mask) { /* libsndfile cannot be told: the mask is at byte 40 */
        FILE *w = fopen(s_p(name), "r+b");
        unsigned char h[44];
        assert_int_equal(fread(h, 1, sizeof h, w), sizeof h);
        assert_memory_equal(h + 12, "fmt ", 4);
        assert_int_equal(h[20] | h[21] << 8, 0xFFFE);
        for (int i = 0; i < 4; i++) h[40 + i] = (unsigned char)(mask >> (8 * i));
        fseek(w, 0, SEEK_SET);
        assert_int_equal(fwrite(h, 1, sizeof h, w), sizeof h);
        fclose(w);
    }
    return s_p(name);
}

/* One file's entry in qc.json. */
static json_t *s_entry(const char *path)
{
    assert_int_equal(s_run((const char *[]){path, "--json", NULL}), 0);
    json_t *doc = json_loads(s_out, 0, NULL);
    json_t *e = json_incref(json_array_get(json_object_get(doc, "files"), 0));
    json_decref(doc);
    assert_non_null(e);
    return e;
}

/* The loudness weights of each channel as qc.json reports them. */
static void s_weights_are(const char *path, const double *want, int ch)
{
    assert_int_equal(s_run((const char *[]){path, "--json", NULL}), 0);
    json_t *doc = json_loads(s_out, 0, NULL);
    const json_t *f = json_array_get(json_object_get(doc, "files"), 0);
    const json_t *w = json_object_get(f, "loudness_weights");
    assert_int_equal(json_integer_value(json_object_get(f, "channels")), ch);
    assert_int_equal(json_array_size(w), (size_t)ch);
    for (int c = 0; c < ch; c++)
        if (fabs(json_number_value(json_array_get(w, (size_t)c)) - want[c]) > 1e-9)
            fail_msg("%s: channel %d weighs %g, not %g", path, c,
                     json_number_value(json_array_get(w, (size_t)c)), want[c]);
    json_decref(doc);
}

/* Surround files: 5.1 measured (the LFE left out, the surrounds +1.5 dB);
 * a file's own channel map decides (4 channels: 3.1 by its map, quad
 * without); more than 7.1 refused, naming the file. */
static void test_surround(void **state)
{
    (void)state;
    char f51[160]; /* s_p's buffers are reused */
    snprintf(f51, sizeof f51, "%s", s_surround("five.wav", 6, 0));
    assert_int_equal(s_run((const char *[]){f51, NULL}), 0);
    if (!strstr(s_out, "48000 Hz, 5.1, 24-bit WAV") ||
        !strstr(s_out, "weights   1.00 1.00 1.00 0.00 1.41 1.41") || !strstr(s_out, "L/R pair"))
        fail_msg("qc of a 5.1 file:\n%s", s_out);
    s_weights_are(f51, (const double[]){1, 1, 1, 0, 1.41, 1.41}, 6);
    s_weights_are(s_surround("three-one.wav", 4, 0xF), (const double[]){1, 1, 1, 0}, 4);
    s_weights_are(s_surround("quad.wav", 4, 0), (const double[]){1, 1, 1.41, 1.41}, 4);
    /* 7.1 with its side pair before... no: in bit order, FL FR FC LFE BL BR SL SR. */
    s_weights_are(s_surround("seven.wav", 8, 0x63F),
                  (const double[]){1, 1, 1, 0, 1.41, 1.41, 1.41, 1.41}, 8);
    /* 5.0 with front wide channels (FLC FRC): 1. */
    s_weights_are(s_surround("wide.wav", 5, 0xC3), (const double[]){1, 1, 1, 1, 1}, 5);
    /* 7.1.4 (an immersive bed): the top rear pair a surround, as ffmpeg
     * weighs it; named by its speakers. */
    const char *bed = s_surround("bed.wav", 12, 0x2D63F);
    s_weights_are(bed, (const double[]){1, 1, 1, 0, 1.41, 1.41, 1.41, 1.41, 1, 1, 1.41, 1.41}, 12);
    json_t *e = s_entry(bed);
    assert_string_equal(json_string_value(json_object_get(e, "layout")), "7.1.4");
    json_decref(e);
    e = s_entry(s_p("clean.wav")); /* mono and stereo say none, as a render's qc.json */
    assert_null(json_object_get(e, "layout"));
    json_decref(e);
    assert_int_equal(s_run((const char *[]){bed, NULL}), 0);
    if (!strstr(s_out, "48000 Hz, 7.1.4, 24-bit WAV")) fail_msg("a 7.1.4 file:\n%s", s_out);
    /* Past 8 channels, a count that names no layout needs a mask. */
    const char *nine = s_surround("nine.wav", 9, 0);
    assert_int_equal(s_run((const char *[]){nine, NULL}), 2);
    if (!strstr(s_err, "nine.wav: 9 channels, and no WAV channel mask"))
        fail_msg("a 9-channel file: %s", s_err);
    assert_int_equal(s_run((const char *[]){s_p("clean.wav"), "-r", nine, NULL}), 2);
    if (!strstr(s_err, "nine.wav: 9 channels, and no WAV channel mask"))
        fail_msg("a 9-channel reference: %s", s_err);
    s_weights_are(s_surround("nine-named.wav", 9, 0x63F | 0x800),
                  (const double[]){1, 1, 1, 0, 1.41, 1.41, 1.41, 1.41, 1}, 9);
    assert_int_equal(s_run((const char *[]){s_surround("many.wav", 17, 0), NULL}), 2);
    if (!strstr(s_err, "many.wav: 17 channels: qc measures files of 1 to 16"))
        fail_msg("a 17-channel file: %s", s_err);
    /* Ogg Vorbis stores 5.1 as L C R Ls Rs LFE: the same music written so
     * (the LFE silent, so a surround taken for the LFE would lose 1.5 LU)
     * reads as the WAV does, within what the codec changes. */
    {
        const size_t n = 3 * 48000;
        float *x = malloc(n * 6 * sizeof *x), *v = malloc(n * 6 * sizeof *v);
        qt_music(x, n, 6, 48000, 61);
        static const int wav_from_vorbis[6] = {0, 2, 1, 5, 3, 4};
        for (size_t i = 0; i < n; i++) {
            x[i * 6 + 3] = 0.0f; /* LFE */
            for (int c = 0; c < 6; c++)
                v[i * 6 + (size_t)wav_from_vorbis[c]] = x[i * 6 + (size_t)c];
        }
        /* The Ogg file is sox's (libvorbisenc, channels as given): written
         * here through libsndfile, its 6-channel encoder leaks under ASan. */
        SF_INFO wi = {
            .samplerate = 48000, .channels = 6, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
        SNDFILE *w = sf_open(s_p("five-b.wav"), SFM_WRITE, &wi);
        assert_non_null(w);
        sf_writef_float(w, x, (sf_count_t)n);
        sf_close(w);
        w = sf_open(s_p("five-v.wav"), SFM_WRITE, &wi);
        assert_non_null(w);
        sf_writef_float(w, v, (sf_count_t)n);
        sf_close(w);
        free(x), free(v);
        char cmd[512];
        snprintf(cmd, sizeof cmd, "sox %s %s", s_p("five-v.wav"), s_p("five.ogg"));
        assert_int_equal(system(cmd), 0);
        double lufs[2];
        for (int k = 0; k < 2; k++) {
            assert_true(
                s_run((const char *[]){s_p(k ? "five.ogg" : "five-b.wav"), "--json", NULL}) < 2);
            json_t *doc = json_loads(s_out, 0, NULL);
            lufs[k] = json_number_value(json_object_get(
                json_array_get(json_object_get(doc, "files"), 0), "integrated_lufs"));
            json_decref(doc);
        }
        printf("5.1 as WAV %.2f LUFS, as Ogg Vorbis %.2f LUFS\n", lufs[0], lufs[1]);
        assert_true(s_run((const char *[]){s_p("five.ogg"), NULL}) < 2);
        if (!strstr(s_out, "48000 Hz, 5.1, lossy Ogg Vorbis")) fail_msg("an Ogg file:\n%s", s_out);
        /* Vorbis moves it by a little; taken unordered, by 1.6 LU. */
        assert_true(fabs(lufs[0] - lufs[1]) < 0.5);
    }
    /* Compared with a stereo reference: the front pair's spectrum. */
    int rc = s_run((const char *[]){f51, "-r", s_p("clean.wav"), "--json", NULL});
    if (rc) fail_msg("a 5.1 file against a stereo reference: exit %d: %s", rc, s_err);
    /* And as the reference (measured as `compare` measures it, its mask
     * read): the same loudness as its own QC says. */
    char f31[160];
    snprintf(f31, sizeof f31, "%s", s_p("three-one.wav"));
    assert_int_equal(s_run((const char *[]){f31, "--json", NULL}), 0);
    json_t *doc = json_loads(s_out, 0, NULL);
    const double own = json_number_value(
        json_object_get(json_array_get(json_object_get(doc, "files"), 0), "integrated_lufs"));
    json_decref(doc);
    rc = s_run((const char *[]){s_p("clean.wav"), "-r", f31, "--json", NULL});
    if (rc) fail_msg("a 3.1 reference: exit %d: %s", rc, s_err);
    doc = json_loads(s_out, 0, NULL);
    const json_t *ref =
        json_object_get(json_array_get(json_object_get(doc, "files"), 0), "reference");
    const double as_ref =
        json_number_value(json_object_get(json_object_get(ref, "loudness"), "reference_lufs"));
    if (fabs(as_ref - own) > 1e-9 || json_array_size(json_object_get(ref, "bands")) != 31)
        fail_msg("a 3.1 reference read %.2f LUFS, its own QC %.2f: %s", as_ref, own, s_out);
    json_decref(doc);
}

/* A CAF or AIFF file says its speakers in a channel layout chunk, in any
 * order: 5.1 in film order (L C R Ls Rs LFE) measures as the same music in
 * the WAV order does, to the bit, and a mask's 3.1 is named so. */
static void test_surround_layouts(void **state)
{
    (void)state;
    const size_t n = 3 * 48000;
    float *x = malloc(n * 6 * sizeof *x), *film = malloc(n * 6 * sizeof *film);
    qt_music(x, n, 6, 48000, 62);
    /* Each channel at its own level, so that a channel taken for another
     * moves the loudness, the LFE loudest. */
    static const float level[6] = {0.3f, 0.9f, 0.5f, 1.0f, 0.7f, 0.1f};
    static const int wav_of_film[6] = {0, 2, 1, 4, 5, 3}; /* film channel c is WAV's [c] */
    for (size_t i = 0; i < n * 6; i++) x[i] *= level[i % 6];
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 6; c++) film[i * 6 + (size_t)c] = x[i * 6 + (size_t)wav_of_film[c]];
    const int map[6] = {SF_CHANNEL_MAP_LEFT,      SF_CHANNEL_MAP_CENTER,     SF_CHANNEL_MAP_RIGHT,
                        SF_CHANNEL_MAP_REAR_LEFT, SF_CHANNEL_MAP_REAR_RIGHT, SF_CHANNEL_MAP_LFE};
    static const char *const names[3] = {"order.wav", "film.caf", "film.aiff"};
    static const int formats[3] = {SF_FORMAT_WAV, SF_FORMAT_CAF, SF_FORMAT_AIFF};
    for (int k = 0; k < 3; k++) {
        SF_INFO si = {.samplerate = 48000, .channels = 6, .format = formats[k] | SF_FORMAT_PCM_24};
        SNDFILE *f = sf_open(s_p(names[k]), SFM_WRITE, &si);
        assert_non_null(f);
        if (k)
            assert_int_equal(sf_command(f, SFC_SET_CHANNEL_MAP_INFO, (void *)map, sizeof map),
                             SF_TRUE);
        sf_writef_float(f, k ? film : x, (sf_count_t)n);
        sf_close(f);
    }
    free(x), free(film);
    json_t *want = s_entry(s_p("order.wav"));
    static const char *const same[] = {"integrated_lufs",  "true_peak_dbtp", "correlation",
                                       "loudness_weights", "lra_lu",         "dc_offset_db"};
    for (int k = 1; k < 3; k++) {
        json_t *got = s_entry(s_p(names[k]));
        for (size_t i = 0; i < sizeof same / sizeof *same; i++)
            if (!json_equal(json_object_get(got, same[i]), json_object_get(want, same[i])))
                fail_msg("%s: %s is %s, the WAV order's %s", names[k], same[i],
                         json_dumps(json_object_get(got, same[i]), JSON_ENCODE_ANY),
                         json_dumps(json_object_get(want, same[i]), JSON_ENCODE_ANY));
        json_decref(got);
    }
    json_decref(want);
    assert_int_equal(s_run((const char *[]){s_p("film.caf"), NULL}), 0);
    if (!strstr(s_out, "48000 Hz, 5.1, 24-bit CAF")) fail_msg("a film-order CAF:\n%s", s_out);
    /* The name follows the speakers, not the count. */
    assert_int_equal(s_run((const char *[]){s_surround("three-one.wav", 4, 0xF), NULL}), 0);
    if (!strstr(s_out, "48000 Hz, 3.1, 24-bit WAV")) fail_msg("a 3.1 mask:\n%s", s_out);
    assert_int_equal(s_run((const char *[]){s_surround("quad.wav", 4, 0), NULL}), 0);
    if (!strstr(s_out, "48000 Hz, 4.0, 24-bit WAV")) fail_msg("a quad file:\n%s", s_out);
    /* First-order ambisonics, as a CAF's layout and as a WAV's subformat
     * say it: not loudspeaker feeds, refused rather than weighed as some. */
    static const char *const amb[2] = {"amb.caf", "amb.wav"};
    for (int k = 0; k < 2; k++) {
        SF_INFO si = {.samplerate = 48000,
                      .channels = 4,
                      .format = (k ? SF_FORMAT_WAVEX : SF_FORMAT_CAF) | SF_FORMAT_PCM_24};
        SNDFILE *f = sf_open(s_p(amb[k]), SFM_WRITE, &si);
        assert_non_null(f);
        const int wxyz[4] = {SF_CHANNEL_MAP_AMBISONIC_B_W, SF_CHANNEL_MAP_AMBISONIC_B_X,
                             SF_CHANNEL_MAP_AMBISONIC_B_Y, SF_CHANNEL_MAP_AMBISONIC_B_Z};
        if (k)
            assert_int_equal(sf_command(f, SFC_WAVEX_SET_AMBISONIC, NULL, SF_AMBISONIC_B_FORMAT),
                             SF_AMBISONIC_B_FORMAT);
        else
            assert_int_equal(sf_command(f, SFC_SET_CHANNEL_MAP_INFO, (void *)wxyz, sizeof wxyz),
                             SF_TRUE);
        const float frame[4] = {0.1f, 0.2f, 0.0f, 0.0f};
        for (int i = 0; i < 48000; i++) sf_writef_float(f, frame, 1);
        sf_close(f);
        assert_int_equal(s_run((const char *[]){s_p(amb[k]), NULL}), 2);
        if (!strstr(s_err, "ambisonics (B-format)")) fail_msg("%s: %s", amb[k], s_err);
    }
}

/* The entry's comparison with --reference: a file against itself differs
 * by nothing; the comparison fails no check and hides none. */
static void test_reference(void **state)
{
    (void)state;
    assert_int_equal(s_run((const char *[]){s_p("clean.wav"), "-r", s_p("clean.wav"), "--json",
                                            "-o", s_p("ref.html"), NULL}),
                     0);
    json_error_t je;
    json_t *doc = json_loads(s_out, 0, &je);
    assert_non_null(doc);
    const json_t *d =
        json_object_get(json_array_get(json_object_get(doc, "files"), 0), "reference");
    assert_true(json_is_object(d));
    assert_string_equal(json_string_value(json_object_get(d, "reference")), s_p("clean.wav"));
    const json_t *bands = json_object_get(d, "bands");
    assert_int_equal(json_array_size(bands), 31);
    for (size_t i = 0; i < 31; i++) {
        const json_t *diff = json_object_get(json_array_get(bands, i), "diff_db");
        assert_true(json_is_null(diff) || json_real_value(diff) == 0.0);
    }
    assert_true(json_real_value(json_object_get(json_object_get(d, "loudness"), "diff_lu")) == 0.0);
    json_decref(doc);
    FILE *f = fopen(s_p("ref.html"), "r");
    assert_non_null(f);
    static char page[1 << 20];
    page[fread(page, 1, sizeof page - 1, f)] = '\0';
    fclose(f);
    assert_non_null(strstr(page, "Compared with the reference"));
    assert_non_null(strstr(page, "Difference, file minus reference"));
    /* The clipped file still fails, compared or not. */
    assert_int_equal(
        s_run((const char *[]){s_p("hot.flac"), "--reference", s_p("clean.wav"), NULL}), 1);
    assert_non_null(strstr(s_out, "FAIL clipping"));
    assert_non_null(strstr(s_out, "compared with"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_codes),       cmocka_unit_test(test_json_and_html),
        cmocka_unit_test(test_reference),        cmocka_unit_test(test_surround),
        cmocka_unit_test(test_surround_layouts),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
