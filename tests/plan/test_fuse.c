/* coordinator/sched_fuse.c: a farm that keeps no blobs hands out a bus with
 * its strips inlined, under the keys and output names the strips and the
 * bus have when they run one by one; the strips are done with the bus,
 * their outputs never stored nor dropped; a failure or a lost worker makes
 * the strips ready again; a strip that cannot run with the others now goes
 * alone; and buses are fused only while that costs no parallelism. On the
 * planner's plan of two buses of two one-second tracks; and, with a send
 * from A2 to a third bus, BusA runs A1 inside it once A2 is done alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "blob_refs.h"
#include "mf_plan.h"
#include "no_cache.h"
#include "plan_fixture.h"

typedef struct {
    mf_session_t *session;
    mf_plan_t *plan;
    mf_hash_t blobs[4];
    mf_blob_refs_t *refs;
    mf_hash_t dropped[64];
    int n_dropped;
} fixture_t;

/* PF_TWO_BUSES with a send from A2 to a third bus. */
#define SEND_SESSION                                                                               \
    "{\"mixfarm\": 1, \"sample_rate\": 48000, \"tracks\": ["                                       \
    " {\"name\": \"A1\", \"file\": \"/a1.wav\", \"output\": \"BusA\"},"                            \
    " {\"name\": \"A2\", \"file\": \"/a2.wav\", \"output\": \"BusA\","                             \
    "  \"sends\": [{\"bus\": \"Verb\", \"level_db\": -10}]},"                                      \
    " {\"name\": \"B1\", \"file\": \"/b1.wav\", \"output\": \"BusB\"},"                            \
    " {\"name\": \"B2\", \"file\": \"/b2.wav\", \"output\": \"BusB\"}],"                           \
    " \"buses\": [{\"name\": \"BusA\"}, {\"name\": \"BusB\"}, {\"name\": \"Verb\"}]}"

/* A track on the master beside a bus: the master reads a task that waits. */
#define DIRECT_SESSION                                                                             \
    "{\"mixfarm\": 1, \"sample_rate\": 48000, \"tracks\": ["                                       \
    " {\"name\": \"A1\", \"file\": \"/a1.wav\"},"                                                  \
    " {\"name\": \"A2\", \"file\": \"/a2.wav\", \"output\": \"BusA\"},"                            \
    " {\"name\": \"B1\", \"file\": \"/b1.wav\", \"output\": \"BusA\"},"                            \
    " {\"name\": \"B2\", \"file\": \"/b2.wav\", \"output\": \"BusA\"}],"                           \
    " \"buses\": [{\"name\": \"BusA\"}]}"

static int s_setup(void **state, const char *text)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f) return -1;
    *state = f;
    if (text) {
        mf_diags_t d;
        mf_diags_init(&d, "send.json");
        mf_session_source_t src = {.audio = pf_mono_second};
        f->session = mf_session_load_text("send.json", text, &src, &d);
        if (!f->session) mf_diags_print(&d);
        mf_diags_fini(&d);
        if (!f->session) return -1;
    } else if (!(f->session = pf_two_buses("fuse.json"))) {
        return -1;
    }
    for (size_t i = 0; i < 4; i++) mf_hash_bytes(f->session->tracks[i].ch.name, 2, &f->blobs[i]);
    f->plan = mf_plan_session(f->session, f->blobs);
    f->refs = mf_blob_refs_new();
    return f->plan && f->refs ? 0 : -1;
}

static int setup(void **state)
{
    return s_setup(state, NULL);
}

static int setup_send(void **state)
{
    return s_setup(state, SEND_SESSION);
}

static int setup_direct(void **state)
{
    return s_setup(state, DIRECT_SESSION);
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    mf_blob_refs_free(&f->refs);
    mf_plan_free(&f->plan);
    mf_session_free(&f->session);
    free(f);
    return 0;
}

static void s_dropped(void *ctx, const mf_hash_t *blob)
{
    fixture_t *f = ctx;
    if (f->n_dropped < 64) f->dropped[f->n_dropped++] = *blob;
}

/* A scheduler of the plan; with a drop (a farm keeping no blobs) when
 * drop, then fused for slots. */
static mf_sched_t *s_sched(fixture_t *f, int drop, int slots, int *fused)
{
    const mf_action_cache_t none = no_cache();
    mf_sched_t *s = mf_sched_new(f->plan, &none);
    assert_non_null(s);
    if (drop) assert_int_equal(mf_sched_set_drop(s, &(mf_sched_drop_t){f->refs, s_dropped, f}), 0);
    *fused = mf_sched_set_fuse(s, slots);
    return s;
}

