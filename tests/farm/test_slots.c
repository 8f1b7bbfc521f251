/* The worker's slot threads (worker/slots.c): every result comes back, to
 * the slot that ran it, and the descriptor is readable whenever one waits
 * (a lost wake-up would leave a finished task unreported until the loop's
 * next tick); a slot stopped with a task in hand runs it first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fake_coord.h"
#include "worker_int.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4
#define ROUNDS 2000

static mf_task_t s_task(uint64_t id, const char *kind)
{
    mf_task_t t = {.id = id, .kind = (char *)kind, .params = (char *)"{}"};
    mf_task_key(&t, &t.key);
    return t;
}

/* Waits (at most 2 s) until the slots' descriptor is readable. */
static int s_readable(const mf_slots_t *s)
{
    struct pollfd p = {.fd = mf_slots_fd(s), .events = POLLIN};
    return poll(&p, 1, 2000) == 1;
}

/* Thousands of no-op tasks on four slots, each handed out as soon as a
 * slot is free, collected only after a poll says so, as the worker's loop
 * does: each comes back once, from its slot, without an error. */
static void test_every_result_announced(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    mf_store_t *st = mf_store_open(dir);
    assert_non_null(st);
    mf_slots_t *s = mf_slots_start(SLOTS, st);
    assert_non_null(s);
    uint64_t on_slot[SLOTS] = {0}, next = 1, done = 0;
    mf_task_t tasks[SLOTS];
    while (done < ROUNDS) {
        for (int i; next <= ROUNDS && (i = mf_slots_free(s)) >= 0; next++) {
            tasks[i] = s_task(next, "noop"); /* lent to the slot until its result */
            mf_slots_run(s, i, &tasks[i]);
            on_slot[i] = next;
        }
        if (!s_readable(s))
            fail_msg("a result waits and nothing says so (%llu of %d done)",
                     (unsigned long long)done, ROUNDS);
        int slot;
        mf_task_result_t r;
        while (mf_slots_result(s, &slot, &r)) {
            assert_true(slot >= 0 && slot < SLOTS);
            assert_int_equal(r.id, on_slot[slot]);
            assert_null(r.error);
            mf_task_result_fini(&r);
            done++;
        }
    }
    assert_int_equal(mf_slots_free(s), 0); /* all free again */
    /* And quiet: a descriptor left readable would spin the loop. A slot
     * writes the eventfd just after it queues its result, so a result the
     * loop took in between leaves one stale wake-up behind (at most one per
     * slot: it failed CI once so): each is answered with nothing and gone. */
    struct pollfd p = {.fd = mf_slots_fd(s), .events = POLLIN};
    int stale = 0, slot;
    mf_task_result_t r;
    while (stale <= SLOTS && poll(&p, 1, 20) == 1) {
        assert_false(mf_slots_result(s, &slot, &r));
        stale++;
    }
    if (stale > SLOTS) fail_msg("the eventfd stays readable over an empty queue: a spinning loop");
    assert_int_equal(poll(&p, 1, 0), 0);
    mf_slots_stop(&s);
    assert_null(s);
    mf_store_free(&st);
    test_rmdir(&dir);
}

/* A task the executor refuses comes back as an error from its slot. */
static void test_failure_reported(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    mf_store_t *st = mf_store_open(dir);
    mf_slots_t *s = mf_slots_start(2, st);
    assert_non_null(s);
    mf_task_t t = s_task(7, "no-such-kind");
    mf_slots_run(s, 1, &t);
    assert_int_equal(mf_slots_free(s), 0);
    assert_true(s_readable(s));
    int slot;
    mf_task_result_t r;
    assert_true(mf_slots_result(s, &slot, &r));
    assert_int_equal(slot, 1);
    assert_int_equal(r.id, 7);
    assert_non_null(r.error);
    mf_task_result_fini(&r);
    assert_false(mf_slots_result(s, &slot, &r)); /* nothing more */
    mf_slots_stop(&s);
    mf_store_free(&st);
    test_rmdir(&dir);
}

/* Stopped right after being handed tasks: every slot runs its task, and
 * the results nobody collected are freed (AddressSanitizer's leak check). */
static void test_stop_runs_what_it_holds(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    mf_store_t *st = mf_store_open(dir);
    mf_task_t tasks[SLOTS];
    mf_slots_t *s = mf_slots_start(SLOTS, st);
    assert_non_null(s);
    for (int i = 0; i < SLOTS; i++) {
        tasks[i] = s_task((uint64_t)i + 1, "noop");
        mf_slots_run(s, i, &tasks[i]);
    }
    assert_int_equal(mf_slots_free(s), -1);
    mf_slots_stop(&s);
    assert_null(s);
    mf_store_free(&st);
    test_rmdir(&dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_result_announced),
        cmocka_unit_test(test_failure_reported),
        cmocka_unit_test(test_stop_runs_what_it_holds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
