#include "store_budget.h"
#include "mf_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOW_WATER 0.9
#define TOUCH_EVERY_S 60.0

/* An open-addressing table keyed by the hash's first 64 bits (never 0: 0
 * marks an empty slot); the whole hash is kept to name the file. A million
 * blobs take about 100 MB of table. */
typedef struct {
    uint64_t key;
    unsigned char hash[MF_HASH_BYTES];
    int64_t size;
    double used;
} entry_t;

struct mf_budget {
    mf_store_t *store;
    int64_t limit, bytes;
    entry_t *e;
    size_t cap, n; /* cap a power of two */
};

static size_t s_slot(const mf_budget_t *b, uint64_t key)
{
    size_t i = key & (b->cap - 1);
    while (b->e[i].key && b->e[i].key != key) i = (i + 1) & (b->cap - 1);
    return i;
}

static int s_grow(mf_budget_t *b)
{
    mf_budget_t n = {.cap = b->cap ? 2 * b->cap : 1024};
    if (!(n.e = calloc(n.cap, sizeof *n.e))) return -1;
    for (size_t i = 0; i < b->cap; i++)
        if (b->e[i].key) n.e[s_slot(&n, b->e[i].key)] = b->e[i];
    free(b->e);
    b->e = n.e, b->cap = n.cap;
    return 0;
}

/* Removes slot i, moving up the entries of the run after it that would
 * otherwise no longer be found (linear probing has no tombstones). */
static void s_remove(mf_budget_t *b, size_t i)
{
    b->bytes -= b->e[i].size;
    b->n--;
    for (size_t j = (i + 1) & (b->cap - 1); b->e[j].key; j = (j + 1) & (b->cap - 1)) {
        const size_t home = b->e[j].key & (b->cap - 1);
        /* j's entry may move to i when i lies cyclically in [home, j). */
        if (((j - home) & (b->cap - 1)) >= ((j - i) & (b->cap - 1))) {
            b->e[i] = b->e[j];
            i = j;
        }
    }
    b->e[i].key = 0;
}

static entry_t *s_add(mf_budget_t *b, const mf_hash_t *h, int64_t size, double used)
{
    const uint64_t key = mf_hash_prefix64(h);
    size_t i = s_slot(b, key);
    if (!b->e[i].key) {
        if (2 * (b->n + 1) > b->cap) {
            if (s_grow(b) != 0) return NULL;
            i = s_slot(b, key);
        }
        b->e[i].key = key;
        mf_hash_to_bytes(h, b->e[i].hash);
        b->e[i].size = size;
        b->bytes += size, b->n++;
    }
    b->e[i].used = used;
    return &b->e[i];
}

typedef struct {
    mf_budget_t *b;
    double now, wall; /* the same instant, monotonic and wall-clock */
} scan_t;

/* A blob found at start counts as used when its file last changed. */
static int s_found(void *ctx, const mf_hash_t *h, int64_t size, double mtime)
{
    const scan_t *sc = ctx;
    const double age = sc->wall - mtime;
    return s_add(sc->b, h, size, sc->now - (age > 0 ? age : 0)) ? 0 : -1;
}

mf_budget_t *mf_budget_new(mf_store_t *store, int64_t budget, double now)
{
    mf_budget_t *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->store = store, b->limit = budget;
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    scan_t sc = {b, now, (double)wall.tv_sec + 1e-9 * (double)wall.tv_nsec};
    if (s_grow(b) != 0 || mf_store_each(store, s_found, &sc) != 0) {
        mf_error("%s: cannot measure the blob store: %s", mf_store_dir(store), strerror(errno));
        mf_budget_free(&b);
    }
    return b;
}

void mf_budget_free(mf_budget_t **b)
{
    if (!b || !*b) return;
    free((*b)->e);
    free(*b);
    *b = NULL;
}

void mf_budget_use(mf_budget_t *b, const mf_hash_t *h, double now)
{
    const size_t i = s_slot(b, mf_hash_prefix64(h));
    if (b->e[i].key) {
        /* The file's time too, now and then: the order survives a restart. */
        if (now - b->e[i].used > TOUCH_EVERY_S) mf_store_touch(b->store, h);
        b->e[i].used = now;
        return;
    }
    const int64_t size = mf_store_size(b->store, h);
    if (size >= 0) s_add(b, h, size, now); /* out of memory: it is merely not counted */
}

int64_t mf_budget_bytes(const mf_budget_t *b)
{
    return b->bytes;
}

size_t mf_budget_blobs(const mf_budget_t *b)
{
    return b->n;
}

int64_t mf_budget_limit(const mf_budget_t *b)
{
    return b->limit;
}

typedef struct {
    double used;
    uint64_t key;
} victim_t;

static int s_older(const void *x, const void *y)
{
    const victim_t *a = x, *b = y;
    return (a->used > b->used) - (a->used < b->used);
}

mf_budget_trim_t mf_budget_trim(mf_budget_t *b, double now, double grace_s, mf_budget_keep_fn keep,
                                void *ctx, size_t max_files)
{
    mf_budget_trim_t t = {0};
    if (b->bytes <= b->limit) return t;
    const int64_t low = (int64_t)((double)b->limit * LOW_WATER);
    victim_t *v = malloc(b->n * sizeof *v);
    size_t nv = 0;
    for (size_t i = 0; v && i < b->cap; i++) {
        const entry_t *e = &b->e[i];
        if (!e->key) continue;
        mf_hash_t h;
        mf_hash_from_bytes(e->hash, &h);
        if (e->used > now - grace_s || (keep && keep(ctx, &h)))
            t.kept += e->size;
        else
            v[nv++] = (victim_t){e->used, e->key};
    }
    if (nv) qsort(v, nv, sizeof *v, s_older);
    for (size_t k = 0; k < nv && b->bytes > low && t.deleted < max_files; k++) {
        const size_t i = s_slot(b, v[k].key);
        mf_hash_t h;
        mf_hash_from_bytes(b->e[i].hash, &h);
        if (mf_store_discard(b->store, &h) != 0 && errno != ENOENT) {
            mf_warn("blob %s: cannot delete it to stay within --store-budget: %s", h.hex,
                    strerror(errno));
        } else {
            t.deleted++, t.freed += b->e[i].size;
            s_remove(b, i);
        }
    }
    free(v);
    return t;
}
