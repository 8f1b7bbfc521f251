/* The worker's local store as an LRU cache. A plain array of entries is
 * enough: a cache of a few GiB of signals holds thousands of blobs at most,
 * and each operation is one scan. */
#include "mf_fs.h"
#include "mf_log.h"
#include "mf_store_guard.h"
#include "worker_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

typedef struct {
    mf_hash_t hash;
    int64_t size; /* -1: not in the store (yet) */
    int pins;
    uint64_t used; /* a tick: larger is more recent */
} entry_t;

struct mf_cache {
    mf_store_t *store;
    mf_store_guard_t *guard; /* after a power cut, no damaged blob is read as an input */
    int lock_fd;
    int64_t budget, bytes;
    int64_t reserve; /* free bytes its disk keeps: trimming goes on below it */
    entry_t *e;
    size_t n, cap;
    uint64_t tick;
};

static entry_t *s_find(mf_cache_t *c, const mf_hash_t *h)
{
    for (size_t i = 0; i < c->n; i++)
        if (memcmp(c->e[i].hash.hex, h->hex, MF_HASH_HEX) == 0) return &c->e[i];
    return NULL;
}

static entry_t *s_get(mf_cache_t *c, const mf_hash_t *h)
{
    entry_t *e = s_find(c, h);
    if (e) return e;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 256;
        entry_t *ne = realloc(c->e, cap * sizeof *ne);
        if (!ne) return NULL;
        c->e = ne;
        c->cap = cap;
    }
    e = &c->e[c->n++];
    memset(e, 0, sizeof *e);
    e->hash = *h;
    e->size = -1;
    return e;
}

static void s_remove(mf_cache_t *c, entry_t *e)
{
    if (e->size > 0) c->bytes -= e->size;
    *e = c->e[--c->n];
}

/* Deletes e's blob and forgets it. */
static void s_evict(mf_cache_t *c, entry_t *e, const char *why)
{
    char *p = mf_store_path(c->store, &e->hash);
    if (p && unlink(p) != 0 && errno != ENOENT)
        mf_warn("%s: cannot evict: %s", p, strerror(errno));
    else
        mf_debug("cache: %s %.12s (%lld bytes)", why, e->hash.hex, (long long)e->size);
    free(p);
    s_remove(c, e);
}

/* Bytes free to this process on the cache's disk; -1 when unknown. */
static int64_t s_free(const mf_cache_t *c)
{
    struct statvfs v;
    if (statvfs(mf_store_dir(c->store), &v) != 0) return -1;
    return (int64_t)v.f_bavail * (int64_t)v.f_frsize;
}

/* A budget the disk can hold: three quarters of what it has free beside
 * the cache's own, the rest for the files tasks write as they run; and the
 * free space trimming keeps, a twentieth of the disk up to 1 GiB. A disk
 * that other programs fill is then answered by evicting, not by failing
 * every task with "no space left on device". */
static void s_fit_disk(mf_cache_t *c, const char *dir)
{
    struct statvfs v;
    if (statvfs(dir, &v) != 0) return;
    const int64_t size = (int64_t)v.f_blocks * (int64_t)v.f_frsize;
    const int64_t free_now = (int64_t)v.f_bavail * (int64_t)v.f_frsize;
    c->reserve = size / 20 < (1 << 30) ? size / 20 : (1 << 30);
    const int64_t fit = (free_now + c->bytes) / 4 * 3;
    if (c->budget <= fit) return;
    mf_warn("%s: a cache of %.2f GB does not fit on its disk (%.2f GB free): it keeps at most "
            "%.2f GB (--cache-size)",
            dir, (double)c->budget / 1e9, (double)free_now / 1e9, (double)fit / 1e9);
    c->budget = fit;
}

/* 1 while the disk has less free than the reserve. */
static int s_short(const mf_cache_t *c)
{
    if (c->reserve <= 0 || !c->n) return 0;
    const int64_t f = s_free(c);
    return f >= 0 && f < c->reserve;
}

/* Evicts least-recently-used unpinned blobs until under budget, and while
 * the disk has less free than the reserve. */
static void s_trim(mf_cache_t *c)
{
    while (c->bytes > c->budget || s_short(c)) {
        entry_t *lru = NULL;
        for (size_t i = 0; i < c->n; i++) {
            entry_t *e = &c->e[i];
            if (e->pins == 0 && e->size >= 0 && (!lru || e->used < lru->used)) lru = e;
        }
        if (!lru) return; /* everything left is in use */
        s_evict(c, lru, "evicted");
    }
}

