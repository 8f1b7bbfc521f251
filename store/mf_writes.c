#include "mf_writes.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    mf_hash_t name;
    int fd;
    int64_t written;
    mf_write_state_t state;
} entry_t;

struct mf_writes {
    pthread_mutex_t lock;
    entry_t *v;
    size_t n, cap;
    unsigned long opened; /* writes begun so far */
};

mf_writes_t *mf_writes_new(void)
{
    mf_writes_t *w = calloc(1, sizeof *w);
    if (w) pthread_mutex_init(&w->lock, NULL);
    return w;
}

void mf_writes_free(mf_writes_t **pw)
{
    mf_writes_t *w = pw ? *pw : NULL;
    if (!w) return;
    for (size_t i = 0; i < w->n; i++)
        if (w->v[i].fd >= 0) close(w->v[i].fd);
    pthread_mutex_destroy(&w->lock);
    free(w->v);
    free(w);
    *pw = NULL;
}

/* Under the lock. */
static entry_t *s_find(mf_writes_t *w, const mf_hash_t *name)
{
    for (size_t i = 0; i < w->n; i++)
        if (!memcmp(w->v[i].name.hex, name->hex, MF_HASH_HEX)) return &w->v[i];
    return NULL;
}

static void s_drop(mf_writes_t *w, entry_t *e)
{
    if (e->fd >= 0) close(e->fd);
    *e = w->v[--w->n];
}

void mf_writes_expect(mf_writes_t *w, const mf_hash_t *name)
{
    pthread_mutex_lock(&w->lock);
    entry_t *e = s_find(w, name);
    if (e) s_drop(w, e); /* expected again (a retry): from the start */
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        entry_t *v = realloc(w->v, cap * sizeof *v);
        if (v) w->v = v, w->cap = cap;
    }
    /* Out of memory: not followed, uploaded once written as before. */
    if (w->n < w->cap) w->v[w->n++] = (entry_t){.name = *name, .fd = -1, .state = MF_WRITE_NONE};
    pthread_mutex_unlock(&w->lock);
}

void mf_writes_opened(mf_writes_t *w, const mf_hash_t *name, int fd)
{
    pthread_mutex_lock(&w->lock);
    entry_t *e = s_find(w, name);
    if (e && e->state == MF_WRITE_NONE && (e->fd = dup(fd)) >= 0) e->state = MF_WRITE_OPEN;
    if (e) w->opened++;
    pthread_mutex_unlock(&w->lock);
}

static void s_set(mf_writes_t *w, const mf_hash_t *name, int64_t written, mf_write_state_t state)
{
    pthread_mutex_lock(&w->lock);
    entry_t *e = s_find(w, name);
    if (e && e->state == MF_WRITE_OPEN) e->written = written, e->state = state;
    pthread_mutex_unlock(&w->lock);
}

void mf_writes_progress(mf_writes_t *w, const mf_hash_t *name, int64_t written)
{
    s_set(w, name, written, MF_WRITE_OPEN);
}

void mf_writes_ended(mf_writes_t *w, const mf_hash_t *name, int64_t size, int ok)
{
    s_set(w, name, size, ok ? MF_WRITE_DONE : MF_WRITE_FAILED);
}

mf_write_state_t mf_writes_state(mf_writes_t *w, const mf_hash_t *name, int64_t *written, int *fd)
{
    pthread_mutex_lock(&w->lock);
    entry_t *e = s_find(w, name);
    const mf_write_state_t st = e ? e->state : MF_WRITE_NONE;
    if (e) *written = e->written;
    if (fd) *fd = e && e->fd >= 0 ? dup(e->fd) : -1;
    pthread_mutex_unlock(&w->lock);
    return st;
}

unsigned long mf_writes_opened_count(mf_writes_t *w)
{
    pthread_mutex_lock(&w->lock);
    const unsigned long n = w->opened;
    pthread_mutex_unlock(&w->lock);
    return n;
}

void mf_writes_forget(mf_writes_t *w, const mf_hash_t *name)
{
    pthread_mutex_lock(&w->lock);
    entry_t *e = s_find(w, name);
    if (e) s_drop(w, e);
    pthread_mutex_unlock(&w->lock);
}
