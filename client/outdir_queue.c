/* The thread that works through OUTDIR's staged files while the job runs
 * (outdir_queue.h). One thread, paths in the order they were staged: the
 * disk takes them one after another anyway, and one core hashing beside
 * the one receiving is what a client has to spare. */
#include "outdir_queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *path;
    int state; /* 0 to do, 1 done, -1 failed */
    mf_hash_t out;
} job_t;

struct outdir_queue {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* a path queued, one done, or stop */
    outdir_job_t job;
    job_t *v; /* every path added, kept with its job's result */
    size_t n, cap;
    size_t next; /* v[next] is the next to do */
    int busy, stop, joined, failed_errno;
    const char *failed; /* v[k].path of the first failure */
};

static void *s_run(void *arg)
{
    outdir_queue_t *q = arg;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (!q->stop && q->next == q->n) pthread_cond_wait(&q->cond, &q->lock);
        if (q->stop) break;
        const size_t k = q->next++;
        const char *path = q->v[k].path; /* the string stays where it is when v grows */
        q->busy = 1;
        pthread_mutex_unlock(&q->lock);
        mf_hash_t out = {{0}};
        const int rc = q->job(path, &out), e = errno;
        pthread_mutex_lock(&q->lock);
        q->busy = 0;
        q->v[k].state = rc == 0 ? 1 : -1;
        q->v[k].out = out;
        if (rc != 0 && e != ENOENT && !q->failed) q->failed = path, q->failed_errno = e;
        pthread_cond_broadcast(&q->cond);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

outdir_queue_t *mf_outdir__queue_new(outdir_job_t job)
{
    outdir_queue_t *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->job = job;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->cond, NULL);
    if (pthread_create(&q->thread, NULL, s_run, q) != 0) {
        pthread_cond_destroy(&q->cond);
        pthread_mutex_destroy(&q->lock);
        free(q);
        return NULL;
    }
    return q;
}

void mf_outdir__queue_add(outdir_queue_t *q, const char *path)
{
    char *copy = q ? strdup(path) : NULL;
    if (!copy) return;
    pthread_mutex_lock(&q->lock);
    if (q->n == q->cap) {
        const size_t cap = q->cap ? 2 * q->cap : 32;
        job_t *v = realloc(q->v, cap * sizeof *v);
        if (v) q->v = v, q->cap = cap;
    }
    if (q->n < q->cap) /* after a stop too: never done, the path's earlier result no longer holds */
        q->v[q->n++] = (job_t){.path = copy};
    else
        free(copy);
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

int mf_outdir__queue_wait(outdir_queue_t *q, const char **failed)
{
    if (!q) return 0;
    pthread_mutex_lock(&q->lock);
    while (!q->joined && (q->next < q->n || q->busy)) pthread_cond_wait(&q->cond, &q->lock);
    const int rc = q->failed ? -1 : 0;
    if (q->failed) *failed = q->failed, errno = q->failed_errno;
    pthread_mutex_unlock(&q->lock);
    return rc;
}

void mf_outdir__queue_stop(outdir_queue_t *q)
{
    if (!q || q->joined) return;
    pthread_mutex_lock(&q->lock);
    q->stop = 1;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
    pthread_join(q->thread, NULL);
    q->joined = 1; /* the calling thread's own: nobody else reads it now */
}

int mf_outdir__queue_done(const outdir_queue_t *q, const char *path, mf_hash_t *out)
{
    for (size_t k = q ? q->n : 0; k-- > 0;) {
        if (strcmp(q->v[k].path, path)) continue;
        if (q->v[k].state == 1 && out) *out = q->v[k].out;
        return q->v[k].state == 1; /* the last add decides */
    }
    return 0;
}

void mf_outdir__queue_free(outdir_queue_t **qp)
{
    if (!qp || !*qp) return;
    outdir_queue_t *q = *qp;
    mf_outdir__queue_stop(q);
    for (size_t k = 0; k < q->n; k++) free(q->v[k].path);
    free(q->v);
    pthread_cond_destroy(&q->cond);
    pthread_mutex_destroy(&q->lock);
    free(q);
    *qp = NULL;
}
