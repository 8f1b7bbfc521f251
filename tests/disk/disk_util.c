#include "disk_util.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

void dk_write_tone(const char *path, int sf_format, double seconds, double freq_hz)
{
    const long frames = lround(seconds * DK_RATE);
    SF_INFO info = {.samplerate = DK_RATE, .channels = 1, .format = sf_format | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) fail_msg("%s: %s", path, sf_strerror(NULL));
    float buf[4800];
    for (long i0 = 0; i0 < frames; i0 += 4800) {
        long n = frames - i0 < 4800 ? frames - i0 : 4800;
        for (long k = 0; k < n; k++) {
            double t = (double)(i0 + k) / DK_RATE;
            /* a tone with a slow swell: no two blocks alike, so FLAC frames differ */
            buf[k] =
                (float)(0.4 * (0.6 + 0.4 * sin(2 * M_PI * 0.7 * t)) * sin(2 * M_PI * freq_hz * t));
        }
        assert_int_equal(sf_writef_float(f, buf, n), n);
    }
    assert_int_equal(sf_close(f), 0);
}

int64_t dk_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) fail_msg("%s: %s", path, strerror(errno));
    return (int64_t)st.st_size;
}

void dk_truncate(const char *path, int64_t bytes)
{
    if (truncate(path, (off_t)bytes) != 0) fail_msg("%s: %s", path, strerror(errno));
}

void dk_scramble(const char *path, int64_t at, size_t n)
{
    FILE *f = fopen(path, "r+b");
    if (!f) fail_msg("%s: %s", path, strerror(errno));
    assert_int_equal(fseeko(f, (off_t)at, SEEK_SET), 0);
    uint32_t x = 0x2545F491u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        assert_int_not_equal(fputc((int)(x & 0xFF), f), EOF);
    }
    assert_int_equal(fclose(f), 0);
}

void dk_write_garbage(const char *path, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) fail_msg("%s: %s", path, strerror(errno));
    uint32_t x = 0x9E3779B9u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        assert_int_not_equal(fputc((int)(x & 0xFF), f), EOF);
    }
    assert_int_equal(fclose(f), 0);
}

void dk_write_session(const char *dir, const char *file, const char *name, int n,
                      const char *const *track_names, const char *const *files, double gain_db)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (!f) fail_msg("%s: %s", path, strerror(errno));
    fprintf(f, "{\"mixfarm\": 1, \"name\": \"%s\", \"sample_rate\": %d,\n \"tracks\": [\n", name,
            DK_RATE);
    for (int i = 0; i < n; i++)
        fprintf(f, "  {\"name\": \"%s\", \"file\": \"%s\", \"gain_db\": %.1f, \"pan\": %.1f}%s\n",
                track_names[i], files[i], i == 0 ? gain_db : -3.0, i % 2 ? 0.3 : -0.3,
                i + 1 < n ? "," : "");
    fprintf(f, " ]\n}\n");
    assert_int_equal(fclose(f), 0);
}

typedef struct {
    char **names;
    size_t n, cap;
} names_t;

static void s_walk(const char *root, const char *rel, names_t *out)
{
    char path[2048];
    snprintf(path, sizeof path, "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char sub[2048];
        snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        if (out->n == out->cap) {
            out->cap = out->cap ? 2 * out->cap : 32;
            out->names = realloc(out->names, out->cap * sizeof *out->names);
            assert_non_null(out->names);
        }
        out->names[out->n++] = strdup(sub);
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", root, sub);
        struct stat st;
        if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode)) s_walk(root, sub, out);
    }
    closedir(d);
}

static int s_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *dk_list_tree(const char *dir)
{
    names_t all = {0};
    s_walk(dir, "", &all);
    if (all.n) qsort(all.names, all.n, sizeof *all.names, s_cmp);
    size_t len = 1;
    for (size_t i = 0; i < all.n; i++) len += strlen(all.names[i]) + 1;
    char *text = calloc(1, len);
    assert_non_null(text);
    for (size_t i = 0; i < all.n; i++) {
        strcat(text, all.names[i]);
        strcat(text, "\n");
        free(all.names[i]);
    }
    free(all.names);
    return text;
}

void dk_assert_tree(const char *dir, const char *expected)
{
    char *now = dk_list_tree(dir);
    if (strstr(now, ".mixfarm-partial")) fail_msg("%s: a staging folder was left:\n%s", dir, now);
    if (strcmp(now, expected) != 0)
        fail_msg("%s holds:\n%s\nexpected:\n%s", dir, now, expected[0] ? expected : "(nothing)\n");
    free(now);
}
