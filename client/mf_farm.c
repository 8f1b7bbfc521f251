#include "mf_farm.h"
#include "mf_exec.h"
#include "mf_log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Two queues under one lock: tasks to run and results to apply. Only the
 * calling thread touches the scheduler, so it needs no lock of its own. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t work_cv, done_cv;
    mf_task_t *work;
    size_t work_n, work_cap;
    mf_task_result_t *done;
    size_t done_n, done_cap;
    int stop;
    mf_store_t *store;
} farm_t;

static void *s_worker(void *arg)
{
    farm_t *f = arg;
    pthread_mutex_lock(&f->lock);
    for (;;) {
        while (!f->stop && f->work_n == 0) pthread_cond_wait(&f->work_cv, &f->lock);
        if (f->stop) break;
        mf_task_t t = f->work[--f->work_n];
        pthread_mutex_unlock(&f->lock);
        mf_task_result_t r;
        mf_exec_run(f->store, &t, &r);
        mf_task_fini(&t);
        pthread_mutex_lock(&f->lock);
        f->done[f->done_n++] = r;
        pthread_cond_signal(&f->done_cv);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

mf_err_t mf_farm_run_embedded(mf_sched_t *sched, mf_store_t *store, int workers,
                              mf_progress_fn progress, void *ctx)
{
    if (workers < 1) workers = 1;
    size_t total = mf_sched_progress(sched).total;
    farm_t f = {.store = store, .work_cap = total + 1, .done_cap = total + 1};
    pthread_mutex_init(&f.lock, NULL);
    pthread_cond_init(&f.work_cv, NULL);
    pthread_cond_init(&f.done_cv, NULL);
    f.work = calloc(f.work_cap, sizeof *f.work);
    f.done = calloc(f.done_cap, sizeof *f.done);
    pthread_t *th = calloc((size_t)workers, sizeof *th);
    int started = 0;
    mf_err_t err = f.work && f.done && th ? MF_OK : MF_ERR_NOMEM;
    for (; err == MF_OK && started < workers; started++)
        if (pthread_create(&th[started], NULL, s_worker, &f) != 0) break;
    if (err == MF_OK && started == 0) err = MF_ERR_NOMEM;

    size_t inflight = 0;
    while (err == MF_OK && !mf_sched_finished(sched)) {
        mf_task_t t;
        pthread_mutex_lock(&f.lock);
        while (mf_sched_next(sched, &t)) {
            f.work[f.work_n++] = t;
            inflight++;
            pthread_cond_signal(&f.work_cv);
        }
        if (inflight == 0) { /* nothing running and nothing ready */
            pthread_mutex_unlock(&f.lock);
            if (!mf_sched_finished(sched)) err = MF_ERR_TASK;
            break;
        }
        while (f.done_n == 0) pthread_cond_wait(&f.done_cv, &f.lock);
        mf_task_result_t r = f.done[--f.done_n];
        pthread_mutex_unlock(&f.lock);
        inflight--;
        mf_sched_complete(sched, &r);
        mf_task_result_fini(&r);
        if (progress) {
            mf_sched_progress_t p = mf_sched_progress(sched);
            progress(&p, ctx);
        }
    }
    pthread_mutex_lock(&f.lock);
    f.stop = 1;
    pthread_cond_broadcast(&f.work_cv);
    pthread_mutex_unlock(&f.lock);
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    /* Tasks never started and results never applied: release them. */
    for (size_t i = 0; i < f.work_n; i++) mf_task_fini(&f.work[i]);
    for (size_t i = 0; i < f.done_n; i++) mf_task_result_fini(&f.done[i]);
    free(f.work);
    free(f.done);
    free(th);
    pthread_cond_destroy(&f.work_cv);
    pthread_cond_destroy(&f.done_cv);
    pthread_mutex_destroy(&f.lock);
    if (err == MF_OK && mf_sched_error(sched)) err = MF_ERR_TASK;
    return err;
}
