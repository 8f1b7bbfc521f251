/* coordinator/mf_sched.c: sources still being uploaded. A client submits
 * before it uploads (client_submit.c), so a task reading a source the
 * store lacks waits for it (mf_sched_hold_missing) while the others run,
 * and runs once mf_sched_arrived says it is there; and a task says which
 * of its outputs no task reads (Task.unread), which a worker then need not
 * keep. Driven on a plan of two buses of two strips (plan_fixture.h),
 * without a farm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mf_sched.h"
#include "mf_session.h"
#include "no_cache.h"
#include "plan_fixture.h"

typedef struct {
    mf_session_t *session;
    mf_plan_t *plan;
    mf_sched_t *sched;
    mf_hash_t blobs[4]; /* track i's source */
    int present[4];     /* what the store holds */
} fixture_t;

static int s_has(void *ctx, const mf_hash_t *blob)
{
    const fixture_t *f = ctx;
    for (int i = 0; i < 4; i++)
        if (!strcmp(f->blobs[i].hex, blob->hex)) return f->present[i];
    return 1;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f) return -1;
    *state = f;
    if (!(f->session = pf_two_buses("awaited.json"))) return -1;
    for (size_t i = 0; i < 4; i++) mf_hash_bytes(f->session->tracks[i].ch.name, 2, &f->blobs[i]);
    f->plan = mf_plan_session(f->session, f->blobs);
    const mf_action_cache_t none = no_cache();
    f->sched = f->plan ? mf_sched_new(f->plan, &none) : NULL;
    return f->sched ? 0 : -1;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    mf_sched_free(&f->sched);
    mf_plan_free(&f->plan);
    mf_session_free(&f->session);
    free(f);
    return 0;
}

/* Which source task t reads (-1: none). */
static int s_source_of(const fixture_t *f, const mf_task_t *t)
{
    for (size_t k = 0; k < t->n_inputs; k++)
        for (int i = 0; i < 4; i++)
            if (!strcmp(t->inputs[k].hex, f->blobs[i].hex)) return i;
    return -1;
}

/* Reports t done, with outputs named after it, and frees it. */
static void s_complete(fixture_t *f, mf_task_t *t)
{
    mf_hash_t outs[MF_TASK_MAX_OUTPUTS];
    const size_t n_out = f->plan->tasks[t->id].n_out;
    for (size_t o = 0; o < n_out; o++) {
        char name[64];
        snprintf(name, sizeof name, "%llu/%zu", (unsigned long long)t->id, o);
        mf_hash_bytes(name, strlen(name), &outs[o]);
    }
    mf_task_result_t r = {.id = t->id, .outputs = outs, .n_outputs = n_out};
    mf_sched_complete(f->sched, &r);
    mf_task_fini(t);
}

/* Hands out and completes every ready task; returns how many ran, and sets
 * ran[i] for each source i a task of them read. */
static int s_run_ready(fixture_t *f, int ran[4])
{
    int n = 0;
    mf_task_t t;
    while (mf_sched_next(f->sched, &t)) {
        const int src = s_source_of(f, &t);
        if (src >= 0) ran[src] = 1;
        s_complete(f, &t);
        n++;
    }
    return n;
}

/* Nothing missing: nothing waits, and the plan runs as before. */
static void nothing_awaited(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 4; i++) f->present[i] = 1;
    assert_int_equal(mf_sched_hold_missing(f->sched, s_has, f), 0);
    assert_int_equal(mf_sched_awaited(f->sched, NULL), 0);
    int ran[4] = {0};
    assert_int_equal(s_run_ready(f, ran), (int)f->plan->n_tasks);
    assert_true(mf_sched_finished(f->sched));
    assert_null(mf_sched_error(f->sched));
}

/* B2's file is still on its way: everything that does not need it runs
 * (A1, A2, B1 and BusA), BusB and what follows wait, and its arrival lets
 * the rest run to the end. */
