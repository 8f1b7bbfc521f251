/* End to end: the real `mixfarm render` binary (MF_BIN_DIR) on sessions and
 * tones made here, its mix.wav and stems read back with libsndfile and
 * measured against levels computed by hand.
 *
 * Sources are 32-bit float WAVs of 1 kHz sines at -20 dBFS peak (RMS
 * -23.0103 dBFS), 4 s long; levels are measured over [0.5 s, 3.5 s), a whole
 * number of periods, and compared as gains relative to the source. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include "test_audio.h"
#include <jansson.h>
#include <openssl/evp.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define RATE 48000
#define SECONDS 4
#define FRAMES (RATE * SECONDS)
#define AMP 0.1 /* -20 dBFS */
#define FREQ 1000.0
#define WIN_FROM (RATE / 2)   /* 0.5 s */
#define WIN_TO (RATE * 7 / 2) /* 3.5 s */
#define TOL_DB 0.01

static char s_root[512];
static char s_bin[1024];
static char s_mkdemo[1024];

/* |a - b| <= tol, in double, saying the values when it fails. */
#define assert_near(a, b, tol)                                                                     \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (tol)))                                                             \
            fail_msg("%s = %.6f, expected %.6f (within %g)", #a, a_, b_, (double)(tol));           \
    } while (0)

/* ---- files --------------------------------------------------------------- */

static void path_join(char *out, size_t n, const char *a, const char *b)
{
    int k = snprintf(out, n, "%s/%s", a, b);
    assert_true(k > 0 && (size_t)k < n);
}

/* A fresh folder under the group's root for one case. */
static void case_dir(char *out, size_t n, const char *name)
{
    path_join(out, n, s_root, name);
    assert_int_equal(mkdir(out, 0755), 0);
}

typedef double (*gen_fn)(long frame, int channel, int rate);

static void write_wav(const char *dir, const char *name, int channels, int rate, long frames,
                      gen_fn gen)
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

static double gen_tone(long i, int c, int rate)
{
    (void)c;
    return AMP * sin(2.0 * M_PI * FREQ * (double)i / rate);
}

/* Stereo: left at -20 dBFS, right at -26.02 dBFS (half). */
static double gen_tone_lr(long i, int c, int rate)
{
    return (c ? 0.5 : 1.0) * gen_tone(i, c, rate);
}

/* A ramp with no zero: sample k is 0.5 (k + 1) / 2^17, exact in float. */
static double gen_ramp(long i, int c, int rate)
{
    (void)c;
    (void)rate;
    return 0.5 * (double)(i + 1) / 131072.0;
}

static uint64_t s_noise = 0x9E3779B97F4A7C15ULL;
static double gen_noise(long i, int c, int rate)
{
    (void)i;
    (void)c;
    (void)rate;
    s_noise ^= s_noise << 13;
    s_noise ^= s_noise >> 7;
    s_noise ^= s_noise << 17;
    return 0.2 * ((double)(s_noise >> 11) / 4503599627370496.0 - 1.0);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char path[1024];
    path_join(path, sizeof path, dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = 0;
    fclose(f);
    return s;
}

static unsigned char *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Entries of a folder (not . and ..), or -1 if it is not there. */
static int count_entries(const char *dir)
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

typedef struct {
    int rc; /* exit status, or -1 when killed by a signal */
    char *out, *err;
} run_t;

static void run_free(run_t *r)
{
    free(r->out);
    free(r->err);
}

/* Runs prog with args (NULL-terminated, without argv[0]), capturing output. */
static run_t run_prog(const char *prog, const char *const *args)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = prog;
    while (*args && n < 31) argv[n++] = *args++;
    argv[n] = NULL;
    char out[1024], err[1024];
    path_join(out, sizeof out, s_root, "stdout.txt");
    path_join(err, sizeof err, s_root, "stderr.txt");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int rc = posix_spawn(&pid, prog, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) fail_msg("cannot run %s: %s", prog, strerror(rc));
    int status;
    while (waitpid(pid, &status, 0) < 0) assert_int_equal(errno, EINTR);
    run_t r = {.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1};
    r.out = read_text(out);
    r.err = read_text(err);
    if (!WIFEXITED(status)) print_message("%s died of signal %d\n", prog, WTERMSIG(status));
    return r;
}

/* mixfarm render DIR/session.json -o DIR/outname [extra...]; must succeed. */
static void render_ok(const char *dir, const char *session, const char *outname,
                      const char *workers)
{
    char sp[1024], op[1024];
    path_join(sp, sizeof sp, dir, session);
    path_join(op, sizeof op, dir, outname);
    const char *args[] = {"render", sp, "-o", op, "--quiet", "--workers", workers, NULL};
    run_t r = run_prog(s_bin, args);
    if (r.rc != 0) fail_msg("render %s exited %d: %s", sp, r.rc, r.err);
    run_free(&r);
}

/* ---- reading and measuring ------------------------------------------------------ */

typedef struct {
    float *x;
    long frames;
    int channels, rate, format;
} wav_t;

static wav_t read_wav(const char *dir, const char *rel)
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

static void wav_free(wav_t *w)
{
    free(w->x);
    w->x = NULL;
}

static double rms_db(const wav_t *w, int c, long from, long to)
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
static double rel_db(const wav_t *w, int c)
{
    return rms_db(w, c, WIN_FROM, WIN_TO) - 20.0 * log10(AMP / M_SQRT2);
}

static double peak(const wav_t *w, int c)
{
    double p = 0;
    for (long i = 0; i < w->frames; i++) p = fmax(p, fabs((double)w->x[i * w->channels + c]));
    return p;
}

static double db(double g)
{
    return 20.0 * log10(g);
}

/* Checks both channels of a stereo file against expected gains in dB
 * (-INFINITY: exactly silent). */
static void expect_levels(const char *dir, const char *rel, double l_db, double r_db)
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