static const char *s_label(const fixture_t *f, const mf_task_t *t)
{
    return f->plan->tasks[t->id].label;
}

/* Completes t with its task-named outputs (or fails it with error). */
static void s_complete(mf_sched_t *s, fixture_t *f, mf_task_t *t, const char *error)
{
    const size_t n = f->plan->tasks[t->id].n_out;
    mf_hash_t outs[8];
    for (size_t o = 0; o < n; o++) mf_task_output_name(&t->key, o, &outs[o]);
    mf_task_result_t r = {
        .id = t->id, .outputs = outs, .n_outputs = error ? 0 : n, .error = (char *)error};
    mf_sched_complete(s, &r);
    mf_task_fini(t);
}

static int s_task_index(const fixture_t *f, const char *label)
{
    for (size_t i = 0; i < f->plan->n_tasks; i++)
        if (!strcmp(f->plan->tasks[i].label, label)) return (int)i;
    fail_msg("no task %s", label);
    return -1;
}

static void test_needs_a_drop(void **state)
{
    fixture_t *f = *state;
    int fused;
    mf_sched_t *s = s_sched(f, 0, 2, &fused);
    assert_int_equal(fused, 0); /* a kept strip may be read again: stored */
    mf_task_t t;
    assert_true(mf_sched_next(s, &t));
    assert_string_equal(s_label(f, &t), "strip A1");
    assert_int_equal(t.n_inlined, 0);
    mf_task_fini(&t);
    mf_sched_free(&s);
}

/* Four strips of one second: on one, two or three slots both buses are
 * fused (the schedule ends as late either way); on four, the strips alone
 * end after one second and a fused bus after two: none is. */
static void test_policy(void **state)
{
    fixture_t *f = *state;
    const int want[] = {0, 2, 2, 2, 0};
    for (int slots = 0; slots <= 4; slots++) {
        int fused;
        mf_sched_t *s = s_sched(f, 1, slots, &fused);
        if (fused != want[slots]) fail_msg("%d slots: %d buses fused", slots, fused);
        mf_sched_free(&s);
    }
}

/* The fused bus's key, and each strip's, are those of the strips run one
 * by one and then the bus. */
static void test_same_keys(void **state)
{
    fixture_t *f = *state;
    int fused;
    mf_sched_t *one = s_sched(f, 0, 0, &fused), *s = s_sched(f, 1, 2, &fused);
    assert_int_equal(fused, 2);
    mf_task_t a1, a2, bus, t;
    assert_true(mf_sched_next(one, &a1) && mf_sched_next(one, &a2));
    assert_string_equal(s_label(f, &a2), "strip A2");
    const mf_hash_t k1 = a1.key, k2 = a2.key;
    s_complete(one, f, &a1, NULL);
    s_complete(one, f, &a2, NULL);
    assert_true(mf_sched_next(one, &bus));
    assert_string_equal(s_label(f, &bus), "bus BusA");
    assert_true(mf_sched_next(s, &t));
    assert_string_equal(s_label(f, &t), "bus BusA");
    assert_string_equal(t.key.hex, bus.key.hex);
    assert_int_equal(t.n_inputs, bus.n_inputs);
    for (size_t k = 0; k < t.n_inputs; k++) assert_string_equal(t.inputs[k].hex, bus.inputs[k].hex);
    assert_int_equal(t.n_inlined, 2);
    assert_string_equal(t.inlined[0].key.hex, k1.hex);
    assert_string_equal(t.inlined[1].key.hex, k2.hex);
    for (size_t j = 0; j < 2; j++) {
        assert_string_equal(t.inlined[j].kind, "strip");
        mf_hash_t key;
        mf_task_key(&t.inlined[j], &key);
        assert_string_equal(key.hex, t.inlined[j].key.hex);
        assert_int_equal(mf_task_inlined_for(&t, j), (int)j); /* input j is strip j's */
    }
    mf_task_fini(&bus);
    mf_task_fini(&t);
    mf_sched_free(&one);
    mf_sched_free(&s);
}

/* Done with their bus: the strips count as done, their outputs answer for
 * them (render.json), and none is dropped (none was stored). */