static void a_missing_source_waits(void **state)
{
    fixture_t *f = *state;
    f->present[0] = f->present[1] = f->present[2] = 1;
    assert_int_equal(mf_sched_hold_missing(f->sched, s_has, f), 1);
    const mf_hash_t *first = NULL;
    assert_int_equal(mf_sched_awaited(f->sched, &first), 1);
    assert_string_equal(first->hex, f->blobs[3].hex);
    int ran[4] = {0};
    const int before = s_run_ready(f, ran);
    assert_true(before > 0 && before < (int)f->plan->n_tasks);
    assert_true(ran[0] && ran[1] && ran[2]);
    assert_false(ran[3]);
    assert_false(mf_sched_finished(f->sched));
    assert_false(mf_sched_has_ready(f->sched));
    /* Another blob arriving releases nothing. */
    assert_int_equal(mf_sched_arrived(f->sched, &f->blobs[0]), 0);
    assert_int_equal(mf_sched_arrived(f->sched, &f->blobs[3]), 1);
    assert_int_equal(mf_sched_awaited(f->sched, NULL), 0);
    assert_int_equal(mf_sched_arrived(f->sched, &f->blobs[3]), 0); /* once */
    const int after = s_run_ready(f, ran);
    assert_true(ran[3]);
    assert_int_equal(before + after, (int)f->plan->n_tasks);
    assert_true(mf_sched_finished(f->sched));
    assert_null(mf_sched_error(f->sched));
}

/* Nothing is there yet: nothing is handed out until a file arrives, and
 * each arrival releases exactly the strip that reads it. */
static void all_missing(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(mf_sched_hold_missing(f->sched, s_has, f), 4);
    mf_task_t t;
    assert_int_equal(mf_sched_next(f->sched, &t), 0);
    int ran[4] = {0}, total = 0;
    for (int i = 3; i >= 0; i--) {
        assert_int_equal(mf_sched_arrived(f->sched, &f->blobs[i]), 1);
        memset(ran, 0, sizeof ran);
        total += s_run_ready(f, ran);
        for (int k = 0; k < 4; k++) assert_int_equal(ran[k], k == i);
    }
    assert_int_equal(total, (int)f->plan->n_tasks);
    assert_true(mf_sched_finished(f->sched));
}

/* A file that never comes: the job fails with the caller's words, and a
 * late arrival hands nothing out. */
static void given_up(void **state)
{
    fixture_t *f = *state;
    f->present[0] = f->present[1] = f->present[2] = 1;
    assert_int_equal(mf_sched_hold_missing(f->sched, s_has, f), 1);
    int ran[4] = {0};
    s_run_ready(f, ran);
    mf_sched_fail(f->sched, "b2.wav was never uploaded");
    assert_true(mf_sched_finished(f->sched));
    assert_string_equal(mf_sched_error(f->sched), "b2.wav was never uploaded");
    assert_int_equal(mf_sched_arrived(f->sched, &f->blobs[3]), 0);
    mf_task_t t;
    assert_int_equal(mf_sched_next(f->sched, &t), 0);
}

/* Task.unread: a strip's output is read by its bus, so a worker keeps it;
 * a listening copy's file is read by no task, so its worker need not. */
static void unread_outputs(void **state)
{
    fixture_t *f = *state;
    int strips = 0, copies = 0;
    mf_task_t t;
    while (mf_sched_next(f->sched, &t)) {
        if (!strcmp(t.kind, "strip")) {
            assert_int_equal(t.unread, 0);
            strips++;
        } else if (!strcmp(t.kind, "listen")) {
            assert_true(t.unread & 1u);
            copies++;
        }
        s_complete(f, &t);
    }
    assert_int_equal(strips, 4);
    assert_int_equal(copies, 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(nothing_awaited, setup, teardown),
        cmocka_unit_test_setup_teardown(a_missing_source_waits, setup, teardown),
        cmocka_unit_test_setup_teardown(all_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(given_up, setup, teardown),
        cmocka_unit_test_setup_teardown(unread_outputs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