static int group_setup(void **state)
{
    (void)state;
    const char *bin = getenv("MF_BIN_DIR");
    if (!bin || !bin[0]) {
        fprintf(stderr, "MF_BIN_DIR is not set\n");
        return -1;
    }
    snprintf(s_bin, sizeof s_bin, "%s/mixfarm", bin);
    snprintf(s_mkdemo, sizeof s_mkdemo, "%s/mixfarm-mkdemo", bin);
    const char *tmp = getenv("TMPDIR");
    snprintf(s_root, sizeof s_root, "%s/mf-render-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(s_root)) return -1;
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

static int group_teardown(void **state)
{
    (void)state;
    rm_cb(s_root);
    return 0;
}

/* ---- (a) pan laws on a mono source ----------------------------------------------- */

static void pan_case(char *dir, size_t n, const char *name)
{
    case_dir(dir, n, name);
    write_wav(dir, "tone.wav", 1, RATE, FRAMES, gen_tone);
}

/* -3 dB (default): each pan position as a track stem, their sum as the mix. */
static void test_pan_law3_positions(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    pan_case(dir, sizeof dir, "pan3");
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": ["
               " {\"name\": \"Left\", \"file\": \"tone.wav\", \"pan\": -1},"
               " {\"name\": \"Centre\", \"file\": \"tone.wav\", \"pan\": 0},"
               " {\"name\": \"Half\", \"file\": \"tone.wav\", \"pan\": 0.5}],"
               " \"stems\": [\"Left\", \"Centre\", \"Half\"]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    const double c = M_SQRT1_2, hl = cos(3 * M_PI / 8), hr = sin(3 * M_PI / 8);
    expect_levels(out, "stems/Left.wav", 0.0, -INFINITY);
    expect_levels(out, "stems/Centre.wav", -3.0103, -3.0103);
    expect_levels(out, "stems/Half.wav", db(hl), db(hr)); /* -8.3432, -0.6877 */
    expect_levels(out, "mix.wav", db(1 + c + hl), db(c + hr));
}

/* Hard right: the left side silent (exactly), the right at 0 dB. */
static void test_pan_law3_hard_right(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    pan_case(dir, sizeof dir, "pan3r");
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"Right\", \"file\": \"tone.wav\","
               " \"pan\": 1}]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    expect_levels(out, "mix.wav", -INFINITY, 0.0);
}

/* A single centred track: the mix itself at -3.01 dB each side. */
static void test_pan_centre_mix(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    pan_case(dir, sizeof dir, "panc");
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"T\", \"file\": \"tone.wav\"}]}");
    render_ok(dir, "s.json", "out", "1");
    path_join(out, sizeof out, dir, "out");
    expect_levels(out, "mix.wav", -3.0103, -3.0103);
}

/* -6 dB: linear, centre 0.5 each side; pan 0.5 is 0.25 / 0.75. */
static void test_pan_law6(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    pan_case(dir, sizeof dir, "pan6");
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"pan_law_db\": -6, \"tracks\": ["
               " {\"name\": \"Left\", \"file\": \"tone.wav\", \"pan\": -1},"
               " {\"name\": \"Centre\", \"file\": \"tone.wav\"},"
               " {\"name\": \"Half\", \"file\": \"tone.wav\", \"pan\": 0.5}],"
               " \"stems\": [\"Left\", \"Centre\", \"Half\"]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    expect_levels(out, "stems/Left.wav", 0.0, -INFINITY);
    expect_levels(out, "stems/Centre.wav", db(0.5), db(0.5)); /* -6.0206 */
    expect_levels(out, "stems/Half.wav", db(0.25), db(0.75));
}

/* -4.5 dB: centre 10^(-4.5/20) = 0.59566 each side; extremes 0 dB. */
static void test_pan_law45(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    pan_case(dir, sizeof dir, "pan45");
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"pan_law_db\": -4.5, \"tracks\": ["
               " {\"name\": \"Centre\", \"file\": \"tone.wav\"},"
               " {\"name\": \"Right\", \"file\": \"tone.wav\", \"pan\": 1}],"
               " \"stems\": [\"Centre\", \"Right\"]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    expect_levels(out, "stems/Centre.wav", -4.5, -4.5);
    expect_levels(out, "stems/Right.wav", -INFINITY, 0.0);
}

/* ---- (b) mute, (c) solo ------------------------------------------------------------- */

static void test_mute(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    case_dir(dir, sizeof dir, "mute");
    write_wav(dir, "tone.wav", 1, RATE, FRAMES, gen_tone);
    /* The muted copy would double the level (+6 dB) and feed FX if heard. */
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": ["
               " {\"name\": \"On\", \"file\": \"tone.wav\"},"
               " {\"name\": \"Off\", \"file\": \"tone.wav\", \"mute\": true,"
               "  \"sends\": [{\"bus\": \"FX\", \"level_db\": 0, \"pre_fader\": true}]}],"
               " \"buses\": [{\"name\": \"FX\"}]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    expect_levels(out, "mix.wav", -3.0103, -3.0103);
    expect_levels(out, "stems/FX.wav", -INFINITY, -INFINITY);
}

static void test_solo(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    case_dir(dir, sizeof dir, "solo");
    write_wav(dir, "tone.wav", 1, RATE, FRAMES, gen_tone);
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": ["
               " {\"name\": \"Other\", \"file\": \"tone.wav\", \"pan\": 1,"
               "  \"sends\": [{\"bus\": \"FX\", \"level_db\": 0}]},"
               " {\"name\": \"Star\", \"file\": \"tone.wav\", \"solo\": true, \"pan\": -1,"
               "  \"gain_db\": -6, \"output\": \"Grp\"},"
               " {\"name\": \"Third\", \"file\": \"tone.wav\", \"output\": \"FX\"}],"
               " \"buses\": [{\"name\": \"FX\"}, {\"name\": \"Grp\"}]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    /* Only Star (hard left, -6 dB) is heard, through Grp. */
    expect_levels(out, "mix.wav", -6.0, -INFINITY);
    expect_levels(out, "stems/Grp.wav", -6.0, -INFINITY);
    expect_levels(out, "stems/FX.wav", -INFINITY, -INFINITY);
}

/* ---- (d) buses and sends ----------------------------------------------------------- */

static void test_bus_and_sends(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    case_dir(dir, sizeof dir, "bus");
    write_wav(dir, "tone.wav", 1, RATE, FRAMES, gen_tone);
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": ["
               " {\"name\": \"T1\", \"file\": \"tone.wav\", \"gain_db\": -4, \"output\": \"Grp\","
               "  \"sends\": [{\"bus\": \"Post\", \"level_db\": -10, \"pre_fader\": false}]},"
               " {\"name\": \"T2\", \"file\": \"tone.wav\", \"gain_db\": -12,"
               "  \"sends\": [{\"bus\": \"Pre\", \"level_db\": -10, \"pre_fader\": true}]}],"
               " \"buses\": [{\"name\": \"Grp\", \"gain_db\": -6},"
               "             {\"name\": \"Post\"}, {\"name\": \"Pre\"}],"
               " \"stems\": [\"Grp\", \"Post\", \"Pre\", \"T2\"]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    const double pan = -3.0103;
    expect_levels(out, "stems/Grp.wav", pan - 4 - 6, pan - 4 - 6);    /* -13.0103 */
    expect_levels(out, "stems/Post.wav", pan - 4 - 10, pan - 4 - 10); /* -17.0103 */
    expect_levels(out, "stems/Pre.wav", pan - 10, pan - 10); /* the -12 fader is after it */
    expect_levels(out, "stems/T2.wav", pan - 12, pan - 12);
    /* Everything is the same tone in phase: the mix is the sum of amplitudes. */
    double sum = pow(10, (pan - 10) / 20) + pow(10, (pan - 14) / 20) + pow(10, (pan - 10) / 20) +
                 pow(10, (pan - 12) / 20);
    expect_levels(out, "mix.wav", db(sum), db(sum));
}

/* ---- (e) a stereo source: pan is balance ----------------------------------------------- */

/* Nine tracks into one bus go through partial sums (coordinator/
 * plan_sums.c): the bus is still the sum of their amplitudes, each fader
 * and pan its own. */
/* An unpanned strip (its pan, fader and send levels applied by the buses
 * that sum it, mf_plan.h) gives the bits of the same strip panning itself:
 * a pan lane holding the track's own pan keeps it on the strip's path.
 * A mono and a stereo track, post- and pre-fader sends, a pan law. */
static void render_sends_case(const char *dir, const char *name, int lanes)
{
    char json[2048];
    snprintf(json, sizeof json,
             "{\"mixfarm\": 1, \"pan_law_db\": -4.5, \"tracks\": ["
             " {\"name\": \"M\", \"file\": \"tone.wav\", \"gain_db\": -4.3, \"pan\": 0.37,"
             "  \"output\": \"Grp\", \"automation\": {%s},"
             "  \"sends\": [{\"bus\": \"Post\", \"level_db\": -7.1, \"pre_fader\": false},"
             "             {\"bus\": \"Pre\", \"level_db\": -2.2, \"pre_fader\": true}]},"
             " {\"name\": \"S\", \"file\": \"lr.wav\", \"gain_db\": 1.7, \"pan\": -0.61,"
             "  \"automation\": {%s},"
             "  \"sends\": [{\"bus\": \"Pre\", \"level_db\": -3.3, \"pre_fader\": true}]}],"
             " \"buses\": [{\"name\": \"Grp\"}, {\"name\": \"Post\"}, {\"name\": \"Pre\"}]}",
             lanes ? "\"pan\": [[0, 0.37], [100, 0.37]]" : "",
             lanes ? "\"pan\": [[0, -0.61], [100, -0.61]]" : "");
    char file[64];
    snprintf(file, sizeof file, "%s.json", name);
    write_text(dir, file, json);
    render_ok(dir, file, name, "2");
}

static void test_unpanned_same_bits(void **state)
{
    (void)state;
    char dir[1024];
    case_dir(dir, sizeof dir, "unpanned");
    write_wav(dir, "tone.wav", 1, RATE, FRAMES, gen_noise);
    write_wav(dir, "lr.wav", 2, RATE, FRAMES, gen_noise);
    render_sends_case(dir, "plain", 0);
    render_sends_case(dir, "lanes", 1);
    const char *files[] = {"mix.wav", "stems/Grp.wav", "stems/Post.wav", "stems/Pre.wav"};
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        char p[2048], q[2048];
        snprintf(p, sizeof p, "%s/plain/%s", dir, files[f]);
        snprintf(q, sizeof q, "%s/lanes/%s", dir, files[f]);
        size_t n1, n2;
        unsigned char *a = read_bytes(p, &n1), *b = read_bytes(q, &n2);
        assert_true(n1 > 44 + 4 * 1000);
        if (n1 != n2 || memcmp(a, b, n1) != 0)
            fail_msg("%s: the unpanned strips differ from the strips panning themselves", files[f]);
        free(a), free(b);
    }
    /* The plain strips were planned unpanned (one output each), the
     * others panned themselves (one per send too). */
    const char *cases[] = {"plain", "lanes"};
    for (int k = 0; k < 2; k++) {
        char rj[2048];
        snprintf(rj, sizeof rj, "%s/%s/render.json", dir, cases[k]);
        json_error_t e;
        json_t *r = json_load_file(rj, 0, &e), *t;
        size_t i, outs[2] = {0};
        json_array_foreach(json_object_get(r, "tasks"), i, t)
        {
            const char *label = json_string_value(json_object_get(t, "label"));
            const size_t n = json_array_size(json_object_get(t, "outputs"));
            if (label && !strcmp(label, "strip M")) outs[0] = n;
            if (label && !strcmp(label, "strip S")) outs[1] = n;
        }
        json_decref(r);
        assert_int_equal(outs[0], k ? 3 : 1);
        assert_int_equal(outs[1], k ? 2 : 1);
    }
}

