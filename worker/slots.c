/* Slot threads: each runs one task at a time with mf_exec_run. The loop
 * hands a slot its task through the slot's mailbox (a mutex and a
 * condition variable) and collects results from one queue, announced on an
 * eventfd the loop polls with its sockets.
 *
 * Plain threads rather than an inproc ZeroMQ socket per slot: every
 * ZeroMQ call on a socket asks the kernel for the process id (libzmq's
 * check for a fork) and every message crossed a mailbox of its own, so a
 * short task cost the worker a dozen system calls and several thread
 * wake-ups on top of its own work; this costs one wake-up each way. */
#include "mf_exec.h"
#include "mf_log.h"
#include "worker_int.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct {
    pthread_t thread;
    int started;
    int busy; /* the loop's view: a task handed over and its result not yet taken */
    mf_store_t *store;
    struct mf_slots *owner;
    /* The mailbox, under its own lock (not the queue's: a slot taking its
     * task does not wait for another posting a result). */
    pthread_mutex_t lock;
    const mf_task_t *task; /* waiting to run; borrowed from the loop until its result */
    int stop;
    _Atomic uint32_t progress; /* millionths of its task done (mf_exec_progress) */
    pthread_cond_t wake;
} slot_t;

typedef struct {
    int slot;
    mf_task_result_t r;
} done_t;

struct mf_slots {
    pthread_mutex_t lock; /* the result queue */
    slot_t *slot;
    int n;
    done_t *done; /* results not yet collected, oldest first: at most one per slot */
    int n_done;
    int efd; /* readable while results may be waiting */
};

/* Only the first result into an empty queue writes the eventfd: the loop
 * takes results until the queue is empty before it waits again. */
