/* Cluster: jobs on one coordinator.
 *
 *   cache_hits_on_resubmit   the same session again runs nothing; one fader
 *                            changed reruns exactly the buses its track
 *                            feeds and the master (not the strip), and
 *                            gives the bits an embedded render of the
 *                            revision gives
 *   cancel_running_job       cancel while running: status says cancelled,
 *                            fetch fails clearly, the next job completes
 *   priorities               one worker, one slot: a short job at priority
 *                            10 submitted after a long one at -10 ends first
 *   revision_copies_unchanged a revision rendered into a new folder copies
 *                            the stem it leaves alone from the render
 *                            before instead of fetching it (the hash
 *                            cache vouching for it, or checked on the
 *                            way); an edited file, or a folder others may
 *                            write to, is not taken from; nothing is
 *                            copied from a coordinator on this machine
 *                            unless MIXFARM_REUSE=1 says so
 *   one_coordinator_per_state a second coordinator on a state folder in use
 *                            exits 1 saying so (both used to run, resuming
 *                            the same jobs); once the first ends, it starts */
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "cluster_util.h"

static char s_shared[1100], s_song[1200], s_song_gain[1200], s_small[1200];

static int group_setup(void **state)
{
    (void)state;
    if (cl_init(CL_SANITIZED ? 560 : 280) != 0) return -1;
    cl_path(s_shared, sizeof s_shared, cl_root(), "shared");
    if (mkdir(s_shared, 0755) != 0) return -1;
    cl_session_t song = {
        .n_tracks = 8, .prefix = "song", .track0_gain_db = -3, .heavy = !CL_SANITIZED};
    cl_write_session(s_shared, "song.json", "Song", &song, 24, 2);
    /* The revision: track 0's fader only (same audio, same name). */
    song.track0_gain_db = -7.5;
    cl_write_session(s_shared, "song-gain.json", "Song", &song, 24, 2);
    cl_session_t small = {.n_tracks = 2, .prefix = "small", .track0_gain_db = -2};
    cl_write_session(s_shared, "small.json", "Small", &small, 6, 1);
    cl_path(s_song, sizeof s_song, s_shared, "song.json");
    cl_path(s_song_gain, sizeof s_song_gain, s_shared, "song-gain.json");
    cl_path(s_small, sizeof s_small, s_shared, "small.json");
    return 0;
}

static void s_two_workers(cl_coord_t *c, const char *dir, int slots1, int slots2)
{
    cl_coord_start(c, dir, 0);
    cl_worker_start(c, dir, "w1", slots1, NULL, 0);
    if (slots2) cl_worker_start(c, dir, "w2", slots2, NULL, 0);
    cl_wait_joined(c, "w1", 15 * CL_SLOW);
    if (slots2) cl_wait_joined(c, "w2", 15 * CL_SLOW);
}

static int s_has_label(const cl_jrow_t *rows, int n, const char *label)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(rows[i].label, label)) return 1;
    return 0;
}

