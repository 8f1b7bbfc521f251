/* Load and chaos (issue 9): many queued jobs on two workers with bounded
 * coordinator memory; workers killed at random moments again and again; the
 * coordinator killed at random moments and restarted. Every job must finish
 * with the same bits as an undisturbed render. Real processes on 127.0.0.1
 * (tests/cluster/cluster_util.h); every wait is bounded. */
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cluster_util.h"
#include "test_proc.h"

static char s_shared[1100], s_song[1200], s_ref[1200], s_tiny[1200], s_tiny_ref[1200];

static int group_setup(void **state)
{
    (void)state;
    if (cl_init(CL_SANITIZED ? 560 : 280) != 0) return -1;
    cl_path(s_shared, sizeof s_shared, cl_root(), "shared");
    if (mkdir(s_shared, 0755) != 0) return -1;
    cl_session_t song = {.n_tracks = 8, .prefix = "song", .track0_gain_db = -3};
    cl_write_session(s_shared, "song.json", "Song", &song, 20, 2);
    cl_path(s_song, sizeof s_song, s_shared, "song.json");
    cl_path(s_ref, sizeof s_ref, s_shared, "reference");
    cl_session_t tiny = {.n_tracks = 1, .prefix = "tiny", .track0_gain_db = 0};
    cl_write_session(s_shared, "tiny.json", "Tiny", &tiny, 1, 0);
    cl_path(s_tiny, sizeof s_tiny, s_shared, "tiny.json");
    cl_path(s_tiny_ref, sizeof s_tiny_ref, s_shared, "tiny-reference");
    cl_render(s_song, s_ref, 2, NULL);
    cl_render(s_tiny, s_tiny_ref, 1, NULL);
    return 0;
}

static void s_fetch_same(const cl_coord_t *c, uint64_t job, const char *ref, const char *name)
{
    char out[1200];
    cl_path(out, sizeof out, cl_test_dir(), name);
    cl_fetch_ok(c, job, out, ref);
}

/* 200 jobs queued at once on two one-slot workers: all finish, and the
 * coordinator's memory after 200 is close to what it was after 50 (it keeps
 * the 128 most recent finished jobs, and those of the last 120 s nobody has
 * fetched, coordinator/coord_jobs.c; the first, fetched, is let go). */