static void test_partial_sums(void **state)
{
    (void)state;
    char dir[1024], out[1024], json[4096];
    case_dir(dir, sizeof dir, "sums");
    write_wav(dir, "tone.wav", 1, RATE, FRAMES, gen_tone);
    size_t n = (size_t)snprintf(json, sizeof json, "{\"mixfarm\": 1, \"tracks\": [");
    double want = 0;
    for (int i = 0; i < 9; i++) {
        n += (size_t)snprintf(json + n, sizeof json - n,
                              "%s{\"name\": \"T%d\", \"file\": \"tone.wav\", \"gain_db\": %d,"
                              " \"output\": \"Grp\"}",
                              i ? ", " : "", i, -i);
        want += pow(10, (-3.0103 - i) / 20);
    }
    snprintf(json + n, sizeof json - n,
             "], \"buses\": [{\"name\": \"Grp\", \"gain_db\": -12}], \"stems\": [\"Grp\"]}");
    write_text(dir, "s.json", json);
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    expect_levels(out, "stems/Grp.wav", db(want) - 12, db(want) - 12);
}

static void test_stereo_balance(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    case_dir(dir, sizeof dir, "balance");
    write_wav(dir, "st.wav", 2, RATE, FRAMES, gen_tone_lr);
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": ["
               " {\"name\": \"Mid\", \"file\": \"st.wav\"},"
               " {\"name\": \"Right\", \"file\": \"st.wav\", \"pan\": 0.5},"
               " {\"name\": \"Left\", \"file\": \"st.wav\", \"pan\": -0.25}],"
               " \"stems\": [\"Mid\", \"Right\", \"Left\"]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    const double r0 = db(0.5);                    /* the source's right channel, -6.0206 dB */
    expect_levels(out, "stems/Mid.wav", 0.0, r0); /* no pan law on stereo */
    expect_levels(out, "stems/Right.wav", db(0.5), r0);
    expect_levels(out, "stems/Left.wav", 0.0, r0 + db(0.75));
}

/* ---- (f) polarity ---------------------------------------------------------------------- */

static void test_invert_cancels(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    case_dir(dir, sizeof dir, "invert");
    write_wav(dir, "tone.wav", 1, RATE, FRAMES, gen_tone);
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": ["
               " {\"name\": \"A\", \"file\": \"tone.wav\", \"pan\": 0.2},"
               " {\"name\": \"B\", \"file\": \"tone.wav\", \"pan\": 0.2, \"invert\": true}],"
               " \"stems\": [\"A\", \"B\"]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    wav_t m = read_wav(out, "mix.wav"), a = read_wav(out, "stems/A.wav"),
          b = read_wav(out, "stems/B.wav");
    assert_int_equal(m.frames, FRAMES);
    assert_true(peak(&m, 0) == 0.0 && peak(&m, 1) == 0.0);
    assert_true(peak(&a, 0) > 0.05);
    for (long i = 0; i < 2 * a.frames; i++)
        if (b.x[i] != -a.x[i]) fail_msg("sample %ld: B %g is not -A %g", i, b.x[i], a.x[i]);
    wav_free(&m);
    wav_free(&a);
    wav_free(&b);
}

/* ---- (g) gain automation ------------------------------------------------------------- */

