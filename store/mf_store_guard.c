#include "mf_store_guard.h"
#include "mf_clock.h"
#include "mf_fs.h"
#include "mf_hash.h"
#include "mf_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAGIC "mixfarm store synced"
#define PROGRESS_EVERY_S 5.0 /* between two lines of a long check */
/* A file in tmp/ untouched this long has lost its writer (killed mid-write:
 * a writer touches its file with every buffer it writes); an hour also
 * covers a shared store whose server's clock is off by minutes. */
#define STALE_TMP_S 3600.0

struct mf_store_guard {
    mf_store_t *store; /* borrowed */
    char *marker;      /* DIR/synced */
    char *pending;     /* DIR/tmp/synced: the next marker, whose mtime is taken at once */
    char boot[64];
    double every_s;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int started, stop;
    int failing; /* the last flush failed (logged once until one works) */
};

static void s_boot_id(char *out, size_t n)
{
    const char *env = getenv("MIXFARM_BOOT_ID");
    out[0] = 0;
    if (env && env[0]) {
        snprintf(out, n, "%s", env);
        return;
    }
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (f && fgets(out, (int)n, f)) out[strcspn(out, "\n")] = 0;
    if (f) fclose(f);
    if (!out[0]) snprintf(out, n, "unknown"); /* then every start looks like the same boot */
}

/* 1: the marker names the boot of the last flush (boot) and when it began
 * (*at); 0: there is none (a new store, or one from before the guard);
 * -1: it cannot be read. */