static void many_jobs_bounded_memory(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    const int n = CL_SANITIZED ? 60 : 200;
    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    cl_worker_start(&c, dir, "w1", 1, NULL, 0);
    cl_worker_start(&c, dir, "w2", 1, NULL, 0);
    uint64_t *jobs = calloc((size_t)n, sizeof *jobs);
    assert_non_null(jobs);
    long rss_quarter = -1;
    for (int i = 0; i < n; i++) {
        jobs[i] = cl_submit(&c, s_tiny, 0);
        if (i == n / 4 - 1) {
            cl_status_t st;
            cl_wait_state(&c, jobs[i], "done", 120 * CL_SLOW, &st);
            rss_quarter = test_proc_kb(c.pid, "VmRSS");
            s_fetch_same(&c, jobs[0], s_tiny_ref, "first");
        }
    }
    cl_status_t st;
    cl_wait_state(&c, jobs[n - 1], "done", 240 * CL_SLOW, &st);
    const int kept = n < 128 ? n : 128; /* the most recent finished jobs */
    for (int i = n - kept; i < n; i++) {
        assert_int_equal(cl_status(&c, jobs[i], &st), 0);
        if (strcmp(st.state, "done")) fail_msg("job %" PRIu64 " is %s", jobs[i], st.state);
    }
    if (n > kept) assert_int_not_equal(cl_status(&c, jobs[0], &st), 0); /* let go */
    long rss_end = test_proc_kb(c.pid, "VmRSS");
    print_message("    %d jobs done; coordinator RSS %ld KiB after %d, %ld KiB after %d\n", n,
                  rss_quarter, n / 4, rss_end, n);
    /* Bounded: three times as many jobs may not cost more than a few MiB.
     * (Not under the sanitizers: ASan keeps freed memory in quarantine.) */
    if (!CL_SANITIZED) assert_true(rss_end - rss_quarter < 8 * 1024);
    s_fetch_same(&c, jobs[n - 1], s_tiny_ref, "last");
    free(jobs);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

/* Workers killed with -9 at random moments, six times, a new one started
 * each time: the job completes with the undisturbed bits. */
/* Waits for the moment of a kill: in round 0 until the job has finished a
 * task (or ended), later a random 50 ms .. 50 + spread_ms. */
static void s_kill_moment(cl_coord_t *c, uint64_t job, int round, int spread_ms)
{
    if (round) {
        cl_sleep(0.05 + (rand() % spread_ms) / 1000.0);
        return;
    }
    cl_status_t st;
    for (int i = 0; i < 5000; i++) {
        if (cl_status(c, job, &st) != 0 || st.done > 0 || strcmp(st.state, "running")) return;
        cl_sleep(0.002);
    }
}

static void workers_killed_at_random(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    srand(12345);
    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    pid_t w[2];
    w[0] = cl_worker_start(&c, dir, "w0", 1, NULL, 0);
    w[1] = cl_worker_start(&c, dir, "w1", 1, NULL, 0);
    uint64_t job = cl_submit(&c, s_song, 0);
    int kills = 0;
    cl_status_t st;
    for (int round = 0; round < 6; round++) {
        /* The song renders in a few tenths of a second now: the first kill
         * comes as soon as a task has run (a random sleep could outlast the
         * whole job), the others at random moments after it. */
        s_kill_moment(&c, job, round, 250);
        assert_int_equal(cl_status(&c, job, &st), 0);
        if (strcmp(st.state, "running")) break;
        int victim = rand() % 2;
        cl_stop(w[victim], SIGKILL, 5);
        kills++;
        char name[16];
        snprintf(name, sizeof name, "w%d-%d", victim, round);
        w[victim] = cl_worker_start(&c, dir, name, 1, NULL, 0);
    }
    cl_wait_state(&c, job, "done", 120 * CL_SLOW, &st);
    print_message("    %d workers killed; %d/%d tasks done\n", kills, st.done, st.total);
    assert_true(kills >= 1);
    s_fetch_same(&c, job, s_ref, "fetched");
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

/* The coordinator killed with -9 at random moments, three times, and
 * restarted on its state: the job completes with the undisturbed bits. */
static void coordinator_killed_at_random(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    srand(54321);
    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    cl_worker_start(&c, dir, "w1", 1, NULL, 0);
    cl_worker_start(&c, dir, "w2", 1, NULL, 0);
    uint64_t job = cl_submit(&c, s_song, 0);
    cl_status_t st;
    int kills = 0;
    for (int round = 0; round < 3; round++) {
        s_kill_moment(&c, job, round, 300); /* as in workers_killed_at_random */
        if (cl_status(&c, job, &st) != 0 || strcmp(st.state, "running")) break;
        cl_stop(c.pid, SIGKILL, 5);
        kills++;
        cl_coord_start(&c, dir, c.port);
        cl_wait_joined(&c, "w1", 20 * CL_SLOW);
    }
    /* The job may have ended between the last look and the kill: a
     * restarted coordinator resumes unfinished jobs only, and says it no
     * longer holds a finished one. Submitted again, as that message says,
     * it comes whole from the action cache. */
    if (cl_status(&c, job, &st) == 2) {
        print_message("    the job ended just before a kill; submitted again\n");
        job = cl_submit(&c, s_song, 0);
        cl_wait_state(&c, job, "done", 120 * CL_SLOW, &st);
        assert_int_equal(st.cached, st.total);
    }
    cl_wait_state(&c, job, "done", 120 * CL_SLOW, &st);
    print_message("    coordinator killed %d times; %d/%d tasks done, %d cached\n", kills, st.done,
                  st.total, st.cached);
    assert_true(kills >= 1);
    s_fetch_same(&c, job, s_ref, "fetched");
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(many_jobs_bounded_memory, cl_setup, cl_teardown,
                                                 "many_jobs_bounded_memory"),
        cmocka_unit_test_prestate_setup_teardown(workers_killed_at_random, cl_setup, cl_teardown,
                                                 "workers_killed_at_random"),
        cmocka_unit_test_prestate_setup_teardown(coordinator_killed_at_random, cl_setup,
                                                 cl_teardown, "coordinator_killed_at_random"),
    };
    return cmocka_run_group_tests_name("chaos", tests, group_setup, NULL);
}