static void test_gain_automation(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    case_dir(dir, sizeof dir, "auto");
    write_wav(dir, "tone.wav", 1, RATE, FRAMES, gen_tone);
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"T\", \"file\": \"tone.wav\","
               " \"automation\": {\"gain_db\": [[0, \"-inf\"], [1, 0]]}}]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    wav_t w = read_wav(out, "mix.wav");
    /* Held at 0 dB after 1 s: the level at 2 s is the centred tone's. */
    double at2 = rms_db(&w, 0, RATE * 3 / 2, RATE * 5 / 2) - db(AMP / M_SQRT2);
    print_message("    level at 2 s: %+.4f dB (want -3.0103)\n", at2);
    assert_near(at2, -3.0103, TOL_DB);
    assert_near(rms_db(&w, 1, RATE * 3 / 2, RATE * 5 / 2) - db(AMP / M_SQRT2), -3.0103, TOL_DB);
    /* Silent at the start, -72 dB halfway (linear in dB from the -144 dB
     * floor), rising all along. */
    assert_true(w.x[0] == 0.0f && w.x[1] == 0.0f);
    double at05 = rms_db(&w, 0, RATE / 2 - 480, RATE / 2 + 480) - db(AMP / M_SQRT2);
    print_message("    level at 0.5 s: %+.4f dB (want about -75.0)\n", at05);
    assert_near(at05, -72.0 - 3.0103 + 0.08, 0.3);
    double prev = -INFINITY;
    for (int k = 0; k < 20; k++) { /* 50 ms windows across the fade */
        double l = rms_db(&w, 0, k * 2400 + 1, (k + 1) * 2400);
        assert_true(l > prev);
        prev = l;
    }
    wav_free(&w);
}

/* ---- (h) resampling ------------------------------------------------------------------- */

static void test_resampled_track(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    case_dir(dir, sizeof dir, "resample");
    write_wav(dir, "tone44.wav", 1, 44100, 44100L * SECONDS, gen_tone);
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"sample_rate\": 48000, \"tracks\": ["
               " {\"name\": \"T\", \"file\": \"tone44.wav\", \"pan\": -1}]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    wav_t w = read_wav(out, "mix.wav");
    assert_int_equal(w.rate, 48000);
    print_message("    resampled: %ld frames (want %d)\n", w.frames, FRAMES);
    assert_true(labs(w.frames - FRAMES) <= 1);
    double l = rel_db(&w, 0);
    print_message("    resampled level: %+.4f dB (want 0)\n", l);
    assert_near(l, 0.0, 0.05);
    assert_true(peak(&w, 1) == 0.0);
    /* 1 kHz: 2 zero crossings per ms, 6000 over the 3 s window. */
    long crossings = 0;
    for (long i = WIN_FROM + 1; i < WIN_TO; i++)
        if ((w.x[2 * i] >= 0) != (w.x[2 * (i - 1)] >= 0)) crossings++;
    print_message("    zero crossings in 3 s: %ld (want 6000)\n", crossings);
    assert_true(labs(crossings - 6000) <= 1);
    wav_free(&w);
}

/* SESSION.md: a file at another rate is resampled "and the render says so". */
static void test_resample_is_reported(void **state)
{
    (void)state;
    char dir[1024], sp[1024], op[1024];
    case_dir(dir, sizeof dir, "resample-said");
    write_wav(dir, "tone44.wav", 1, 44100, 44100L, gen_tone);
    write_wav(dir, "tone48.wav", 1, 48000, 48000L, gen_tone);
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"A\", \"file\": \"tone48.wav\"},"
               " {\"name\": \"B\", \"file\": \"tone44.wav\"}]}");
    path_join(sp, sizeof sp, dir, "s.json");
    path_join(op, sizeof op, dir, "out");
    const char *args[] = {"render", sp, "-o", op, NULL};
    run_t r = run_prog(s_bin, args);
    assert_int_equal(r.rc, 0);
    int said = strstr(r.err, "44100") || strstr(r.out, "44100") || strstr(r.err, "44.1") ||
               strstr(r.out, "44.1");
    char both[4096];
    snprintf(both, sizeof both, "stdout: %s\nstderr: %s", r.out, r.err);
    run_free(&r);
    if (!said) fail_msg("nothing says tone44.wav was resampled from 44100 Hz:\n%s", both);
}

/* ---- (i) placement: start_s and trim ------------------------------------------------------ */

static void test_start_and_trim(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    case_dir(dir, sizeof dir, "place");
    write_wav(dir, "ramp.wav", 1, RATE, 2L * RATE, gen_ramp);
    /* start 1.2345 s = frame 59256; trim from 0.0625 s = frame 3000, 0.5 s long. */
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"R\", \"file\": \"ramp.wav\","
               " \"start_s\": 1.2345, \"trim\": {\"from_s\": 0.0625, \"length_s\": 0.5},"
               " \"pan\": -1}]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    wav_t w = read_wav(out, "mix.wav");
    const long start = 59256, from = 3000, len = 24000;
    long first = -1, last = -1;
    for (long i = 0; i < w.frames; i++)
        if (w.x[2 * i] != 0.0f) {
            if (first < 0) first = i;
            last = i;
        }
    print_message("    first non-zero frame %ld (want %ld), last %ld (want %ld), length %ld\n",
                  first, start, last, start + len - 1, w.frames);
    assert_int_equal(first, start);
    assert_int_equal(last, start + len - 1);
    assert_int_equal(w.frames, start + len);
    /* And it is the right part of the source, sample for sample. */
    for (long j = 0; j < len; j++) {
        float want = (float)gen_ramp(from + j, 0, RATE);
        if (w.x[2 * (start + j)] != want)
            fail_msg("frame %ld: %.9g, want source frame %ld = %.9g", start + j,
                     (double)w.x[2 * (start + j)], from + j, (double)want);
    }
    assert_true(peak(&w, 1) == 0.0);
    wav_free(&w);
}

/* ---- (j) workers, (k) manifest ---------------------------------------------------------- */

static const char *s_rich =
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

static const char *const s_rich_files[] = {"mix.wav", "stems/Grp.wav", "stems/Sub.wav",
                                           "stems/Verb.wav", "stems/Noise.wav"};

/* The rich session's sources, into dir: tone.wav, tone44.wav (44.1 kHz),
 * noise.wav (3 s) and st.wav (stereo). */
static void s_rich_sources(const char *dir)
{
    write_wav(dir, "tone.wav", 1, RATE, FRAMES, gen_tone);
    write_wav(dir, "tone44.wav", 1, 44100, 44100L * 3, gen_tone);
    s_noise = 0x9E3779B97F4A7C15ULL;
    write_wav(dir, "noise.wav", 1, RATE, 3L * RATE, gen_noise);
    write_wav(dir, "st.wav", 2, RATE, FRAMES, gen_tone_lr);
}

static void make_rich(char *dir, size_t n, const char *name)
{
    case_dir(dir, n, name);
    s_rich_sources(dir);
    write_text(dir, "s.json", s_rich);
}

/* DIR/name: the rich session with Wide's pan (0.1) moved to pan. */
static void write_rich_revision(const char *dir, const char *name, const char *pan)
{
    const char *from = "\"file\": \"st.wav\", \"pan\": 0.1";
    const char *at = strstr(s_rich, from);
    assert_non_null(at);
    char revised[4096];
    snprintf(revised, sizeof revised, "%.*s\"file\": \"st.wav\", \"pan\": %s%s", (int)(at - s_rich),
             s_rich, pan, at + strlen(from));
    write_text(dir, name, revised);
}

