/* Cluster: faults in the middle of a job.
 *
 *   worker_killed_mid_job       kill -9 a busy worker, keep the other: the
 *                               job completes, its task ran elsewhere, and
 *                               fetch gives the undisturbed bytes
 *   coordinator_restart_mid_job kill -9 the coordinator, restart it on the
 *                               same port and state: workers come back by
 *                               themselves, the job completes without
 *                               redoing finished tasks, same bytes
 *   render_through_coordinator_restart
 *                               `render --coordinator` across the same
 *                               restart: the client waits for the
 *                               coordinator (saying so when a question
 *                               went unanswered) and writes the
 *                               undisturbed bytes
 *   coordinator_after_power_cut a render, then coordinator and worker killed
 *                               and a source blob cut short, as a power cut
 *                               leaves it; restarted in another boot
 *                               (MIXFARM_BOOT_ID): the store is checked, what
 *                               does not match its name goes, and the same
 *                               render again uploads the source anew and
 *                               gives the same bytes
 *   kind_gone_mid_job           kill -9 the only worker of a job's
 *                               arithmetic (the CPU's SIMD kernels); one on
 *                               plain C kernels (--kernels c) joins: after
 *                               --repin-after the job starts again with its
 *                               arithmetic, and its files are those of a
 *                               render on C kernels alone, byte for byte
 *   coordinator_out_of_files    started with a soft limit of 64 open files,
 *                               the coordinator raises it to the hard one
 *                               and says so; held to 36 (hard), with 24
 *                               workers knocking, it warns that peers past
 *                               the limit cannot connect and how to raise
 *                               it, while those that joined stay */
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster_util.h"

#define TASK_BITS 24 /* a task on the wire: job << 24 | index (coord_internal.h) */

static char s_shared[1100], s_song[1200], s_ref[1200];

static int group_setup(void **state)
{
    (void)state;
    if (cl_init(CL_SANITIZED ? 560 : 280) != 0) return -1;
    cl_path(s_shared, sizeof s_shared, cl_root(), "shared");
    if (mkdir(s_shared, 0755) != 0) return -1;
    cl_session_t song = {
        .n_tracks = 8, .prefix = "song", .track0_gain_db = -3, .heavy = !CL_SANITIZED};
    cl_write_session(s_shared, "song.json", "Song", &song, 24, 2);
    cl_path(s_song, sizeof s_song, s_shared, "song.json");
    cl_path(s_ref, sizeof s_ref, s_shared, "reference");
    return 0;
}

/* The undisturbed render (embedded), made once. */
static void s_reference(void)
{
    struct stat st;
    if (stat(s_ref, &st) != 0) cl_render(s_song, s_ref, 2, NULL);
}

/* Polls until the job has finished at least done_min tasks and runs at
 * least running_min; fails if it ends first. */
static cl_status_t s_wait_mid_job(const cl_coord_t *c, uint64_t job, int done_min, int running_min)
{
    cl_status_t st;
    double until = cl_now() + 60 * CL_SLOW;
    for (;;) {
        int rc = cl_status(c, job, &st);
        if (rc != 0) fail_msg("status %" PRIu64 " exited %d", job, rc);
        if (st.done >= done_min && st.running >= running_min && !strcmp(st.state, "running"))
            return st;
        if (strcmp(st.state, "running") != 0)
            fail_msg("job %" PRIu64 " was %s before it could be disturbed (%d/%d done): the "
                     "session is too short for this machine",
                     job, st.state, st.done, st.total);
        if (cl_now() > until) fail_msg("job %" PRIu64 " never got going", job);
        cl_sleep(0.05);
    }
}

/* The wire id of the task a worker log shows started and not finished
 * ("task N (kind) started" with no "task N (kind) done/failed" after). */
static unsigned long long s_unfinished_task(const char *log, char *kind, size_t kind_n)
{
    char *t = test_read_text(log);
    unsigned long long found = 0;
    kind[0] = 0;
    for (char *line = t, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl) *nl = 0;
        unsigned long long id;
        char what[32];
        const char *p = strstr(line, "task ");
        if (!p || sscanf(p, "task %llu (%31[^)]) ", &id, what) != 2) continue;
        if (strstr(p, ") started")) {
            found = id;
            snprintf(kind, kind_n, "%s", what);
        } else if (id == found) {
            found = 0;
            kind[0] = 0;
        }
    }
    free(t);
    return found;
}

