/* Memory does not grow with the length of a session: the real `mixfarm
 * render` binary (MF_BIN_DIR, the embedded farm: the coordinator, workers
 * and client in one process) renders one session at two lengths, six times
 * apart, and its peak resident memory (wait4's ru_maxrss) may differ by no
 * more than SLACK_KB. The session takes every stage that streams: strips
 * with EQ and compressor, a reverb bus (its tail), mastering with a
 * loudness target and the limiter, QC, the listening copies, and WAV,
 * FLAC, MP3 and Opus deliverables. Holding the mix whole would be 14 MB
 * more at the long length; one track's source, 9 MB. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_audio.h"
#include "test_proc.h"

#define RATE 48000
#define TRACKS 6
#define SHORT_S 24 /* past where per-reader windows (1 MB each) stop growing */
#define LONG_S 72
#define SLACK_KB (8 * 1024)

static char s_dir[512], s_bin[1024];

static void write_track(const char *dir, int k, int seconds)
{
    const long frames = (long)RATE * seconds;
    float *x = malloc(sizeof *x * (size_t)frames);
    assert_non_null(x);
    uint32_t r = 0x12345u + (uint32_t)k; /* a tone and some noise, made here */
    for (long i = 0; i < frames; i++) {
        r = r * 1664525u + 1013904223u;
        const double tone = 0.2 * sin(2.0 * M_PI * (110.0 * (k + 1)) * (double)i / RATE);
        x[i] = (float)(tone + 0.02 * ((double)(r >> 8) / 16777216.0 - 0.5));
    }
    char path[1024];
    snprintf(path, sizeof path, "%.600s/t%d.wav", dir, k);
    test_audio_write(path, 1, RATE, SF_FORMAT_WAV | SF_FORMAT_PCM_24, x, frames);
    free(x);
}

static void write_session(const char *dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%.600s/session.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"mixfarm\": 1, \"name\": \"Length\", \"sample_rate\": 48000, \"tracks\": [", f);
    for (int k = 0; k < TRACKS; k++)
        fprintf(f,
                "%s{\"name\": \"T%d\", \"file\": \"t%d.wav\", \"pan\": %.2f, \"output\": \"Band\","
                " \"sends\": [{\"bus\": \"Verb\", \"level_db\": -12}], \"inserts\": ["
                "{\"type\": \"eq\", \"bands\": [{\"kind\": \"highpass\", \"freq_hz\": 40},"
                " {\"kind\": \"peak\", \"freq_hz\": 800, \"gain_db\": -2, \"q\": 1}]},"
                "{\"type\": \"compressor\", \"threshold_db\": -20, \"ratio\": 3}]}",
                k ? ", " : "", k, k, (k - 2.5) / 3.0);
    fputs(
        "], \"buses\": [{\"name\": \"Band\"}, {\"name\": \"Verb\", \"inserts\": "
        "[{\"type\": \"reverb\", \"model\": \"hall\", \"decay_s\": 1.5, \"mix\": 1}]}],"
        " \"mastering\": {\"target\": \"streaming\", \"inserts\": [{\"type\": \"eq\","
        " \"bands\": [{\"kind\": \"lowshelf\", \"freq_hz\": 100, \"gain_db\": 1}]}]},"
        " \"outputs\": [{\"format\": \"wav\", \"bits\": 24}, {\"format\": \"flac\", \"bits\": 16},"
        " {\"format\": \"mp3\", \"bitrate_kbps\": 192}, {\"format\": \"opus\", \"bitrate_kbps\": "
        "128}]}",
        f);
    assert_int_equal(fclose(f), 0);
}

#if defined(__SANITIZE_ADDRESS__)
/* Under AddressSanitizer, the render's resident memory without the
 * sanitizer's shadow (x86-64: the addresses from the low shadow's start to
 * the high shadow's end). The shadow holds a byte for every eight of each
 * mapping the program has read, and a render maps every signal it reads:
 * 12 MB more at 72 s than at 24 s, none of it the program's own. Polled,
 * so a peak may fall between two looks; VmHWM counts the shadow. */