static void test_workers_bit_identical(void **state)
{
    (void)state;
    char dir[1024];
    make_rich(dir, sizeof dir, "workers");
    render_ok(dir, "s.json", "w1", "1");
    render_ok(dir, "s.json", "w2", "2");
    render_ok(dir, "s.json", "w4", "4");
    render_ok(dir, "s.json", "w4b", "4");
    const char *outs[] = {"w2", "w4", "w4b"};
    for (size_t f = 0; f < sizeof s_rich_files / sizeof *s_rich_files; f++) {
        char p[2048], q[2048];
        snprintf(p, sizeof p, "%s/w1/%s", dir, s_rich_files[f]);
        size_t n1;
        unsigned char *a = read_bytes(p, &n1);
        assert_true(n1 > 44 + 4 * 48000);
        for (size_t o = 0; o < 3; o++) {
            snprintf(q, sizeof q, "%s/%s/%s", dir, outs[o], s_rich_files[f]);
            size_t n2;
            unsigned char *b = read_bytes(q, &n2);
            if (n1 != n2 || memcmp(a, b, n1) != 0)
                fail_msg("%s differs between 1 worker and %s", s_rich_files[f], outs[o]);
            free(b);
        }
        free(a);
    }
    /* The manifests too (sizes and hashes of identical files). */
    char p[2048], q[2048];
    snprintf(p, sizeof p, "%s/w1/manifest.json", dir);
    snprintf(q, sizeof q, "%s/w4/manifest.json", dir);
    size_t n1, n2;
    unsigned char *a = read_bytes(p, &n1), *b = read_bytes(q, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    free(a);
    free(b);
    /* Not silence: the render did something. */
    wav_t w = read_wav(dir, "w1/mix.wav");
    assert_true(peak(&w, 0) > 0.01 && peak(&w, 1) > 0.01);
    assert_int_equal(w.frames, FRAMES);
    wav_free(&w);
}

/* A revision rendered into the same OUTDIR keeps the files it would write
 * the same way (client/mf_prev.h): the same inode, not rewritten; every file
 * is still what a render into a fresh folder writes; a kept file that was
 * changed by hand is written again. */
static ino_t s_inode(const char *dir, const char *out, const char *rel)
{
    char p[2048];
    snprintf(p, sizeof p, "%s/%s/%s", dir, out, rel);
    struct stat st;
    if (stat(p, &st) != 0) fail_msg("%s: %s", p, strerror(errno));
    return st.st_ino;
}

static void s_assert_same(const char *dir, const char *a, const char *b, const char *rel)
{
    char p[2048], q[2048];
    snprintf(p, sizeof p, "%s/%s/%s", dir, a, rel);
    snprintf(q, sizeof q, "%s/%s/%s", dir, b, rel);
    size_t n1, n2;
    unsigned char *x = read_bytes(p, &n1), *y = read_bytes(q, &n2);
    if (n1 != n2 || memcmp(x, y, n1) != 0) fail_msg("%s differs between %s and %s", rel, a, b);
    free(x);
    free(y);
}

static void s_assert_same_files(const char *dir, const char *a, const char *b)
{
    static const char *const more[] = {"manifest.json", "qc.json", "listen/car.wav"};
    for (size_t f = 0; f < sizeof s_rich_files / sizeof *s_rich_files + 3; f++)
        s_assert_same(dir, a, b, f < 5 ? s_rich_files[f] : more[f - 5]);
}

static void test_revision_keeps_unchanged(void **state)
{
    (void)state;
    char dir[1024];
    make_rich(dir, sizeof dir, "revision");
    /* Wide's pan moves: Sub's stem and the mix change; Grp, Verb, Noise not. */
    write_rich_revision(dir, "s2.json", "0.5");

    render_ok(dir, "s.json", "rev", "2");
    const char *kept[] = {"stems/Grp.wav", "stems/Verb.wav", "stems/Noise.wav"};
    const char *changed[] = {"stems/Sub.wav", "mix.wav"};
    ino_t k0[3], c0[2];
    for (int i = 0; i < 3; i++) k0[i] = s_inode(dir, "rev", kept[i]);
    for (int i = 0; i < 2; i++) c0[i] = s_inode(dir, "rev", changed[i]);
    render_ok(dir, "s2.json", "rev", "2");
    render_ok(dir, "s2.json", "fresh", "2");
    for (int i = 0; i < 3; i++)
        if (s_inode(dir, "rev", kept[i]) != k0[i]) fail_msg("%s was written again", kept[i]);
    for (int i = 0; i < 2; i++)
        if (s_inode(dir, "rev", changed[i]) == c0[i]) fail_msg("%s was kept", changed[i]);
    s_assert_same_files(dir, "rev", "fresh");

    /* Grp's stem changed by hand (same size): written again, the rest kept. */
    char p[2048];
    snprintf(p, sizeof p, "%s/rev/stems/Grp.wav", dir);
    FILE *f = fopen(p, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 4000, SEEK_SET), 0);
    assert_int_equal(fwrite("XXXX", 1, 4, f), 4);
    fclose(f);
    const ino_t grp = s_inode(dir, "rev", "stems/Grp.wav"), verb = s_inode(dir, "rev", kept[1]);
    render_ok(dir, "s2.json", "rev", "2");
    assert_true(s_inode(dir, "rev", "stems/Grp.wav") != grp);
    assert_true(s_inode(dir, "rev", kept[1]) == verb);
    s_assert_same_files(dir, "rev", "fresh");
}

/* render --state: a revision on the same state folder reuses what the
 * first render ran, says so, and writes what a fresh render writes; the
 * kept store shares no inode with OUTDIR or the sources. */
static run_t render_state(const char *dir, const char *session, const char *outname)
{
    char sp[1024], op[1024], st[1024];
    path_join(sp, sizeof sp, dir, session);
    path_join(op, sizeof op, dir, outname);
    path_join(st, sizeof st, dir, "state");
    const char *args[] = {"render", sp, "-o", op, "--workers", "2", "--state", st, NULL};
    run_t r = run_prog(s_bin, args);
    if (r.rc != 0) fail_msg("render --state %s exited %d: %s", sp, r.rc, r.err);
    return r;
}

static unsigned s_reused(const run_t *r, unsigned *of)
{
    unsigned n = 0;
    *of = 0;
    const char *at = strstr(r->out, "; ");
    if (at && sscanf(at, "; %u of %u tasks reused", &n, of) != 2) n = 0;
    return n;
}

static nlink_t s_links(const char *dir, const char *rel)
{
    char p[2048];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    struct stat st;
    if (stat(p, &st) != 0) fail_msg("%s: %s", p, strerror(errno));
    return st.st_nlink;
}

