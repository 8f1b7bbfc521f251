#include "mf_parallel.h"
#include "mf_cpus.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_THREADS 4 /* a copy of a few files: more threads only contend for the disk */

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t finished; /* an fn returned (with done) */
    size_t next, n;
    mf_err_t err;
    mf_err_t (*fn)(void *ctx, size_t i);
    void *ctx;
    size_t *ok, n_ok, running; /* with done: the indices whose fn succeeded, not yet told */
} pool_t;

static void *s_run(void *arg)
{
    pool_t *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        const size_t i = p->err == MF_OK && p->next < p->n ? p->next++ : p->n;
        p->running += i < p->n;
        pthread_mutex_unlock(&p->lock);
        if (i >= p->n) return NULL;
        const mf_err_t err = p->fn(p->ctx, i);
        pthread_mutex_lock(&p->lock);
        if (err != MF_OK && p->err == MF_OK) p->err = err;
        if (err == MF_OK && p->ok) p->ok[p->n_ok++] = i;
        p->running--;
        pthread_cond_signal(&p->finished);
        pthread_mutex_unlock(&p->lock);
    }
}

/* Threads for n items (the caller's counted when it takes part). */
static size_t s_threads(size_t n)
{
    size_t want = (size_t)mf_cpu_count();
    if (want > MAX_THREADS) want = MAX_THREADS;
    return want > n ? n : want;
}

mf_err_t mf_parallel_for(size_t n, mf_err_t (*fn)(void *ctx, size_t i), void *ctx)
{
    pool_t p = {.lock = PTHREAD_MUTEX_INITIALIZER, .n = n, .fn = fn, .ctx = ctx};
    const size_t want = s_threads(n);
    pthread_t t[MAX_THREADS];
    size_t started = 0;
    for (size_t k = 1; k < want; k++) /* this thread is one of them */
        if (pthread_create(&t[started], NULL, s_run, &p) == 0) started++;
    s_run(&p);
    for (size_t k = 0; k < started; k++) pthread_join(t[k], NULL);
    return p.err;
}

mf_err_t mf_parallel_for_done(size_t n, mf_err_t (*fn)(void *ctx, size_t i),
                              mf_err_t (*done)(void *ctx, size_t i), void *ctx)
{
    pool_t p = {.lock = PTHREAD_MUTEX_INITIALIZER,
                .finished = PTHREAD_COND_INITIALIZER,
                .n = n,
                .fn = fn,
                .ctx = ctx,
                .ok = calloc(n + 1, sizeof *p.ok)};
    if (!p.ok) return MF_ERR_NOMEM;
    const size_t want = s_threads(n);
    pthread_t t[MAX_THREADS];
    size_t started = 0;
    for (size_t k = 0; k < want; k++)
        if (pthread_create(&t[started], NULL, s_run, &p) == 0) started++;
    if (!started && n) s_run(&p); /* no thread to be had: one at a time, here */
    pthread_mutex_lock(&p.lock);
    for (;;) {
        while (!p.n_ok && (p.running || (p.err == MF_OK && p.next < p.n)))
            pthread_cond_wait(&p.finished, &p.lock);
        if (!p.n_ok) break; /* nothing runs, nothing is left to take */
        const size_t i = p.ok[--p.n_ok];
        pthread_mutex_unlock(&p.lock);
        const mf_err_t err = p.err == MF_OK ? done(ctx, i) : MF_OK; /* after a failure, not */
        pthread_mutex_lock(&p.lock);
        if (err != MF_OK && p.err == MF_OK) p.err = err;
    }
    pthread_mutex_unlock(&p.lock);
    for (size_t k = 0; k < started; k++) pthread_join(t[k], NULL);
    pthread_cond_destroy(&p.finished);
    free(p.ok);
    return p.err;
}
