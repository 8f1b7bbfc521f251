/* Cluster: the distributed farm renders the same bits as the embedded one.
 *
 *   distributed_equals_embedded  one session, rendered embedded with 1 and 2
 *                                workers and on a coordinator with 2 worker
 *                                processes over TCP: every output file equal;
 *                                the client writes mix.wav while the job's
 *                                last tasks run
 *   two_clients_at_once          two `render --coordinator` side by side on
 *                                different sessions: both right
 *   shared_storage_farm          a worker and a client on the coordinator's
 *                                store (--shared-store): the same files as
 *                                embedded, no source uploaded nor linked,
 *                                fetch from the store too; a store that is
 *                                not the coordinator's refused
 *   listening_waits_for_master   two workers of one slot: the qc and the six
 *                                listening copies wait for the worker that
 *                                holds the master (--locality-wait) rather
 *                                than fetch it on the other; with
 *                                --locality-wait never, some go there; the
 *                                same files either way
 *   worker_defaults              a worker without --slots nor --cache, one
 *                                CPU its own and no home: 1 slot, a cache
 *                                in TMPDIR said, the same files
 *   over_ipv6                    a coordinator on tcp://[::1]:PORT, its
 *                                worker and client connecting there: the
 *                                same files (an IPv6 address was "No such
 *                                device"); skipped without IPv6 loopback */
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster_util.h"

static char s_shared[1100], s_song[1200], s_other[1200];

/* The embedded 2-worker render of a shared session, made once. */
static const char *s_reference(const char *session, const char *name)
{
    static char paths[2][1200];
    char *out = paths[strcmp(name, "song") != 0];
    char leaf[64];
    snprintf(leaf, sizeof leaf, "ref-%s", name);
    cl_path(out, sizeof paths[0], s_shared, leaf);
    struct stat st;
    if (stat(out, &st) != 0) cl_render(session, out, 2, NULL);
    return out;
}

static int group_setup(void **state)
{
    (void)state;
    if (cl_init(CL_SANITIZED ? 560 : 280) != 0) return -1;
    cl_path(s_shared, sizeof s_shared, cl_root(), "shared");
    if (mkdir(s_shared, 0755) != 0) return -1;
    cl_session_t song = {
        .n_tracks = 8, .prefix = "song", .track0_gain_db = -3, .heavy = !CL_SANITIZED};
    cl_write_session(s_shared, "song.json", "Song", &song, 20, 2);
    cl_session_t other = {
        .n_tracks = 5, .prefix = "other", .track0_gain_db = -1, .heavy = !CL_SANITIZED};
    cl_write_session(s_shared, "other.json", "Other", &other, 24, 1);
    cl_path(s_song, sizeof s_song, s_shared, "song.json");
    cl_path(s_other, sizeof s_other, s_shared, "other.json");
    return 0;
}

static int setup(void **state)
{
    cl_test_begin(*state ? (const char *)*state : "test");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cl_test_end();
    return 0;
}

/* Tasks each worker log says it started. */
static int s_started(const char *log)
{
    return cl_count_lines(log, ") started");
}

/* What a render's client said of the files it wrote while the job ran
 * (MIXFARM_LOG=debug, client_early.c). */
typedef struct {
    int early, mix_early, released, refetched;
    int streamed, mix_streamed; /* written as their blobs arrived, never stored */
    int listen_streamed;        /* of them, listening copies (files, not signals) */
} staging_t;

static staging_t s_render_staging(const char *const *argv)
{
    setenv("MIXFARM_LOG", "debug", 1);
    cl_run_t r = cl_run(argv, 120 * CL_SLOW);
    unsetenv("MIXFARM_LOG");
    staging_t s = {0};
    for (const char *p = r.err; p && (p = strstr(p, " written while the job runs")); p++) s.early++;
    s.mix_early = r.err && strstr(r.err, "mix.wav written while the job runs") != NULL;
    for (const char *p = r.err; p && (p = strstr(p, " written as its blob arrived")); p++)
        s.streamed++;
    s.mix_streamed = r.err && strstr(r.err, "mix.wav written as its blob arrived") != NULL;
    for (const char *p = r.err; p && (p = strstr(p, " written as its blob arrived")); p++) {
        const char *line = p;
        while (line > r.err && line[-1] != '\n') line--;
        if (memmem(line, (size_t)(p - line), " listen/", 8)) s.listen_streamed++;
    }
    /* their blobs, out of the client's temporary store */
    for (const char *p = r.err; p && (p = strstr(p, "'s blob released from the client's store"));
         p++)
        s.released++;
    s.refetched = r.err && strstr(r.err, "outputs fetched at the end, 0 staged") != NULL;
    const int rc = r.rc;
    if (rc != 0) print_message("%s\n", r.err ? r.err : "");
    cl_run_free(&r);
    assert_int_equal(rc, 0);
    return s;
}