static void test_state_reuses(void **state)
{
    (void)state;
    char dir[1024];
    make_rich(dir, sizeof dir, "state");
    write_rich_revision(dir, "s2.json", "0.5");

    unsigned of;
    run_t r = render_state(dir, "s.json", "first");
    assert_int_equal(s_reused(&r, &of), 0); /* a new state folder: nothing to reuse */
    run_free(&r);
    r = render_state(dir, "s2.json", "second");
    const unsigned reused = s_reused(&r, &of);
    print_message("    the revision reused %u of %u tasks\n", reused, of);
    if (reused == 0 || reused >= of) fail_msg("reused %u of %u tasks: %s", reused, of, r.out);
    run_free(&r);
    r = render_state(dir, "s2.json", "third");
    assert_int_equal(s_reused(&r, &of), of); /* nothing changed */
    run_free(&r);
    render_ok(dir, "s2.json", "fresh", "2");
    s_assert_same_files(dir, "second", "fresh");
    s_assert_same_files(dir, "third", "fresh");
    /* Copied, never linked: an edit in place of an output or a source must
     * not reach the blobs later renders reuse. */
    const char *files[] = {"second/listen/car.wav", "second/qc.json", "second/stems/Grp.wav",
                           "tone.wav", "st.wav"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        if (s_links(dir, files[i]) != 1) fail_msg("%s shares its inode", files[i]);
}

/* Strips run inside the bus that reads them (an embedded render without
 * --state: mf_sched_set_fuse), their signals handed over in memory: every
 * file is what a render that stores every strip (--state) writes,
 * render.json and manifest.json included. The strips cover what changes a
 * signal's extent or form: a region with an offset, a reverb's tail, a
 * limiter's look-ahead, automated pan (a stereo signal), a stereo source,
 * polarity, gain automation, a fixed pan its bus applies. Bus C reads a
 * resampled track (a decode before its strip), so it is not fused. With
 * one worker both other buses are (nothing is lost in parallel), as the
 * log says. */
static const char *s_fused =
    "{\"mixfarm\": 1, \"name\": \"Fused\", \"sample_rate\": 48000, \"tracks\": ["
    " {\"name\": \"T1\", \"file\": \"tone.wav\", \"pan\": -0.5, \"gain_db\": -2, \"output\": \"A\","
    "  \"inserts\": [{\"type\": \"eq\", \"bands\": [{\"kind\": \"peak\", \"freq_hz\": 1000,"
    "    \"gain_db\": 3, \"q\": 1}]}, {\"type\": \"compressor\", \"threshold_db\": -30,"
    "    \"ratio\": 4}]},"
    " {\"name\": \"T2\", \"file\": \"noise.wav\", \"start_s\": 0.25, \"output\": \"A\","
    "  \"trim\": {\"from_s\": 0.1, \"length_s\": 2.0},"
    "  \"inserts\": [{\"type\": \"reverb\", \"model\": \"room\", \"decay_s\": 0.6}]},"
    " {\"name\": \"T3\", \"file\": \"st.wav\", \"pan\": 0.2, \"invert\": true, \"output\": \"A\","
    "  \"automation\": {\"gain_db\": [[0, -6], [2.0, 0]]}},"
    " {\"name\": \"T4\", \"file\": \"tone.wav\", \"output\": \"B\","
    "  \"automation\": {\"pan\": [[0, -1], [3.0, 1]]},"
    "  \"inserts\": [{\"type\": \"limiter\", \"ceiling_dbtp\": -6}]},"
    " {\"name\": \"T5\", \"file\": \"noise.wav\", \"pan\": 0.7, \"output\": \"B\"},"
    " {\"name\": \"T6\", \"file\": \"st.wav\", \"output\": \"B\"},"
    " {\"name\": \"T7\", \"file\": \"tone44.wav\", \"output\": \"C\"}],"
    " \"buses\": [{\"name\": \"A\", \"inserts\": [{\"type\": \"gain\", \"gain_db\": -1}]},"
    "             {\"name\": \"B\", \"pan\": -0.2}, {\"name\": \"C\"}],"
    " \"stems\": [\"A\", \"B\", \"C\"]}";

static void test_fused_same_bits(void **state)
{
    (void)state;
    char dir[1024], sp[1024], op[1024];
    case_dir(dir, sizeof dir, "fused");
    s_rich_sources(dir);
    write_text(dir, "s.json", s_fused);
    path_join(sp, sizeof sp, dir, "s.json");
    path_join(op, sizeof op, dir, "one");
    const char *args[] = {"render", sp, "-o", op, "--workers", "1", NULL};
    setenv("MIXFARM_LOG", "debug", 1);
    run_t r = run_prog(s_bin, args);
    unsetenv("MIXFARM_LOG");
    if (r.rc != 0) fail_msg("render exited %d: %s", r.rc, r.err);
    if (!strstr(r.err, "2 channels run their strips") || strstr(r.err, "strip T1 sent"))
        fail_msg("buses A and B did not run their strips:\n%s", r.err);
    run_free(&r);
    render_ok(dir, "s.json", "two", "2");
    r = render_state(dir, "s.json", "kept");
    run_free(&r);
    static const char *const files[] = {"mix.wav",     "stems/A.wav",   "stems/B.wav",
                                        "stems/C.wav", "render.json",   "manifest.json",
                                        "qc.json",     "listen/car.wav"};
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        s_assert_same(dir, "one", "kept", files[f]);
        s_assert_same(dir, "two", "kept", files[f]);
    }
    wav_t w = read_wav(dir, "one/stems/A.wav"); /* not silence: the strips ran */
    assert_true(peak(&w, 0) > 0.01 && peak(&w, 1) > 0.01);
    wav_free(&w);
}

/* render --state DIR --store-budget SIZE: returns the run (exit code not checked). */
static run_t render_budget(const char *dir, const char *session, const char *outname,
                           const char *budget, int with_state)
{
    char sp[1024], op[1024], st[1024];
    path_join(sp, sizeof sp, dir, session);
    path_join(op, sizeof op, dir, outname);
    path_join(st, sizeof st, dir, "state");
    const char *args[] = {"render",         sp,     "-o",      op, "--workers", "2",
                          "--store-budget", budget, "--state", st, NULL};
    if (!with_state) args[8] = NULL;
    return run_prog(s_bin, args);
}

/* render --state with --store-budget: before a render, the kept store's
 * least recently used blobs go past the budget; the render is then as
 * fresh (nothing reused) and gives the same bits. */
static void test_state_budget(void **state)
{
    (void)state;
    char dir[1024];
    make_rich(dir, sizeof dir, "statebudget");
    write_rich_revision(dir, "s2.json", "0.5");
    write_rich_revision(dir, "s3.json", "-0.3");
    unsigned of;
    run_t r = render_budget(dir, "s.json", "first", "1G", 1);
    assert_int_equal(r.rc, 0);
    assert_null(strstr(r.err, "--store-budget")); /* under it: nothing deleted */
    run_free(&r);
    r = render_budget(dir, "s2.json", "second", "1G", 1);
    assert_int_equal(r.rc, 0);
    const unsigned reused = s_reused(&r, &of);
    if (reused == 0) fail_msg("the revision reused nothing under a budget it fits: %s", r.out);
    run_free(&r);
    /* A budget smaller than any blob: everything kept goes first. */
    r = render_budget(dir, "s3.json", "third", "1K", 1);
    assert_int_equal(r.rc, 0);
    if (!strstr(r.err, "to stay within --store-budget"))
        fail_msg("no blob was deleted for the budget: %s", r.err);
    const char *line = strstr(r.err, "least recently used");
    print_message("    ...%.*s\n", (int)strcspn(line, "\n"), line);
    assert_int_equal(s_reused(&r, &of), 0);
    run_free(&r);
    render_ok(dir, "s3.json", "fresh", "2");
    s_assert_same_files(dir, "third", "fresh");
    /* Usage: a budget needs a kept state folder, and a size. */
    r = render_budget(dir, "s.json", "nostate", "1G", 0);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "--store-budget"));
    run_free(&r);
    r = render_budget(dir, "s.json", "badsize", "12x", 1);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "not a size"));
    run_free(&r);
}

