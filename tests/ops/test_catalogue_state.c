/* A catalogue run's state on disk (client/catalogue_state.c):
 *
 *   test_find            sessions looked up by path, in a catalogue whose
 *                        paths are in no order
 *   test_log_survives    job ids submitted after the last snapshot are in
 *                        the submission log at once, and a run started
 *                        after a crash reads them over the snapshot; a
 *                        line cut short and a session gone from the
 *                        catalogue are passed over
 *   test_snapshot_holds  a snapshot holds the log's jobs, and the log goes
 *   test_one_run_at_a_time  a second run on the same state is refused
 *                        while the first holds STATE.lock, let in after */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "catalogue.h"

#define N 6

static char s_dir[64];
static char s_state[128], s_log[140];

/* A catalogue of N sessions, s5.json down to s0.json, nothing submitted. */
static void s_make(catalogue_t *cat)
{
    memset(cat, 0, sizeof *cat);
    cat->coordinator = "tcp://127.0.0.1:1";
    cat->state_path = s_state;
    cat->priority = -10;
    cat->log_fd = cat->lock_fd = -1;
    cat->e = calloc(N, sizeof *cat->e);
    assert_non_null(cat->e);
    for (size_t i = 0; i < N; i++) {
        char p[96];
        snprintf(p, sizeof p, "/music/s%zu.json", N - 1 - i);
        cat->e[i].path = strdup(p);
        cat->e[i].rel = strdup(p + 7);
        snprintf(cat->e[i].state, sizeof cat->e[i].state, "pending");
    }
    cat->n = N;
    assert_int_equal(mf_cat_index(cat), 0);
}

static void s_submitted(catalogue_t *cat, const char *path, uint64_t job)
{
    cat_entry_t *e = mf_cat_find(cat, path);
    assert_non_null(e);
    e->job = job;
    mf_cat_set_error(e, "queued", NULL);
}

static int setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/mf-catstate-XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    snprintf(s_state, sizeof s_state, "%s/state.json", s_dir);
    snprintf(s_log, sizeof s_log, "%s.log", s_state);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(s_log);
    unlink(s_state);
    rmdir(s_dir);
    return 0;
}

static void test_find(void **state)
{
    (void)state;
    catalogue_t cat;
    s_make(&cat);
    for (size_t i = 0; i < N; i++) assert_ptr_equal(mf_cat_find(&cat, cat.e[i].path), &cat.e[i]);
    assert_null(mf_cat_find(&cat, "/music/s9.json"));
    assert_null(mf_cat_find(&cat, "/music/s"));
    assert_null(mf_cat_find(&cat, ""));
    mf_cat_free(&cat);
}

static void test_log_survives(void **state)
{
    (void)state;
    catalogue_t cat;
    s_make(&cat);
    s_submitted(&cat, "/music/s1.json", 11);
    assert_int_equal(mf_cat_save_state(&cat), 0);
    s_submitted(&cat, "/music/s3.json", 13);
    assert_int_equal(mf_cat_log_job(&cat, mf_cat_find(&cat, "/music/s3.json")), 0);
    s_submitted(&cat, "/music/s4.json", 14);
    assert_int_equal(mf_cat_log_job(&cat, mf_cat_find(&cat, "/music/s4.json")), 0);
    /* The run is killed here: no snapshot since s1. What a crash leaves
     * as well: a line for a session since removed, and a last line cut
     * short by the crash. */
    FILE *f = fopen(s_log, "a");
    assert_non_null(f);
    fputs("99\t/music/gone.json\n17\t/music/s5.json", f);
    fclose(f);
    mf_cat_free(&cat);

    catalogue_t again;
    s_make(&again);
    assert_int_equal(mf_cat_load_state(&again), 0);
    const uint64_t want[N] = {0, 11, 0, 13, 14, 0}; /* by s<k>.json */
    for (size_t k = 0; k < N; k++) {
        char p[64];
        snprintf(p, sizeof p, "/music/s%zu.json", k);
        const cat_entry_t *e = mf_cat_find(&again, p);
        assert_int_equal(e->job, want[k]);
        assert_string_equal(e->state, want[k] ? "queued" : "pending");
    }
    mf_cat_free(&again);
}

static void test_snapshot_holds(void **state)
{
    (void)state;
    catalogue_t cat;
    s_make(&cat);
    s_submitted(&cat, "/music/s2.json", 21);
    assert_int_equal(mf_cat_log_job(&cat, mf_cat_find(&cat, "/music/s2.json")), 0);
    assert_int_equal(access(s_log, F_OK), 0);
    assert_int_equal(mf_cat_save_state(&cat), 0);
    assert_int_not_equal(access(s_log, F_OK), 0);
    mf_cat_free(&cat);
    catalogue_t again;
    s_make(&again);
    assert_int_equal(mf_cat_load_state(&again), 0);
    assert_int_equal(mf_cat_find(&again, "/music/s2.json")->job, 21);
    assert_int_equal(mf_cat_find(&again, "/music/s0.json")->job, 0);
    mf_cat_free(&again);
}

static void test_one_run_at_a_time(void **state)
{
    (void)state;
    catalogue_t first, second;
    s_make(&first);
    s_make(&second);
    assert_int_equal(mf_cat_lock(&first), 0);
    assert_int_equal(mf_cat_lock(&second), -1);
    mf_cat_free(&first);
    close(second.lock_fd), second.lock_fd = -1;
    assert_int_equal(mf_cat_lock(&second), 0);
    mf_cat_free(&second);
    char lock[160];
    snprintf(lock, sizeof lock, "%s.lock", s_state);
    unlink(lock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find),
        cmocka_unit_test_setup_teardown(test_log_survives, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_holds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_run_at_a_time, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
