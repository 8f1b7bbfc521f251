#include "mf_embedded.h"
#include "store_budget.h"
#include "mf_coord.h"
#include "mf_fs.h"
#include "mf_tempdir.h"
#include "mf_log.h"
#include "mf_store_guard.h"
#include "mf_worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

typedef struct {
    mf_embedded_t *farm;
    mf_worker_opts_t opts;
    char name[32];
    pthread_t thread;
    int started;
} worker_thread_t;

struct mf_embedded {
    void *zctx;
    char state_dir[4096];
    int lock_fd;  /* a kept state_dir's lock, or -1 (a temporary one) */
    int owner_fd; /* a temporary state_dir's owner mark (mf_fs_own), or -1 */
    char endpoint[64];
    const char *binds[1];
    mf_coord_opts_t copts;
    mf_store_t *store;
    mf_store_guard_t *guard; /* a kept state_dir's (mf_store_guard.h), or NULL */
    pthread_t coord_thread;
    int coord_started;
    atomic_int stop_coord, stop_workers; /* read by the farm's threads */
    int wake_coord, wake_workers;        /* eventfds written when each stop is set (0: none) */
    worker_thread_t *workers;
    int n_workers;
};

/* An eventfd, left readable once written: every thread polling it wakes
 * (level-triggered) and sees its stop flag. 0 when there is none. */
static int s_wake_new(void)
{
    const int fd = eventfd(0, EFD_CLOEXEC);
    if (fd == 0) close(fd); /* 0 means none to the loops: stdin was closed */
    return fd > 0 ? fd : 0;
}

static void s_wake(int fd)
{
    const uint64_t one = 1;
    if (fd > 0 && write(fd, &one, sizeof one) != sizeof one)
        mf_debug("waking the embedded farm: %s", strerror(errno));
}

static void s_wake_close(mf_embedded_t *e)
{
    if (e->wake_coord > 0) close(e->wake_coord);
    if (e->wake_workers > 0) close(e->wake_workers);
    e->wake_coord = e->wake_workers = 0;
}

static void *s_coord_main(void *arg)
{
    mf_embedded_t *e = arg;
    mf_log_thread_min(MF_LOG_WARN);
    if (mf_coord_run(&e->copts, &e->stop_coord) != 0) mf_error("the embedded coordinator failed");
    return NULL;
}

static void *s_worker_main(void *arg)
{
    worker_thread_t *w = arg;
    mf_log_thread_min(MF_LOG_WARN);
    mf_worker_run(&w->opts, &w->farm->stop_workers);
    return NULL;
}

/* A kept state folder, locked for this render: a second render on it
 * waits here (flock is released when a process ends, however it ends). */
static int s_lock_state(mf_embedded_t *e, const char *dir)
{
    if (strlen(dir) + 16 > sizeof e->state_dir) {
        mf_error("%.64s...: the state folder's path is too long", dir);
        return -1;
    }
    snprintf(e->state_dir, sizeof e->state_dir, "%s", dir);
    char lock[sizeof e->state_dir + 8];
    snprintf(lock, sizeof lock, "%s/lock", dir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        mf_error("%s: cannot create the state folder: %s", dir, strerror(errno));
        return -1;
    }
    if ((e->lock_fd = mf_fs_lock_file(lock, 0)) >= 0) return 0;
    if (errno == EWOULDBLOCK) {
        mf_info("%s: another render is using this state folder; waiting for it", dir);
        if ((e->lock_fd = mf_fs_lock_file(lock, 1)) >= 0) return 0;
    }
    mf_error("%s: cannot lock: %s", lock, strerror(errno));
    return -1;
}

/* A temporary state folder, this process's while it lives (mf_tempdir.h). */
static int s_temp_state(mf_embedded_t *e)
{
    if (mf_temp_dir("mixfarm-embedded-", e->state_dir, sizeof e->state_dir, &e->owner_fd) == 0)
        return 0;
    mf_error("%s: cannot create a temporary folder: %s", e->state_dir, strerror(errno));
    e->state_dir[0] = 0;
    return -1;
}

/* A kept store over its budget: the least recently used blobs go (a cache
 * hit or a source used again counts as a use: their files' times are
 * touched). Nothing runs yet, so nothing needs keeping. */
static int s_trim_state(mf_store_t *store, int64_t budget, const char *state_dir)
{
    mf_store_empty_trash(store); /* a previous render's, if it stopped early */
    mf_budget_t *b = mf_budget_new(store, budget, 0.0);
    if (!b) return -1;
    const mf_budget_trim_t t = mf_budget_trim(b, 0.0, 0.0, NULL, NULL, SIZE_MAX);
    mf_store_empty_trash(store);
    if (t.deleted)
        mf_info("%s: %zu least recently used blobs deleted (%.2f GB) to stay within "
                "--store-budget; %.2f GB left",
                state_dir, t.deleted, (double)t.freed / 1e9, (double)mf_budget_bytes(b) / 1e9);
    mf_budget_free(&b);
    return 0;
}

