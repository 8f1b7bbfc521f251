/* Operations: catalogue runs against a real coordinator and worker.
 *
 *   catalogue_resume   a folder of three sessions (one naming a missing
 *                      file) runs at priority -10: two done, one failed with
 *                      the reason, in the JSON report and the table; an
 *                      interactive job submitted meanwhile overtakes the
 *                      batch; a re-run after a coordinator restart submits
 *                      nothing; with the file fixed, --retry-failed
 *                      resubmits only that session and all are done
 *   catalogue_killed   a catalogue killed while waiting, then run again
 *                      from a list file, follows the jobs it had submitted
 *                      instead of submitting them twice
 *   catalogue_lost     a session done but never fetched (-o) whose job the
 *                      coordinator lost (its outputs dropped by the check
 *                      after a restart of the machine, MIXFARM_BOOT_ID) is
 *                      submitted again and fetched; one fetched is left
 *                      alone
 *   catalogue_forgotten a coordinator that forgets the jobs while the
 *                      catalogue waits for them (here: killed and started
 *                      again on a new state folder) has them submitted
 *                      again by the waiting run, which ends with both
 *                      done and fetched instead of waiting for ever
 *   catalogue_albums   a folder holding an album, the sessions it names
 *                      as songs, a session of its own and a mastered one
 *                      whose master fails QC: three jobs (the songs are
 *                      rendered with their album, not alone too), the
 *                      album's tracks, image and CUE sheet fetched, and the
 *                      failed QC in the report and the exit code (1)
 *   catalogue_state_unwritable  a state file that cannot be written: exit 2
 *                      before anything is submitted (the jobs were
 *                      submitted and their ids lost, so every re-run
 *                      submitted them again); so is a --report in a
 *                      folder that is not there (it was found so at the
 *                      end, and the run exited 0)
 *   catalogue_outdir_clash  -o the catalogue's own folder, where a session's
 *                      folder of outputs holds its source mix.wav: refused
 *                      as invalid, nothing submitted, the file intact */
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
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "ops_util.h"

static int group_setup(void **state)
{
    (void)state;
    return cl_init(CL_SANITIZED ? 300 : 150);
}

/* mixfarm catalogue ARG --coordinator EP --report REPORT [more...]. */
static cl_run_t s_catalogue(const cl_coord_t *c, const char *arg, const char *report,
                            const char *more)
{
    char prog[1200];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    const char *argv[] = {prog,  "catalogue", arg,    "--coordinator",
                          c->ep, "--report",  report, "--poll",
                          "0.2", more,        NULL};
    return cl_run(argv, 90 * CL_SLOW);
}

/* A coordinator on dir and its worker "w1" of slots slots, joined;
 * returns the worker. */
static pid_t s_farm(cl_coord_t *c, const char *dir, int slots)
{
    ops_coord_start(c, dir, NULL, 0, NULL);
    const pid_t w = ops_worker_start(c, dir, "w1", slots, NULL, NULL, 0);
    cl_wait_joined(c, "w1", 15 * CL_SLOW);
    return w;
}

static int s_submissions(const cl_coord_t *c)
{
    return cl_count_lines(c->log, " tasks, priority ");
}

static json_t *s_entry(json_t *report, const char *name)
{
    json_t *list = json_object_get(report, "sessions");
    for (size_t i = 0; i < json_array_size(list); i++)
        if (strstr(json_string_value(json_object_get(json_array_get(list, i), "name")), name))
            return json_array_get(list, i);
    fail_msg("no %s in the report", name);
    return NULL;
}

