#include "mf_parallel.h"

#include <pthread.h>
#include <unistd.h>

#define MAX_THREADS 4 /* a copy of a few files: more threads only contend for the disk */

typedef struct {
    pthread_mutex_t lock;
    size_t next, n;
    mf_err_t err;
    mf_err_t (*fn)(void *ctx, size_t i);
    void *ctx;
} pool_t;

static void *s_run(void *arg)
{
    pool_t *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        const size_t i = p->err == MF_OK && p->next < p->n ? p->next++ : p->n;
        pthread_mutex_unlock(&p->lock);
        if (i >= p->n) return NULL;
        const mf_err_t err = p->fn(p->ctx, i);
        pthread_mutex_lock(&p->lock);
        if (err != MF_OK && p->err == MF_OK) p->err = err;
        pthread_mutex_unlock(&p->lock);
    }
}

mf_err_t mf_parallel_for(size_t n, mf_err_t (*fn)(void *ctx, size_t i), void *ctx)
{
    pool_t p = {.lock = PTHREAD_MUTEX_INITIALIZER, .n = n, .fn = fn, .ctx = ctx};
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t want = cores > 1 ? (size_t)cores : 1;
    if (want > MAX_THREADS) want = MAX_THREADS;
    if (want > n) want = n;
    pthread_t t[MAX_THREADS];
    size_t started = 0;
    for (size_t k = 1; k < want; k++) /* this thread is one of them */
        if (pthread_create(&t[started], NULL, s_run, &p) == 0) started++;
    s_run(&p);
    for (size_t k = 0; k < started; k++) pthread_join(t[k], NULL);
    return p.err;
}