static void test_done_together(void **state)
{
    fixture_t *f = *state;
    int fused;
    mf_sched_t *s = s_sched(f, 1, 2, &fused);
    mf_task_t a, b, t;
    assert_true(mf_sched_next(s, &a) && mf_sched_next(s, &b));
    assert_string_equal(s_label(f, &b), "bus BusB");
    assert_false(mf_sched_next(s, &t)); /* the master waits */
    mf_sched_progress_t p = mf_sched_progress(s);
    assert_int_equal(p.running, 6);
    const int a1 = s_task_index(f, "strip A1");
    const mf_hash_t a1_key = a.inlined[0].key;
    mf_hash_t a1_out;
    mf_task_output_name(&a1_key, 0, &a1_out);
    /* A strip inside a running bus is the bus's to report: a result or a
     * loss of its own changes nothing. */
    mf_task_result_t alone = {.id = (uint64_t)a1, .outputs = &a1_out, .n_outputs = 1};
    mf_sched_complete(s, &alone);
    mf_sched_requeue(s, (uint64_t)a1);
    p = mf_sched_progress(s);
    assert_int_equal(p.done, 0);
    assert_int_equal(p.running, 6);
    assert_false(mf_sched_next(s, &t));
    s_complete(s, f, &a, NULL);
    p = mf_sched_progress(s);
    assert_int_equal(p.done, 3);
    assert_int_equal(p.running, 3);
    assert_int_equal(mf_sched_task_state(s, (size_t)a1), MF_TS_DONE);
    assert_string_equal(mf_sched_key(s, (uint64_t)a1)->hex, a1_key.hex);
    const mf_hash_t *port = mf_sched_port(s, (mf_port_t){.task = a1, .output = 0});
    assert_non_null(port);
    assert_string_equal(port->hex, a1_out.hex);
    s_complete(s, f, &b, NULL);
    for (int i = 0; i < f->n_dropped; i++) assert_string_not_equal(f->dropped[i].hex, a1_out.hex);
    assert_int_equal(f->n_dropped, 0);
    assert_true(mf_sched_next(s, &t)); /* the master, reading both buses */
    assert_int_equal(t.n_inlined, 0);
    s_complete(s, f, &t, NULL);
    mf_sched_free(&s);
}

/* A fused bus that fails is tried again with its strips, a lost worker
 * costing none of its three runs; the third failure fails the job. */
static void test_failure_and_loss(void **state)
{
    fixture_t *f = *state;
    int fused;
    mf_sched_t *s = s_sched(f, 1, 2, &fused);
    mf_task_t t, other;
    assert_true(mf_sched_next(s, &t) && mf_sched_next(s, &other));
    mf_task_fini(&other);
    const uint64_t bus = t.id;
    s_complete(s, f, &t, "boom");
    assert_int_equal(mf_sched_progress(s).running, 3); /* BusB and its strips */
    assert_true(mf_sched_next(s, &t));
    assert_int_equal(t.id, bus);
    assert_int_equal(t.n_inlined, 2);
    mf_task_fini(&t);
    mf_sched_requeue(s, bus); /* its worker was lost */
    assert_int_equal(mf_sched_progress(s).running, 3);
    for (int run = 2; run <= 3; run++) {
        assert_true(mf_sched_next(s, &t));
        assert_int_equal(t.id, bus);
        assert_int_equal(t.n_inlined, 2);
        s_complete(s, f, &t, "boom");
    }
    assert_non_null(mf_sched_error(s));
    assert_non_null(strstr(mf_sched_error(s), "bus BusA: boom"));
    assert_false(mf_sched_next(s, &t));
    mf_sched_free(&s);
}

static int s_has_not_a2(void *ctx, const mf_hash_t *blob)
{
    const fixture_t *f = ctx;
    return strcmp(blob->hex, f->blobs[1].hex) != 0;
}

/* The next task is label, with inlined tasks inside it: run and completed. */
static void s_run_next(mf_sched_t *s, fixture_t *f, const char *label, size_t inlined)
{
    mf_task_t t;
    assert_true(mf_sched_next(s, &t));
    assert_string_equal(s_label(f, &t), label);
    assert_int_equal(t.n_inlined, inlined);
    s_complete(s, f, &t, NULL);
}

/* A strip whose source is still uploading: its bus's other strip goes
 * alone, and so does it once the source is there; the other bus is fused. */
static void test_not_ready_goes_alone(void **state)
{
    fixture_t *f = *state;
    int fused;
    mf_sched_t *s = s_sched(f, 1, 2, &fused);
    assert_int_equal(mf_sched_hold_missing(s, s_has_not_a2, f), 1);
    s_run_next(s, f, "strip A1", 0);
    s_run_next(s, f, "bus BusB", 2);
    mf_task_t t;
    assert_false(mf_sched_next(s, &t));
    assert_int_equal(mf_sched_arrived(s, &f->blobs[1]), 1);
    s_run_next(s, f, "strip A2", 0);
    s_run_next(s, f, "bus BusA", 0); /* its inputs are stored */
    mf_sched_free(&s);
}