static void s_make_catalogue(const char *root)
{
    char a[1200], b[1200], broken[1200];
    cl_path(a, sizeof a, root, "a");
    cl_path(b, sizeof b, root, "b");
    cl_path(broken, sizeof broken, root, "broken");
    mkdir(root, 0755);
    mkdir(a, 0755);
    mkdir(b, 0755);
    mkdir(broken, 0755);
    cl_session_t s = {.n_tracks = 4, .prefix = "a", .track0_gain_db = -3, .heavy = !CL_SANITIZED};
    cl_write_session(a, "session.json", "A", &s, 6, 1);
    s.prefix = "b";
    cl_write_session(b, "session.json", "B", &s, 6, 1);
    s.prefix = "x";
    s.n_tracks = 1;
    cl_write_session(broken, "session.json", "Broken", &s, 2, 1);
    char audio[1200];
    cl_path(audio, sizeof audio, broken, "x0.wav");
    unlink(audio); /* the session names a file that is not there */
    /* Links: a "latest" beside its folder, and one back to the catalogue
     * (a loop, walked once). Each session is one entry all the same. */
    char link_path[1200];
    cl_path(link_path, sizeof link_path, root, "latest");
    assert_int_equal(symlink("a", link_path), 0);
    cl_path(link_path, sizeof link_path, root, "zz-loop");
    assert_int_equal(symlink(".", link_path), 0);
}

static void catalogue_resume(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    char root[1200], report[1200], table[1300], small_dir[1200], small[1300];
    cl_path(root, sizeof root, dir, "catalogue");
    cl_path(report, sizeof report, dir, "report.json");
    snprintf(table, sizeof table, "%s.txt", report);
    s_make_catalogue(root);
    cl_path(small_dir, sizeof small_dir, dir, "interactive");
    mkdir(small_dir, 0755);
    cl_session_t s = {.n_tracks = 1, .prefix = "i", .track0_gain_db = -1};
    cl_write_session(small_dir, "small.json", "Small", &s, 2, 1);
    snprintf(small, sizeof small, "%s/small.json", small_dir);

    cl_coord_t c = {0};
    s_farm(&c, dir, 1);

    /* The batch, with an interactive job arriving once it is under way. */
    char prog[1200];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    const char *argv[] = {prog,       "catalogue", root,     "--coordinator", c.ep,
                          "--report", report,      "--poll", "0.2",           NULL};
    cl_async_t run;
    cl_run_async(&run, argv);
    assert_true(cl_wait_log(c.log, "priority -10", 2, 30 * CL_SLOW));
    uint64_t interactive = cl_submit(&c, small, 0);
    cl_wait_state(&c, interactive, "done", 60 * CL_SLOW, NULL);
    /* Overtaken: the last batch job ended after it, as the coordinator's
     * log tells in order (a status asked afterwards could find a short
     * batch job done already). */
    cl_run_t r = cl_wait_run(&run, 90 * CL_SLOW);
    char mine[64], batch[64];
    snprintf(mine, sizeof mine, "job %" PRIu64 " (small.json): done", interactive);
    snprintf(batch, sizeof batch, "job %" PRIu64 " (session.json): done", interactive - 1);
    char *log = test_read_text(c.log);
    const char *at_mine = strstr(log, mine), *at_batch = strstr(log, batch);
    const int overtook = at_mine && (!at_batch || at_mine < at_batch);
    free(log);
    if (!overtook) fail_msg("the interactive job did not overtake the batch");
    if (r.rc != 1) fail_msg("catalogue exited %d: %s", r.rc, r.err);
    assert_non_null(strstr(r.out, "3 sessions: 2 done, 1 failed"));
    cl_run_free(&r);
    json_t *rep = json_load_file(report, 0, NULL);
    assert_non_null(rep);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(rep, "summary"), "done")),
                     2);
    json_t *bad = s_entry(rep, "broken/session.json");
    assert_string_equal(json_string_value(json_object_get(bad, "state")), "invalid");
    assert_non_null(strstr(json_string_value(json_object_get(bad, "error")), "x0.wav"));
    assert_string_equal(json_string_value(json_object_get(s_entry(rep, "a/session.json"), "state")),
                        "done");
    json_decref(rep);
    assert_true(cl_file_contains(table, "broken/session.json"));
    assert_int_equal(s_submissions(&c), 3); /* a, b and the interactive job */

    /* After a restart of the coordinator: nothing is submitted again. */
    assert_int_equal(WEXITSTATUS(cl_stop(c.pid, SIGTERM, 10 * CL_SLOW)), 0);
    ops_coord_start(&c, dir, NULL, 0, NULL); /* same port: the worker comes back */
    r = s_catalogue(&c, root, report, NULL);
    assert_int_equal(r.rc, 1);
    cl_run_free(&r);
    assert_int_equal(s_submissions(&c), 0);

    /* The missing file restored: --retry-failed submits it alone. */
    char audio[1200], broken[1200];
    cl_path(broken, sizeof broken, root, "broken");
    cl_path(audio, sizeof audio, broken, "x0.wav");
    cl_write_audio(audio, 0, 1, 2);
    r = s_catalogue(&c, root, report, "--retry-failed");
    if (r.rc != 0) fail_msg("catalogue --retry-failed exited %d: %s", r.rc, r.err);
    assert_non_null(strstr(r.out, "3 sessions: 3 done, 0 failed"));
    cl_run_free(&r);
    assert_int_equal(s_submissions(&c), 1);
    cl_stop_all_clean(20 * CL_SLOW);
    cl_test_pass();
}

