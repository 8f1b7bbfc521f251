#include "mf_hashcache.h"
#include "mf_cachedir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The cache file of a source, or 0 when there is no cache folder. */
static int s_entry(const char *path, char *out, size_t n)
{
    char abs[PATH_MAX], dir[PATH_MAX - 200];
    if (!realpath(path, abs) || !mf_cache_dir(dir, sizeof dir)) return 0;
    mf_hash_t key;
    mf_hash_bytes(abs, strlen(abs), &key);
    snprintf(out, n, "%s/sources/%s", dir, key.hex);
    return 1;
}

static void s_line(const struct stat *st, const mf_hash_t *h, char *out, size_t n)
{
    snprintf(out, n, "v1 %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " %ld %s\n",
             (uint64_t)st->st_dev, (uint64_t)st->st_ino, (int64_t)st->st_size,
             (int64_t)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec, h ? h->hex : "");
}

static int s_lookup(const char *entry, const struct stat *st, mf_hash_t *h)
{
    char want[256], got[256] = "";
    FILE *f = fopen(entry, "r");
    if (!f) return 0;
    int ok = fgets(got, sizeof got, f) != NULL;
    fclose(f);
    s_line(st, NULL, want, sizeof want);
    const size_t k = strlen(want) - 1; /* up to the hash */
    if (!ok || strncmp(got, want, k) || strlen(got) < k + 64) return 0;
    memcpy(h->hex, got + k, 64);
    h->hex[64] = 0;
    return mf_hash_valid(h->hex);
}

/* Whether a file last written at st's time stamp, seen so now, will show a
 * later write in that stamp: once the clock that stamps files has moved
 * past it, a write gets another one. Its ticks are 1-10 ms, so 50 ms;
 * where stamps are whole seconds (FAT keeps 2 s), 2 s. */
static int s_settled(const struct stat *st)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    const int64_t age_ms = ((int64_t)now.tv_sec - st->st_mtim.tv_sec) * 1000 +
                           ((long)now.tv_nsec - st->st_mtim.tv_nsec) / 1000000;
    return age_ms >= (st->st_mtim.tv_nsec ? 50 : 2000);
}

typedef struct {
    int64_t mtime_ns;
    char name[MF_HASH_HEX];
} aged_t;

static int s_by_age(const void *a, const void *b)
{
    const int64_t x = ((const aged_t *)a)->mtime_ns, y = ((const aged_t *)b)->mtime_ns;
    return x < y ? -1 : x > y;
}

int mf_hashcache_trim(size_t max)
{
    char dir[PATH_MAX - 200], path[PATH_MAX];
    if (!mf_cache_dir(dir, sizeof dir)) return 0;
    snprintf(path, sizeof path, "%s/sources", dir);
    DIR *d = opendir(path);
    aged_t *e = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *de; d && (de = readdir(d));) {
        if (strlen(de->d_name) != MF_HASH_HEX - 1 || !mf_hash_valid(de->d_name)) continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, 0) != 0) continue;
        if (n == cap) {
            aged_t *g = realloc(e, (cap = cap ? 2 * cap : 1024) * sizeof *e);
            if (!g) break;
            e = g;
        }
        e[n].mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        memcpy(e[n++].name, de->d_name, MF_HASH_HEX);
    }
    int gone = 0;
    if (n > max) { /* the least recently written go, down to half */
        qsort(e, n, sizeof *e, s_by_age);
        for (size_t i = 0; i < n - max / 2; i++) gone += unlinkat(dirfd(d), e[i].name, 0) == 0;
    }
    if (d) closedir(d);
    free(e);
    return gone;
}

static void s_record(const char *entry, const struct stat *st, const mf_hash_t *h)
{
    if (!s_settled(st)) return; /* too fresh to trust its time stamp */
    char line[256];
    s_line(st, h, line, sizeof line);
    /* Per thread: sources are put several at a time (client_submit.c). */
    mf_cache_replace(entry, line);
    /* One record in 256 (the entries named 00...) counts the folder. */
    const char *name = strrchr(entry, '/'), *max = getenv("MIXFARM_HASHCACHE_MAX");
    if (name && !strncmp(name + 1, "00", 2))
        mf_hashcache_trim(max && atol(max) > 0 ? (size_t)atol(max) : MF_HASHCACHE_MAX);
}

mf_err_t mf_hashcache_put_file(mf_store_t *s, const char *path, mf_hash_t *out)
{
    char entry[PATH_MAX];
    struct stat st;
    if (!s_entry(path, entry, sizeof entry) || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return mf_store_put_file(s, path, out);
    if (s_lookup(entry, &st, out)) {
        if (mf_store_has(s, out) || mf_store_link_file(s, path, out) == 0) return MF_OK;
        if (mf_store_lasting(s)) return mf_store_copy_file(s, path, out); /* never linked */
    }
    mf_err_t err = mf_store_put_file(s, path, out);
    if (err == MF_OK) s_record(entry, &st, out);
    return err;
}

int mf_hashcache_file(const char *path, mf_hash_t *out)
{
    char entry[PATH_MAX];
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return -1;
    const int cached = s_entry(path, entry, sizeof entry);
    if (cached && s_lookup(entry, &st, out)) return 0;
    if (mf_hash_file(path, out) != 0) return -1;
    if (cached) s_record(entry, &st, out);
    return 0;
}

int mf_hashcache_known(const char *path, mf_hash_t *out)
{
    char entry[PATH_MAX];
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && s_entry(path, entry, sizeof entry) &&
           s_lookup(entry, &st, out);
}

void mf_hashcache_note(const char *path, const struct stat *st, const mf_hash_t *h)
{
    char entry[PATH_MAX];
    if (s_entry(path, entry, sizeof entry)) s_record(entry, st, h);
}

void mf_hashcache_forget(const char *path)
{
    char entry[PATH_MAX];
    if (s_entry(path, entry, sizeof entry)) unlink(entry);
}