static void s_touch(mf_cache_t *c, entry_t *e)
{
    e->used = ++c->tick;
    char *p = mf_store_path(c->store, &e->hash);
    if (p) utimensat(AT_FDCWD, p, NULL, 0); /* keeps the order across restarts */
    free(p);
}

static int s_by_mtime(const void *a, const void *b)
{
    const entry_t *x = a, *y = b;
    return (x->used > y->used) - (x->used < y->used);
}

static int s_found(void *ctx, const mf_hash_t *h, int64_t size, double mtime)
{
    mf_cache_t *c = ctx;
    entry_t *e = s_get(c, h);
    if (!e) return -1;
    e->size = size;
    e->used = (uint64_t)(mtime * 1e9); /* ordered below, then renumbered */
    c->bytes += size;
    return 0;
}

/* Rebuilds the entry list from the store, oldest first. */
static int s_scan(mf_cache_t *c)
{
    if (mf_store_each(c->store, s_found, c) != 0) return -1;
    if (c->n) qsort(c->e, c->n, sizeof *c->e, s_by_mtime);
    for (size_t i = 0; i < c->n; i++) c->e[i].used = ++c->tick;
    return 0;
}

mf_cache_t *mf_cache_open(const char *dir, int64_t budget)
{
    mf_cache_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->lock_fd = -1;
    c->budget = budget;
    if (!(c->store = mf_store_open(dir))) goto fail;
    char path[4096];
    snprintf(path, sizeof path, "%s/lock", dir);
    if ((c->lock_fd = mf_fs_lock_file(path, 0)) < 0) {
        mf_error("%s: the cache is in use by another worker (give each worker its own --cache)",
                 dir);
        goto fail;
    }
    mf_store_clear_tmp(c->store); /* files a worker killed mid-write left */
    if (!(c->guard = mf_store_guard_open(c->store, MF_STORE_SYNC_EVERY_S, NULL))) goto fail;
    if (s_scan(c) != 0) {
        mf_error("%s: cannot read the cache: %s", dir, strerror(errno));
        goto fail;
    }
    s_fit_disk(c, dir);
    s_trim(c);
    mf_debug("cache %s: %zu blobs, %lld bytes", dir, c->n, (long long)c->bytes);
    return c;
fail:
    mf_cache_free(&c);
    return NULL;
}

void mf_cache_free(mf_cache_t **pc)
{
    if (!pc || !*pc) return;
    mf_cache_t *c = *pc;
    mf_store_guard_free(&c->guard);
    if (c->lock_fd >= 0) close(c->lock_fd);
    mf_store_free(&c->store);
    free(c->e);
    free(c);
    *pc = NULL;
}

mf_store_t *mf_cache_store(mf_cache_t *c)
{
    return c->store;
}

int64_t mf_cache_bytes(const mf_cache_t *c)
{
    return c->bytes;
}

void mf_cache_pin(mf_cache_t *c, const mf_hash_t *h)
{
    entry_t *e = s_get(c, h);
    if (!e) return; /* out of memory: the blob merely risks eviction */
    e->pins++;
    e->used = ++c->tick;
    /* Before the task writes: room the disk lost to others is made now. */
    if (s_short(c)) s_trim(c);
}

void mf_cache_unpin(mf_cache_t *c, const mf_hash_t *h)
{
    entry_t *e = s_find(c, h);
    if (!e || e->pins == 0) return;
    if (--e->pins == 0 && e->size < 0)
        s_remove(c, e);
    else if (e->pins == 0)
        s_trim(c); /* it may have been kept over budget */
}

void mf_cache_added(mf_cache_t *c, const mf_hash_t *h)
{
    entry_t *e = s_get(c, h);
    if (!e) return;
    if (e->size < 0) {
        e->size = mf_store_size(c->store, h);
        if (e->size > 0) c->bytes += e->size;
    }
    s_touch(c, e);
    s_trim(c);
}

void mf_cache_drop(mf_cache_t *c, const mf_hash_t *h)
{
    entry_t *e = s_find(c, h);
    if (e && e->pins == 0 && e->size >= 0) s_evict(c, e, "dropped (no task of its job reads it)");
}
