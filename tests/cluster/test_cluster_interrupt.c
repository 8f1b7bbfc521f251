/* Cluster: renders stopped before their end.
 *
 *   embedded_render_interrupted  Ctrl-C (SIGINT) while an embedded render
 *                                writes its staging folder in OUTDIR: the
 *                                client dies of SIGINT after saying so;
 *                                OUTDIR holds the previous render's files,
 *                                byte for byte, and no staging folder; the
 *                                embedded farm's temporary store is gone
 *   killed_render_swept          kill -9 of the same render leaves both
 *                                folders (nothing can remove them); the
 *                                next render removes them, says so, and
 *                                renders
 *   remote_render_interrupted    SIGTERM to `render --coordinator` mid-job:
 *                                the job is cancelled on the coordinator,
 *                                the client dies of SIGTERM, its temporary
 *                                blob store is gone, OUTDIR never appears */
#include <dirent.h>
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

#include "cluster_util.h"

static char s_shared[1100], s_song[1200], s_rev[1300];

static int group_setup(void **state)
{
    (void)state;
    if (cl_init(CL_SANITIZED ? 400 : 200) != 0) return -1;
    cl_path(s_shared, sizeof s_shared, cl_root(), "shared");
    if (mkdir(s_shared, 0755) != 0) return -1;
    /* Long enough that the job runs on well after its first files are
     * staged: the signal lands in the middle. */
    cl_session_t song = {.n_tracks = 8, .prefix = "song", .track0_gain_db = -3, .heavy = 1};
    cl_write_session(s_shared, "song.json", "Song", &song, CL_SANITIZED ? 20 : 40, 1);
    cl_path(s_song, sizeof s_song, s_shared, "song.json");
    cl_write_track1_revision(s_song, s_shared, "rev.json", s_rev, sizeof s_rev);
    return 0;
}

/* How many entries of dir start with prefix. */
static int s_count(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += !strncmp(e->d_name, prefix, strlen(prefix));
    if (d) closedir(d);
    return n;
}

/* Whether dir holds a folder starting with prefix and marked by its owner
 * (store/fs_owner.c): a process killed between making it and marking it
 * leaves one that only an hour makes stale. */
static int s_marked(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    int found = 0;
    for (struct dirent *e; d && !found && (e = readdir(d));) {
        char mark[1600];
        struct stat st;
        snprintf(mark, sizeof mark, "%s/%s/.owner", dir, e->d_name);
        found = !strncmp(e->d_name, prefix, strlen(prefix)) && stat(mark, &st) == 0;
    }
    if (d) closedir(d);
    return found;
}

/* Waits until dir holds a marked folder starting with prefix. */
static void s_wait_entry(const char *dir, const char *prefix, pid_t pid)
{
    const double until = cl_now() + 60 * CL_SLOW;
    while (!s_marked(dir, prefix)) {
        if (!cl_alive(pid)) fail_msg("the render ended before %s/%s* appeared", dir, prefix);
        if (cl_now() > until) fail_msg("%s/%s* did not appear", dir, prefix);
        cl_sleep(0.005);
    }
}

/* The render of session into out, started (not waited for). */
static pid_t s_start_render(const char *session, const char *out, const cl_coord_t *c,
                            const char *err_path)
{
    const char *emb[] = {cl_bin("mixfarm"), "render", session, "-o", out, "--workers", "2", NULL};
    const char *rem[] = {cl_bin("mixfarm"), "render",       session, "-o", out,
                         "--coordinator",   c ? c->ep : "", NULL};
    return cl_spawn(c ? rem : emb, NULL, err_path);
}

/* Asserts the process died of sig. */
static void s_assert_died_of(pid_t pid, int sig, const char *err_path)
{
    const int st = cl_stop(pid, 0, 30 * CL_SLOW);
    if (st == -1 || !WIFSIGNALED(st) || WTERMSIG(st) != sig) {
        char *err = test_read_text(err_path);
        fail_msg("status %d (want death by signal %d); stderr:\n%s", st, sig, err ? err : "");
    }
}

