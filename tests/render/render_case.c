/* The helpers of the end-to-end render tests (render_case.h). */
#include "render_case.h"

#include <dirent.h>
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
#include "test_audio.h"
#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

char render_root[512];
char render_bin[1024];
char render_mkdemo[1024];

/* ---- files --------------------------------------------------------------- */

void path_join(char *out, size_t n, const char *a, const char *b)
{
    int k = snprintf(out, n, "%s/%s", a, b);
    assert_true(k > 0 && (size_t)k < n);
}

/* A fresh folder under the group's root for one case. */
void case_dir(char *out, size_t n, const char *name)
{
    path_join(out, n, render_root, name);
    assert_int_equal(mkdir(out, 0755), 0);
}

void write_wav(const char *dir, const char *name, int channels, int rate, long frames, gen_fn gen)
{
    char path[1024];
    path_join(path, sizeof path, dir, name);
    float *buf = malloc((size_t)frames * (size_t)channels * sizeof *buf);
    assert_non_null(buf);
    for (long i = 0; i < frames; i++)
        for (int c = 0; c < channels; c++) buf[i * channels + c] = (float)gen(i, c, rate);
    test_audio_write(path, channels, rate, SF_FORMAT_WAV | SF_FORMAT_FLOAT, buf, frames);
    free(buf);
}

double gen_tone(long i, int c, int rate)
{
    (void)c;
    return AMP * sin(2.0 * M_PI * FREQ * (double)i / rate);
}

/* Stereo: left at -20 dBFS, right at -26.02 dBFS (half). */
double gen_tone_lr(long i, int c, int rate)
{
    return (c ? 0.5 : 1.0) * gen_tone(i, c, rate);
}

/* A ramp with no zero: sample k is 0.5 (k + 1) / 2^17, exact in float. */
double gen_ramp(long i, int c, int rate)
{
    (void)c;
    (void)rate;
    return 0.5 * (double)(i + 1) / 131072.0;
}

uint64_t render_noise = 0x9E3779B97F4A7C15ULL;
double gen_noise(long i, int c, int rate)
{
    (void)i;
    (void)c;
    (void)rate;
    render_noise ^= render_noise << 13;
    render_noise ^= render_noise >> 7;
    render_noise ^= render_noise << 17;
    return 0.2 * ((double)(render_noise >> 11) / 4503599627370496.0 - 1.0);
}