static void distributed_equals_embedded(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    char e1[1200], e2[2400], dist[1200], log1[1200], log2[1200];
    cl_path(e1, sizeof e1, dir, "embedded-1");
    cl_path(dist, sizeof dist, dir, "distributed");
    char prog[1200];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    double t0 = cl_now();
    /* Embedded, one worker: its outputs too go into OUTDIR as they are
     * ready, straight from the farm's store, which keeps them (its tasks
     * may still read them). */
    const char *eargv[] = {prog, "render", s_song, "-o", e1, "--workers", "1", NULL};
    const staging_t es = s_render_staging(eargv);
    if (!es.mix_early || es.released || es.streamed)
        fail_msg("embedded: mix.wav written while the job ran: %d; blobs released from the "
                 "farm's store: %d",
                 es.mix_early, es.released);
    snprintf(e2, sizeof e2, "%s", s_reference(s_song, "song"));
    double t1 = cl_now();

    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    cl_worker_start(&c, dir, "w1", 1, log1, sizeof log1);
    cl_worker_start(&c, dir, "w2", 1, log2, sizeof log2);
    cl_wait_joined(&c, "w1", 15 * CL_SLOW);
    cl_wait_joined(&c, "w2", 15 * CL_SLOW);
    double t2 = cl_now();
    /* render --coordinator, telling what it writes while the job runs. */
    const char *argv[] = {prog, "render", s_song, "-o", dist, "--coordinator", c.ep, NULL};
    const staging_t ds = s_render_staging(argv);
    double t3 = cl_now();

    int n = cl_assert_same_outdir(e1, e2);
    assert_int_equal(cl_assert_same_outdir(e1, dist), n);
    /* Both worker processes took part. */
    int s1 = s_started(log1), s2 = s_started(log2);
    if (s1 < 1 || s2 < 1)
        fail_msg("tasks started: w1 %d, w2 %d; both should have run some", s1, s2);
    print_message("    %d files identical; embedded 1+2 workers %.1f s, distributed %.1f s "
                  "(w1 ran %d tasks, w2 %d); %d files written while the job ran\n",
                  n, t1 - t0, t3 - t2, s1, s2, ds.early + ds.streamed);
    print_message("    %d of them (the mix, stems and listening copies) written as their blobs "
                  "arrived\n",
                  ds.streamed);
    /* The mix is final once the master is done, before the listening
     * copies and the qc: the client writes it then, as its blob arrives,
     * without storing it first (client_early.c). */
    /* n: mix.wav, manifest.json and the stems; and listening copies,
     * written and hashed as they arrive too (manifest.json, compared
     * above, holds their hashes and formats). */
    if (ds.streamed - ds.listen_streamed != n - 1)
        fail_msg("%d of the mix and %d stems written as their blobs arrived",
                 ds.streamed - ds.listen_streamed, n - 2);
    /* A copy whose task ends in the job's last moments (with the report
     * after it) may be seen only by the fetch at the end, which writes it
     * from the store; the manifest above is the same either way. */
    if (ds.listen_streamed < 1) fail_msg("none of 6 listening copies written as its blob arrived");
    if (!ds.mix_streamed || ds.mix_early)
        fail_msg("render --coordinator did not write mix.wav as its blob arrived (%d), or "
                 "stored it first (%d)",
                 ds.mix_streamed, ds.mix_early);
    /* Each staged file's blob left the client's store (TMPDIR), and the
     * fetch at the end did not ask for them again (client_early.c). */
    if (ds.released != ds.early || ds.refetched)
        fail_msg("%d files staged early, %d blobs released; staged ones fetched again: %d",
                 ds.early, ds.released, ds.refetched);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

static void two_clients_at_once(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    const char *ref_song = s_reference(s_song, "song");
    const char *ref_other = s_reference(s_other, "other");
    char out_a[1200], out_b[1200];
    cl_path(out_a, sizeof out_a, dir, "out-song");
    cl_path(out_b, sizeof out_b, dir, "out-other");

    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    cl_worker_start(&c, dir, "w1", 2, NULL, 0);
    cl_worker_start(&c, dir, "w2", 1, NULL, 0);
    cl_wait_joined(&c, "w1", 15 * CL_SLOW);
    cl_wait_joined(&c, "w2", 15 * CL_SLOW);

    char prog[1200];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    const char *argv_a[] = {prog,      "render",        s_song, "-o", out_a,
                            "--quiet", "--coordinator", c.ep,   NULL};
    const char *argv_b[] = {prog,      "render",        s_other, "-o", out_b,
                            "--quiet", "--coordinator", c.ep,    NULL};
    cl_async_t a, b;
    double t0 = cl_now();
    cl_run_async(&a, argv_a);
    cl_run_async(&b, argv_b);
    cl_run_t ra = cl_wait_run(&a, 120 * CL_SLOW);
    cl_run_t rb = cl_wait_run(&b, 120 * CL_SLOW);
    int rca = ra.rc, rcb = rb.rc;
    char msg[2048];
    snprintf(msg, sizeof msg, "render song exited %d (%s); render other exited %d (%s)", rca,
             ra.err, rcb, rb.err);
    double sa = ra.secs, sb = rb.secs;
    cl_run_free(&ra);
    cl_run_free(&rb);
    if (rca != 0 || rcb != 0) fail_msg("%s", msg);
    cl_assert_same_outdir(ref_song, out_a);
    cl_assert_same_outdir(ref_other, out_b);
    /* Both were jobs of the one coordinator, and both ran there. */
    assert_int_equal(cl_count_lines(c.log, "): done"), 2);
    print_message("    both renders right: song %.1f s, other %.1f s (wall %.1f s)\n", sa, sb,
                  cl_now() - t0);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

/* mixfarm ARGS... with --coordinator c's and --shared-store store (NULL:
 * none); the run, to free. */
static cl_run_t s_shared_run(const cl_coord_t *c, const char *store, const char *cmd,
                             const char *a1, const char *a2, const char *a3)
{
    char prog[1200];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    const char *given[] = {
        cmd, a1, a2, a3, "--coordinator", c->ep, store ? "--shared-store" : NULL, store};
    const char *argv[10] = {prog};
    for (size_t i = 0, n = 1; i < sizeof given / sizeof *given; i++)
        if (given[i]) argv[n++] = given[i];
    return cl_run(argv, 120 * CL_SLOW);
}

static void shared_storage_farm(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    const char *ref = s_reference(s_song, "song");
    cl_coord_t c = {0};
    setenv("MIXFARM_LOG", "debug", 1); /* the coordinator says when each source arrives */
    cl_coord_start(&c, dir, 0);
    unsetenv("MIXFARM_LOG");
    char blobs[1100], wlog[1200], out[1200], fetched[1200], other[1200], src0[1200];
    cl_path(blobs, sizeof blobs, c.state, "blobs");
    cl_path(wlog, sizeof wlog, dir, "worker-ws.log");
    char prog[1200];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm-worker"));
    const char *wargv[] = {prog,  "--connect", c.ep, "--slots", "2", "--shared-store",
                           blobs, "--name",    "ws", "-v",      NULL};
    cl_spawn(wargv, NULL, wlog);
    cl_wait_joined(&c, "ws", 15 * CL_SLOW);

    /* The render: sources go into the store, not over the socket (the
     * client says "uploading N of M source files" when it sends any), and
     * after the submit, each released as it lands ("source ... arrived"). */
    cl_path(out, sizeof out, dir, "out");
    cl_run_t r = s_shared_run(&c, blobs, "render", s_song, "-o", out);
    const int rc = r.rc, uploaded = r.err && strstr(r.err, "uploading") != NULL;
    const int copied = r.err && strstr(r.err, "copying into the farm's store") != NULL;
    if (rc != 0 || uploaded || !copied) print_message("%s\n", r.err ? r.err : "");
    cl_run_free(&r);
    assert_int_equal(rc, 0);
    if (uploaded || !copied) fail_msg("render --shared-store uploaded sources, or copied none");
    const int arrived = cl_count_lines(c.log, " arrived, ");
    if (arrived < 1) fail_msg("no source arrived at the coordinator after the submit");
    const int n = cl_assert_same_outdir(ref, out);
    /* Copied, not linked: the store outlives the render, and an edit of a
     * source in place must not change its blob. */
    struct stat st;
    cl_path(src0, sizeof src0, s_shared, "song0.wav");
    assert_int_equal(stat(src0, &st), 0);
    if (st.st_nlink != 1)
        fail_msg("%s has %ld links: linked into the store", src0, (long)st.st_nlink);

    /* fetch reads the finished job's outputs from the store as well. */
    cl_path(fetched, sizeof fetched, dir, "fetched");
    r = s_shared_run(&c, blobs, "fetch", "1", "-o", fetched);
    assert_int_equal(r.rc, 0);
    cl_run_free(&r);
    assert_int_equal(cl_assert_same_outdir(ref, fetched), n);

    /* Another blob store (a folder with objects/ in it) is refused, with
     * why, before anything is submitted; so is a folder that is none. */
    cl_path(other, sizeof other, dir, "other-store");
    assert_int_equal(mkdir(other, 0755), 0);
    cl_path(fetched, sizeof fetched, other, "objects");
    assert_int_equal(mkdir(fetched, 0755), 0);
    r = s_shared_run(&c, other, "submit", s_song, NULL, NULL);
    const int rc_other = r.rc,
              said = r.err && strstr(r.err, "not the blob store of the coordinator");
    if (!said) print_message("%s\n", r.err ? r.err : "");
    cl_run_free(&r);
    assert_int_equal(rc_other, 2);
    assert_true(said);
    r = s_shared_run(&c, dir, "submit", s_song, NULL, NULL);
    const int rc_none = r.rc, said_none = r.err && strstr(r.err, "not a coordinator's blob store");
    cl_run_free(&r);
    assert_int_equal(rc_none, 2);
    assert_true(said_none);
    assert_int_equal(cl_count_lines(c.log, "): done"), 1); /* nothing else was submitted */
    print_message("    %d files as embedded, rendered and fetched through the shared store; %d "
                  "sources arrived after the submit\n",
                  n, arrived);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

/* Which worker the coordinator's log (-v) says took the master, and how
 * many of the tasks reading it (qc, listen) went elsewhere. */
static int s_away_from_master(const char *log, char *master, size_t n)
{
    char *text = test_read_text(log);
    assert_non_null(text);
    master[0] = 0;
    int away = 0, readers = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        const char *to = strstr(line, " sent to ");
        if (!to) continue;
        to += strlen(" sent to ");
        if (strstr(line, ": master master sent to ")) snprintf(master, n, "%s", to);
        if (!strstr(line, ": qc sent to ") && !strstr(line, ": listen ")) continue;
        if (!master[0]) fail_msg("\"%s\" before the master was sent", line);
        readers++;
        away += strcmp(to, master) != 0;
    }
    free(text);
    /* qc, six copies and their report */
    if (readers != 8) fail_msg("%d tasks after the master in %s, not 8", readers, log);
    return away;
}

static void listening_waits_for_master(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    const char *ref = s_reference(s_song, "song");
    for (int never = 0; never <= 1; never++) {
        char sub[1200], out[1300], master[64];
        cl_path(sub, sizeof sub, dir, never ? "never" : "wait");
        mkdir(sub, 0755);
        cl_path(out, sizeof out, sub, "out");
        /* Long enough for any machine: the wait ends when the slot frees. */
        const char *extra[] = {"--locality-wait", never ? "never" : "120", "-v", NULL};
        cl_coord_t c = {.extra = extra};
        cl_coord_start(&c, sub, 0);
        cl_worker_start(&c, sub, "w1", 1, NULL, 0);
        cl_worker_start(&c, sub, "w2", 1, NULL, 0);
        cl_wait_joined(&c, "w1", 15 * CL_SLOW);
        cl_wait_joined(&c, "w2", 15 * CL_SLOW);
        cl_render(s_song, out, 0, &c);
        const int n = cl_assert_same_outdir(ref, out);
        const int away = s_away_from_master(c.log, master, sizeof master);
        print_message("    --locality-wait %s: %d files as embedded; master on %s, %d of its 8 "
                      "readers elsewhere\n",
                      never ? "never" : "120", n, master, away);
        if (never ? away < 1 : away != 0)
            fail_msg("%d of the master's readers ran away from %s", away, master);
        cl_stop_all_clean(30 * CL_SLOW);
    }
    cl_test_pass();
}

/* A worker given neither --slots nor --cache, as a container starts one:
 * its slots are the CPUs it may use (here its affinity, one CPU), and with
 * no home for a cache (HOME=/nonexistent, a system user's) it caches in
 * TMPDIR and says so, and renders. */
static void worker_defaults(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    const char *ref = s_reference(s_song, "song");
    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    char log[1300], out[1300], want[1400];
    cl_path(log, sizeof log, dir, "worker-bare.log");
    cl_path(out, sizeof out, dir, "out");
    cpu_set_t all, one;
    assert_int_equal(sched_getaffinity(0, sizeof all, &all), 0);
    CPU_ZERO(&one);
    for (int k = 0; k < CPU_SETSIZE; k++)
        if (CPU_ISSET(k, &all)) {
            CPU_SET(k, &one);
            break;
        }
    const char *home = getenv("HOME"), *xdg = getenv("XDG_CACHE_HOME");
    char saved_home[1024] = "";
    if (home) snprintf(saved_home, sizeof saved_home, "%s", home);
    setenv("HOME", "/nonexistent", 1);
    unsetenv("XDG_CACHE_HOME");
    assert_int_equal(sched_setaffinity(0, sizeof one, &one), 0); /* the child's, inherited */
    const char *argv[] = {cl_bin("mixfarm-worker"), "--connect", c.ep, "--name", "bare", NULL};
    cl_spawn(argv, NULL, log);
    assert_int_equal(sched_setaffinity(0, sizeof all, &all), 0);
    if (home) setenv("HOME", saved_home, 1);
    if (xdg) setenv("XDG_CACHE_HOME", xdg, 1);
    cl_wait_joined(&c, "bare", 15 * CL_SLOW);
    assert_true(cl_file_contains(c.log, "worker bare joined with 1 slot"));
    snprintf(want, sizeof want, "caching in %s/mixfarm-worker-%ld", cl_root(), (long)getuid());
    if (!cl_file_contains(log, want)) fail_msg("%s does not say: %s", log, want);
    cl_render(s_song, out, 0, &c);
    cl_assert_same_outdir(ref, out);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

/* Whether this machine has an IPv6 loopback to listen on. */
static int s_have_ipv6(void)
{
    const int fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    const int ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

static void over_ipv6(void **state)
{
    (void)state;
    if (!s_have_ipv6()) {
        print_message("    skipped: no IPv6 loopback\n");
        cl_test_pass();
        return;
    }
    const char *dir = cl_test_dir();
    const char *ref = s_reference(s_song, "song");
    cl_coord_t c = {.ipv6 = 1};
    cl_coord_start(&c, dir, 0);
    assert_non_null(strstr(c.ep, "[::1]"));
    cl_worker_start(&c, dir, "w6", 2, NULL, 0);
    cl_wait_joined(&c, "w6", 15 * CL_SLOW);
    char out[1300];
    cl_path(out, sizeof out, dir, "out");
    cl_render(s_song, out, 0, &c);
    cl_assert_same_outdir(ref, out);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(distributed_equals_embedded, setup, teardown,
                                                 "distributed_equals_embedded"),
        cmocka_unit_test_prestate_setup_teardown(two_clients_at_once, setup, teardown,
                                                 "two_clients_at_once"),
        cmocka_unit_test_prestate_setup_teardown(shared_storage_farm, setup, teardown,
                                                 "shared_storage_farm"),
        cmocka_unit_test_prestate_setup_teardown(listening_waits_for_master, setup, teardown,
                                                 "listening_waits_for_master"),
        cmocka_unit_test_prestate_setup_teardown(over_ipv6, setup, teardown, (void *)"over_ipv6"),
        cmocka_unit_test_prestate_setup_teardown(worker_defaults, setup, teardown,
                                                 "worker_defaults"),
    };
    return cmocka_run_group_tests_name("cluster_render", tests, group_setup, NULL);
}
