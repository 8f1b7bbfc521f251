#include "key_filter.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BITS_PER_KEY 16 /* with 4 probes: about 0.24 % false positives */
#define PROBES 4

struct mf_keyfilter {
    uint64_t mask; /* bits - 1, bits a power of two */
    size_t capacity, added;
    uint64_t *words;
};

mf_keyfilter_t *mf_keyfilter_new(size_t keys)
{
    mf_keyfilter_t *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    uint64_t bits = 1u << 16;
    while (bits / BITS_PER_KEY < keys && bits < (1ull << 40)) bits *= 2;
    f->mask = bits - 1, f->capacity = (size_t)(bits / BITS_PER_KEY);
    if (!(f->words = calloc((size_t)(bits / 64), sizeof *f->words))) {
        free(f);
        return NULL;
    }
    return f;
}

/* Probe i: the key's i-th 64-bit word (any byte order: the same both ways). */
static uint64_t s_probe(const mf_keyfilter_t *f, const unsigned char *key, int i)
{
    uint64_t w;
    memcpy(&w, key + 8 * i, sizeof w);
    return w & f->mask;
}

void mf_keyfilter_add(mf_keyfilter_t *f, const unsigned char key[MF_KEYFILTER_KEY])
{
    for (int i = 0; i < PROBES; i++) {
        const uint64_t b = s_probe(f, key, i);
        f->words[b / 64] |= 1ull << (b % 64);
    }
    f->added++;
}

int mf_keyfilter_maybe(const mf_keyfilter_t *f, const unsigned char key[MF_KEYFILTER_KEY])
{
    for (int i = 0; i < PROBES; i++) {
        const uint64_t b = s_probe(f, key, i);
        if (!(f->words[b / 64] & (1ull << (b % 64)))) return 0;
    }
    return 1;
}

int mf_keyfilter_full(const mf_keyfilter_t *f)
{
    return f->added > f->capacity;
}

size_t mf_keyfilter_capacity(const mf_keyfilter_t *f)
{
    return f->capacity;
}

void mf_keyfilter_free(mf_keyfilter_t **fp)
{
    mf_keyfilter_t *f = fp ? *fp : NULL;
    if (!f) return;
    free(f->words);
    free(f);
    *fp = NULL;
}