static int s_read_marker(const char *path, char *boot, size_t n, struct timespec *at)
{
    struct stat st;
    if (stat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    FILE *f = fopen(path, "r");
    char line[128], fmt[32];
    snprintf(fmt, sizeof fmt, "boot %%%zus", n - 1);
    const int ok = f && fgets(line, sizeof line, f) && !strcmp(line, MAGIC "\n") &&
                   fgets(line, sizeof line, f) && sscanf(line, fmt, boot) == 1;
    if (f) fclose(f);
    *at = st.st_mtim;
    return ok ? 1 : -1;
}

/* Flushes the store's file system (unless it holds nothing yet: a new
 * store), then moves the marker forward to the moment the flush began: the
 * pending marker's mtime, taken before it. */
static int s_flush(mf_store_guard_t *g, int empty)
{
    FILE *f = fopen(g->pending, "w");
    int ok = f && fprintf(f, MAGIC "\nboot %s\n", g->boot) > 0;
    if (f && fclose(f) != 0) ok = 0;
    const int fd = ok ? open(mf_store_dir(g->store), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    ok = fd >= 0 && (empty || syncfs(fd) == 0) && mf_fs_rename_durable(g->pending, g->marker) == 0;
    const int saved = errno;
    if (fd >= 0) close(fd);
    if (!ok) {
        unlink(g->pending);
        if (!g->failing)
            mf_warn("%s: cannot flush the store to disk: %s; after a power cut, more of it "
                    "will be checked (tried again every %.0f s)",
                    mf_store_dir(g->store), strerror(saved), g->every_s);
    } else if (g->failing) {
        mf_info("%s: the store flushes again", mf_store_dir(g->store));
    }
    g->failing = !ok;
    return ok ? 0 : -1;
}

typedef struct {
    mf_store_guard_t *g;
    struct timespec since;
    mf_store_check_t *r;
    double next_progress;
} check_t;

static int s_changed(const struct stat *st, const struct timespec *since)
{
    return st->st_ctim.tv_sec > since->tv_sec ||
           (st->st_ctim.tv_sec == since->tv_sec && st->st_ctim.tv_nsec >= since->tv_nsec);
}

static int s_check_blob(void *ctx, const mf_hash_t *h, const struct stat *st)
{
    check_t *c = ctx;
    if (!s_changed(st, &c->since)) return 0;
    char *path = mf_store_path(c->g->store, h);
    mf_hash_t got;
    const int ok = path && S_ISREG(st->st_mode) && mf_hash_file(path, &got) == 0 &&
                   !memcmp(got.hex, h->hex, MF_HASH_HEX);
    free(path);
    c->r->blobs++, c->r->bytes += (int64_t)st->st_size;
    if (!ok && mf_store_discard(c->g->store, h) == 0) {
        c->r->dropped++;
        mf_debug("%s: blob %.12s does not match its name: dropped", mf_store_dir(c->g->store),
                 h->hex);
    }
    if (mf_clock_now() >= c->next_progress) {
        mf_info("%s: checked %zu blobs (%.1f GB) so far", mf_store_dir(c->g->store), c->r->blobs,
                (double)c->r->bytes / 1e9);
        c->next_progress = mf_clock_now() + PROGRESS_EVERY_S;
    }
    return 0;
}

static int s_check_action(void *ctx, const mf_hash_t *key, const struct stat *st)
{
    check_t *c = ctx;
    if (s_changed(st, &c->since) && mf_store_action_drop(c->g->store, key) == 0)
        c->r->actions_dropped++;
    return 0;
}

/* Checks what changed since since; why says why it is needed. */
static void s_check(mf_store_guard_t *g, const struct timespec *since, const char *why,
                    mf_store_check_t *r)
{
    const char *dir = mf_store_dir(g->store);
    char when[80] = "every blob";
    struct tm tm;
    const time_t t = since->tv_sec;
    if (since->tv_sec && localtime_r(&t, &tm))
        strftime(when, sizeof when, "the blobs changed since %Y-%m-%d %H:%M:%S", &tm);
    mf_warn("%s: %s: checking %s", dir, why, when);
    const double t0 = mf_clock_now();
    check_t c = {.g = g, .since = *since, .r = r, .next_progress = t0 + PROGRESS_EVERY_S};
    r->checked = 1;
    if (mf_store_each_stat(g->store, "objects", s_check_blob, &c) != 0 ||
        mf_store_each_stat(g->store, "actions", s_check_action, &c) != 0)
        mf_warn("%s: cannot read all of the store: %s", dir, strerror(errno));
    mf_store_empty_trash(g->store);
    mf_info("%s: checked %zu blobs (%.1f GB) in %.1f s: %zu kept, %zu dropped (damaged, or named "
            "after the task that made them), %zu action-cache entries dropped; what went is "
            "computed or uploaded again when a job needs it",
            dir, r->blobs, (double)r->bytes / 1e9, mf_clock_now() - t0, r->blobs - r->dropped,
            r->dropped, r->actions_dropped);
}

/* Removes what writers that were killed left in tmp/: the store's owner
 * alone, while other processes may be writing there (--shared-store), so
 * only files untouched for STALE_TMP_S. */
static void s_sweep_tmp(mf_store_guard_t *g)
{
    const int n = mf_store_clear_stale_tmp(g->store, STALE_TMP_S);
    if (n)
        mf_info("%s/tmp: removed %d half-written file%s whose writer stopped over an hour ago",
                mf_store_dir(g->store), n, n == 1 ? "" : "s");
}

static void *s_main(void *arg)
{
    mf_store_guard_t *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        const double at = (double)until.tv_sec + 1e-9 * (double)until.tv_nsec + g->every_s;
        until.tv_sec = (time_t)at, until.tv_nsec = (long)((at - (double)(time_t)at) * 1e9);
        while (!g->stop && pthread_cond_timedwait(&g->cv, &g->mu, &until) != ETIMEDOUT) {
        }
        if (g->stop) break;
        pthread_mutex_unlock(&g->mu);
        s_flush(g, 0);
        s_sweep_tmp(g);
        pthread_mutex_lock(&g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

static int s_any(void *ctx, const mf_hash_t *h, const struct stat *st)
{
    (void)ctx, (void)h, (void)st;
    return 1; /* one is enough */
}

/* Whether the store holds no blob and no action entry (a new one). */
static int s_empty(mf_store_t *s)
{
    return !mf_store_each_stat(s, "objects", s_any, NULL) &&
           !mf_store_each_stat(s, "actions", s_any, NULL);
}

static char *s_path(const char *dir, const char *name)
{
    const size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

mf_store_guard_t *mf_store_guard_open(mf_store_t *s, double every_s, mf_store_check_t *check)
{
    mf_store_check_t r = {0};
    mf_store_guard_t *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->store = s, g->every_s = every_s > 0 ? every_s : MF_STORE_SYNC_EVERY_S;
    g->marker = s_path(mf_store_dir(s), "synced");
    g->pending = s_path(mf_store_dir(s), "tmp/synced");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (!g->marker || !g->pending) goto fail;
    s_boot_id(g->boot, sizeof g->boot);
    char prev[64] = "";
    struct timespec since = {0, 0};
    const int m = s_read_marker(g->marker, prev, sizeof prev, &since);
    if (m < 0) {
        since = (struct timespec){0, 0};
        s_check(g, &since, "the record of its last flush to disk cannot be read", &r);
    } else if (m > 0 && strcmp(prev, g->boot) != 0) {
        s_check(g, &since, "the machine restarted since its last flush to disk", &r);
    }
    /* A marker of this boot at once when there was none or it was checked:
     * the next check starts from here. */
    if (m <= 0 || r.checked) s_flush(g, m == 0 && s_empty(s));
    s_sweep_tmp(g);
    if (pthread_create(&g->thread, NULL, s_main, g) != 0) {
        mf_error("%s: cannot start the thread that flushes the store", mf_store_dir(s));
        goto fail;
    }
    g->started = 1;
    if (check) *check = r;
    return g;
fail:
    mf_store_guard_free(&g);
    return NULL;
}

void mf_store_guard_free(mf_store_guard_t **pg)
{
    mf_store_guard_t *g = pg ? *pg : NULL;
    if (!g) return;
    if (g->started) {
        pthread_mutex_lock(&g->mu);
        g->stop = 1;
        pthread_cond_signal(&g->cv);
        pthread_mutex_unlock(&g->mu);
        pthread_join(g->thread, NULL);
    }
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g->marker);
    free(g->pending);
    free(g);
    *pg = NULL;
}
