/* Cluster: a coordinator whose blob store has a budget (--store-budget).
 *
 *   budget_keeps_live_work_and_recomputes
 *     1. a small session renders; then a bigger one is submitted with no
 *        worker to run it: its sources alone put the store over budget. The
 *        coordinator deletes the small job's blobs and nothing of the live
 *        job, and says what it cannot delete;
 *     2. a worker joins: the big job completes, over budget throughout, and
 *        gives the bits an embedded render gives;
 *     3. fetching the small job now fails, naming the budget;
 *     4. the small session rendered again is recomputed (sources uploaded
 *        again, tasks run again), to the same bits as the first time;
 *     5. once nothing is in use the store settles under its budget.
 *
 *   album_kept_for_a_restart
 *     an album waits for a worker in a store far over its budget: its
 *     nested session (a text blob no task reads) stays with its audio, so
 *     the coordinator killed with -9 and restarted plans it again, and a
 *     worker then completes it. */
#include <dirent.h>
#include <inttypes.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cluster_util.h"

#define BUDGET_MB                                                                                  \
    22 /* MiB: over what the small job leaves (about 19 MB), under the                             \
        * big one's sources (28 MB) */

static char s_shared[1100], s_small[1200], s_song[1200], s_album[1200];

static int group_setup(void **state)
{
    (void)state;
    if (cl_init(CL_SANITIZED ? 560 : 280) != 0) return -1;
    cl_path(s_shared, sizeof s_shared, cl_root(), "shared");
    if (mkdir(s_shared, 0755) != 0) return -1;
    cl_session_t small = {.n_tracks = 2, .prefix = "small", .track0_gain_db = -2};
    cl_write_session(s_shared, "small.json", "Small", &small, 6, 1);
    /* Sources of 96 kB/s x 8 x 30..44 s: 28 MB, over the budget. */
    cl_session_t song = {.n_tracks = 8, .prefix = "song", .track0_gain_db = -3};
    cl_write_session(s_shared, "song.json", "Song", &song, 30, 2);
    cl_path(s_small, sizeof s_small, s_shared, "small.json");
    cl_path(s_song, sizeof s_song, s_shared, "song.json");
    cl_path(s_album, sizeof s_album, s_shared, "album.json");
    cl_write_text(s_album,
                  "{\"mixfarm\": 1, \"album\": {\"title\": \"Kept\"}, \"sample_rate\": 48000,"
                  " \"mastering\": {\"target\": \"streaming\", \"mode\": \"album\"},"
                  " \"tracks\": [{\"session\": \"small.json\"}],"
                  " \"outputs\": [{\"format\": \"wav\", \"bits\": 24}]}");
    return 0;
}

/* Bytes of the files under state/blobs/objects. */
static long long s_store_bytes(const cl_coord_t *c)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/blobs/objects", c->state);
    DIR *top = opendir(path);
    long long n = 0;
    for (struct dirent *fan; top && (fan = readdir(top));) {
        if (fan->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/blobs/objects/%s", c->state, fan->d_name);
        DIR *d = opendir(path);
        for (struct dirent *de; d && (de = readdir(d));) {
            char file[1700];
            struct stat st;
            snprintf(file, sizeof file, "%s/%s", path, de->d_name);
            if (de->d_name[0] != '.' && stat(file, &st) == 0) n += st.st_size;
        }
        if (d) closedir(d);
    }
    if (top) closedir(top);
    return n;
}