static void catalogue_killed(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    char root[1200], list[1200], report[1200];
    cl_path(root, sizeof root, dir, "catalogue");
    cl_path(list, sizeof list, dir, "list.txt");
    cl_path(report, sizeof report, dir, "report.json");
    s_make_catalogue(root);
    cl_write_text(list, "# the catalogue\ncatalogue/a/session.json\n\ncatalogue/b/session.json\n");
    cl_coord_t c = {0};
    s_farm(&c, dir, 1);
    char prog[1200];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    const char *argv[] = {prog, "catalogue", list, "--coordinator", c.ep, "--poll", "0.2", NULL};
    cl_async_t run;
    cl_run_async(&run, argv);
    char state_file[1300];
    snprintf(state_file, sizeof state_file, "%s.catalogue-state.json", list);
    double until = cl_now() + 30 * CL_SLOW;
    while (cl_now() < until && !cl_file_contains(state_file, "\"job\": 2")) cl_sleep(0.02);
    assert_true(cl_file_contains(state_file, "\"job\": 2"));
    kill(run.pid, SIGKILL); /* while it waits for the jobs */
    cl_run_t r = cl_wait_run(&run, 10);
    cl_run_free(&r);
    r = s_catalogue(&c, list, report, NULL);
    if (r.rc != 0) fail_msg("the resumed catalogue exited %d: %s", r.rc, r.err);
    assert_non_null(strstr(r.out, "2 sessions: 2 done, 0 failed"));
    cl_run_free(&r);
    assert_int_equal(s_submissions(&c), 2);
    cl_stop_all_clean(20 * CL_SLOW);
    cl_test_pass();
}

/* Marks the state file's entry for path (a substring) as never fetched. */
static void s_unfetch(const char *state_file, const char *path)
{
    json_t *doc = json_load_file(state_file, 0, NULL);
    assert_non_null(doc);
    json_t *list = json_object_get(doc, "sessions");
    int found = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *s = json_array_get(list, i);
        if (!strstr(json_string_value(json_object_get(s, "path")), path)) continue;
        assert_true(json_is_true(json_object_get(s, "fetched")));
        json_object_set_new(s, "fetched", json_false());
        found = 1;
    }
    assert_true(found);
    assert_int_equal(json_dump_file(doc, state_file, JSON_INDENT(2)), 0);
    json_decref(doc);
}

