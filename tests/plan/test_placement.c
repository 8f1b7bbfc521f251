/* coordinator/coord_locality.c: where a ready task goes. A task goes to the
 * free worker holding most of its inputs; among equals, to the worker that
 * owns its group (the strips of one bus), and the first of a group to be
 * placed makes its worker the owner. A task whose inputs (1 MiB or more)
 * are all on a busy worker, offered a free one holding none, waits for the
 * busy one up to --locality-wait (mf_locality_pick's wait). Driven on a
 * coordinator's state built here (two workers, no sockets, a store whose
 * blobs only have sizes) and a plan of two buses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "no_cache.h"
#include "plan_fixture.h"
#include "coord_internal.h"
#include "mf_fs.h"

typedef struct {
    mf_session_t *session;
    mf_plan_t *plan;
    char dir[256];
    mf_coord_opts_t opts;
    coord_t c;
    worker_t w[2];
    uint64_t running[2][2];
    job_t job;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f) return -1;
    *state = f;
    if (!(f->session = pf_two_buses("placement.json"))) return -1;
    /* The sources' blobs are named after the tracks. */
    mf_hash_t blobs[4];
    for (size_t i = 0; i < 4; i++) mf_hash_bytes(f->session->tracks[i].ch.name, 2, &blobs[i]);
    f->plan = mf_plan_session(f->session, blobs);
    const mf_action_cache_t none = no_cache();
    f->job.sched = f->plan ? mf_sched_new(f->plan, &none) : NULL;
    if (!f->job.sched) return -1;
    for (int k = 0; k < 2; k++) {
        f->w[k].serial = (uint32_t)k + 1;
        f->w[k].slots = 2;
        f->w[k].running = f->running[k];
        snprintf(f->w[k].name, sizeof f->w[k].name, "w%d", k + 1);
    }
    f->c.workers = f->w;
    f->c.n_workers = f->c.cap_workers = 2;
    /* Source A1 is 2 MiB, A2 100 bytes: only A1 is worth a wait. */
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/mf-placement-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(f->dir) || !(f->c.store = mf_store_open(f->dir))) return -1;
    static char bytes[2 << 20];
    const size_t sizes[2] = {sizeof bytes, 100};
    for (int i = 0; i < 2; i++) {
        mf_blob_writer_t *bw = mf_blob_writer_new_named(f->c.store, &blobs[i]);
        mf_hash_t got;
        if (!bw || mf_blob_writer_write(bw, bytes, sizes[i]) != MF_OK ||
            mf_blob_writer_commit(bw, &got) != MF_OK)
            return -1;
    }
    f->c.opts = &f->opts;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    for (int k = 0; k < 2; k++) free(f->w[k].held);
    mf_store_free(&f->c.store);
    if (f->dir[0]) mf_fs_remove_tree(f->dir);
    mf_sched_free(&f->job.sched);
    mf_plan_free(&f->plan);
    mf_session_free(&f->session);
    free(f);
    return 0;
}

/* Hands out the ready task labelled so (as the dispatch loop does) and
 * returns the worker it goes to, which counts it as running. */
static worker_t *s_place(fixture_t *f, const char *label)
{
    locality_fit_t fit = {&f->c, 0.0};
    mf_task_t t;
    if (!mf_sched_next_fitting(f->job.sched, mf_locality_fits, &fit, &t)) fail_msg("none ready");
    assert_string_equal(f->plan->tasks[t.id].label, label);
    worker_t *w = mf_locality_pick(&f->c, &f->job, &t, 0.0, NULL);
    assert_non_null(w);
    w->running[w->n_running++] = t.id;
    mf_locality_note(w, t.inputs, t.n_inputs);
    f->c.next_worker = (size_t)(w - f->w + 1) % 2; /* round robin, as the loop does */
    mf_task_fini(&t);
    return w;
}

static void test_a_bus_on_one_worker(void **state)
{
    fixture_t *f = *state;
    /* Round robin would alternate; the owner of BusA's group takes A2. */
    worker_t *a = s_place(f, "strip A1");
    assert_ptr_equal(s_place(f, "strip A2"), a);
    /* That worker full, BusB's strips go to the other, which owns them. */
    worker_t *b = s_place(f, "strip B1");
    assert_ptr_not_equal(b, a);
    assert_ptr_equal(s_place(f, "strip B2"), b);
}

