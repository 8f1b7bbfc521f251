#include "exec_internal.h"
#include "mf_source_reader.h"
#include "lib_versions.h"
#include "mf_kernels.h"
#include "mf_pcm.h"
#include "mf_qc_kernels.h"

#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <time.h>

static const struct {
    const char *kind;
    mf_executor_fn run;
} s_executors[] = {
    /* clang-format off */
    {"decode", mf_exec_decode},
    {"strip", mf_exec_channel}, /* strips, buses and the master are one kind of channel */
    {"bus", mf_exec_channel},
    {"master", mf_exec_channel},
    {"sum", mf_exec_channel},     /* a partial sum of a bus's inputs (coordinator/plan_sums.c) */
    {"mastering", mf_exec_mastering},
    {"qc", mf_exec_qc},
    {"encode", mf_exec_encode},   /* a deliverable file, checked by decoding it */
    {"album_levels", mf_exec_album_levels}, /* albums: each track's loudness target */
    {"sequence", mf_exec_sequence}, /* albums: the image, its timings and CUE sheet */
    {"listen", mf_exec_listen},   /* the master on one playback system (exec_listen.c) */
    {"listen_report", mf_exec_listen_report}, /* listen.json (listen_report.c) */
    {"compare", mf_exec_compare}, /* against mastering.reference (exec_reference.c) */
    {"match", mf_exec_match},     /* tonal balance and loudness of the reference */
    {"noop", mf_exec_noop},       /* measures the farm itself (tests/bench/bench_farm) */
    /* clang-format on */
};

mf_err_t mf_exec_noop(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r)
{
    (void)s, (void)t, (void)r;
    return MF_OK;
}

mf_err_t mf_exec_fail(mf_task_result_t *r, mf_err_t err, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    free(r->error);
    r->error = strdup(msg);
    return err;
}

void mf_exec_progress(mf_task_result_t *r, double done)
{
    if (!r->progress || !(done >= 0.0)) return;
    /* Never backwards (a pass read again): one writer, the task's thread. */
    const uint32_t now = (uint32_t)(fmin(done, 1.0) * 1e6);
    if (now > atomic_load_explicit(r->progress, memory_order_relaxed))
        atomic_store_explicit(r->progress, now, memory_order_relaxed);
}

mf_err_t mf_exec_fail_source(mf_task_result_t *r, mf_err_t err, const char *why)
{
    r->input_fault = mf_source_fault(err);
    return mf_exec_fail(r, err, "%s", why[0] ? why : mf_strerror(err));
}

void mf_exec_output_name(const mf_task_t *t, size_t index, mf_hash_t *out)
{
    mf_task_output_name(&t->key, index, out); /* mf_exec_run made sure it is set */
}

mf_err_t mf_exec_add_output(mf_task_result_t *r, const mf_hash_t *h)
{
    mf_hash_t *o = realloc(r->outputs, (r->n_outputs + 1) * sizeof *o);
    if (!o) return MF_ERR_NOMEM;
    r->outputs = o;
    r->outputs[r->n_outputs++] = *h;
    return MF_OK;
}

mf_err_t mf_exec_put_text(mf_store_t *s, const char *text, size_t len, mf_task_result_t *r)
{
    mf_hash_t h;
    mf_err_t err = mf_store_put_bytes(s, text, len, &h);
    return err == MF_OK ? mf_exec_add_output(r, &h) : err;
}

mf_err_t mf_exec_put_json(mf_store_t *s, json_t *doc, mf_task_result_t *r)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    mf_err_t err = text ? mf_exec_put_text(s, text, strlen(text), r) : MF_ERR_NOMEM;
    free(text);
    return err;
}

mf_err_t mf_exec_read_aux(mf_pcm_reader_t *rd, double max_s, int rate, const char *what,
                          mf_proc_aux_t *a, float **data, mf_task_result_t *r)
{
    const mf_pcm_info_t *in = mf_pcm_reader_info(rd);
    if (in->channels < 1 || in->channels > 2 || in->frames <= 0 || in->rate != rate ||
        in->frames > (int64_t)(max_s * rate) + 1)
        return mf_exec_fail(r, MF_ERR_INVALID, "%s: %d channels, %lld frames at %d Hz", what,
                            in->channels, (long long)in->frames, in->rate);
    if (!(*data = malloc((size_t)in->frames * (size_t)in->channels * sizeof **data)))
        return MF_ERR_NOMEM;
    *a = (mf_proc_aux_t){.data = *data, .frames = (size_t)in->frames, .channels = in->channels};
    return mf_pcm_reader_read_span(rd, in->start, (size_t)in->frames, *data);
}

static char s_numerics[64];
static once_flag s_numerics_once = ONCE_FLAG_INIT;
#if defined(__x86_64__)
#define MF_MACHINE "x86_64"
#elif defined(__aarch64__)
#define MF_MACHINE "aarch64"
#else
#define MF_MACHINE "other"
#endif
static void s_numerics_init(void)
{
    const char *dsp = mf_dsp_kernels()->family, *qc = mf_qc_kernels()->family;
    /* Plain C kernels are the same code on every machine, but the libm and
     * FFTW they call are not: the machine is then part of the arithmetic. */
    const int plain = !strcmp(dsp, "c") || !strcmp(qc, "c");
    /* So are the libraries' versions, by a digest (the list is long). */
    mf_hash_t libs;
    mf_hash_bytes(mf_lib_versions(), strlen(mf_lib_versions()), &libs);
    snprintf(s_numerics, sizeof s_numerics, "dsp=%s qc=%s%s libs=%.8s", dsp, qc,
             plain ? " on " MF_MACHINE : "", libs.hex);
}

const char *mf_exec_numerics(void)
{
    call_once(&s_numerics_once, s_numerics_init);
    return s_numerics;
}

mf_err_t mf_exec_run(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r)
{
    return mf_exec_run_progress(s, t, r, NULL);
}

mf_err_t mf_exec_run_progress(mf_store_t *s, const mf_task_t *t, mf_task_result_t *r,
                              _Atomic uint32_t *progress)
{
    if (t->numerics && t->numerics[0] && strcmp(t->numerics, mf_exec_numerics()) != 0) {
        memset(r, 0, sizeof *r);
        r->id = t->id;
        return mf_exec_fail(r, MF_ERR_INVALID,
                            "this worker computes with %s, not with %s, the arithmetic of the "
                            "task's job",
                            mf_exec_numerics(), t->numerics);
    }
    mf_task_t keyed; /* a task made by hand (tests) comes without its key */
    if (!t->key.hex[0]) {
        keyed = *t;
        mf_task_key(t, &keyed.key);
        t = &keyed;
    }
    memset(r, 0, sizeof *r);
    r->id = t->id, r->progress = progress;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    mf_err_t err = MF_ERR_INVALID;
    int found = 0;
    for (size_t i = 0; i < sizeof s_executors / sizeof s_executors[0]; i++) {
        if (strcmp(s_executors[i].kind, t->kind) == 0) {
            found = 1;
            /* Only a channel runs tasks inside it (its strips). */
            err = t->n_inlined && s_executors[i].run != mf_exec_channel
                      ? mf_exec_fail(r, MF_ERR_INVALID, "a %s task runs no task inside it", t->kind)
                      : s_executors[i].run(s, t, r);
            break;
        }
    }
    if (!found) err = mf_exec_fail(r, MF_ERR_INVALID, "unknown task kind \"%s\"", t->kind);
    if (err != MF_OK && !r->error) mf_exec_fail(r, err, "%s", mf_strerror(err));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    r->progress = NULL;
    return err;
}
