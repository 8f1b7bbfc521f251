#include "journal_checkpoint.h"
#include "mf_clock.h"
#include "mf_log.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <time.h>

/* Often enough that the WAL stays a few MB at tens of thousands of task
 * events a second; each call with nothing to copy costs microseconds. */
#define PERIOD_MS 20

struct mf_ckpt {
    sqlite3 *db;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
};

static void s_checkpoint(struct mf_ckpt *c, int *failing)
{
    const int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY && !*failing)
        mf_warn("journal checkpoint: %s (retried; the WAL grows meanwhile)", sqlite3_errmsg(c->db));
    *failing = rc != SQLITE_OK && rc != SQLITE_BUSY;
}

static void *s_main(void *arg)
{
    struct mf_ckpt *c = arg;
    int failing = 0;
    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += PERIOD_MS * 1000000L;
        if (t.tv_nsec >= 1000000000L) t.tv_sec++, t.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&c->cv, &c->mu, &t);
        pthread_mutex_unlock(&c->mu);
        s_checkpoint(c, &failing);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* How long the journal's connection waits, at MF_CKPT_MAX_PAGES, for the
 * thread's checkpoint to end so that its own can truncate the WAL. */
#define TRUNCATE_WAIT_MS 5000

/* A truncating checkpoint, waiting for the thread's: a checkpoint under way
 * makes another return SQLITE_BUSY at once, without the busy handler, and
 * on a disk that falls behind the thread's can take long enough for the
 * WAL to pass 100 MB meanwhile. */
static int s_truncate(sqlite3 *db, const char *name)
{
    const double until = mf_clock_now() + TRUNCATE_WAIT_MS / 1e3;
    int rc;
    while ((rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL)) ==
               SQLITE_BUSY &&
           mf_clock_now() < until)
        nanosleep(&(struct timespec){0, 1000000L}, NULL);
    return rc;
}

/* After each commit, with the frames now in the WAL. */
static int s_own(void *ctx, sqlite3 *db, const char *name, int frames)
{
    (void)ctx;
    if (frames >= MF_CKPT_MAX_PAGES) {
        if (s_truncate(db, name) != SQLITE_OK)
            mf_warn("journal checkpoint: %s", sqlite3_errmsg(db));
    } else if (frames >= MF_CKPT_OWN_PAGES)
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

void mf_ckpt_own(sqlite3 *db)
{
    sqlite3_wal_hook(db, s_own, NULL);
}

mf_ckpt_t *mf_ckpt_start(const char *path)
{
    struct mf_ckpt *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    /* A connection learns that the file is in WAL mode when it first reads
     * it: until then a checkpoint does nothing. */
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(c->db, "PRAGMA journal_mode=WAL;", NULL, NULL, NULL) != SQLITE_OK) {
        mf_error("%s: cannot open the journal for checkpoints: %s", path, sqlite3_errmsg(c->db));
        sqlite3_close(c->db);
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->thread, NULL, s_main, c) != 0) {
        mf_error("%s: cannot start the checkpoint thread", path);
        c->stop = 1; /* no thread to join */
        mf_ckpt_stop(&c);
        return NULL;
    }
    return c;
}

void mf_ckpt_stop(mf_ckpt_t **cp)
{
    if (!cp || !*cp) return;
    struct mf_ckpt *c = *cp;
    pthread_mutex_lock(&c->mu);
    const int running = !c->stop;
    c->stop = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (running) pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    sqlite3_close(c->db);
    free(c);
    *cp = NULL;
}