static void embedded_render_interrupted(void **state)
{
    (void)state;
    char out[1300], err[1300], mix[1400], kept[1400];
    cl_path(out, sizeof out, cl_test_dir(), "out");
    cl_path(err, sizeof err, cl_test_dir(), "render.err");
    cl_render(s_song, out, 2, NULL);
    cl_path(mix, sizeof mix, out, "mix.wav");
    cl_path(kept, sizeof kept, cl_test_dir(), "kept-mix.wav");
    assert_int_equal(link(mix, kept), 0); /* the same bytes, whatever happens to OUTDIR's */
    const int files = s_count(out, "");

    const pid_t pid = s_start_render(s_rev, out, NULL, err);
    s_wait_entry(out, ".mixfarm-partial-", pid);
    assert_int_equal(s_count(cl_root(), "mixfarm-embedded-"), 1);
    kill(pid, SIGINT);
    s_assert_died_of(pid, SIGINT, err);
    assert_true(cl_file_contains(err, ": interrupted; "));
    assert_int_equal(s_count(out, ".mixfarm-partial-"), 0);
    assert_int_equal(s_count(out, ""), files);
    cl_assert_same_file(mix, kept);
    assert_int_equal(s_count(cl_root(), "mixfarm-embedded-"), 0);
    cl_test_pass();
}

static void killed_render_swept(void **state)
{
    (void)state;
    char out[1300], err[1300];
    cl_path(out, sizeof out, cl_test_dir(), "out");
    cl_path(err, sizeof err, cl_test_dir(), "render.err");
    const pid_t pid = s_start_render(s_song, out, NULL, err);
    s_wait_entry(out, ".mixfarm-partial-", pid);
    kill(pid, SIGKILL);
    s_assert_died_of(pid, SIGKILL, err);
    /* Nothing could remove them: the test would prove nothing without. */
    assert_int_equal(s_count(out, ".mixfarm-partial-"), 1);
    assert_int_equal(s_count(cl_root(), "mixfarm-embedded-"), 1);

    const char *argv[] = {cl_bin("mixfarm"), "render", s_song, "-o", out, "--workers", "2", NULL};
    cl_run_t r = cl_run(argv, 120 * CL_SLOW);
    if (r.rc != 0 || !strstr(r.err, "removed 1 staging folder of renders that were stopped") ||
        !strstr(r.err, "removed 1 mixfarm-embedded-* folder of renders that were stopped")) {
        char msg[8192];
        snprintf(msg, sizeof msg, "exit %d; stderr:\n%s", r.rc, r.err);
        cl_run_free(&r);
        fail_msg("%s", msg);
    }
    cl_run_free(&r);
    assert_int_equal(s_count(out, ".mixfarm-partial-"), 0);
    assert_int_equal(s_count(cl_root(), "mixfarm-embedded-"), 0);
    assert_true(s_count(out, "manifest.json") == 1);
    cl_test_pass();
}

static void remote_render_interrupted(void **state)
{
    (void)state;
    cl_coord_t c = {0};
    cl_coord_start(&c, cl_test_dir(), 0);
    cl_worker_start(&c, cl_test_dir(), "w1", 2, NULL, 0);
    cl_wait_joined(&c, "w1", 20);
    char out[1300], err[1300];
    cl_path(out, sizeof out, cl_test_dir(), "out");
    cl_path(err, sizeof err, cl_test_dir(), "render.err");
    const pid_t pid = s_start_render(s_song, out, &c, err);
    cl_status_t st = {0};
    const double until = cl_now() + 60 * CL_SLOW;
    while (cl_status(&c, 1, &st) != 0 || st.done < 1) { /* the job runs: the first task is done */
        if (!cl_alive(pid) || cl_now() > until) fail_msg("job 1 did not start running");
        cl_sleep(0.01);
    }
    assert_int_equal(s_count(cl_root(), "mixfarm-client-"), 1);
    kill(pid, SIGTERM);
    s_assert_died_of(pid, SIGTERM, err);
    assert_true(cl_file_contains(err, ": interrupted; job 1 cancelled on "));
    cl_wait_state(&c, 1, "cancelled", 20 * CL_SLOW, &st);
    assert_int_equal(s_count(cl_root(), "mixfarm-client-"), 0);
    struct stat sb;
    assert_true(stat(out, &sb) != 0 || s_count(out, ".mixfarm-partial-") == 0);
    cl_test_pass();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(embedded_render_interrupted, cl_setup, cl_teardown,
                                                 "embedded_render_interrupted"),
        cmocka_unit_test_prestate_setup_teardown(killed_render_swept, cl_setup, cl_teardown,
                                                 "killed_render_swept"),
        cmocka_unit_test_prestate_setup_teardown(remote_render_interrupted, cl_setup, cl_teardown,
                                                 "remote_render_interrupted"),
    };
    return cmocka_run_group_tests_name("cluster_interrupt", tests, group_setup, NULL);
}
