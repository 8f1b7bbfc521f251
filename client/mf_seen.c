#include "mf_seen.h"

#include <stdint.h>
#include <stdlib.h>

static size_t s_home(const mf_seen_t *s, dev_t dev, ino_t ino)
{
    uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15ull ^ (uint64_t)dev * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(h ^ h >> 29) & (s->cap - 1);
}

/* The slot holding (dev, ino), or the free one where it would go. */
static size_t s_find(const mf_seen_t *s, dev_t dev, ino_t ino)
{
    size_t i = s_home(s, dev, ino);
    while (s->slot[i].used && (s->slot[i].dev != dev || s->slot[i].ino != ino))
        i = (i + 1) & (s->cap - 1);
    return i;
}

static int s_grow(mf_seen_t *s)
{
    mf_seen_t g = {.cap = s->cap ? 2 * s->cap : 64};
    if (!(g.slot = calloc(g.cap, sizeof *g.slot))) return -1;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slot[i].used) g.slot[s_find(&g, s->slot[i].dev, s->slot[i].ino)] = s->slot[i];
    g.n = s->n;
    free(s->slot);
    *s = g;
    return 0;
}

int mf_seen(mf_seen_t *s, const struct stat *st)
{
    if (2 * (s->n + 1) > s->cap && s_grow(s) != 0) return 0;
    const size_t i = s_find(s, st->st_dev, st->st_ino);
    if (s->slot[i].used) return 1;
    s->slot[i].dev = st->st_dev, s->slot[i].ino = st->st_ino, s->slot[i].used = 1;
    s->n++;
    return 0;
}

void mf_seen_fini(mf_seen_t *s)
{
    free(s->slot);
    *s = (mf_seen_t){0};
}