static void worker_killed_mid_job(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    s_reference();
    char log1[1200], log2[1200], out[1200];
    cl_path(out, sizeof out, dir, "fetched");
    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    pid_t w1 = cl_worker_start(&c, dir, "w1", 1, log1, sizeof log1);
    cl_worker_start(&c, dir, "w2", 1, log2, sizeof log2);
    cl_wait_joined(&c, "w1", 15 * CL_SLOW);
    cl_wait_joined(&c, "w2", 15 * CL_SLOW);

    uint64_t job = cl_submit(&c, s_song, 0);
    /* Both single-slot workers busy, something already finished, and w1 in
     * the middle of a strip (long enough not to end under our feet). Read
     * off the workers' logs every 10 ms: a status process a look took up to
     * half a second under the sanitizers, a strip's length, and all three
     * of w1's strips could pass between two looks. */
    unsigned long long lost = 0;
    char kind[32] = "", other[32] = "";
    int done = 0;
    double until = cl_now() + 60 * CL_SLOW;
    for (;;) {
        lost = s_unfinished_task(log1, kind, sizeof kind);
        done = cl_count_lines(log1, ") done in") + cl_count_lines(log2, ") done in");
        if (lost && !strcmp(kind, "strip") && done >= 1 &&
            s_unfinished_task(log2, other, sizeof other)) {
            /* Frozen, then read again: a worker logs a task done before it
             * reports it, so a task still unfinished in the log of a
             * stopped worker is one the coordinator has to requeue. (It
             * may have ended between the look and the kill: CI saw it.) */
            kill(w1, SIGSTOP);
            char again[32];
            if (s_unfinished_task(log1, again, sizeof again) == lost) break;
            kill(w1, SIGCONT);
        }
        if (cl_count_lines(c.log, "): done") > 0)
            fail_msg("job %" PRIu64 " was done before w1 was seen in a strip with w2 busy: "
                     "the session is too short for this machine",
                     job);
        if (cl_now() > until) fail_msg("w1 was never seen running a strip");
        cl_sleep(0.01);
    }
    cl_stop(w1, SIGKILL, 10);
    double t_kill = cl_now();
    print_message("    killed w1 at %d tasks done, w2 on a %s (w1 was on task %llu, a %s)\n", done,
                  other, lost, kind);

    cl_status_t end;
    cl_wait_state(&c, job, "done", 30 * CL_SLOW, &end);
    double took = cl_now() - t_kill;
    assert_int_equal(end.done, end.total);
    assert_int_equal(end.failed, 0);
    /* The coordinator noticed and requeued; the other worker ran the task. */
    if (!cl_wait_log(c.log, "worker w1 lost", 1, 1))
        fail_msg("%s: no \"worker w1 lost\" line", c.log);
    assert_int_equal(cl_count_lines(c.log, "1 task requeued"), 1);
    char needle[64];
    snprintf(needle, sizeof needle, "task %llu (strip) started", lost);
    if (cl_count_lines(log2, needle) != 1)
        fail_msg("task %llu, lost with w1, did not run (once) on w2", lost);
    int n = cl_fetch_ok(&c, job, out, s_ref);
    print_message("    job done %.1f s after the kill; %d files identical to the undisturbed "
                  "render\n",
                  took, n);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

/* How many "task ID (kind) started" lines the logs hold for one task. */
static int s_starts(const char *const *logs, int n_logs, unsigned long long wire)
{
    char needle[64];
    snprintf(needle, sizeof needle, "task %llu (", wire);
    int n = 0;
    for (int i = 0; i < n_logs; i++) {
        char *t = test_read_text(logs[i]);
        for (char *line = t, *nl; line && *line; line = nl ? nl + 1 : NULL) {
            nl = strchr(line, '\n');
            if (nl) *nl = 0;
            if (strstr(line, needle) && strstr(line, ") started")) n++;
        }
        free(t);
    }
    return n;
}

static void coordinator_restart_mid_job(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    s_reference();
    char log1[1200], log2[1200], out[1200];
    cl_path(out, sizeof out, dir, "fetched");
    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    cl_worker_start(&c, dir, "w1", 1, log1, sizeof log1);
    cl_worker_start(&c, dir, "w2", 1, log2, sizeof log2);
    cl_wait_joined(&c, "w1", 15 * CL_SLOW);
    cl_wait_joined(&c, "w2", 15 * CL_SLOW);

    uint64_t job = cl_submit(&c, s_song, 0);
    cl_status_t mid = s_wait_mid_job(&c, job, 10, 1); /* decodes and some strips */
    cl_stop(c.pid, SIGKILL, 10);
    double t_kill = cl_now();

    /* What the journal says was finished when the coordinator died. */
    cl_jrow_t before[64];
    int n_before = cl_journal_tasks(c.state, job, before, 64, 1);
    int done_before = 0;
    for (int i = 0; i < n_before; i++) done_before += !strcmp(before[i].state, "done");
    print_message("    killed the coordinator at %d/%d done (status); journal: %d rows, %d done\n",
                  mid.done, mid.total, n_before, done_before);
    if (done_before < 1)
        fail_msg("the journal of a coordinator killed with %d tasks done records none done",
                 mid.done);

    cl_coord_start(&c, dir, c.port); /* same port, same --state */
    char resumed[64];
    snprintf(resumed, sizeof resumed, "job %" PRIu64 " (", job);
    if (!cl_wait_log(c.log, "resumed", 1, 5 * CL_SLOW) || !cl_file_contains(c.log, resumed))
        fail_msg("%s: job %" PRIu64 " was not resumed", c.log, job);
    /* Nobody restarts the workers: they notice the silence (5 heartbeats)
     * and connect again after a 1 s back-off. */
    cl_wait_joined(&c, "w1", 20 * CL_SLOW);
    cl_wait_joined(&c, "w2", 20 * CL_SLOW);
    double rejoined = cl_now() - t_kill;

    cl_status_t end;
    cl_wait_state(&c, job, "done", 60 * CL_SLOW, &end);
    assert_int_equal(end.done, end.total);
    assert_int_equal(end.failed, 0);
    /* Finished tasks came from the action cache after the restart... */
    if (end.cached < done_before)
        fail_msg("after the restart %d tasks came from the cache, but %d were done before it",
                 end.cached, done_before);
    /* ...and none of them ran a second time: one start each in the workers'
     * logs, one attempt each in the journal. */
    const char *logs[] = {log1, log2};
    cl_jrow_t after[64];
    int n_after = cl_journal_tasks(c.state, job, after, 64, 0);
    for (int i = 0; i < n_before; i++) {
        if (strcmp(before[i].state, "done") != 0) continue;
        unsigned long long wire = ((unsigned long long)job << TASK_BITS) | (unsigned)before[i].task;
        int starts = s_starts(logs, 2, wire);
        if (starts != 1)
            fail_msg("%s (task %llu) was done before the restart but started %d times",
                     before[i].label, wire, starts);
        for (int k = 0; k < n_after; k++)
            if (after[k].task == before[i].task && after[k].attempts != 1)
                fail_msg("%s: %d attempts in the journal after the restart", after[k].label,
                         after[k].attempts);
    }
    int n = cl_fetch_ok(&c, job, out, s_ref);
    print_message("    workers back %.1f s after the kill; done with %d/%d tasks cached; "
                  "%d files identical\n",
                  rejoined, end.cached, end.total, n);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

/* A coordinator killed after a job ended holds it again once restarted:
 * status says done at once (no worker needed: every task is in the action
 * cache) and fetch writes the same files. */
static void coordinator_restart_after_job(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    s_reference();
    char log1[1200], out[1200];
    cl_path(out, sizeof out, dir, "fetched");
    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    pid_t w = cl_worker_start(&c, dir, "w1", 2, log1, sizeof log1);
    cl_wait_joined(&c, "w1", 15 * CL_SLOW);
    uint64_t job = cl_submit(&c, s_song, 0);
    cl_status_t before;
    cl_wait_state(&c, job, "done", 60 * CL_SLOW, &before);
    cl_stop(w, SIGKILL, 10); /* nothing may run after the restart */
    cl_stop(c.pid, SIGKILL, 10);

    cl_coord_start(&c, dir, c.port);
    char held[64];
    snprintf(held, sizeof held, "job %" PRIu64 " (", job);
    if (!cl_wait_log(c.log, "held again after the restart", 1, 5 * CL_SLOW) ||
        !cl_file_contains(c.log, held))
        fail_msg("%s: job %" PRIu64 " is not held again", c.log, job);
    cl_status_t after;
    assert_int_equal(cl_status(&c, job, &after), 0);
    assert_string_equal(after.state, "done");
    assert_int_equal(after.done, before.total);
    int n = cl_fetch_ok(&c, job, out, s_ref);
    print_message("    done before the kill (%d tasks); after the restart: %s, %d/%d, and "
                  "%d files fetched identical\n",
                  before.total, after.state, after.done, after.total, n);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

/* `render --coordinator` while the coordinator is killed with -9 and comes
 * back on its port 1 s later: the client says it waits, then that the
 * coordinator answers again, and writes the undisturbed render's files. */
static void render_through_coordinator_restart(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    s_reference();
    char out[1200], err[1200];
    cl_path(out, sizeof out, dir, "out");
    cl_path(err, sizeof err, dir, "render.err");
    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    cl_worker_start(&c, dir, "w1", 2, NULL, 0);
    cl_wait_joined(&c, "w1", 15 * CL_SLOW);
    const char *argv[] = {cl_bin("mixfarm"), "render", s_song, "-o", out,
                          "--coordinator",   c.ep,     NULL};
    const pid_t pid = cl_spawn(argv, NULL, err);
    cl_status_t mid = {0};
    const double until = cl_now() + 60 * CL_SLOW;
    while (cl_status(&c, 1, &mid) != 0 || mid.done < 2) { /* submitted, and under way */
        if (!cl_alive(pid) || cl_now() > until) fail_msg("job 1 did not get under way");
        cl_sleep(0.02);
    }
    cl_stop(c.pid, SIGKILL, 10);
    cl_sleep(1.0);
    cl_coord_start(&c, dir, c.port); /* same port, same --state */
    const int st = cl_stop(pid, 0, 120 * CL_SLOW);
    /* Whether the client noticed depends on what it was doing: a question
     * in flight is lost with the old coordinator and goes unanswered (it
     * says so, and that the coordinator is back); an upload's next chunk,
     * or a status asked between two, waits in ZeroMQ's queue for the new
     * one, which answers it (once in CI the render never noticed). Either
     * way it ends well. */
    char *text = test_read_text(err);
    const int noticed =
        strstr(text, "does not answer; waiting up to 120 s for it to come back") != 0;
    const int ok = st == 0 && (!noticed || strstr(text, "answers again; job 1 goes on"));
    if (!ok) fail_msg("render exited with status %d; stderr:\n%s", st, text);
    free(text);
    const int n = cl_assert_same_outdir(s_ref, out);
    print_message("    the render %s the restarted coordinator: %d files as undisturbed\n",
                  noticed ? "waited for" : "went on with", n);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

/* The blob under STATE/blobs/objects that holds file's bytes, cut to half
 * its length (what a power cut leaves of a file written just before it).
 * Returns its path in out. */
static void s_cut_blob_of(const char *state, const char *file, char *out, size_t n)
{
    char objects[1300];
    snprintf(objects, sizeof objects, "%s/blobs/objects", state);
    DIR *top = opendir(objects);
    if (!top) fail_msg("%s: cannot read", objects);
    out[0] = 0;
    for (struct dirent *fan; !out[0] && (fan = readdir(top));) {
        if (fan->d_name[0] == '.') continue;
        char sub[1600];
        snprintf(sub, sizeof sub, "%s/%s", objects, fan->d_name);
        DIR *d = opendir(sub);
        for (struct dirent *e; d && !out[0] && (e = readdir(d));) {
            char blob[1900];
            snprintf(blob, sizeof blob, "%s/%s", sub, e->d_name);
            if (e->d_name[0] != '.' && cl_same_file(blob, file)) snprintf(out, n, "%s", blob);
        }
        if (d) closedir(d);
    }
    closedir(top);
    struct stat st;
    if (!out[0] || stat(out, &st) != 0) fail_msg("%s: no blob holds %s", objects, file);
    if (truncate(out, st.st_size / 2) != 0) fail_msg("%s: cannot cut it short", out);
}

static void coordinator_after_power_cut(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    s_reference();
    char out1[1200], out2[1200], st_dir[1200], source[1300], blob[2000];
    cl_path(out1, sizeof out1, dir, "before");
    cl_path(out2, sizeof out2, dir, "after");
    cl_path(st_dir, sizeof st_dir, dir, "state");
    setenv("MIXFARM_BOOT_ID", "boot-before", 1);
    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    pid_t w = cl_worker_start(&c, dir, "w1", 2, NULL, 0);
    cl_wait_joined(&c, "w1", 15 * CL_SLOW);
    cl_render(s_song, out1, 0, &c);
    cl_stop(w, SIGKILL, 10);
    cl_stop(c.pid, SIGKILL, 10);
    cl_path(source, sizeof source, s_shared, "song0.wav");
    s_cut_blob_of(st_dir, source, blob, sizeof blob);

    setenv("MIXFARM_BOOT_ID", "boot-after", 1);
    cl_coord_start(&c, dir, c.port);
    if (!cl_file_contains(c.log, "the machine restarted since its last flush to disk") ||
        !cl_file_contains(c.log, "dropped (damaged, or named after the task that made them)"))
        fail_msg("%s: no check of the store after the restart", c.log);
    struct stat st;
    if (stat(blob, &st) == 0) fail_msg("%s: the short blob is still in the store", blob);
    char log1[1200];
    cl_worker_start(&c, dir, "w1", 2, log1, sizeof log1);
    cl_wait_joined(&c, "w1", 15 * CL_SLOW);
    if (!cl_file_contains(log1, "the machine restarted since its last flush to disk"))
        fail_msg("%s: the worker's cache was not checked", log1);
    cl_render(s_song, out2, 0, &c);
    if (!cl_same_file(blob, source)) fail_msg("%s: the source did not come up again", blob);
    int n = cl_assert_same_outdir(out2, s_ref);
    cl_assert_same_outdir(out1, s_ref);
    print_message("    the store checked after the restart; the cut source uploaded again and %d "
                  "files identical to the undisturbed render\n",
                  n);
    unsetenv("MIXFARM_BOOT_ID");
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

/* A render of the song on a farm of its own, whose one worker runs the
 * plain C kernels. */
static void s_render_plain(const char *dir, const char *out)
{
    char farm[1200];
    cl_path(farm, sizeof farm, dir, "plain-farm");
    if (mkdir(farm, 0755) != 0) fail_msg("cannot create %s", farm);
    const char *plain[] = {"--kernels", "c", NULL};
    cl_coord_t r = {0};
    cl_coord_start(&r, farm, 0);
    pid_t w = cl_worker_start_with(&r, farm, "plain", 2, plain, NULL, 0);
    cl_wait_joined(&r, "plain", 15 * CL_SLOW);
    cl_render(s_song, out, 0, &r);
    cl_stop(w, SIGTERM, 30 * CL_SLOW);
    cl_stop(r.pid, SIGTERM, 30 * CL_SLOW);
}

static void kind_gone_mid_job(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    s_reference();
    char plain_ref[1200], out[1200], log1[1200], log2[1200], a[1300], b[1300];
    cl_path(plain_ref, sizeof plain_ref, dir, "plain-reference");
    cl_path(out, sizeof out, dir, "fetched");
    s_render_plain(dir, plain_ref);
    /* Else the test could not tell the two arithmetics' files apart. */
    cl_path(a, sizeof a, s_ref, "mix.wav");
    cl_path(b, sizeof b, plain_ref, "mix.wav");
    if (cl_same_file(a, b)) fail_msg("the C kernels' mix is the SIMD kernels' to the bit");

    const char *repin[] = {"--repin-after", "1", NULL};
    cl_coord_t c = {.extra = repin};
    cl_coord_start(&c, dir, 0);
    pid_t w1 = cl_worker_start(&c, dir, "w1", 1, log1, sizeof log1);
    cl_wait_joined(&c, "w1", 15 * CL_SLOW);
    uint64_t job = cl_submit(&c, s_song, 0);
    cl_status_t mid = s_wait_mid_job(&c, job, 1, 1);
    cl_stop(w1, SIGKILL, 10);
    const char *plain[] = {"--kernels", "c", NULL};
    cl_worker_start_with(&c, dir, "w2", 2, plain, log2, sizeof log2);
    cl_status_t end;
    cl_wait_state(&c, job, "done", 120 * CL_SLOW, &end);
    print_message("    killed w1 (%s) at %d/%d tasks done; done on w2 (%s)\n", mid.numerics,
                  mid.done, mid.total, end.numerics);
    assert_int_equal(end.failed, 0);
    assert_true(strstr(end.numerics, "dsp=c qc=c") != NULL);
    char waits[160], again[160];
    snprintf(waits, sizeof waits, "job %" PRIu64 " waits for a worker that computes with %s", job,
             mid.numerics);
    snprintf(again, sizeof again, "job %" PRIu64 ": no worker that computes with %s", job,
             mid.numerics);
    if (!cl_file_contains(c.log, waits) || !cl_file_contains(c.log, again))
        fail_msg("%s: no \"%s\" and \"%s\"", c.log, waits, again);
    int n = cl_fetch_ok(&c, job, out, plain_ref);
    print_message("    %d files identical to the render on C kernels alone\n", n);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

static void coordinator_out_of_files(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    /* A soft limit of 64 (a service's 1,024, smaller): raised at start. */
    struct rlimit lim, low;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &lim), 0);
    low = lim;
    low.rlim_cur = 64;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
    unsigned long long nr_open = 0;
    FILE *f = fopen("/proc/sys/fs/nr_open", "r");
    if (f && fscanf(f, "%llu", &nr_open) != 1) nr_open = 0;
    if (f) fclose(f);
    unsigned long long want = lim.rlim_max;
    if (lim.rlim_max == RLIM_INFINITY || (nr_open && want > nr_open)) want = nr_open;
    char line[128];
    snprintf(line, sizeof line, "up to %llu open files", want);
    if (!cl_file_contains(c.log, line)) fail_msg("%s does not say \"%s\"", c.log, line);
    cl_stop(c.pid, SIGTERM, 10 * CL_SLOW);

    /* Held to 36, hard: the coordinator itself uses about 17. */
    char state2[1200], ep[64];
    cl_path(state2, sizeof state2, dir, "state2");
    cl_coord_t held = {.port = cl_free_port()};
    snprintf(held.ep, sizeof held.ep, "tcp://127.0.0.1:%d", held.port);
    snprintf(ep, sizeof ep, "%s", held.ep);
    cl_path(held.log, sizeof held.log, dir, "held.log");
    const char *log2 = held.log;
    const char *argv[] = {"/bin/sh",
                          "-c",
                          "ulimit -n 36 && exec \"$0\" \"$@\"",
                          cl_bin("mixfarm-coordinator"),
                          "--bind",
                          ep,
                          "--state",
                          state2,
                          NULL};
    char prog[1200];
    snprintf(prog, sizeof prog, "%s", argv[3]);
    argv[3] = prog;
    held.pid = cl_spawn(argv, NULL, log2);
    if (!cl_wait_log(log2, "listening on", 1, 15 * CL_SLOW))
        fail_msg("the coordinator held to 36 files did not start: %s", log2);
    assert_true(cl_file_contains(log2, "up to 36 open files"));
    for (int i = 0; i < 24; i++) {
        char name[16], wlog[1200];
        snprintf(name, sizeof name, "w%02d", i);
        cl_worker_start(&held, dir, name, 1, wlog, sizeof wlog);
    }
    if (!cl_wait_log(log2, "open files in use", 1, 30 * CL_SLOW))
        fail_msg("%s: no warning about the open files", log2);
    assert_true(cl_file_contains(log2, "ulimit -n"));
    const int joined = cl_count_lines(log2, "joined with");
    print_message("    %d of 24 workers joined under a limit of 36 open files, and the "
                  "coordinator said so\n",
                  joined);
    assert_true(joined > 0 && joined < 24);
    assert_true(cl_alive(held.pid));
    cl_test_pass();
}

/* A task that kills every worker it runs on (the kernel's out-of-memory
 * killer, say, on a task too large for the machines): a lost worker does
 * not count against a task, so it went from one worker to the next, for
 * ever, taking each down. The eighth loss fails it, and its job, saying so;
 * the coordinator goes on. */
static void poison_task(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    setenv("MIXFARM_TEST_KILL_ON", "master", 1);
    pid_t w[8];
    for (int i = 0; i < 8; i++) {
        char name[16];
        snprintf(name, sizeof name, "w%d", i + 1);
        w[i] = cl_worker_start(&c, dir, name, 1, NULL, 0);
    }
    unsetenv("MIXFARM_TEST_KILL_ON");
    for (int i = 0; i < 8; i++) {
        char name[16];
        snprintf(name, sizeof name, "w%d", i + 1);
        cl_wait_joined(&c, name, 15 * CL_SLOW);
    }
    uint64_t job = cl_submit(&c, s_song, 0);
    cl_status_t st;
    cl_wait_state(&c, job, "failed", 120 * CL_SLOW, &st); /* 5 s to tell each loss */
    if (!cl_file_contains(c.log, "master: the worker running it was lost 8 times"))
        fail_msg("%s does not say why job %" PRIu64 " failed", c.log, job);
    for (int i = 0; i < 8; i++) assert_false(cl_alive(w[i])); /* each ran it once */
    assert_int_equal(cl_count_lines(c.log, " lost (silent for"), 8);
    print_message("    job %" PRIu64 " failed after its master took down 8 workers\n", job);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

/* A task stuck in a loop that never ends: the worker's heartbeats go on,
 * so it is never lost, and the job never ended. Past --task-limit the
 * worker says so and exits; the task runs elsewhere. */
static void stuck_task(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    char log1[1200];
    setenv("MIXFARM_TEST_HANG_ON", "master", 1);
    const char *const limit[] = {"--task-limit", "1", NULL};
    pid_t w1 = cl_worker_start_with(&c, dir, "w1", 1, limit, log1, sizeof log1);
    unsetenv("MIXFARM_TEST_HANG_ON");
    cl_wait_joined(&c, "w1", 15 * CL_SLOW);
    uint64_t job = cl_submit(&c, s_song, 0);
    double until = cl_now() + 60 * CL_SLOW;
    while (cl_alive(w1) && cl_now() < until) cl_sleep(0.1);
    if (cl_alive(w1)) fail_msg("w1 still runs, its master stuck");
    if (!cl_file_contains(log1, "(master) has run for") ||
        !cl_file_contains(log1, "(--task-limit 1 s and a second per second of its audio)"))
        fail_msg("%s does not say which task was stuck", log1);
    cl_worker_start(&c, dir, "w2", 1, NULL, 0);
    cl_status_t st;
    cl_wait_state(&c, job, "done", 60 * CL_SLOW, &st);
    assert_int_equal(cl_count_lines(c.log, "worker w1 lost"), 1);
    print_message("    w1 left over its stuck master; w2 finished job %" PRIu64 "\n", job);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(worker_killed_mid_job, cl_setup, cl_teardown,
                                                 "worker_killed_mid_job"),
        cmocka_unit_test_prestate_setup_teardown(coordinator_restart_mid_job, cl_setup, cl_teardown,
                                                 "coordinator_restart_mid_job"),
        cmocka_unit_test_prestate_setup_teardown(coordinator_restart_after_job, cl_setup,
                                                 cl_teardown, "coordinator_restart_after_job"),
        cmocka_unit_test_prestate_setup_teardown(render_through_coordinator_restart, cl_setup,
                                                 cl_teardown, "render_through_coordinator_restart"),
        cmocka_unit_test_prestate_setup_teardown(coordinator_after_power_cut, cl_setup, cl_teardown,
                                                 "coordinator_after_power_cut"),
        cmocka_unit_test_prestate_setup_teardown(kind_gone_mid_job, cl_setup, cl_teardown,
                                                 "kind_gone_mid_job"),
        cmocka_unit_test_prestate_setup_teardown(coordinator_out_of_files, cl_setup, cl_teardown,
                                                 "coordinator_out_of_files"),
        cmocka_unit_test_prestate_setup_teardown(poison_task, cl_setup, cl_teardown, "poison_task"),
        cmocka_unit_test_prestate_setup_teardown(stuck_task, cl_setup, cl_teardown, "stuck_task"),
    };
    return cmocka_run_group_tests_name("cluster_faults", tests, group_setup, NULL);
}