void write_text(const char *dir, const char *name, const char *text)
{
    char path[1024];
    path_join(path, sizeof path, dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Entries of a folder (not . and ..), or -1 if it is not there. */
int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* ---- running the binary ------------------------------------------------------- */

/* mixfarm render DIR/session.json -o DIR/outname [extra...]; must succeed. */
void render_ok(const char *dir, const char *session, const char *outname, const char *workers)
{
    char sp[1024], op[1024];
    path_join(sp, sizeof sp, dir, session);
    path_join(op, sizeof op, dir, outname);
    const char *args[] = {"render", sp, "-o", op, "--quiet", "--workers", workers, NULL};
    test_run_t r = test_run(render_bin, args, render_root);
    if (r.rc != 0) fail_msg("render %s exited %d: %s", sp, r.rc, r.err);
    test_run_free(&r);
}

/* ---- reading and measuring ------------------------------------------------------ */

wav_t read_wav(const char *dir, const char *rel)
{
    char path[1024];
    path_join(path, sizeof path, dir, rel);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) fail_msg("%s: %s", path, sf_strerror(NULL));
    wav_t w = {.frames = (long)info.frames,
               .channels = info.channels,
               .rate = info.samplerate,
               .format = info.format};
    w.x = malloc((size_t)(w.frames + 1) * (size_t)w.channels * sizeof *w.x);
    assert_non_null(w.x);
    assert_int_equal(sf_readf_float(f, w.x, w.frames), w.frames);
    sf_close(f);
    return w;
}

void wav_free(wav_t *w)
{
    free(w->x);
    w->x = NULL;
}

double rms_db(const wav_t *w, int c, long from, long to)
{
    assert_true(from >= 0 && to <= w->frames && from < to);
    double s = 0;
    for (long i = from; i < to; i++) {
        double v = w->x[i * w->channels + c];
        s += v * v;
    }
    return 10.0 * log10(s / (double)(to - from));
}

/* Level of channel c relative to the source tone, in dB, over the window. */
double rel_db(const wav_t *w, int c)
{
    return rms_db(w, c, WIN_FROM, WIN_TO) - 20.0 * log10(AMP / M_SQRT2);
}

double peak(const wav_t *w, int c)
{
    double p = 0;
    for (long i = 0; i < w->frames; i++) p = fmax(p, fabs((double)w->x[i * w->channels + c]));
    return p;
}

double db(double g)
{
    return 20.0 * log10(g);
}

/* Checks both channels of a stereo file against expected gains in dB
 * (-INFINITY: exactly silent). */
void expect_levels(const char *dir, const char *rel, double l_db, double r_db)
{
    wav_t w = read_wav(dir, rel);
    assert_int_equal(w.channels, 2);
    assert_int_equal(w.rate, RATE);
    const double want[2] = {l_db, r_db};
    double got[2], pk[2];
    for (int c = 0; c < 2; c++) {
        pk[c] = peak(&w, c);
        got[c] = pk[c] > 0 ? rel_db(&w, c) : -INFINITY;
    }
    wav_free(&w); /* before any failure, which would leak it */
    print_message("    %-22s L %+9.4f dB (want %+9.4f)   R %+9.4f dB (want %+9.4f)\n", rel, got[0],
                  l_db, got[1], r_db);
    for (int c = 0; c < 2; c++) {
        const char *side = c ? "right" : "left";
        if (isinf(want[c]) && pk[c] != 0.0)
            fail_msg("%s: the %s side should be silent, its peak is %g (%.1f dBFS)", rel, side,
                     pk[c], db(pk[c]));
        if (!isinf(want[c]) && !(fabs(got[c] - want[c]) <= TOL_DB))
            fail_msg("%s: the %s side is at %+.4f dB, want %+.4f dB (within %g)", rel, side, got[c],
                     want[c], TOL_DB);
    }
}

/* ---- fixtures ------------------------------------------------------------------ */

int render_setup(void **state)
{
    (void)state;
    const char *bin = getenv("MF_BIN_DIR");
    if (!bin || !bin[0]) {
        fprintf(stderr, "MF_BIN_DIR is not set\n");
        return -1;
    }
    snprintf(render_bin, sizeof render_bin, "%s/mixfarm", bin);
    snprintf(render_mkdemo, sizeof render_mkdemo, "%s/mixfarm-mkdemo", bin);
    const char *tmp = getenv("TMPDIR");
    snprintf(render_root, sizeof render_root, "%s/mf-render-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(render_root)) return -1;
    return 0;
}

static int rm_cb(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return unlink(dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rm_cb(p);
        else
            unlink(p);
    }
    closedir(d);
    return rmdir(dir);
}

int render_teardown(void **state)
{
    (void)state;
    if (getenv("MF_KEEP_TEST_DIR")) /* to look into a failure */
        fprintf(stderr, "kept %s\n", render_root);
    else
        rm_cb(render_root);
    return 0;
}

/* ---- the rich session: every kind of routing at once ---- */

const char *render_rich =
    "{\"mixfarm\": 1, \"name\": \"Rich\", \"sample_rate\": 48000, \"tracks\": ["
    " {\"name\": \"Tone\", \"file\": \"tone.wav\", \"gain_db\": -3, \"pan\": -0.4,"
    "  \"output\": \"Grp\","
    "  \"inserts\": [{\"type\": \"eq\", \"bands\": [{\"kind\": \"peak\", \"freq_hz\": 1000,"
    "    \"gain_db\": 4, \"q\": 1.5}]}],"
    "  \"sends\": [{\"bus\": \"Verb\", \"level_db\": -10}],"
    "  \"automation\": {\"gain_db\": [[0, \"-inf\"], [0.5, -3], [2.0, -3], [2.0, -9]]}},"
    " {\"name\": \"Low\", \"file\": \"tone44.wav\", \"pan\": 0.3, \"output\": \"Grp\","
    "  \"automation\": {\"pan\": [[0.5, 0.3], [3.0, -0.7]]}},"
    " {\"name\": \"Noise\", \"file\": \"noise.wav\", \"start_s\": 0.3,"
    "  \"trim\": {\"from_s\": 0.1, \"length_s\": 2.0}, \"gain_db\": -12,"
    "  \"inserts\": [{\"type\": \"eq\", \"bands\": [{\"kind\": \"highpass\", \"freq_hz\": 300,"
    "    \"slope_db_oct\": 24}]}],"
    "  \"sends\": [{\"bus\": \"Verb\", \"level_db\": -6, \"pre_fader\": true}]},"
    " {\"name\": \"Wide\", \"file\": \"st.wav\", \"pan\": 0.1, \"invert\": true,"
    "  \"output\": \"Sub\"}],"
    " \"buses\": [{\"name\": \"Grp\", \"gain_db\": -1, \"output\": \"Sub\"},"
    "             {\"name\": \"Sub\", \"pan\": 0.1},"
    "             {\"name\": \"Verb\", \"inserts\": [{\"type\": \"gain\", \"gain_db\": -2}]}],"
    " \"master\": {\"gain_db\": -1},"
    " \"stems\": [\"Grp\", \"Sub\", \"Verb\", \"Noise\"]}";

const char *const render_rich_files[RENDER_RICH_FILES] = {
    "mix.wav", "stems/Grp.wav", "stems/Sub.wav", "stems/Verb.wav", "stems/Noise.wav"};

/* The rich session's sources, into dir: tone.wav, tone44.wav (44.1 kHz),
 * noise.wav (3 s) and st.wav (stereo). */
void render_rich_sources(const char *dir)
{
    write_wav(dir, "tone.wav", 1, RATE, FRAMES, gen_tone);
    write_wav(dir, "tone44.wav", 1, 44100, 44100L * 3, gen_tone);
    render_noise = 0x9E3779B97F4A7C15ULL;
    write_wav(dir, "noise.wav", 1, RATE, 3L * RATE, gen_noise);
    write_wav(dir, "st.wav", 2, RATE, FRAMES, gen_tone_lr);
}

void make_rich(char *dir, size_t n, const char *name)
{
    case_dir(dir, n, name);
    render_rich_sources(dir);
    write_text(dir, "s.json", render_rich);
}

/* DIR/name: the rich session with Wide's pan (0.1) moved to pan. */
void write_rich_revision(const char *dir, const char *name, const char *pan)
{
    const char *from = "\"file\": \"st.wav\", \"pan\": 0.1";
    const char *at = strstr(render_rich, from);
    assert_non_null(at);
    char revised[4096];
    snprintf(revised, sizeof revised, "%.*s\"file\": \"st.wav\", \"pan\": %s%s",
             (int)(at - render_rich), render_rich, pan, at + strlen(from));
    write_text(dir, name, revised);
}
