#include "deliver_util.h"
#include "test_audio.h"

#include <ctype.h>
#include <ebur128.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <sndfile.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

extern char **environ;

char du_dir[512];
static char s_bin[512];

int du_setup(void)
{
    const char *bin = getenv("MF_BIN_DIR");
    snprintf(s_bin, sizeof s_bin, "%s/mixfarm", bin ? bin : "build/bin");
    snprintf(du_dir, sizeof du_dir, "%s/mf-deliver-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(du_dir) ? 0 : -1;
}

int du_teardown(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", du_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int du_have_ffmpeg(void)
{
    static int have = -1;
    if (have < 0)
        have = system("ffmpeg -version >/dev/null 2>&1") == 0 &&
               system("ffprobe -version >/dev/null 2>&1") == 0;
    return have;
}

const char *du_path(char *buf, size_t n, const char *rel)
{
    snprintf(buf, n, "%s/%s", du_dir, rel);
    return buf;
}

void du_write_music(const char *name, int channels, double seconds, double amp, unsigned seed)
{
    du_write_music_at(name, 48000, channels, seconds, amp, seed);
}

void du_write_music_at(const char *name, int rate, int channels, double seconds, double amp,
                       unsigned seed)
{
    char path[1024];
    const int frames = (int)(seconds * rate);
    float *x = malloc(sizeof(float) * (size_t)frames * (size_t)channels);
    assert_non_null(x);
    unsigned st = seed;
    /* The noise through two one-pole low-passes at 5 kHz: music has little
     * above 20 kHz, and a deliverable at 44.1 kHz (or an MP3) would lose
     * the loudness white noise has up there. */
    const double a = 1.0 - exp(-2 * M_PI * 5000.0 / rate);
    double lp1 = 0, lp2 = 0;
    for (int i = 0; i < frames; i++) {
        st = st * 1664525u + 1013904223u;
        lp1 += a * (((double)(st >> 8) / 8388608.0 - 1.0) - lp1);
        lp2 += a * (lp1 - lp2);
        double noise = 2.0 * lp2;
        double t = (double)i / rate, beat = fmod(t, 0.5);
        double hit = exp(-beat * 30.0) * noise * 0.8;
        double bed = 0.25 * sin(2 * M_PI * 110 * t) + 0.15 * sin(2 * M_PI * 330.5 * t + seed);
        for (int c = 0; c < channels; c++)
            x[(size_t)i * (size_t)channels + (size_t)c] =
                (float)(amp * (hit + bed * (c ? 0.9 : 1.0)));
    }
    test_audio_write(du_path(path, sizeof path, name), channels, rate,
                     SF_FORMAT_WAV | SF_FORMAT_PCM_24, x, frames);
    free(x);
}

void du_write_png(const char *name)
{
    /* 4x4 RGB, made with zlib once and kept as bytes. */
    static const unsigned char png[] = {
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x04, 0x08, 0x02, 0x00, 0x00, 0x00, 0x26,
        0x93, 0x09, 0x29, 0x00, 0x00, 0x00, 0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x68,
        0x70, 0x50, 0x80, 0x23, 0x06, 0xe2, 0x38, 0x00, 0x72, 0x43, 0x0e, 0x01, 0x44, 0x83, 0x5a,
        0x32, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
    char path[1024];
    FILE *f = fopen(du_path(path, sizeof path, name), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(png, 1, sizeof png, f), sizeof png);
    fclose(f);
}

void du_write_text(const char *name, const char *text)
{
    char path[1024];
    FILE *f = fopen(du_path(path, sizeof path, name), "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Runs mixfarm with argv, stdout and stderr into these files of DIR (NULL:
 * /dev/null and the test's); its exit code, -1 when it did not exit. */
static int s_mixfarm(char **argv, const char *out, const char *err)
{
    char op[1024], ep[1024];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (out)
        posix_spawn_file_actions_addopen(&fa, 1, du_path(op, sizeof op, out),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
    else
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
    if (err)
        posix_spawn_file_actions_addopen(&fa, 2, du_path(ep, sizeof ep, err),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, s_bin, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    int status;
    while (waitpid(pid, &status, 0) < 0) assert_int_equal(errno, EINTR);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int s_render(const char *doc, const char *out, const char *err)
{
    char sp[1024], op[1024];
    du_path(sp, sizeof sp, doc);
    du_path(op, sizeof op, out);
    char *plain[] = {s_bin, "render", sp, "-o", op, "--quiet", NULL};
    char *two[] = {s_bin, "render", sp, "-o", op, "--workers", "2", "--quiet", NULL};
    return s_mixfarm(err ? two : plain, NULL, err);
}

int du_render(const char *doc, const char *out)
{
    return s_render(doc, out, NULL);
}

int du_render_err(const char *doc, const char *out, const char *err)
{
    return s_render(doc, out, err);
}

json_t *du_diff(const char *old_out, const char *new_out)
{
    char a[1024], b[1024];
    du_path(a, sizeof a, old_out);
    du_path(b, sizeof b, new_out);
    char *argv[] = {s_bin, "diff", a, b, "--json", NULL};
    assert_int_equal(s_mixfarm(argv, "diff.json", NULL), 0);
    return du_load_json("diff.json");
}

json_t *du_load_json(const char *rel)
{
    char path[1024];
    json_error_t e;
    json_t *j = json_load_file(du_path(path, sizeof path, rel), 0, &e);
    if (!j) fail_msg("%s: %s", path, e.text);
    return j;
}

json_t *du_file_entry(json_t *doc, const char *path)
{
    json_t *files = json_object_get(doc, "files");
    for (size_t i = 0; i < json_array_size(files); i++) {
        const char *p = json_string_value(json_object_get(json_array_get(files, i), "path"));
        if (p && !strcmp(p, path)) return json_array_get(files, i);
    }
    return NULL;
}

float *du_ffmpeg_decode(const char *rel, int64_t *frames)
{
    char path[1024], cmd[1200];
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -i '%s' -f f32le -ac 2 -",
             du_path(path, sizeof path, rel));
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    size_t cap = 1 << 20, n = 0;
    float *x = malloc(cap * sizeof *x);
    size_t k;
    while (x && (k = fread(x + n, sizeof *x, cap - n, p)) > 0) {
        n += k;
        if (n == cap) {
            float *y = realloc(x, 2 * cap * sizeof *x);
            if (!y) free(x);
            x = y, cap *= 2;
        }
    }
    if (pclose(p) != 0 || !x) {
        free(x);
        return NULL;
    }
    *frames = (int64_t)(n / 2);
    return x;
}

void du_ebur128(const float *x, int64_t frames, int rate, double *lufs, double *tp_dbtp)
{
    ebur128_state *st =
        ebur128_init(2, (unsigned long)rate, EBUR128_MODE_I | EBUR128_MODE_TRUE_PEAK);
    assert_non_null(st);
    ebur128_add_frames_float(st, x, (size_t)frames);
    ebur128_loudness_global(st, lufs);
    *tp_dbtp = -INFINITY;
    for (unsigned c = 0; c < 2; c++) {
        double tp;
        ebur128_true_peak(st, c, &tp);
        if (20 * log10(tp) > *tp_dbtp) *tp_dbtp = 20 * log10(tp);
    }
    ebur128_destroy(&st);
}

json_t *du_ffprobe(const char *rel)
{
    char path[1024], cmd[1200];
    snprintf(cmd, sizeof cmd,
             "ffprobe -v error -show_format -show_streams -show_entries stream_tags:format_tags "
             "-of json '%s'",
             du_path(path, sizeof path, rel));
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    json_error_t e;
    json_t *j = json_loadf(p, 0, &e);
    pclose(p);
    return j;
}

static const char *s_tag_in(const json_t *tags, const char *key)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)tags, k, v) if (!strcasecmp(k, key)) return json_string_value(v);
    return NULL;
}

const char *du_tag(const json_t *probe, const char *key)
{
    const char *v = s_tag_in(json_object_get(json_object_get(probe, "format"), "tags"), key);
    const json_t *streams = json_object_get(probe, "streams");
    for (size_t i = 0; !v && i < json_array_size(streams); i++)
        v = s_tag_in(json_object_get(json_array_get(streams, i), "tags"), key);
    return v;
}

unsigned char *du_read_file(const char *rel, size_t *len)
{
    char path[1024];
    FILE *f = fopen(du_path(path, sizeof path, rel), "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = n > 0 ? malloc((size_t)n) : NULL;
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) free(p), p = NULL;
    fclose(f);
    *len = p ? (size_t)n : 0;
    return p;
}

int du_sha256(const char *rel, char hex[65])
{
    size_t n;
    unsigned char *p = du_read_file(rel, &n), md[32];
    unsigned mdlen = 0;
    if (!p) return -1;
    EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
    free(p);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return 0;
}

void du_assert_dual_mono(const char *rel)
{
    char path[1024];
    SF_INFO info = {0};
    SNDFILE *f = sf_open(du_path(path, sizeof path, rel), SFM_READ, &info);
    if (!f) fail_msg("%s: %s", path, sf_strerror(NULL));
    assert_int_equal(info.channels, 2);
    int buf[2 * 4096];
    sf_count_t got, at = 0;
    while ((got = sf_readf_int(f, buf, 4096)) > 0)
        for (sf_count_t i = 0; i < got; i++, at++)
            if (buf[2 * i] != buf[2 * i + 1])
                fail_msg("%s: frame %lld: left %d, right %d", rel, (long long)at, buf[2 * i],
                         buf[2 * i + 1]);
    sf_close(f);
    assert_true(at > 0);
}