static void budget_keeps_live_work_and_recomputes(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    char small1[1200], small2[1200], song[1200], song_ref[1200], fetched[1200];
    cl_path(small1, sizeof small1, dir, "small-1");
    cl_path(small2, sizeof small2, dir, "small-2");
    cl_path(song, sizeof song, dir, "song");
    cl_path(song_ref, sizeof song_ref, dir, "song-embedded");
    cl_path(fetched, sizeof fetched, dir, "small-fetched");
    char budget[16], grace[16];
    snprintf(budget, sizeof budget, "%dM", BUDGET_MB);
    /* Long enough for a client to fetch what a job made as it ends. */
    snprintf(grace, sizeof grace, "%.0f", 3 * CL_SLOW);
    const char *extra[] = {"--store-budget", budget, "--store-grace", grace, NULL};
    cl_coord_t c = {.extra = extra};
    cl_coord_start(&c, dir, 0);
    assert_true(cl_file_contains(c.log, "blob store: 0 blobs"));
    pid_t w1 = cl_worker_start(&c, dir, "w1", 2, NULL, 0);
    cl_wait_joined(&c, "w1", 15 * CL_SLOW);
    cl_render(s_small, small1, 0, &c);
    const long long small_bytes = s_store_bytes(&c);
    print_message("    the small job left %.1f MB in the store\n", (double)small_bytes / 1e6);
    assert_true(small_bytes < BUDGET_MB * 1048576ll);

    /* 1. The big job waits for a worker, its sources uploaded: over budget. */
    assert_int_equal(cl_stop(w1, SIGTERM, 10 * CL_SLOW), 0);
    const uint64_t song_job = cl_submit(&c, s_song, 0);
    const long long with_sources = s_store_bytes(&c);
    assert_true(with_sources > BUDGET_MB * 1048576ll);
    if (!cl_wait_log(c.log, "least recently used blobs deleted", 1, 30 * CL_SLOW))
        fail_msg("the coordinator deleted nothing past its budget (store %.1f MB)",
                 (double)with_sources / 1e6);
    assert_true(cl_wait_log(c.log, "are in use by unfinished jobs", 1, 15 * CL_SLOW));
    /* Exactly the small job's blobs go (in one pass or two, as their grace
     * ends): the big job's sources stay. */
    double until = cl_now() + 15 * CL_SLOW;
    long long after;
    while ((after = s_store_bytes(&c)) > with_sources - small_bytes && cl_now() < until)
        cl_sleep(0.1);
    print_message("    store with the big job's sources %.1f MB; after the trim %.1f MB\n",
                  (double)with_sources / 1e6, (double)after / 1e6);
    assert_int_equal(after, with_sources - small_bytes);

    /* 2. A worker joins: the big job completes, nothing it needs deleted. */
    cl_worker_start(&c, dir, "w2", 2, NULL, 0);
    cl_wait_state(&c, song_job, "done", 120 * CL_SLOW, NULL);
    cl_fetch_ok(&c, song_job, song, NULL);
    cl_render(s_song, song_ref, 2, NULL);
    cl_assert_same_outdir(song, song_ref);

    /* 3. The small job's files are gone, and fetch says why. */
    cl_run_t f = cl_fetch(&c, 1, fetched);
    assert_int_equal(f.rc, 2); /* as for any job that cannot be fetched */
    if (!strstr(f.err, "--store-budget")) fail_msg("fetch of an evicted job said: %s", f.err);
    cl_run_free(&f);

    /* 4. Rendered again, it is recomputed, to the same bits. */
    cl_render(s_small, small2, 0, &c);
    cl_assert_same_outdir(small1, small2);
    cl_status_t st;
    assert_int_equal(cl_status(&c, 3, &st), 0);
    print_message("    the small session again: %d tasks, %d from the action cache\n", st.total,
                  st.cached);
    assert_true(st.cached < st.total);

    /* 5. With nothing in use, the store settles under its budget. */
    until = cl_now() + 30 * CL_SLOW;
    long long now_bytes;
    while ((now_bytes = s_store_bytes(&c)) > BUDGET_MB * 1048576ll && cl_now() < until)
        cl_sleep(0.25);
    print_message("    the store settled at %.1f MB (budget %d MiB)\n", (double)now_bytes / 1e6,
                  BUDGET_MB);
    assert_true(now_bytes <= BUDGET_MB * 1048576ll);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

static void album_kept_for_a_restart(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    char out[1200];
    cl_path(out, sizeof out, dir, "album");
    const char *extra[] = {"--store-budget", "1K", "--store-grace", "1", NULL};
    cl_coord_t c = {.extra = extra};
    cl_coord_start(&c, dir, 0);
    const uint64_t job = cl_submit(&c, s_album, 0);
    const long long stored = s_store_bytes(&c);
    /* Past the grace and two trims: everything is the waiting job's. */
    assert_true(cl_wait_log(c.log, "are in use by unfinished jobs", 1, 15 * CL_SLOW));
    cl_sleep(7 * CL_SLOW);
    if (cl_file_contains(c.log, "least recently used blobs deleted"))
        fail_msg("a blob of a waiting album was deleted: %s", c.log);
    assert_int_equal(s_store_bytes(&c), stored);
    cl_stop(c.pid, SIGKILL, 10);
    cl_coord_start(&c, dir, c.port); /* same port, same --state: the album is planned again */
    assert_true(cl_wait_log(c.log, "resumed", 1, 5 * CL_SLOW));
    cl_worker_start(&c, dir, "w1", 2, NULL, 0);
    cl_wait_state(&c, job, "done", 120 * CL_SLOW, NULL);
    cl_fetch_ok(&c, job, out, NULL);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(budget_keeps_live_work_and_recomputes, cl_setup,
                                                 cl_teardown,
                                                 "budget_keeps_live_work_and_recomputes"),
        cmocka_unit_test_prestate_setup_teardown(album_kept_for_a_restart, cl_setup, cl_teardown,
                                                 "album_kept_for_a_restart"),
    };
    return cmocka_run_group_tests_name("cluster_budget", tests, group_setup, NULL);
}