mf_embedded_t *mf_embedded_start(int workers, const char *state_dir, int64_t store_budget)
{
    mf_embedded_t *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->lock_fd = e->owner_fd = -1;
    /* Without them the threads still stop, at their next tick (up to 0.2 s). */
    e->wake_coord = s_wake_new(), e->wake_workers = s_wake_new();
    if (state_dir ? s_lock_state(e, state_dir) : s_temp_state(e)) {
        if (e->lock_fd >= 0) close(e->lock_fd);
        s_wake_close(e);
        free(e);
        return NULL;
    }
    static int s_count;
    snprintf(e->endpoint, sizeof e->endpoint, "inproc://mixfarm-%d-%d", (int)getpid(),
             __atomic_fetch_add(&s_count, 1, __ATOMIC_RELAXED));
    e->zctx = zmq_ctx_new();
    char *blobs = mf_coord_blob_dir(e->state_dir);
    e->store = blobs ? mf_store_open(blobs) : NULL; /* created before any thread uses it */
    free(blobs);
    if (!e->zctx || !e->store) goto fail;
    if (e->lock_fd >= 0) { /* kept, and ours alone while locked */
        mf_store_mark_lasting(e->store);
        const int stale = mf_store_clear_tmp(e->store);
        if (stale)
            mf_info("%s: removed %d half-written blobs of a render that stopped", state_dir, stale);
        /* Checked before anything reads it, when the machine restarted. */
        if (!(e->guard = mf_store_guard_open(e->store, MF_STORE_SYNC_EVERY_S, NULL))) goto fail;
        if (store_budget > 0 && s_trim_state(e->store, store_budget, state_dir) != 0) goto fail;
    }
    e->binds[0] = e->endpoint;
    /* A job a previous render left unfinished (it was killed) has nobody
     * waiting for it: cancelled, its finished tasks kept in the cache. */
    e->copts = (mf_coord_opts_t){.zctx = e->zctx,
                                 .binds = e->binds,
                                 .n_binds = 1,
                                 .state_dir = e->state_dir,
                                 .drop_unfinished = 1,
                                 /* Without --state the store goes at the end:
                                  * what nothing reads any more goes now. */
                                 .drop_consumed = !state_dir,
                                 .fuse_slots = workers,
                                 .wake_fd = e->wake_coord};
    if (pthread_create(&e->coord_thread, NULL, s_coord_main, e) != 0) goto fail;
    e->coord_started = 1;
    e->workers = calloc((size_t)workers, sizeof *e->workers);
    if (!e->workers) goto fail;
    for (int i = 0; i < workers; i++) {
        worker_thread_t *w = &e->workers[i];
        w->farm = e;
        snprintf(w->name, sizeof w->name, "embedded-%d", i + 1);
        w->opts = (mf_worker_opts_t){.zctx = e->zctx,
                                     .endpoint = e->endpoint,
                                     .name = w->name,
                                     .slots = 1,
                                     .shared_store = e->store,
                                     .wake_fd = e->wake_workers};
        if (pthread_create(&w->thread, NULL, s_worker_main, w) != 0) goto fail;
        w->started = 1;
        e->n_workers++;
    }
    return e;
fail:
    mf_error("cannot start the embedded farm");
    mf_embedded_stop(&e);
    return NULL;
}

void mf_embedded_stop(mf_embedded_t **ep)
{
    if (!ep || !*ep) return;
    mf_embedded_t *e = *ep;
    /* Workers first, so none is left talking to a coordinator that is gone. */
    e->stop_workers = 1;
    s_wake(e->wake_workers);
    for (int i = 0; i < e->n_workers; i++)
        if (e->workers[i].started) pthread_join(e->workers[i].thread, NULL);
    e->stop_coord = 1;
    s_wake(e->wake_coord);
    if (e->coord_started) pthread_join(e->coord_thread, NULL);
    s_wake_close(e);
    free(e->workers);
    mf_store_guard_free(&e->guard);
    mf_store_free(&e->store);
    if (e->zctx) zmq_ctx_term(e->zctx);
    if (e->lock_fd >= 0)
        close(e->lock_fd); /* and so unlocked */
    else
        mf_fs_remove_owned(e->state_dir, &e->owner_fd);
    free(e);
    *ep = NULL;
}

void mf_embedded_discard(mf_embedded_t *e)
{
    if (!e || e->owner_fd < 0) return;
    /* Tasks still running may create a file in a folder being removed, which
     * then stays: a few passes, until the folder is gone (later creations
     * fail). What is left after them, the next render sweeps. */
    e->stop_workers = e->stop_coord = 1;
    for (int pass = 0; pass < 20 && (mf_fs_remove_tree(e->state_dir) == 0 || errno != ENOENT);
         pass++)
        usleep(5000);
}

void *mf_embedded_zctx(const mf_embedded_t *e)
{
    return e->zctx;
}
const char *mf_embedded_endpoint(const mf_embedded_t *e)
{
    return e->endpoint;
}
mf_store_t *mf_embedded_store(const mf_embedded_t *e)
{
    return e->store;
}
