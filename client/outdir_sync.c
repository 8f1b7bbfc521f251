/* The thread that puts OUTDIR's staged files on disk while the job runs
 * (outdir_sync.h). One thread, paths in the order they were staged: the
 * disk takes them one after another anyway. */
#include "outdir_sync.h"

#include "mf_fs.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char **v;
    size_t n, cap;
} paths_t;

struct outdir_sync {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* a path queued, one done, or stop */
    paths_t queue, done;
    size_t next; /* queue.v[next] is the next to sync */
    int busy, stop, failed_errno;
    char *failed;
};

static int s_push(paths_t *p, char *path)
{
    if (p->n == p->cap) {
        const size_t cap = p->cap ? 2 * p->cap : 32;
        char **v = realloc(p->v, cap * sizeof *v);
        if (!v) return -1;
        p->v = v, p->cap = cap;
    }
    p->v[p->n++] = path;
    return 0;
}

static void s_clear(paths_t *p)
{
    for (size_t i = 0; i < p->n; i++) free(p->v[i]);
    free(p->v);
    *p = (paths_t){0};
}

static void *s_run(void *arg)
{
    outdir_sync_t *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->stop && s->next == s->queue.n) pthread_cond_wait(&s->cond, &s->lock);
        if (s->stop) break;
        char *path = s->queue.v[s->next];
        s->queue.v[s->next++] = NULL;
        s->busy = 1;
        pthread_mutex_unlock(&s->lock);
        const int rc = mf_fs_sync(path), e = errno;
        pthread_mutex_lock(&s->lock);
        s->busy = 0;
        if (rc == 0 && s_push(&s->done, path) == 0)
            path = NULL;
        else if (rc != 0 && e != ENOENT && !s->failed) /* ENOENT: staged again, queued again */
            s->failed = path, s->failed_errno = e, path = NULL;
        free(path);
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

outdir_sync_t *mf_outdir__sync_new(void)
{
    outdir_sync_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    if (pthread_create(&s->thread, NULL, s_run, s) != 0) {
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    return s;
}

void mf_outdir__sync_add(outdir_sync_t *s, const char *path)
{
    char *copy = s ? strdup(path) : NULL;
    if (!copy) return;
    pthread_mutex_lock(&s->lock);
    if (s_push(&s->queue, copy) != 0) free(copy);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

int mf_outdir__sync_wait(outdir_sync_t *s, const char **failed)
{
    if (!s) return 0;
    pthread_mutex_lock(&s->lock);
    while (s->next < s->queue.n || s->busy) pthread_cond_wait(&s->cond, &s->lock);
    const int rc = s->failed ? -1 : 0;
    if (s->failed) *failed = s->failed, errno = s->failed_errno;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int mf_outdir__sync_done(const outdir_sync_t *s, const char *path)
{
    for (size_t i = 0; s && i < s->done.n; i++)
        if (!strcmp(s->done.v[i], path)) return 1;
    return 0;
}

void mf_outdir__sync_free(outdir_sync_t **sp)
{
    if (!sp || !*sp) return;
    outdir_sync_t *s = *sp;
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    s_clear(&s->queue);
    s_clear(&s->done);
    free(s->failed);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
    *sp = NULL;
}