static void cache_hits_on_resubmit(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    char out1[1200], out2[1200], out3[1200], ref3[1200];
    cl_path(out1, sizeof out1, dir, "first");
    cl_path(out2, sizeof out2, dir, "again");
    cl_path(out3, sizeof out3, dir, "revision");
    cl_path(ref3, sizeof ref3, dir, "revision-embedded");
    cl_coord_t c = {0};
    s_two_workers(&c, dir, 1, 1);

    cl_status_t s1, s2, s3;
    uint64_t j1 = cl_submit(&c, s_song, 0);
    cl_wait_state(&c, j1, "done", 60 * CL_SLOW, &s1);
    assert_int_equal(s1.cached, 0); /* a fresh state: everything ran */
    assert_int_equal(s1.done, s1.total);

    uint64_t j2 = cl_submit(&c, s_song, 0);
    cl_wait_state(&c, j2, "done", 30 * CL_SLOW, &s2);
    print_message("    first: %d tasks, %d cached; again: %d tasks, %d cached\n", s1.total,
                  s1.cached, s2.total, s2.cached);
    assert_int_equal(s2.total, s1.total);
    assert_int_equal(s2.cached, s2.total);
    cl_jrow_t rows[64];
    assert_int_equal(cl_journal_tasks(c.state, j2, rows, 64, 0), 0); /* nothing dispatched */

    uint64_t j3 = cl_submit(&c, s_song_gain, 0);
    cl_wait_state(&c, j3, "done", 60 * CL_SLOW, &s3);
    /* The journal trails the loop by a group commit (up to 30 ms): the last
     * task's event may land just after the job reads "done". */
    int n = cl_journal_tasks(c.state, j3, rows, 64, 0);
    for (int tries = 0; n < (int)(s3.total - s3.cached) && tries < 100; tries++) {
        nanosleep(&(struct timespec){0, 10000000L}, NULL);
        n = cl_journal_tasks(c.state, j3, rows, 64, 0);
    }
    char ran[1024] = "";
    for (int i = 0; i < n; i++) {
        size_t k = strlen(ran);
        snprintf(ran + k, sizeof ran - k, "%s\"%s\"", i ? ", " : "", rows[i].label);
    }
    print_message("    revision (track 0 fader): %d tasks, %d cached; ran %s\n", s3.total,
                  s3.cached, ran);
    assert_int_equal(s3.total, s1.total);
    /* Track 0 feeds Drums (output) and Music (post-fader send). Its strip
     * is unpanned: the buses apply its fader, so it does not run again. */
    if (s3.total - s3.cached != 11 || n != 11 || s_has_label(rows, n, "strip Tk0") ||
        !s_has_label(rows, n, "bus Drums") || !s_has_label(rows, n, "bus Music") ||
        !s_has_label(rows, n, "qc") || !s_has_label(rows, n, "listen phone") ||
        !s_has_label(rows, n, "listen report"))
        fail_msg("the revision should rerun bus Drums, bus Music, the master, the qc and the 7 "
                 "listen tasks of the mix (11 tasks, no strip); %d of %d were not cached, it "
                 "ran: %s",
                 s3.total - s3.cached, s3.total, ran);
    int master = 0;
    for (int i = 0; i < n; i++) master += !strncmp(rows[i].label, "master", 6);
    assert_int_equal(master, 1);
    assert_false(s_has_label(rows, n, "decode Tk0"));

    /* The cached outputs are the right ones. */
    cl_fetch_ok(&c, j1, out1, NULL);
    cl_fetch_ok(&c, j2, out2, NULL);
    cl_fetch_ok(&c, j3, out3, NULL);
    cl_assert_same_outdir(out1, out2);
    cl_render(s_song_gain, ref3, 2, NULL);
    cl_assert_same_outdir(ref3, out3);
    /* The fader moved: Drums, Music and the mix changed. */
    const char *changed[] = {"mix.wav", "stems/Drums.wav", "stems/Music.wav"};
    for (size_t i = 0; i < 3; i++) {
        char a[1300], b[1300];
        cl_path(a, sizeof a, out1, changed[i]);
        cl_path(b, sizeof b, out3, changed[i]);
        if (cl_same_file(a, b)) fail_msg("%s did not change with track 0's fader", changed[i]);
    }
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

static void cancel_running_job(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    char out[1200], out_small[1200], ref_small[1200];
    cl_path(out, sizeof out, dir, "cancelled");
    cl_path(out_small, sizeof out_small, dir, "next");
    cl_path(ref_small, sizeof ref_small, dir, "next-embedded");
    cl_coord_t c = {0};
    s_two_workers(&c, dir, 1, 0);

    uint64_t job = cl_submit(&c, s_song, 0);
    cl_status_t st;
    double until = cl_now() + 60 * CL_SLOW;
    for (;;) {
        assert_int_equal(cl_status(&c, job, &st), 0);
        if (st.done >= 1 && st.running >= 1) break;
        if (strcmp(st.state, "running") != 0)
            fail_msg("job %" PRIu64 " was %s before it could be cancelled", job, st.state);
        if (cl_now() > until) fail_msg("job %" PRIu64 " never got going", job);
        cl_sleep(0.05);
    }
    char prog[1200], id[32];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    snprintf(id, sizeof id, "%" PRIu64, job);
    const char *cancel[] = {prog, "cancel", id, "--coordinator", c.ep, NULL};
    cl_run_t r = cl_run(cancel, 30 * CL_SLOW);
    int rc = r.rc, said = strstr(r.out, "cancelled") != NULL;
    cl_run_free(&r);
    assert_int_equal(rc, 0);
    assert_true(said);
    print_message("    cancelled at %d/%d tasks done\n", st.done, st.total);

    assert_int_equal(cl_status(&c, job, &st), 0);
    assert_string_equal(st.state, "cancelled");

    /* fetch: refused with a clear message, nothing written. */
    r = cl_fetch(&c, job, out);
    rc = r.rc;
    char err[1024];
    snprintf(err, sizeof err, "%s", r.err);
    cl_run_free(&r);
    print_message("    fetch of the cancelled job: exit %d, \"%.*s\"\n", rc,
                  (int)strcspn(err, "\n"), err);
    if (rc != 1 && rc != 2) fail_msg("fetch of a cancelled job exited %d: %s", rc, err);
    if (!strstr(err, "cancelled")) fail_msg("fetch's message does not say cancelled: %s", err);
    struct stat sb;
    char mix[1300];
    cl_path(mix, sizeof mix, out, "mix.wav");
    assert_int_not_equal(stat(mix, &sb), 0);

    /* The coordinator goes on serving: the next job completes, right. */
    cl_render(s_small, out_small, 0, &c);
    cl_render(s_small, ref_small, 1, NULL);
    cl_assert_same_outdir(ref_small, out_small);

    /* Fetched into a folder holding a file of the user's at a path the job
     * writes (a DAW's bounce at mix.wav): refused, the file kept. */
    char daw[1200], bounce[1300], manifest[1300];
    cl_path(daw, sizeof daw, dir, "daw");
    assert_int_equal(mkdir(daw, 0755), 0);
    cl_path(bounce, sizeof bounce, daw, "mix.wav");
    cl_path(manifest, sizeof manifest, daw, "manifest.json");
    FILE *f = fopen(bounce, "w");
    assert_non_null(f);
    fputs("the studio's bounce", f);
    assert_int_equal(fclose(f), 0);
    r = cl_fetch(&c, job + 1, daw); /* the small one's */
    rc = r.rc;
    snprintf(err, sizeof err, "%s", r.err);
    cl_run_free(&r);
    if (rc != 2 || !strstr(err, "mix.wav: no earlier render wrote it"))
        fail_msg("fetch over a bounce: exit %d: %s", rc, err);
    assert_int_equal(stat(bounce, &sb), 0);
    assert_int_equal(sb.st_size, 19);
    assert_int_not_equal(stat(manifest, &sb), 0);

    /* Once its in-flight task has reported, the cancelled job runs nothing. */
    assert_int_equal(cl_status(&c, job, &st), 0);
    assert_string_equal(st.state, "cancelled");
    print_message("    after the next job: cancelled job shows %d running, %d/%d done\n",
                  st.running, st.done, st.total);
    cl_stop_all_clean(30 * CL_SLOW);
    if (st.running != 0)
        fail_msg("job %" PRIu64 " is cancelled and its worker idle, yet status says "
                 "tasks_running %d",
                 job, st.running);
    cl_test_pass();
}

static void priorities(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    cl_coord_t c = {0};
    s_two_workers(&c, dir, 1, 0); /* one worker, one slot */

    uint64_t low = cl_submit(&c, s_song, -10);
    cl_status_t sl, sh;
    double until = cl_now() + 60 * CL_SLOW;
    do { /* the long job holds the slot */
        assert_int_equal(cl_status(&c, low, &sl), 0);
        if (cl_now() > until) fail_msg("the low-priority job never started");
        if (sl.running < 1) cl_sleep(0.02);
    } while (sl.running < 1 && !strcmp(sl.state, "running"));
    uint64_t high = cl_submit(&c, s_small, 10);
    double t0 = cl_now(), t_low = 0, t_high = 0;
    int low_done_at_high = -1;
    until = t0 + 120 * CL_SLOW;
    while (!t_low || !t_high) {
        assert_int_equal(cl_status(&c, high, &sh), 0);
        assert_int_equal(cl_status(&c, low, &sl), 0);
        double now = cl_now();
        if (!t_high && !strcmp(sh.state, "done")) {
            t_high = now;
            low_done_at_high = sl.done;
        }
        if (!t_low && !strcmp(sl.state, "done")) t_low = now;
        if (strcmp(sh.state, "running") && strcmp(sh.state, "done"))
            fail_msg("the high-priority job is %s", sh.state);
        if (strcmp(sl.state, "running") && strcmp(sl.state, "done"))
            fail_msg("the low-priority job is %s", sl.state);
        if (now > until) fail_msg("the jobs did not both finish within %.0f s", 120 * CL_SLOW);
        cl_sleep(0.05);
    }
    print_message("    high (10, %d tasks) done after %.1f s with low at %d/%d; low (-10) done "
                  "after %.1f s\n",
                  sh.total, t_high - t0, low_done_at_high, sl.total, t_low - t0);
    if (!(t_high < t_low))
        fail_msg("the priority-10 job finished after the priority -10 one (%.1f s vs %.1f s)",
                 t_high - t0, t_low - t0);
    assert_true(low_done_at_high < sl.total);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

/* MIXFARM_CACHE_DIR for the client runs that follow: cache (made, and
 * listing only `recent` as an earlier render when given). */
static void s_cache(const char *cache, const char *recent)
{
    mkdir(cache, 0755);
    char list[1300];
    cl_path(list, sizeof list, cache, "renders");
    if (recent) {
        char text[1300];
        snprintf(text, sizeof text, "%s\n", recent);
        cl_write_text(list, text);
    }
    setenv("MIXFARM_CACHE_DIR", cache, 1);
}

/* render --coordinator, debug log: how many files it says it copied from
 * a recent render (0: none). */
static int s_render_copied(const cl_coord_t *c, const char *session, const char *out)
{
    char prog[1200];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    const char *argv[] = {prog, "render", session, "-o", out, "--coordinator", c->ep, NULL};
    setenv("MIXFARM_LOG", "debug", 1);
    cl_run_t r = cl_run(argv, 120 * CL_SLOW);
    unsetenv("MIXFARM_LOG");
    if (r.rc != 0) print_message("%s\n", r.err ? r.err : "");
    assert_int_equal(r.rc, 0);
    const char *at = r.err ? strstr(r.err, ": copied ") : NULL;
    const int n = at ? atoi(at + 9) : 0;
    cl_run_free(&r);
    return n;
}

/* The revision rendered into revision-<name> by a client whose cache
 * (cache-<name>) lists only the render `first`: it copies `copies` files
 * and writes what the reference holds. */
static void s_revision_after(const cl_coord_t *c, const char *dir, const char *name,
                             const char *session, const char *first, const char *ref, int copies)
{
    char cache[1200], out[1200], sub[64];
    snprintf(sub, sizeof sub, "cache-%s", name);
    cl_path(cache, sizeof cache, dir, sub);
    s_cache(cache, first);
    snprintf(sub, sizeof sub, "revision-%s", name);
    cl_path(out, sizeof out, dir, sub);
    assert_int_equal(s_render_copied(c, session, out), copies);
    cl_assert_same_outdir(ref, out);
}

static void revision_copies_unchanged(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    char rev_session[1200], first[1200], ref[1200], out[1200], cache[1200];
    /* The revision: track 1's fader, which feeds Drums only; Music's stem
     * stays as it was. */
    char song[1300];
    cl_path(song, sizeof song, s_shared, "song.json");
    cl_write_track1_revision(song, s_shared, "song-tk1.json", rev_session, sizeof rev_session);
    cl_path(first, sizeof first, dir, "first");
    cl_path(ref, sizeof ref, dir, "reference");
    cl_render(rev_session, ref, 2, NULL); /* embedded: nothing to copy from */

    cl_coord_t c = {0};
    s_two_workers(&c, dir, 1, 1);
    cl_path(cache, sizeof cache, dir, "cache-a");
    s_cache(cache, NULL);
    cl_render(s_song, first, 0, &c);
    char music[1300], copy[1300];
    cl_path(music, sizeof music, first, "stems/Music.wav");
    struct stat st0, st1;
    assert_int_equal(stat(music, &st0), 0);

    /* By default, a coordinator on this machine is fetched from: its store
     * is as near as the render before (ctest sets MIXFARM_REUSE=0 for
     * every other test). */
    unsetenv("MIXFARM_REUSE");
    s_revision_after(&c, dir, "local", rev_session, first, ref, 0);
    setenv("MIXFARM_REUSE", "1", 1); /* as a coordinator across a network would be */
    cl_path(cache, sizeof cache, dir, "cache-a");
    setenv("MIXFARM_CACHE_DIR", cache, 1);

    /* The render before is on the list, and the hash cache knows its files
     * (written by this client): Music's stem is copied without being read
     * for its hash, and is a file of its own. */
    cl_path(out, sizeof out, dir, "revision");
    const int copied = s_render_copied(&c, rev_session, out);
    assert_int_equal(copied, 1);
    cl_assert_same_outdir(ref, out);
    cl_path(copy, sizeof copy, out, "stems/Music.wav");
    assert_int_equal(stat(copy, &st1), 0);
    assert_true(st1.st_ino != st0.st_ino);

    /* A cache that lists the render but knows none of its hashes: the copy
     * is checked on the way. */
    s_revision_after(&c, dir, "checked", rev_session, first, ref, 1);
    /* A folder others may write to: not taken from. */
    assert_int_equal(chmod(first, 0775), 0);
    s_revision_after(&c, dir, "group", rev_session, first, ref, 0);
    assert_int_equal(chmod(first, 0755), 0);

    /* Music's stem edited in place, its size kept: its bytes are not what
     * the render's manifest says, so it is fetched. */
    FILE *f = fopen(music, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 4000, SEEK_SET), 0);
    assert_int_equal(fwrite("XXXX", 1, 4, f), 4);
    fclose(f);
    s_revision_after(&c, dir, "edited", rev_session, first, ref, 0);
    setenv("MIXFARM_REUSE", "0", 1);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

static void one_coordinator_per_state(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    char prog[1200], ep[64];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm-coordinator"));
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", cl_free_port());
    const char *argv[] = {prog, "--bind", ep, "--state", c.state, NULL};
    cl_run_t r = cl_run(argv, 20 * CL_SLOW);
    if (r.rc != 1 || !strstr(r.err, "another coordinator (or a render with --state) is using"))
        fail_msg("a second coordinator on %s exited %d: %s", c.state, r.rc, r.err);
    cl_run_free(&r);
    assert_int_equal(WEXITSTATUS(cl_stop(c.pid, SIGTERM, 10 * CL_SLOW)), 0);
    cl_coord_start(&c, dir, 0); /* the folder is free again */
    cl_stop_all_clean(20 * CL_SLOW);
    cl_test_pass();
}

/* A long task says how far it is while it runs: a minute of audio mastered
 * to MP3 alone on a one-slot worker (LAME at 320 kbps: seconds), and the
 * job's audio seconds done grow between two looks at status while no task
 * finishes (Progress in proto/farm.proto). */
static void progress_within_a_task(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    char wav[1200], song[1200];
    cl_path(wav, sizeof wav, dir, "minute.wav");
    cl_path(song, sizeof song, dir, "minute.json");
    cl_write_audio(wav, 3, 7, 60.0);
    cl_write_text(song, "{\"mixfarm\": 1, \"name\": \"Minute\", \"tracks\": [{\"name\": \"A\","
                        " \"file\": \"minute.wav\", \"pan\": 0.3}], \"mastering\": {\"target\":"
                        " \"none\"}, \"outputs\": [{\"format\": \"mp3\", \"bitrate_kbps\": 320}]}");
    cl_coord_t c = {0};
    s_two_workers(&c, dir, 1, 0);
    const uint64_t job = cl_submit(&c, song, 0);
    cl_status_t st, last = {0};
    int moved = 0, looks = 0;
    const double until = cl_now() + 120 * CL_SLOW;
    for (;;) {
        assert_int_equal(cl_status(&c, job, &st), 0);
        looks++;
        if (strcmp(st.state, "running") != 0) break;
        if (last.found && st.done == last.done && st.audio_done > last.audio_done + 1e-6) moved++;
        last = st;
        if (cl_now() > until) fail_msg("job %" PRIu64 " never ended", job);
        cl_sleep(0.05);
    }
    assert_string_equal(st.state, "done");
    print_message("    %d of %d looks saw a running task move\n", moved, looks);
    assert_true(moved >= 1);
    cl_stop_all_clean(20 * CL_SLOW);
    cl_test_pass();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(cache_hits_on_resubmit, cl_setup, cl_teardown,
                                                 "cache_hits_on_resubmit"),
        cmocka_unit_test_prestate_setup_teardown(cancel_running_job, cl_setup, cl_teardown,
                                                 "cancel_running_job"),
        cmocka_unit_test_prestate_setup_teardown(priorities, cl_setup, cl_teardown, "priorities"),
        cmocka_unit_test_prestate_setup_teardown(one_coordinator_per_state, cl_setup, cl_teardown,
                                                 "one_coordinator_per_state"),
        cmocka_unit_test_prestate_setup_teardown(revision_copies_unchanged, cl_setup, cl_teardown,
                                                 "revision_copies_unchanged"),
        cmocka_unit_test_prestate_setup_teardown(progress_within_a_task, cl_setup, cl_teardown,
                                                 "progress_within_a_task"),
    };
    return cmocka_run_group_tests_name("cluster_jobs", tests, group_setup, NULL);
}