static void catalogue_lost(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    char root[1200], list[1200], out[1200], state_file[1300], mix[1400];
    cl_path(root, sizeof root, dir, "catalogue");
    cl_path(list, sizeof list, dir, "list.txt");
    cl_path(out, sizeof out, dir, "out");
    snprintf(state_file, sizeof state_file, "%s.catalogue-state.json", list);
    snprintf(mix, sizeof mix, "%s/catalogue/a/session/mix.wav", out);
    s_make_catalogue(root);
    cl_write_text(list, "catalogue/a/session.json\ncatalogue/b/session.json\n");
    setenv("MIXFARM_BOOT_ID", "boot-before", 1);
    cl_coord_t c = {0};
    pid_t w = s_farm(&c, dir, 1);
    char prog[1200];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    const char *argv[] = {prog, "catalogue", list, "--coordinator", c.ep, "--poll", "0.2",
                          "-o", out,         NULL};
    cl_run_t r = cl_run(argv, 90 * CL_SLOW);
    if (r.rc != 0) fail_msg("catalogue -o exited %d: %s", r.rc, r.err);
    cl_run_free(&r);
    /* Killed after a's job ended and before its fetch, as a power cut
     * leaves it; the machine restarts, and the store's check drops the
     * outputs of both jobs. */
    s_unfetch(state_file, "a/session.json");
    if (unlink(mix) != 0) fail_msg("%s: not fetched", mix);
    cl_stop(w, SIGKILL, 10);
    cl_stop(c.pid, SIGKILL, 10);
    setenv("MIXFARM_BOOT_ID", "boot-after", 1);
    s_farm(&c, dir, 1);
    r = cl_run(argv, 90 * CL_SLOW);
    if (r.rc != 0) fail_msg("the catalogue after the restart exited %d: %s", r.rc, r.err);
    if (!strstr(r.err, "a/session.json: job 1 was done, but the coordinator no longer has it"))
        fail_msg("no resubmission said: %s", r.err);
    cl_run_free(&r);
    assert_int_equal(s_submissions(&c), 1); /* a alone: b was fetched */
    struct stat st;
    if (stat(mix, &st) != 0) fail_msg("%s: not fetched again", mix);
    unsetenv("MIXFARM_BOOT_ID");
    cl_stop_all_clean(20 * CL_SLOW);
    cl_test_pass();
}

static void catalogue_forgotten(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    char root[1200], list[1200], out[1200], state_file[1300], fresh[1200];
    cl_path(root, sizeof root, dir, "catalogue");
    cl_path(list, sizeof list, dir, "list.txt");
    cl_path(out, sizeof out, dir, "out");
    cl_path(fresh, sizeof fresh, dir, "fresh");
    snprintf(state_file, sizeof state_file, "%s.catalogue-state.json", list);
    s_make_catalogue(root);
    cl_write_text(list, "catalogue/a/session.json\ncatalogue/b/session.json\n");
    cl_coord_t c = {0};
    ops_coord_start(&c, dir, NULL, 0, NULL); /* no worker yet: the jobs wait */
    char prog[1200];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    const char *argv[] = {prog, "catalogue", list, "--coordinator", c.ep, "--poll", "0.2",
                          "-o", out,         NULL};
    cl_async_t run;
    cl_run_async(&run, argv);
    double until = cl_now() + 30 * CL_SLOW;
    while (cl_now() < until && !cl_file_contains(state_file, "\"job\": 2")) cl_sleep(0.02);
    assert_true(cl_file_contains(state_file, "\"job\": 2"));
    cl_stop(c.pid, SIGKILL, 10);
    assert_int_equal(mkdir(fresh, 0755), 0);
    ops_coord_start(&c, fresh, NULL, 0, NULL); /* the same port, knowing no job */
    ops_worker_start(&c, dir, "w1", 1, NULL, NULL, 0);
    cl_run_t r = cl_wait_run(&run, 90 * CL_SLOW);
    if (r.rc != 0) fail_msg("the catalogue exited %d: %s", r.rc, r.err);
    if (!strstr(r.err, "a/session.json: the coordinator no longer holds job"))
        fail_msg("no resubmission said: %s", r.err);
    assert_non_null(strstr(r.out, "2 sessions: 2 done, 0 failed"));
    cl_run_free(&r);
    for (int k = 0; k < 2; k++) {
        char mix[1400];
        snprintf(mix, sizeof mix, "%s/catalogue/%c/session/mix.wav", out, "ab"[k]);
        struct stat st;
        if (stat(mix, &st) != 0) fail_msg("%s: not fetched", mix);
    }
    cl_stop_all_clean(20 * CL_SLOW);
    cl_test_pass();
}