static void s_post(struct mf_slots *s, int slot, mf_task_result_t *r)
{
    pthread_mutex_lock(&s->lock);
    const int first = s->n_done == 0;
    s->done[s->n_done++] = (done_t){.slot = slot, .r = *r};
    pthread_mutex_unlock(&s->lock);
    const uint64_t one = 1;
    while (first && write(s->efd, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

/* Tests (cluster_faults): MIXFARM_TEST_KILL_ON=KIND kills this process as
 * a slot starts a task of that kind, as the kernel's out-of-memory killer
 * would a task too large for the machine, every time (a poison task);
 * MIXFARM_TEST_HANG_ON=KIND makes the slot spin on it for ever (a stuck
 * one). */
static const char *s_kill_on, *s_hang_on; /* read once: a slot starts 50,000 tasks a second */
static pthread_once_t s_faults_once = PTHREAD_ONCE_INIT;

static void s_read_faults(void)
{
    s_kill_on = getenv("MIXFARM_TEST_KILL_ON"), s_hang_on = getenv("MIXFARM_TEST_HANG_ON");
}

static void s_test_faults(const char *kind)
{
    pthread_once(&s_faults_once, s_read_faults);
    if (s_kill_on && !strcmp(s_kill_on, kind)) raise(SIGKILL);
    while (s_hang_on && !strcmp(s_hang_on, kind)) sleep(1);
}

static void *s_slot_main(void *arg)
{
    slot_t *sl = arg;
    struct mf_slots *s = sl->owner;
    const int index = (int)(sl - s->slot);
    for (;;) {
        pthread_mutex_lock(&sl->lock);
        while (!sl->task && !sl->stop) pthread_cond_wait(&sl->wake, &sl->lock);
        const mf_task_t *t = sl->task;
        sl->task = NULL;
        pthread_mutex_unlock(&sl->lock);
        if (!t) break; /* stopped, nothing left to run */
        mf_task_result_t r;
        atomic_store(&sl->progress, 0);
        s_test_faults(t->kind);
        mf_exec_run_progress(sl->store, t, &r, &sl->progress);
        s_post(s, index, &r);
    }
    return NULL;
}

mf_slots_t *mf_slots_start(int n, mf_store_t *store)
{
    mf_slots_t *s = calloc(1, sizeof *s);
    if (!s) goto fail;
    s->efd = -1;
    pthread_mutex_init(&s->lock, NULL);
    if (!(s->slot = calloc((size_t)n, sizeof *s->slot)) ||
        !(s->done = calloc((size_t)n, sizeof *s->done)) ||
        (s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
        goto fail;
    for (int i = 0; i < n; i++) {
        slot_t *sl = &s->slot[i];
        sl->store = store, sl->owner = s;
        pthread_mutex_init(&sl->lock, NULL);
        pthread_cond_init(&sl->wake, NULL);
        s->n++; /* counted before it runs: stop destroys its condition variable */
        const int rc = pthread_create(&sl->thread, NULL, s_slot_main, sl);
        if (rc != 0) {
            errno = rc;
            goto fail;
        }
        sl->started = 1;
    }
    return s;
fail:
    mf_error("cannot set up the slot threads: %s", strerror(errno));
    mf_slots_stop(&s);
    return NULL;
}

void mf_slots_stop(mf_slots_t **ps)
{
    if (!ps || !*ps) return;
    mf_slots_t *s = *ps;
    for (int i = 0; i < s->n; i++) {
        slot_t *sl = &s->slot[i];
        pthread_mutex_lock(&sl->lock);
        sl->stop = 1; /* after the task it holds, if any */
        pthread_cond_signal(&sl->wake);
        pthread_mutex_unlock(&sl->lock);
    }
    for (int i = 0; i < s->n; i++) {
        if (s->slot[i].started) pthread_join(s->slot[i].thread, NULL);
        pthread_cond_destroy(&s->slot[i].wake);
        pthread_mutex_destroy(&s->slot[i].lock);
    }
    for (int i = 0; i < s->n_done; i++) mf_task_result_fini(&s->done[i].r);
    if (s->efd >= 0) close(s->efd);
    pthread_mutex_destroy(&s->lock);
    free(s->done);
    free(s->slot);
    free(s);
    *ps = NULL;
}

int mf_slots_fd(const mf_slots_t *s)
{
    return s->efd;
}

uint32_t mf_slots_progress(mf_slots_t *s, int slot)
{
    return slot >= 0 && slot < s->n ? atomic_load(&s->slot[slot].progress) : 0;
}

int mf_slots_free(const mf_slots_t *s)
{
    for (int i = 0; i < s->n; i++)
        if (!s->slot[i].busy) return i;
    return -1;
}

void mf_slots_run(mf_slots_t *s, int slot, const mf_task_t *t)
{
    slot_t *sl = &s->slot[slot];
    pthread_mutex_lock(&sl->lock);
    sl->task = t;
    pthread_mutex_unlock(&sl->lock);
    pthread_cond_signal(&sl->wake); /* unlocked: the slot wakes to a free mutex */
    sl->busy = 1;
}

/* The oldest waiting result, if any. */
static int s_take(mf_slots_t *s, int *slot, mf_task_result_t *r)
{
    pthread_mutex_lock(&s->lock);
    const int got = s->n_done > 0;
    if (got) {
        *slot = s->done[0].slot, *r = s->done[0].r;
        memmove(s->done, s->done + 1, (size_t)--s->n_done * sizeof *s->done);
    }
    pthread_mutex_unlock(&s->lock);
    return got;
}

int mf_slots_result(mf_slots_t *s, int *slot, mf_task_result_t *r)
{
    if (!s_take(s, slot, r)) {
        /* Cleared before the queue is looked at again: a result posted
         * after this look writes the eventfd after it, and the loop's next
         * poll sees it. */
        uint64_t n;
        while (read(s->efd, &n, sizeof n) < 0 && errno == EINTR) {
        }
        if (!s_take(s, slot, r)) return 0;
    }
    s->slot[*slot].busy = 0;
    return 1;
}
