#include "blob_refs.h"

#include <stdint.h>
#include <stdlib.h>

typedef struct {
    uint64_t key; /* 0: empty */
    int count;
} slot_t;

struct mf_blob_refs {
    slot_t *slots;
    size_t cap, used; /* cap a power of two */
    int broken;       /* an add failed: counts may be short, so nothing is released */
};

static slot_t *s_find(const mf_blob_refs_t *r, uint64_t key)
{
    for (size_t i = key & (r->cap - 1);; i = (i + 1) & (r->cap - 1))
        if (r->slots[i].key == key || r->slots[i].key == 0) return &r->slots[i];
}

static int s_grow(mf_blob_refs_t *r)
{
    mf_blob_refs_t n = {.cap = r->cap ? 2 * r->cap : 64, .broken = r->broken};
    if (!(n.slots = calloc(n.cap, sizeof *n.slots))) return -1;
    for (size_t i = 0; i < r->cap; i++)
        if (r->slots[i].key) *s_find(&n, r->slots[i].key) = r->slots[i], n.used++;
    free(r->slots);
    *r = n;
    return 0;
}

mf_blob_refs_t *mf_blob_refs_new(void)
{
    mf_blob_refs_t *r = calloc(1, sizeof *r);
    if (r && s_grow(r)) free(r), r = NULL;
    return r;
}

void mf_blob_refs_free(mf_blob_refs_t **r)
{
    if (!r || !*r) return;
    free((*r)->slots);
    free(*r);
    *r = NULL;
}

int mf_blob_refs_add(mf_blob_refs_t *r, const mf_hash_t *h, int n)
{
    const uint64_t key = mf_hash_prefix64(h);
    slot_t *s = s_find(r, key);
    if (s->key != key) {
        if (2 * (r->used + 1) > r->cap && s_grow(r) && r->used + 2 > r->cap) {
            r->broken = 1;
            return -1;
        }
        s = s_find(r, key);
        s->key = key, r->used++;
    }
    s->count =
        n >= MF_BLOB_PINNED || s->count >= MF_BLOB_PINNED - n ? MF_BLOB_PINNED : s->count + n;
    return 0;
}

int mf_blob_refs_release(mf_blob_refs_t *r, const mf_hash_t *h)
{
    slot_t *s = s_find(r, mf_hash_prefix64(h));
    if (s->key == 0 || s->count <= 0 || s->count >= MF_BLOB_PINNED)
        return 0; /* never counted (not ours to delete), or pinned */
    return --s->count == 0 && !r->broken;
}

int mf_blob_refs_count(const mf_blob_refs_t *r, const mf_hash_t *h)
{
    const slot_t *s = s_find(r, mf_hash_prefix64(h));
    return s->key ? s->count : 0;
}
