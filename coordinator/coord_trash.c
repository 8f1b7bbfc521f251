/* Deleted blobs are freed off the loop's thread: the loop takes a blob out
 * of the store with a rename (mf_store_discard) and this thread unlinks
 * what is in the trash. An unlink costs about 10 ms per 23 MB here (460 MB
 * strips of a 20-minute session, far more), which the loop that dispatches
 * tasks must not wait for. Used by --store-budget (coord_budget.c) and by
 * an embedded farm that drops what every reader is done with
 * (coord_jobs.c). */
#include "coord_internal.h"
#include "mf_log.h"

#include <pthread.h>
#include <stdlib.h>

struct mf_trash {
    mf_store_t *store;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int work, stop;
};

static void *s_trash_main(void *arg)
{
    struct mf_trash *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stop) {
        if (!t->work) {
            pthread_cond_wait(&t->wake, &t->lock);
            continue;
        }
        t->work = 0;
        pthread_mutex_unlock(&t->lock);
        mf_store_empty_trash(t->store);
        pthread_mutex_lock(&t->lock);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

/* Sets a flag (t->work or t->stop) under the lock and wakes the thread. */
static void s_wake(struct mf_trash *t, int *flag)
{
    pthread_mutex_lock(&t->lock);
    *flag = 1;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
}

void mf_coord_trash_poke(coord_t *c)
{
    if (c->trash) s_wake(c->trash, &c->trash->work);
}

static void s_trash_free(struct mf_trash *t)
{
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->wake);
    free(t);
}

int mf_coord_trash_start(coord_t *c)
{
    if (c->trash) return 0;
    struct mf_trash *t = calloc(1, sizeof *t);
    if (!t) return -1;
    t->store = c->store, t->work = 1; /* what a previous run left */
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, NULL);
    if (pthread_create(&t->thread, NULL, s_trash_main, t) != 0) {
        s_trash_free(t);
        mf_error("cannot start the thread that frees deleted blobs");
        return -1;
    }
    c->trash = t;
    return 0;
}

void mf_coord_trash_stop(coord_t *c)
{
    struct mf_trash *t = c->trash;
    if (!t) return;
    s_wake(t, &t->stop);
    pthread_join(t->thread, NULL); /* what is left goes at the next start */
    s_trash_free(t);
    c->trash = NULL;
}
