/* Deleting intermediates once read (blob_refs.h, mf_sched_set_drop): the
 * counts themselves, then a scheduler on a hand-made plan whose tasks are
 * completed here, so each deletion can be checked at the moment it
 * happens:
 *
 *   A  -> B --.
 *   A' -> C --+-> D -> OUTDIR      (A and A' are the same work: one blob)
 *   X  -> M(X's very bytes) -> E   (a content-named output equal to its input)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "blob_refs.h"
#include "mf_sched.h"

static void s_hash(int seed, mf_hash_t *h)
{
    char text[32];
    snprintf(text, sizeof text, "blob %d", seed);
    mf_hash_bytes(text, strlen(text), h);
}

static void test_counts(void **state)
{
    (void)state;
    mf_blob_refs_t *r = mf_blob_refs_new();
    assert_non_null(r);
    mf_hash_t a, b, never;
    s_hash(1, &a), s_hash(2, &b), s_hash(3, &never);
    assert_int_equal(mf_blob_refs_add(r, &a, 2), 0);
    assert_int_equal(mf_blob_refs_add(r, &a, 1), 0); /* a second producer of the same bytes */
    assert_int_equal(mf_blob_refs_release(r, &a), 0);
    assert_int_equal(mf_blob_refs_release(r, &a), 0);
    assert_int_equal(mf_blob_refs_release(r, &a), 1);     /* the last reader */
    assert_int_equal(mf_blob_refs_release(r, &a), 0);     /* once only */
    assert_int_equal(mf_blob_refs_release(r, &never), 0); /* never counted: not ours */
    assert_int_equal(mf_blob_refs_add(r, &b, 1), 0);
    assert_int_equal(mf_blob_refs_add(r, &b, MF_BLOB_PINNED), 0);
    assert_int_equal(mf_blob_refs_add(r, &b, MF_BLOB_PINNED), 0); /* saturates */
    for (int i = 0; i < 5; i++) assert_int_equal(mf_blob_refs_release(r, &b), 0);
    /* Thousands of blobs: the table grows and keeps every count. */
    for (int i = 100; i < 5100; i++) {
        mf_hash_t h;
        s_hash(i, &h);
        assert_int_equal(mf_blob_refs_add(r, &h, 1 + i % 3), 0);
    }
    for (int i = 100; i < 5100; i++) {
        mf_hash_t h;
        s_hash(i, &h);
        for (int k = 0; k < i % 3; k++) assert_int_equal(mf_blob_refs_release(r, &h), 0);
        assert_int_equal(mf_blob_refs_release(r, &h), 1);
    }
    mf_blob_refs_free(&r);
    assert_null(r);
}

/* ---- a scheduler on a hand-made plan ------------------------------------------- */

enum { A, A2, B, C, D, X, M, E, N_TASKS };

typedef struct {
    mf_hash_t dropped[32];
    int n;
} drops_t;

static void s_dropped(void *ctx, const mf_hash_t *blob)
{
    drops_t *d = ctx;
    if (d->n < 32) d->dropped[d->n] = *blob;
    d->n++;
}

static int s_was_dropped(const drops_t *d, const mf_hash_t *h)
{
    for (int i = 0; i < d->n && i < 32; i++)
        if (!strcmp(d->dropped[i].hex, h->hex)) return 1;
    return 0;
}

static int s_miss(void *ctx, const mf_hash_t *key, mf_hash_t *outs, int max)
{
    (void)ctx, (void)key, (void)outs, (void)max;
    return -1;
}

static void s_put(void *ctx, const mf_hash_t *key, const mf_hash_t *outs, int n)
{
    (void)ctx, (void)key, (void)outs, (void)n;
}

static void s_task(mf_plan_t *p, int i, const char *params, int n_in, const int *from)
{
    mf_plan_task_t *t = &p->tasks[i];
    t->kind = strdup("test");
    t->label = strdup(params);
    t->params = strdup(params);
    t->n_out = 1;
    t->in = calloc((size_t)n_in + 1, sizeof *t->in);
    for (int k = 0; k < n_in; k++) t->in[t->n_in++] = (mf_port_t){.task = from[k], .output = 0};
}

