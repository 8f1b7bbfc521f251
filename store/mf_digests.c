#include "mf_digests.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct mf_digests {
    pthread_mutex_t mu;
    struct {
        mf_hash_t blob, sha;
    } v[MF_DIGESTS];
    size_t next, n; /* a ring: the oldest goes first */
};

mf_digests_t *mf_digests_new(void)
{
    mf_digests_t *d = calloc(1, sizeof *d);
    if (d && pthread_mutex_init(&d->mu, NULL) != 0) free(d), d = NULL;
    return d;
}

void mf_digests_free(mf_digests_t **d)
{
    if (!d || !*d) return;
    pthread_mutex_destroy(&(*d)->mu);
    free(*d);
    *d = NULL;
}

void mf_digests_put(mf_digests_t *d, const mf_hash_t *blob, const mf_hash_t *sha)
{
    pthread_mutex_lock(&d->mu);
    d->v[d->next].blob = *blob, d->v[d->next].sha = *sha;
    d->next = (d->next + 1) % MF_DIGESTS;
    if (d->n < MF_DIGESTS) d->n++;
    pthread_mutex_unlock(&d->mu);
}

int mf_digests_get(mf_digests_t *d, const mf_hash_t *blob, mf_hash_t *sha)
{
    int found = 0;
    if (!d) return 0;
    pthread_mutex_lock(&d->mu);
    for (size_t i = 0; i < d->n && !found; i++)
        if (!strcmp(d->v[i].blob.hex, blob->hex)) *sha = d->v[i].sha, found = 1;
    pthread_mutex_unlock(&d->mu);
    return found;
}
