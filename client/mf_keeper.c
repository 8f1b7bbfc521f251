#include "mf_keeper.h"
#include "client_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct job {
    struct job *next;
    size_t id;
    int kept;
    char *path, *blob, *format;
    mf_prev_how_t how; /* its strings are the job's */
} job_t;

struct mf_keeper {
    mf_outdir_t *o;
    const mf_prev_t *prev;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* a job queued, or stop (the thread); a job finished (the caller) */
    job_t *todo, **todo_end, *finished;
    size_t pending; /* queued or being copied */
    int started, stop;
    pthread_t thread;
};

static void s_job_free(job_t *j)
{
    if (!j) return;
    free(j->path), free(j->blob), free(j->format);
    free(j);
}

static void s_list_free(job_t *j)
{
    while (j) {
        job_t *next = j->next;
        s_job_free(j);
        j = next;
    }
}

static void *s_main(void *arg)
{
    mf_keeper_t *k = arg;
    pthread_mutex_lock(&k->lock);
    for (;;) {
        while (!k->todo && !k->stop) pthread_cond_wait(&k->wake, &k->lock);
        if (k->stop) break;
        job_t *j = k->todo;
        k->todo = j->next;
        if (!k->todo) k->todo_end = &k->todo;
        pthread_mutex_unlock(&k->lock);
        j->kept = mf_client__keep_as(k->o, k->prev, j->path, &j->how);
        pthread_mutex_lock(&k->lock);
        j->next = k->finished, k->finished = j;
        pthread_cond_broadcast(&k->wake);
    }
    pthread_mutex_unlock(&k->lock);
    return NULL;
}

mf_keeper_t *mf_keeper_new(mf_outdir_t *o, const mf_prev_t *prev)
{
    mf_keeper_t *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    k->o = o, k->prev = prev;
    k->todo_end = &k->todo;
    pthread_mutex_init(&k->lock, NULL);
    pthread_cond_init(&k->wake, NULL);
    return k;
}

mf_err_t mf_keeper_add(mf_keeper_t *k, size_t id, const char *path, const mf_prev_how_t *how)
{
    job_t *j = calloc(1, sizeof *j);
    if (j) {
        j->id = id;
        j->path = strdup(path), j->blob = strdup(how->blob), j->format = strdup(how->format);
        j->how = (mf_prev_how_t){j->blob, j->format, how->bits, how->frames};
    }
    if (!j || !j->path || !j->blob || !j->format) {
        s_job_free(j);
        return MF_ERR_NOMEM;
    }
    pthread_mutex_lock(&k->lock);
    /* Started with the first output: most renders take none. */
    if (!k->started && pthread_create(&k->thread, NULL, s_main, k) == 0) k->started = 1;
    if (k->started) {
        *k->todo_end = j, k->todo_end = &j->next;
        k->pending++;
        pthread_cond_broadcast(&k->wake);
    }
    pthread_mutex_unlock(&k->lock);
    if (!k->started) s_job_free(j);
    return k->started ? MF_OK : MF_ERR_IO;
}

int mf_keeper_done(mf_keeper_t *k, int wait, size_t *id, int *kept)
{
    pthread_mutex_lock(&k->lock);
    while (wait && !k->finished && k->pending) pthread_cond_wait(&k->wake, &k->lock);
    job_t *j = k->finished;
    if (j) k->finished = j->next, k->pending--;
    pthread_mutex_unlock(&k->lock);
    if (!j) return 0;
    *id = j->id, *kept = j->kept;
    s_job_free(j);
    return 1;
}

void mf_keeper_free(mf_keeper_t **kp)
{
    mf_keeper_t *k = kp ? *kp : NULL;
    if (!k) return;
    pthread_mutex_lock(&k->lock);
    k->stop = 1;
    pthread_cond_broadcast(&k->wake);
    pthread_mutex_unlock(&k->lock);
    if (k->started) pthread_join(k->thread, NULL);
    s_list_free(k->todo);
    s_list_free(k->finished);
    pthread_mutex_destroy(&k->lock);
    pthread_cond_destroy(&k->wake);
    free(k);
    *kp = NULL;
}