static void catalogue_albums(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    char root[1200], songs[1200], single[1200], album[1300], report[1200], out[1200];
    char mono[1300], mono_wav[1300];
    cl_path(root, sizeof root, dir, "catalogue");
    cl_path(songs, sizeof songs, root, "songs");
    cl_path(single, sizeof single, root, "single");
    cl_path(report, sizeof report, dir, "report.json");
    cl_path(out, sizeof out, dir, "out");
    mkdir(root, 0755);
    mkdir(songs, 0755);
    mkdir(single, 0755);
    cl_session_t s = {.n_tracks = 2, .prefix = "a", .track0_gain_db = -3};
    cl_write_session(songs, "first.json", "First", &s, 3, 1);
    s.prefix = "b";
    cl_write_session(songs, "second.json", "Second", &s, 3, 1);
    s.prefix = "c";
    cl_write_session(single, "session.json", "Single", &s, 3, 1);
    snprintf(album, sizeof album, "%s/album.json", root);
    /* A mono source in the centre: the master is mono as stereo, and fails. */
    snprintf(mono_wav, sizeof mono_wav, "%s/mono.wav", root);
    cl_write_audio(mono_wav, 2, 1, 3);
    snprintf(mono, sizeof mono, "%s/mono.json", root);
    cl_write_text(mono, "{\"mixfarm\": 1, \"name\": \"Mono\", \"tracks\": [{\"name\": \"A\","
                        " \"file\": \"mono.wav\"}], \"mastering\": {\"target\": \"streaming\"}}");
    /* The second song named through a detour: the same file all the same. */
    cl_write_text(album,
                  "{\"mixfarm\": 1, \"album\": {\"title\": \"Both\"}, \"sample_rate\": 48000,"
                  " \"mastering\": {\"target\": \"none\", \"mode\": \"album\"},"
                  " \"tracks\": [{\"session\": \"songs/first.json\", \"gap_s\": 0.5},"
                  " {\"session\": \"./single/../songs/second.json\", \"gap_s\": 0.5}],"
                  " \"outputs\": [{\"format\": \"flac\", \"bits\": 16}], \"cue\": true}");
    cl_coord_t c = {0};
    s_farm(&c, dir, 2);
    char prog[1200];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    const char *argv[] = {prog,  "catalogue", root,   "--coordinator",
                          c.ep,  "--report",  report, "--poll",
                          "0.2", "-o",        out,    NULL};
    cl_run_t r = cl_run(argv, 90 * CL_SLOW);
    if (r.rc != 1) fail_msg("catalogue exited %d: %s", r.rc, r.err);
    assert_non_null(
        strstr(r.out, "3 sessions: 3 done, 0 failed, 0 unfinished; 1 master failed QC"));
    assert_non_null(strstr(r.out, "the master failed QC (see "));
    assert_non_null(strstr(r.err, "songs/first.json: a song of album.json, rendered with it"));
    assert_non_null(strstr(r.err, "songs/second.json: a song of album.json, rendered with it"));
    cl_run_free(&r);
    assert_int_equal(s_submissions(&c), 3);
    json_t *rep = json_load_file(report, 0, NULL);
    assert_non_null(rep);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(rep, "summary"), "qc_failed")), 1);
    assert_true(json_is_true(json_object_get(s_entry(rep, "mono.json"), "qc_failed")));
    assert_true(json_is_false(json_object_get(s_entry(rep, "album.json"), "qc_failed")));
    json_decref(rep);
    const char *want[] = {"album/tracks/01 First.flac",
                          "album/tracks/02 Second.flac",
                          "album/album.flac",
                          "album/album.cue",
                          "album/qc.json",
                          "single/session/mix.wav",
                          "mono/master/Mono.wav"};
    for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
        char path[1400];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", out, want[k]);
        if (stat(path, &st) != 0) fail_msg("%s: not fetched", path);
    }
    cl_stop_all_clean(20 * CL_SLOW);
    cl_test_pass();
}