/* A2 sends to Verb, so it has two readers and runs alone; BusA runs A1
 * inside it once A2 is done (A1, taken first, waits parked), under the
 * keys and inputs of the tasks run one by one. A lost worker makes A1, not
 * A2, ready again; the job ends with every task done once. */
static void test_send_runs_alone(void **state)
{
    fixture_t *f = *state;
    int fused;
    mf_sched_t *one = s_sched(f, 0, 0, &fused), *s = s_sched(f, 1, 2, &fused);
    assert_int_equal(fused, 2); /* BusA (with A1) and BusB */
    mf_task_t t, busb, a2;
    /* A1 is taken first and parked: A2 goes out alone, then BusB fused. */
    assert_true(mf_sched_next(s, &a2));
    assert_string_equal(s_label(f, &a2), "strip A2");
    assert_int_equal(a2.n_inlined, 0);
    assert_true(mf_sched_next(s, &busb));
    assert_string_equal(s_label(f, &busb), "bus BusB");
    assert_int_equal(busb.n_inlined, 2);
    assert_false(mf_sched_next(s, &t)); /* A1 waits for A2 */
    const int a1 = s_task_index(f, "strip A1");
    assert_int_equal(mf_sched_task_state(s, (size_t)a1), MF_TS_WAITING);
    s_complete(s, f, &a2, NULL);
    assert_true(mf_sched_next(s, &t));
    assert_string_equal(s_label(f, &t), "bus BusA");
    assert_int_equal(t.n_inlined, 1);
    assert_int_equal(mf_sched_task_state(s, (size_t)a1), MF_TS_RUNNING);
    /* The same task as the strips and the bus run one by one. */
    mf_task_t o1, o2, obus;
    assert_true(mf_sched_next(one, &o1) && mf_sched_next(one, &o2));
    assert_string_equal(s_label(f, &o2), "strip A2");
    assert_string_equal(o1.key.hex, t.inlined[0].key.hex);
    s_complete(one, f, &o1, NULL);
    s_complete(one, f, &o2, NULL);
    assert_true(mf_sched_next(one, &obus));
    assert_string_equal(s_label(f, &obus), "bus BusA");
    assert_string_equal(t.key.hex, obus.key.hex);
    assert_int_equal(t.n_inputs, obus.n_inputs);
    for (size_t k = 0; k < t.n_inputs; k++)
        assert_string_equal(t.inputs[k].hex, obus.inputs[k].hex);
    assert_int_equal(mf_task_inlined_for(&t, 0), 0);  /* A1's signal comes from inside */
    assert_int_equal(mf_task_inlined_for(&t, 1), -1); /* A2's is stored */
    mf_task_fini(&obus);
    mf_sched_free(&one);
    /* Its worker is lost: A1 is ready again, A2 stays done. */
    const uint64_t bus = t.id;
    mf_task_fini(&t);
    mf_sched_requeue(s, bus);
    s_run_next(s, f, "bus Verb", 0); /* ready since A2 was done */
    assert_true(mf_sched_next(s, &t));
    assert_string_equal(s_label(f, &t), "bus BusA");
    assert_int_equal(t.n_inlined, 1);
    s_complete(s, f, &t, NULL);
    s_complete(s, f, &busb, NULL);
    while (mf_sched_next(s, &t)) s_complete(s, f, &t, NULL);
    assert_true(mf_sched_finished(s));
    assert_null(mf_sched_error(s));
    const mf_sched_progress_t p = mf_sched_progress(s);
    assert_int_equal(p.done, p.total);
    assert_int_equal(p.running, 0);
    mf_sched_free(&s);
}

/* The master reads A1 and BusA: were A1 run inside it, A1 would wait for
 * the bus and its three strips, where it can run beside them. So only
 * BusA is fused (on one slot, where that costs nothing), and A1 goes out
 * alone. */
static void test_no_wait_for_a_bus(void **state)
{
    fixture_t *f = *state;
    int fused;
    mf_sched_t *s = s_sched(f, 1, 1, &fused);
    assert_int_equal(fused, 1);
    s_run_next(s, f, "strip A1", 0);
    s_run_next(s, f, "bus BusA", 3);
    s_run_next(s, f, "master master", 0);
    mf_task_t t;
    while (mf_sched_next(s, &t)) s_complete(s, f, &t, NULL);
    assert_true(mf_sched_finished(s));
    mf_sched_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_needs_a_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_done_together, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_and_loss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_ready_goes_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_runs_alone, setup_send, teardown),
        cmocka_unit_test_setup_teardown(test_no_wait_for_a_bus, setup_direct, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