static void test_held_inputs_win(void **state)
{
    fixture_t *f = *state;
    /* The second worker already holds A2's source: it gets A2 although
     * the first owns BusA's group. */
    mf_hash_t a2;
    mf_hash_bytes("A2", 2, &a2);
    mf_locality_note(&f->w[1], &a2, 1);
    assert_ptr_equal(s_place(f, "strip A1"), &f->w[0]);
    assert_ptr_equal(s_place(f, "strip A2"), &f->w[1]);
}

static void test_lost_owner_replaced(void **state)
{
    fixture_t *f = *state;
    worker_t *a = s_place(f, "strip A1");
    /* The owner leaves (its serial is no worker's now): the next of its
     * group goes anywhere free and makes that worker the owner. */
    const uint32_t gone = a->serial;
    a->serial = 99, a->slots = 0;
    worker_t *next = s_place(f, "strip A2");
    assert_ptr_not_equal(next, a);
    uint64_t a2 = 0;
    while (strcmp(f->plan->tasks[a2].label, "strip A2")) a2++;
    assert_int_equal(mf_sched_owner(f->job.sched, a2), next->serial);
    assert_int_not_equal(next->serial, gone);
}

/* The next ready task, which must be labelled so (the caller finis it). */
static mf_task_t s_next(fixture_t *f, const char *label)
{
    mf_task_t t;
    if (!mf_sched_next(f->job.sched, &t)) fail_msg("none ready");
    assert_string_equal(f->plan->tasks[t.id].label, label);
    return t;
}

/* Whether t, handed out now, waits (the first worker is the free one). */
static int s_waits(fixture_t *f, const mf_task_t *t, double now)
{
    int wait = -1;
    mf_locality_pick(&f->c, &f->job, t, now, &wait);
    return wait;
}

/* The second worker holds A1's source and has no free slot. */
static void s_busy_holder(fixture_t *f)
{
    mf_hash_t a1;
    mf_hash_bytes("A1", 2, &a1);
    mf_locality_note(&f->w[1], &a1, 1);
    f->w[1].n_running = f->w[1].slots;
}

static void test_waits_for_the_holder(void **state)
{
    fixture_t *f = *state;
    s_busy_holder(f);
    mf_task_t t = s_next(f, "strip A1");
    f->c.locality_due = 1e9;
    assert_true(s_waits(f, &t, 10.0));
    assert_true(f->c.locality_due == 11.0); /* 1 s, from the first time it waited */
    assert_true(s_waits(f, &t, 10.9));
    assert_false(s_waits(f, &t, 11.0)); /* then anywhere */
    mf_task_fini(&t);
}

static void test_wait_option(void **state)
{
    fixture_t *f = *state;
    s_busy_holder(f);
    f->opts.locality_wait_s = 5; /* --locality-wait 5 */
    mf_task_t t = s_next(f, "strip A1");
    f->c.locality_due = 1e9;
    assert_true(s_waits(f, &t, 10.0));
    assert_true(f->c.locality_due == 15.0);
    assert_true(s_waits(f, &t, 14.0));
    assert_false(s_waits(f, &t, 15.0));
    mf_task_fini(&t);
}

static void test_no_wait(void **state)
{
    fixture_t *f = *state;
    s_busy_holder(f);
    mf_task_t a1 = s_next(f, "strip A1"), a2 = s_next(f, "strip A2");
    /* A2's source, which the busy worker holds too, is under 1 MiB. */
    mf_hash_t h2;
    mf_hash_bytes("A2", 2, &h2);
    mf_locality_note(&f->w[1], &h2, 1);
    assert_false(s_waits(f, &a2, 0.0));
    /* --locality-wait never */
    f->opts.locality_wait_s = -1;
    assert_false(s_waits(f, &a1, 0.0));
    f->opts.locality_wait_s = 0;
    /* The free worker is on the coordinator's store: nothing to move. */
    f->w[0].shared_store = 1;
    assert_false(s_waits(f, &a1, 0.0));
    f->w[0].shared_store = 0;
    /* The holder is avoided (its tasks keep failing). */
    f->w[1].avoid_until = 100.0;
    assert_false(s_waits(f, &a1, 0.0));
    f->w[1].avoid_until = 0;
    /* The free worker holds the input too. */
    mf_hash_t h1;
    mf_hash_bytes("A1", 2, &h1);
    mf_locality_note(&f->w[0], &h1, 1);
    assert_false(s_waits(f, &a1, 0.0));
    mf_task_fini(&a1), mf_task_fini(&a2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_bus_on_one_worker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_inputs_win, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_owner_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waits_for_the_holder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_option, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_wait, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