/* Starts `mixfarm render --state` without waiting (output to /dev/null). */
static pid_t s_spawn_state(const char *dir, const char *session, const char *outname)
{
    char sp[1024], op[1024], st[1024];
    path_join(sp, sizeof sp, dir, session);
    path_join(op, sizeof op, dir, outname);
    path_join(st, sizeof st, dir, "state");
    const char *argv[] = {s_bin,       "render", sp,        "-o", op,  "-q",
                          "--workers", "2",      "--state", st,   NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, s_bin, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) fail_msg("cannot run %s: %s", s_bin, strerror(rc));
    return pid;
}

static void s_sleep_ms(long ms)
{
    nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

static int s_wait(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) assert_int_equal(errno, EINTR);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Two renders on one state folder at once: the second waits for the first,
 * and both write what a fresh render writes. Then one killed mid-render:
 * the next render on the folder does not resume its job for nobody, and
 * still writes the same files. */
static void test_state_shared_and_killed(void **state)
{
    (void)state;
    char dir[1024];
    make_rich(dir, sizeof dir, "state2");
    pid_t a = s_spawn_state(dir, "s.json", "a"), b = s_spawn_state(dir, "s.json", "b");
    assert_int_equal(s_wait(a), 0);
    assert_int_equal(s_wait(b), 0);
    render_ok(dir, "s.json", "fresh", "1");
    s_assert_same_files(dir, "a", "fresh");
    s_assert_same_files(dir, "b", "fresh");

    /* A revision killed while it runs (or, on a fast day, just after). */
    write_rich_revision(dir, "s3.json", "-0.3");
    pid_t k = s_spawn_state(dir, "s3.json", "killed");
    s_sleep_ms(150);
    kill(k, SIGKILL);
    s_wait(k);
    /* What a killed render left half-written in the store goes. */
    char stale[2048];
    snprintf(stale, sizeof stale, "%s/state/blobs/tmp/blob-stale", dir);
    write_text(dir, "state/blobs/tmp/blob-stale", "half a blob");
    run_t r = render_state(dir, "s3.json", "after");
    run_free(&r);
    assert_false(exists(stale));
    render_ok(dir, "s3.json", "fresh3", "2");
    s_assert_same_files(dir, "after", "fresh3");
}

static void sha256_file(const char *path, char hex[65])
{
    size_t n;
    unsigned char *b = read_bytes(path, &n);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    assert_int_equal(EVP_Digest(b, n, md, &len, EVP_sha256(), NULL), 1);
    assert_int_equal(len, 32);
    for (unsigned i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    free(b);
}

static void test_manifest(void **state)
{
    (void)state;
    char dir[1024], out[1024], mp[1024];
    make_rich(dir, sizeof dir, "manifest");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    path_join(mp, sizeof mp, out, "manifest.json");
    json_error_t je;
    json_t *m = json_load_file(mp, 0, &je);
    if (!m) fail_msg("manifest.json: %s (line %d)", je.text, je.line);
    json_t *files = json_object_get(m, "files");
    assert_true(json_is_array(files));
    const size_t want = sizeof s_rich_files / sizeof *s_rich_files;
    /* and qc.json, qc.html; listen/ (6 systems), listen.json and render.json */
    assert_int_equal(json_array_size(files), want + 2 + 8);
    int seen[8] = {0};
    size_t i;
    json_t *e;
    json_array_foreach(files, i, e)
    {
        const char *rel = json_string_value(json_object_get(e, "path"));
        assert_non_null(rel);
        size_t k = 0;
        while (k < want && strcmp(s_rich_files[k], rel)) k++;
        int report = !strcmp(rel, "qc.json") || !strcmp(rel, "qc.html");
        int extra = !strncmp(rel, "listen", 6) || !strcmp(rel, "render.json");
        if (k == want && !report && !extra)
            fail_msg("manifest lists an unexpected file \"%s\"", rel);
        if (!report && !extra) {
            assert_false(seen[k]);
            seen[k] = 1;
        }
        char fp[1024];
        path_join(fp, sizeof fp, out, rel);
        struct stat st;
        assert_int_equal(stat(fp, &st), 0);
        json_t *size = json_object_get(e, "size");
        assert_true(json_is_integer(size));
        assert_int_equal(json_integer_value(size), st.st_size);
        char hex[65];
        sha256_file(fp, hex);
        const char *sha = json_string_value(json_object_get(e, "sha256"));
        assert_non_null(sha);
        assert_string_equal(sha, hex);
        if (report) {
            assert_string_equal(json_string_value(json_object_get(e, "format")), rel + 3);
            continue;
        }
        if (extra) continue; /* tests/reference checks these */
        wav_t w = read_wav(out, rel);
        assert_int_equal(w.format, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
        assert_int_equal(w.channels, 2);
        assert_near(json_number_value(json_object_get(e, "duration_s")), (double)w.frames / w.rate,
                    1e-9);
        assert_string_equal(json_string_value(json_object_get(e, "format")), "wav");
        wav_free(&w);
    }
    json_decref(m);
    /* Nothing else in OUTDIR: no staging leftovers. */
    /* mix.wav, stems/, qc.json, qc.html, listen/, listen.json, render.json, manifest.json */
    assert_int_equal(count_entries(out), 8);
    char stems[1024];
    path_join(stems, sizeof stems, out, "stems");
    assert_int_equal(count_entries(stems), 4);
}

/* ---- (l) bad input and bad usage ------------------------------------------------------- */

/* Renders text as DIR/name into DIR/out; expects exit 2, every needle on
 * stderr, and no OUTDIR. */
static void expect_rejected(const char *dir, const char *name, const char *text,
                            const char *const *needles)
{
    char sp[1024], op[1024];
    write_text(dir, name, text);
    path_join(sp, sizeof sp, dir, name);
    path_join(op, sizeof op, dir, "out");
    const char *args[] = {"render", sp, "-o", op, "--workers", "2", NULL};
    run_t r = run_prog(s_bin, args);
    print_message("    %s: exit %d: %s", name, r.rc, r.err);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, name)); /* mixfarm: FILE: ... */
    for (; *needles; needles++)
        if (!strstr(r.err, *needles)) fail_msg("stderr does not name \"%s\": %s", *needles, r.err);
    assert_false(exists(op));
    run_free(&r);
}

static void test_bad_inputs(void **state)
{
    (void)state;
    char dir[1024];
    case_dir(dir, sizeof dir, "bad");
    write_wav(dir, "tone.wav", 1, RATE, RATE / 10, gen_tone);
    expect_rejected(dir, "missing.json",
                    "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"T\", \"file\": \"tone.wav\"},"
                    " {\"name\": \"G\", \"file\": \"audio/gtr.wav\"}]}",
                    (const char *const[]){"tracks[1].file", "audio/gtr.wav", NULL});
    expect_rejected(dir, "loud.json",
                    "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"T\", \"file\": \"tone.wav\","
                    " \"gain_db\": \"loud\"}]}",
                    (const char *const[]){"tracks[0].gain_db", NULL});
    expect_rejected(dir, "unknown.json",
                    "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"T\", \"file\": \"tone.wav\","
                    " \"output\": \"Nowhere\"}], \"buses\": [{\"name\": \"Drums\"}]}",
                    (const char *const[]){"tracks[0].output", "Nowhere", NULL});
    expect_rejected(dir, "cycle.json",
                    "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"T\", \"file\": \"tone.wav\","
                    " \"output\": \"Ping\"}], \"buses\": [{\"name\": \"Ping\", \"output\": "
                    "\"Pong\"}, {\"name\": \"Pong\", \"output\": \"Ping\"}]}",
                    (const char *const[]){"Ping", "Pong", "cycle", NULL});
    expect_rejected(dir, "broken.json", "{\"mixfarm\": 1, \"tracks\": [",
                    (const char *const[]){"JSON", NULL});

    /* A session that is not there at all. */
    char sp[1024], op[1024];
    path_join(sp, sizeof sp, dir, "absent.json");
    path_join(op, sizeof op, dir, "out");
    const char *a1[] = {"render", sp, "-o", op, NULL};
    run_t r = run_prog(s_bin, a1);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "absent.json"));
    assert_false(exists(op));
    run_free(&r);

    /* An OUTDIR that exists: nothing new appears in it. */
    assert_int_equal(mkdir(op, 0755), 0);
    write_text(op, "keep.txt", "mine");
    path_join(sp, sizeof sp, dir, "loud.json");
    const char *a2[] = {"render", sp, "-o", op, NULL};
    r = run_prog(s_bin, a2);
    assert_int_equal(r.rc, 2);
    assert_int_equal(count_entries(op), 1);
    run_free(&r);
}