#define SHADOW_FROM 0x7fff8000ull
#define SHADOW_TO 0x10007fff8000ull
static long s_rss_kb(pid_t pid)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    long kb = 0, rss;
    int shadow = 0;
    unsigned long long from, to;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%llx-%llx ", &from, &to) == 2)
            shadow = from >= SHADOW_FROM && to <= SHADOW_TO;
        else if (sscanf(line, "Rss: %ld kB", &rss) == 1 && !shadow)
            kb += rss;
    }
    fclose(f);
    return kb;
}
#else
static long s_rss_kb(pid_t pid)
{
    return test_proc_kb(pid, "VmHWM"); /* the peak itself */
}
#endif

/* Renders DIR/session.json into DIR/out; returns its peak resident KB.
 * Read from /proc while it runs, not from wait4: a child spawned from this
 * process inherits this process's peak in ru_maxrss (the kernel keeps it
 * across exec), and under AddressSanitizer this one holds freed buffers. */
static long render_peak_kb(const char *dir)
{
    char session[1024], out[1024], err[1024];
    snprintf(session, sizeof session, "%.600s/session.json", dir);
    snprintf(out, sizeof out, "%.600s/out", dir);
    snprintf(err, sizeof err, "%.600s/stderr.txt", dir);
    const pid_t pid = test_spawn_render(s_bin, session, out, err);
    long peak = 0;
    int status;
    pid_t done;
    while ((done = waitpid(pid, &status, WNOHANG)) == 0) {
        const long kb = s_rss_kb(pid);
        peak = kb > peak ? kb : peak;
        const struct timespec tick = {0, 5 * 1000 * 1000};
        nanosleep(&tick, NULL);
    }
    if (done < 0) fail_msg("waitpid: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("render %s failed (status %d): see %s", session, status, err);
    if (peak <= 0) fail_msg("render %s ended before its memory could be read", session);
    return peak;
}

static long render_length(int seconds)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%.500s/len%d", s_dir, seconds);
    if (mkdir(dir, 0755) != 0) fail_msg("mkdir %s: %s", dir, strerror(errno));
    for (int k = 0; k < TRACKS; k++) write_track(dir, k, seconds);
    write_session(dir);
    return render_peak_kb(dir);
}

static void test_peak_memory_flat_in_length(void **state)
{
    (void)state;
    const long short_kb = render_length(SHORT_S), long_kb = render_length(LONG_S);
    print_message("peak resident memory: %d s %ld KB, %d s %ld KB\n", SHORT_S, short_kb, LONG_S,
                  long_kb);
    if (long_kb > short_kb + SLACK_KB)
        fail_msg("peak memory grew with the session's length: %ld KB at %d s, %ld KB at %d s",
                 short_kb, SHORT_S, long_kb, LONG_S);
}

static int rm_tree(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static int group_setup(void **state)
{
    (void)state;
    const char *bin = getenv("MF_BIN_DIR");
    const char *tmp = getenv("TMPDIR");
    if (!bin) return fprintf(stderr, "MF_BIN_DIR is not set\n"), -1;
    snprintf(s_bin, sizeof s_bin, "%s/mixfarm", bin);
    snprintf(s_dir, sizeof s_dir, "%s/mf-memory-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    return rm_tree(s_dir) == 0 ? 0 : -1;
}

int main(void)
{
    /* Under AddressSanitizer, freed memory waits in a quarantine of up to
     * 256 MB (it grows with the number of frees, so with the length);
     * without it the binary's own memory shows. */
    const char *asan = getenv("ASAN_OPTIONS");
    char opts[1024];
    snprintf(opts, sizeof opts, "%s%squarantine_size_mb=0", asan ? asan : "", asan ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_peak_memory_flat_in_length)};
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