static void catalogue_state_unwritable(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    char root[1200], blocker[1200], state_file[1300];
    cl_path(root, sizeof root, dir, "catalogue");
    s_make_catalogue(root);
    cl_path(blocker, sizeof blocker, dir, "a-file");
    cl_write_text(blocker, "not a folder\n");
    snprintf(state_file, sizeof state_file, "%s/state.json", blocker); /* under a file */
    cl_coord_t c = {0};
    ops_coord_start(&c, dir, NULL, 0, NULL);
    char prog[1200];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    const char *argv[] = {prog,      "catalogue", root, "--coordinator", c.ep, "--no-wait",
                          "--state", state_file,  NULL};
    cl_run_t r = cl_run(argv, 30 * CL_SLOW);
    if (r.rc != 2 || !strstr(r.err, "the catalogue's job ids cannot be kept there"))
        fail_msg("exit %d: %s", r.rc, r.err);
    cl_run_free(&r);
    char report[1400];
    snprintf(report, sizeof report, "%s/no-such-folder/report.json", dir);
    const char *argv2[] = {prog,       "catalogue", root, "--coordinator", c.ep, "--no-wait",
                           "--report", report,      NULL};
    r = cl_run(argv2, 30 * CL_SLOW);
    if (r.rc != 2 || !strstr(r.err, "its folder does not exist or cannot be written"))
        fail_msg("--report: exit %d: %s", r.rc, r.err);
    cl_run_free(&r);
    assert_int_equal(s_submissions(&c), 0);
    cl_stop_all_clean(20 * CL_SLOW);
    cl_test_pass();
}

static void catalogue_outdir_clash(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    char root[1200], song[1300], wav[1400];
    cl_path(root, sizeof root, dir, "catalogue");
    snprintf(song, sizeof song, "%s/clash", root);
    assert_int_equal(mkdir(root, 0755), 0);
    assert_int_equal(mkdir(song, 0755), 0);
    snprintf(wav, sizeof wav, "%s/mix.wav", song);
    cl_write_audio(wav, 2, 1, 2);
    snprintf(song, sizeof song, "%s/clash.json", root);
    cl_write_text(song, "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"Bounce\", \"file\": "
                        "\"clash/mix.wav\"}]}");
    size_t n0, n1;
    unsigned char *before = test_read_bytes(wav, &n0);
    cl_coord_t c = {0};
    ops_coord_start(&c, dir, NULL, 0, NULL); /* no worker: nothing is to run */
    char prog[1200];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    const char *argv[] = {prog, "catalogue", root, "--coordinator", c.ep, "--no-wait",
                          "-o", root,        NULL};
    cl_run_t r = cl_run(argv, 30 * CL_SLOW);
    if (!strstr(r.out, "its fetch into -o OUTDIR would replace a file it reads") ||
        !strstr(r.err, "mix.wav: rendering into "))
        fail_msg("not refused (exit %d): %s %s", r.rc, r.out, r.err);
    cl_run_free(&r);
    assert_int_equal(s_submissions(&c), 0);
    unsigned char *after = test_read_bytes(wav, &n1);
    assert_true(n0 == n1 && !memcmp(before, after, n0));
    free(before), free(after);
    cl_stop_all_clean(20 * CL_SLOW);
    cl_test_pass();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(catalogue_resume, cl_setup, cl_teardown,
                                                 (void *)"catalogue_resume"),
        cmocka_unit_test_prestate_setup_teardown(catalogue_killed, cl_setup, cl_teardown,
                                                 (void *)"catalogue_killed"),
        cmocka_unit_test_prestate_setup_teardown(catalogue_lost, cl_setup, cl_teardown,
                                                 (void *)"catalogue_lost"),
        cmocka_unit_test_prestate_setup_teardown(catalogue_forgotten, cl_setup, cl_teardown,
                                                 (void *)"catalogue_forgotten"),
        cmocka_unit_test_prestate_setup_teardown(catalogue_albums, cl_setup, cl_teardown,
                                                 (void *)"catalogue_albums"),
        cmocka_unit_test_prestate_setup_teardown(catalogue_state_unwritable, cl_setup, cl_teardown,
                                                 (void *)"catalogue_state_unwritable"),
        cmocka_unit_test_prestate_setup_teardown(catalogue_outdir_clash, cl_setup, cl_teardown,
                                                 (void *)"catalogue_outdir_clash"),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