static void test_usage_errors(void **state)
{
    (void)state;
    char dir[1024], sp[1024], op[1024];
    case_dir(dir, sizeof dir, "usage");
    write_wav(dir, "tone.wav", 1, RATE, RATE / 10, gen_tone);
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"T\", \"file\": \"tone.wav\"}]}");
    path_join(sp, sizeof sp, dir, "s.json");
    path_join(op, sizeof op, dir, "out");
    const char *const cases[][10] = {
        {"render", sp, NULL},                             /* no -o */
        {"render", sp, "-o", op, "--workers", "0", NULL}, /* not a count */
        {"render", sp, "-o", op, "--workers", "many", NULL},
        {"render", sp, "-o", op, "--workers", "-2", NULL},
        {"render", "-o", op, NULL},         /* no session */
        {"render", sp, sp, "-o", op, NULL}, /* two */
        {"render", sp, "-o", op, "--frobnicate", NULL},
        {"render", sp, "-o", op, "--state", op, "--coordinator", "tcp://127.0.0.1:9", NULL},
        {"paint", sp, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_t r = run_prog(s_bin, cases[i]);
        if (r.rc != 2) fail_msg("case %zu exited %d, not 2: %s", i, r.rc, r.err);
        assert_true(strlen(r.err) > 0);
        assert_non_null(strstr(r.err, "mixfarm"));
        assert_false(exists(op));
        run_free(&r);
    }
    /* And the same session with good arguments works. */
    const char *ok[] = {"render", sp, "-o", op, "--workers", "3", "--quiet", NULL};
    run_t r = run_prog(s_bin, ok);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, ""); /* --quiet */
    run_free(&r);
    char mix[1024];
    path_join(mix, sizeof mix, op, "mix.wav");
    assert_true(exists(mix));
}

/* ---- the README demo ---------------------------------------------------------------- */

static void test_demo(void **state)
{
    (void)state;
    const char *src = getenv("MF_SOURCE_DIR");
    assert_non_null(src);
    char dir[1024], from[1024], out[1024];
    case_dir(dir, sizeof dir, "demo");
    const char *a1[] = {dir, NULL};
    run_t r = run_prog(s_mkdemo, a1);
    if (r.rc != 0) fail_msg("mixfarm-mkdemo exited %d: %s", r.rc, r.err);
    run_free(&r);
    snprintf(from, sizeof from, "%s/demo/session.json", src);
    char *text = read_text(from);
    assert_true(strlen(text) > 0);
    write_text(dir, "session.json", text);
    free(text);
    char sp[1024];
    path_join(sp, sizeof sp, dir, "session.json");
    path_join(out, sizeof out, dir, "out");
    const char *a2[] = {"render", sp, "-o", out, NULL};
    r = run_prog(s_bin, a2);
    if (r.rc != 0) fail_msg("render exited %d: %s", r.rc, r.err);
    run_free(&r);
    const char *files[] = {"mix.wav", "stems/Drums.wav", "stems/Music.wav", "stems/Room.wav"};
    for (size_t i = 0; i < 4; i++) {
        wav_t w = read_wav(out, files[i]);
        assert_int_equal(w.channels, 2);
        assert_int_equal(w.rate, 48000);
        /* A 16 s song, and the tails of its delay and reverb. */
        assert_true(w.frames >= 16L * 48000 && w.frames <= 30L * 48000);
        assert_true(peak(&w, 0) > 0.001 && peak(&w, 1) > 0.001);
        wav_free(&w);
    }
    char stems[1024], mp[1024];
    path_join(stems, sizeof stems, out, "stems");
    assert_int_equal(count_entries(stems), 3);
    path_join(mp, sizeof mp, out, "manifest.json");
    assert_true(exists(mp));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pan_law3_positions),
        cmocka_unit_test(test_pan_law3_hard_right),
        cmocka_unit_test(test_pan_centre_mix),
        cmocka_unit_test(test_pan_law6),
        cmocka_unit_test(test_pan_law45),
        cmocka_unit_test(test_mute),
        cmocka_unit_test(test_solo),
        cmocka_unit_test(test_bus_and_sends),
        cmocka_unit_test(test_unpanned_same_bits),
        cmocka_unit_test(test_partial_sums),
        cmocka_unit_test(test_stereo_balance),
        cmocka_unit_test(test_invert_cancels),
        cmocka_unit_test(test_gain_automation),
        cmocka_unit_test(test_resampled_track),
        cmocka_unit_test(test_resample_is_reported),
        cmocka_unit_test(test_start_and_trim),
        cmocka_unit_test(test_workers_bit_identical),
        cmocka_unit_test(test_manifest),
        cmocka_unit_test(test_revision_keeps_unchanged),
        cmocka_unit_test(test_state_reuses),
        cmocka_unit_test(test_fused_same_bits),
        cmocka_unit_test(test_state_budget),
        cmocka_unit_test(test_state_shared_and_killed),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_demo),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