static mf_plan_t *s_plan(void)
{
    mf_plan_t *p = calloc(1, sizeof *p);
    p->tasks = calloc(N_TASKS, sizeof *p->tasks);
    p->n_tasks = p->cap_tasks = N_TASKS;
    s_task(p, A, "{\"a\":1}", 0, NULL);
    s_task(p, A2, "{\"a\":1}", 0, NULL); /* the same work, so the same output name */
    s_task(p, B, "{\"b\":1}", 1, (int[]){A});
    s_task(p, C, "{\"c\":1}", 1, (int[]){A2});
    s_task(p, D, "{\"d\":1}", 2, (int[]){B, C});
    s_task(p, X, "{\"x\":1}", 0, NULL);
    s_task(p, M, "{\"m\":1}", 1, (int[]){X});
    s_task(p, E, "{\"e\":1}", 1, (int[]){M});
    p->outputs = calloc(1, sizeof *p->outputs);
    p->outputs[0] = (mf_plan_output_t){
        .path = strdup("mix.wav"), .port = {.task = D, .output = 0}, .format = strdup("wav")};
    p->n_outputs = 1;
    p->mix = (mf_port_t){.task = D, .output = 0};
    return p;
}

/* Hands out every ready task; their keys by plan index. */
static int s_take_ready(mf_sched_t *sc, mf_task_t *held, int *n)
{
    int got = 0;
    mf_task_t t;
    while (mf_sched_next(sc, &t)) held[(*n)++] = t, got++;
    return got;
}

/* Completes task i of held[] with output: its task-named output, or the
 * name given (content-named bytes). */
static void s_complete(mf_sched_t *sc, mf_task_t *held, int n, int task, const mf_hash_t *as,
                       const char *error, mf_hash_t *out)
{
    for (int k = 0; k < n; k++) {
        if ((int)held[k].id != task || !held[k].kind) continue;
        mf_hash_t name;
        if (as)
            name = *as;
        else
            mf_task_output_name(&held[k].key, 0, &name);
        mf_task_result_t r = {
            .id = held[k].id, .outputs = &name, .n_outputs = error ? 0 : 1, .error = (char *)error};
        mf_sched_complete(sc, &r);
        if (out) *out = name;
        mf_task_fini(&held[k]);
        return;
    }
    fail_msg("task %d was not handed out", task);
}

static void test_sched_drops(void **state)
{
    (void)state;
    mf_plan_t *p = s_plan();
    const mf_action_cache_t cache = {.get = s_miss, .put = s_put};
    mf_sched_t *sc = mf_sched_new(p, &cache);
    mf_blob_refs_t *refs = mf_blob_refs_new();
    drops_t drops = {0};
    assert_int_equal(mf_sched_set_drop(sc, &(mf_sched_drop_t){refs, s_dropped, &drops}), 0);
    mf_task_t held[64];
    int n = 0;
    assert_int_equal(s_take_ready(sc, held, &n), 3); /* A, A', X */
    mf_hash_t a, a2, b, c, d, x, m;
    s_complete(sc, held, n, A, NULL, NULL, &a);
    s_complete(sc, held, n, A2, NULL, NULL, &a2);
    assert_string_equal(a.hex, a2.hex); /* one blob, two producers */
    s_complete(sc, held, n, X, NULL, NULL, &x);
    s_take_ready(sc, held, &n); /* B, C, M */
    /* M's output is X's very bytes (it changed nothing): counted before X is
     * released, so it stays for E. */
    s_complete(sc, held, n, M, &x, NULL, &m);
    assert_int_equal(drops.n, 0);
    /* B fails once: a retry will read A again, so nothing goes. */
    s_complete(sc, held, n, B, NULL, "boom", NULL);
    assert_int_equal(drops.n, 0);
    s_take_ready(sc, held, &n); /* B again, E */
    s_complete(sc, held, n, B, NULL, NULL, &b);
    assert_int_equal(drops.n, 0); /* C still reads the same blob */
    s_complete(sc, held, n, C, NULL, NULL, &c);
    assert_int_equal(drops.n, 1);
    assert_true(s_was_dropped(&drops, &a));
    s_complete(sc, held, n, E, NULL, NULL, NULL);
    assert_int_equal(drops.n, 2);
    assert_true(s_was_dropped(&drops, &m)); /* = X's bytes, read by M and E: now both done */
    s_take_ready(sc, held, &n);             /* D */
    s_complete(sc, held, n, D, NULL, NULL, &d);
    assert_int_equal(drops.n, 4);
    assert_true(s_was_dropped(&drops, &b));
    assert_true(s_was_dropped(&drops, &c));
    assert_false(s_was_dropped(&drops, &d)); /* OUTDIR's */
    assert_true(mf_sched_finished(sc));
    assert_null(mf_sched_error(sc));
    mf_sched_free(&sc);
    mf_blob_refs_free(&refs);
    mf_plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_sched_drops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
