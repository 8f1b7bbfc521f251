/* End to end through the mixfarm binary (render_case.h): the same bits
 * whatever the workers, a revision that keeps what did not change, and a
 * kept --state folder (reuse, fused strips, a budget, two renders at once,
 * one killed). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "render_case.h"

extern char **environ;

static void test_workers_bit_identical(void **state)
{
    (void)state;
    char dir[1024];
    make_rich(dir, sizeof dir, "workers");
    render_ok(dir, "s.json", "w1", "1");
    render_ok(dir, "s.json", "w2", "2");
    render_ok(dir, "s.json", "w4", "4");
    render_ok(dir, "s.json", "w4b", "4");
    const char *outs[] = {"w2", "w4", "w4b"};
    for (size_t f = 0; f < sizeof render_rich_files / sizeof *render_rich_files; f++) {
        char p[2048], q[2048];
        snprintf(p, sizeof p, "%s/w1/%s", dir, render_rich_files[f]);
        size_t n1;
        unsigned char *a = test_read_bytes(p, &n1);
        assert_true(n1 > 44 + 4 * 48000);
        for (size_t o = 0; o < 3; o++) {
            snprintf(q, sizeof q, "%s/%s/%s", dir, outs[o], render_rich_files[f]);
            size_t n2;
            unsigned char *b = test_read_bytes(q, &n2);
            if (n1 != n2 || memcmp(a, b, n1) != 0)
                fail_msg("%s differs between 1 worker and %s", render_rich_files[f], outs[o]);
            free(b);
        }
        free(a);
    }
    /* The manifests too (sizes and hashes of identical files). */
    char p[2048], q[2048];
    snprintf(p, sizeof p, "%s/w1/manifest.json", dir);
    snprintf(q, sizeof q, "%s/w4/manifest.json", dir);
    size_t n1, n2;
    unsigned char *a = test_read_bytes(p, &n1), *b = test_read_bytes(q, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    free(a);
    free(b);
    /* Not silence: the render did something. */
    wav_t w = read_wav(dir, "w1/mix.wav");
    assert_true(peak(&w, 0) > 0.01 && peak(&w, 1) > 0.01);
    assert_int_equal(w.frames, FRAMES);
    wav_free(&w);
}

/* A revision rendered into the same OUTDIR keeps the files it would write
 * the same way (client/mf_prev.h): the same inode, not rewritten; every file
 * is still what a render into a fresh folder writes; a kept file that was
 * changed by hand is written again. */
static ino_t s_inode(const char *dir, const char *out, const char *rel)
{
    char p[2048];
    snprintf(p, sizeof p, "%s/%s/%s", dir, out, rel);
    struct stat st;
    if (stat(p, &st) != 0) fail_msg("%s: %s", p, strerror(errno));
    return st.st_ino;
}

static void s_assert_same(const char *dir, const char *a, const char *b, const char *rel)
{
    char p[2048], q[2048];
    snprintf(p, sizeof p, "%s/%s/%s", dir, a, rel);
    snprintf(q, sizeof q, "%s/%s/%s", dir, b, rel);
    size_t n1, n2;
    unsigned char *x = test_read_bytes(p, &n1), *y = test_read_bytes(q, &n2);
    if (n1 != n2 || memcmp(x, y, n1) != 0) fail_msg("%s differs between %s and %s", rel, a, b);
    free(x);
    free(y);
}

static void s_assert_same_files(const char *dir, const char *a, const char *b)
{
    static const char *const more[] = {"manifest.json", "qc.json", "listen/car.wav"};
    for (size_t f = 0; f < sizeof render_rich_files / sizeof *render_rich_files + 3; f++)
        s_assert_same(dir, a, b, f < 5 ? render_rich_files[f] : more[f - 5]);
}

static void test_revision_keeps_unchanged(void **state)
{
    (void)state;
    char dir[1024];
    make_rich(dir, sizeof dir, "revision");
    /* Wide's pan moves: Sub's stem and the mix change; Grp, Verb, Noise not. */
    write_rich_revision(dir, "s2.json", "0.5");

    render_ok(dir, "s.json", "rev", "2");
    const char *kept[] = {"stems/Grp.wav", "stems/Verb.wav", "stems/Noise.wav"};
    const char *changed[] = {"stems/Sub.wav", "mix.wav"};
    ino_t k0[3], c0[2];
    for (int i = 0; i < 3; i++) k0[i] = s_inode(dir, "rev", kept[i]);
    for (int i = 0; i < 2; i++) c0[i] = s_inode(dir, "rev", changed[i]);
    render_ok(dir, "s2.json", "rev", "2");
    render_ok(dir, "s2.json", "fresh", "2");
    for (int i = 0; i < 3; i++)
        if (s_inode(dir, "rev", kept[i]) != k0[i]) fail_msg("%s was written again", kept[i]);
    for (int i = 0; i < 2; i++)
        if (s_inode(dir, "rev", changed[i]) == c0[i]) fail_msg("%s was kept", changed[i]);
    s_assert_same_files(dir, "rev", "fresh");

    /* Grp's stem changed by hand (same size): written again, the rest kept. */
    char p[2048];
    snprintf(p, sizeof p, "%s/rev/stems/Grp.wav", dir);
    FILE *f = fopen(p, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 4000, SEEK_SET), 0);
    assert_int_equal(fwrite("XXXX", 1, 4, f), 4);
    fclose(f);
    const ino_t grp = s_inode(dir, "rev", "stems/Grp.wav"), verb = s_inode(dir, "rev", kept[1]);
    render_ok(dir, "s2.json", "rev", "2");
    assert_true(s_inode(dir, "rev", "stems/Grp.wav") != grp);
    assert_true(s_inode(dir, "rev", kept[1]) == verb);
    s_assert_same_files(dir, "rev", "fresh");
}

/* render --state: a revision on the same state folder reuses what the
 * first render ran, says so, and writes what a fresh render writes; the
 * kept store shares no inode with OUTDIR or the sources. */
static test_run_t render_state(const char *dir, const char *session, const char *outname)
{
    char sp[1024], op[1024], st[1024];
    path_join(sp, sizeof sp, dir, session);
    path_join(op, sizeof op, dir, outname);
    path_join(st, sizeof st, dir, "state");
    const char *args[] = {"render", sp, "-o", op, "--workers", "2", "--state", st, NULL};
    test_run_t r = test_run(render_bin, args, render_root);
    if (r.rc != 0) fail_msg("render --state %s exited %d: %s", sp, r.rc, r.err);
    return r;
}

static unsigned s_reused(const test_run_t *r, unsigned *of)
{
    unsigned n = 0;
    *of = 0;
    const char *at = strstr(r->out, "; ");
    if (at && sscanf(at, "; %u of %u tasks reused", &n, of) != 2) n = 0;
    return n;
}

static nlink_t s_links(const char *dir, const char *rel)
{
    char p[2048];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    struct stat st;
    if (stat(p, &st) != 0) fail_msg("%s: %s", p, strerror(errno));
    return st.st_nlink;
}

static void test_state_reuses(void **state)
{
    (void)state;
    char dir[1024];
    make_rich(dir, sizeof dir, "state");
    write_rich_revision(dir, "s2.json", "0.5");

    unsigned of;
    test_run_t r = render_state(dir, "s.json", "first");
    assert_int_equal(s_reused(&r, &of), 0); /* a new state folder: nothing to reuse */
    test_run_free(&r);
    r = render_state(dir, "s2.json", "second");
    const unsigned reused = s_reused(&r, &of);
    print_message("    the revision reused %u of %u tasks\n", reused, of);
    if (reused == 0 || reused >= of) fail_msg("reused %u of %u tasks: %s", reused, of, r.out);
    test_run_free(&r);
    r = render_state(dir, "s2.json", "third");
    assert_int_equal(s_reused(&r, &of), of); /* nothing changed */
    test_run_free(&r);
    render_ok(dir, "s2.json", "fresh", "2");
    s_assert_same_files(dir, "second", "fresh");
    s_assert_same_files(dir, "third", "fresh");
    /* Copied, never linked: an edit in place of an output or a source must
     * not reach the blobs later renders reuse. */
    const char *files[] = {"second/listen/car.wav", "second/qc.json", "second/stems/Grp.wav",
                           "tone.wav", "st.wav"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        if (s_links(dir, files[i]) != 1) fail_msg("%s shares its inode", files[i]);
}

/* Strips run inside the bus that reads them (an embedded render without
 * --state: mf_sched_set_fuse), their signals handed over in memory: every
 * file is what a render that stores every strip (--state) writes,
 * render.json and manifest.json included. The strips cover what changes a
 * signal's extent or form: a region with an offset, a reverb's tail, a
 * limiter's look-ahead, a compressor's longer than a block (50 ms: its
 * first blocks write nothing, and until session 31 the bus reading it
 * failed, "data is corrupt"), automated pan (a stereo signal), a stereo source,
 * polarity, gain automation, a fixed pan its bus applies. Bus C reads a
 * track at 44.1 kHz, which its strip resamples. T5 sends to bus V as well,
 * so it runs alone and B runs T4 and T6 inside it. With one worker A, B
 * and C are fused (nothing is lost in parallel), as the log says. */
static const char *s_fused =
    "{\"mixfarm\": 1, \"name\": \"Fused\", \"sample_rate\": 48000, \"tracks\": ["
    " {\"name\": \"T1\", \"file\": \"tone.wav\", \"pan\": -0.5, \"gain_db\": -2, \"output\": \"A\","
    "  \"inserts\": [{\"type\": \"eq\", \"bands\": [{\"kind\": \"peak\", \"freq_hz\": 1000,"
    "    \"gain_db\": 3, \"q\": 1}]}, {\"type\": \"compressor\", \"threshold_db\": -30,"
    "    \"ratio\": 4, \"lookahead_ms\": 50}]},"
    " {\"name\": \"T2\", \"file\": \"noise.wav\", \"start_s\": 0.25, \"output\": \"A\","
    "  \"trim\": {\"from_s\": 0.1, \"length_s\": 2.0},"
    "  \"inserts\": [{\"type\": \"reverb\", \"model\": \"room\", \"decay_s\": 0.6}]},"
    " {\"name\": \"T3\", \"file\": \"st.wav\", \"pan\": 0.2, \"invert\": true, \"output\": \"A\","
    "  \"automation\": {\"gain_db\": [[0, -6], [2.0, 0]]}},"
    " {\"name\": \"T4\", \"file\": \"tone.wav\", \"output\": \"B\","
    "  \"automation\": {\"pan\": [[0, -1], [3.0, 1]]},"
    "  \"inserts\": [{\"type\": \"limiter\", \"ceiling_dbtp\": -6}]},"
    " {\"name\": \"T5\", \"file\": \"noise.wav\", \"pan\": 0.7, \"output\": \"B\","
    "  \"sends\": [{\"bus\": \"V\", \"level_db\": -6}]},"
    " {\"name\": \"T6\", \"file\": \"st.wav\", \"output\": \"B\"},"
    " {\"name\": \"T7\", \"file\": \"tone44.wav\", \"output\": \"C\"}],"
    " \"buses\": [{\"name\": \"A\", \"inserts\": [{\"type\": \"gain\", \"gain_db\": -1}]},"
    "             {\"name\": \"B\", \"pan\": -0.2}, {\"name\": \"C\"},"
    "             {\"name\": \"V\", \"inserts\": [{\"type\": \"delay\", \"time_ms\": 120}]}],"
    " \"stems\": [\"A\", \"B\", \"C\"]}";

static void test_fused_same_bits(void **state)
{
    (void)state;
    char dir[1024], sp[1024], op[1024];
    case_dir(dir, sizeof dir, "fused");
    render_rich_sources(dir);
    write_text(dir, "s.json", s_fused);
    path_join(sp, sizeof sp, dir, "s.json");
    path_join(op, sizeof op, dir, "one");
    const char *args[] = {"render", sp, "-o", op, "--workers", "1", NULL};
    setenv("MIXFARM_LOG", "debug", 1);
    test_run_t r = test_run(render_bin, args, render_root);
    unsetenv("MIXFARM_LOG");
    if (r.rc != 0) fail_msg("render exited %d: %s", r.rc, r.err);
    if (!strstr(r.err, "3 channels run their strips") || strstr(r.err, "strip T1 sent") ||
        strstr(r.err, "strip T4 sent") || strstr(r.err, "strip T7 sent") ||
        !strstr(r.err, "strip T5 sent"))
        fail_msg("buses A, B and C did not run their strips, T5 alone:\n%s", r.err);
    test_run_free(&r);
    render_ok(dir, "s.json", "two", "2");
    r = render_state(dir, "s.json", "kept");
    test_run_free(&r);
    static const char *const files[] = {"mix.wav",     "stems/A.wav",   "stems/B.wav",
                                        "stems/C.wav", "render.json",   "manifest.json",
                                        "qc.json",     "listen/car.wav"};
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        s_assert_same(dir, "one", "kept", files[f]);
        s_assert_same(dir, "two", "kept", files[f]);
    }
    wav_t w = read_wav(dir, "one/stems/A.wav"); /* not silence: the strips ran */
    assert_true(peak(&w, 0) > 0.01 && peak(&w, 1) > 0.01);
    wav_free(&w);
}

/* render --state DIR --store-budget SIZE: returns the run (exit code not checked). */
static test_run_t render_budget(const char *dir, const char *session, const char *outname,
                                const char *budget, int with_state)
{
    char sp[1024], op[1024], st[1024];
    path_join(sp, sizeof sp, dir, session);
    path_join(op, sizeof op, dir, outname);
    path_join(st, sizeof st, dir, "state");
    const char *args[] = {"render",         sp,     "-o",      op, "--workers", "2",
                          "--store-budget", budget, "--state", st, NULL};
    if (!with_state) args[8] = NULL;
    return test_run(render_bin, args, render_root);
}

/* render --state with --store-budget: before a render, the kept store's
 * least recently used blobs go past the budget; the render is then as
 * fresh (nothing reused) and gives the same bits. */
static void test_state_budget(void **state)
{
    (void)state;
    char dir[1024];
    make_rich(dir, sizeof dir, "statebudget");
    write_rich_revision(dir, "s2.json", "0.5");
    write_rich_revision(dir, "s3.json", "-0.3");
    unsigned of;
    test_run_t r = render_budget(dir, "s.json", "first", "1G", 1);
    assert_int_equal(r.rc, 0);
    assert_null(strstr(r.err, "--store-budget")); /* under it: nothing deleted */
    test_run_free(&r);
    r = render_budget(dir, "s2.json", "second", "1G", 1);
    assert_int_equal(r.rc, 0);
    const unsigned reused = s_reused(&r, &of);
    if (reused == 0) fail_msg("the revision reused nothing under a budget it fits: %s", r.out);
    test_run_free(&r);
    /* A budget smaller than any blob: everything kept goes first. */
    r = render_budget(dir, "s3.json", "third", "1K", 1);
    assert_int_equal(r.rc, 0);
    if (!strstr(r.err, "to stay within --store-budget"))
        fail_msg("no blob was deleted for the budget: %s", r.err);
    const char *line = strstr(r.err, "least recently used");
    print_message("    ...%.*s\n", (int)strcspn(line, "\n"), line);
    assert_int_equal(s_reused(&r, &of), 0);
    test_run_free(&r);
    render_ok(dir, "s3.json", "fresh", "2");
    s_assert_same_files(dir, "third", "fresh");
    /* Usage: a budget needs a kept state folder, and a size. */
    r = render_budget(dir, "s.json", "nostate", "1G", 0);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "--store-budget"));
    test_run_free(&r);
    r = render_budget(dir, "s.json", "badsize", "12x", 1);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "not a size"));
    test_run_free(&r);
}

/* Starts `mixfarm render --state` without waiting (output to /dev/null). */
static pid_t s_spawn_state(const char *dir, const char *session, const char *outname)
{
    char sp[1024], op[1024], st[1024];
    path_join(sp, sizeof sp, dir, session);
    path_join(op, sizeof op, dir, outname);
    path_join(st, sizeof st, dir, "state");
    const char *argv[] = {render_bin,  "render", sp,        "-o", op,  "-q",
                          "--workers", "2",      "--state", st,   NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, render_bin, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) fail_msg("cannot run %s: %s", render_bin, strerror(rc));
    return pid;
}

static void s_sleep_ms(long ms)
{
    nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

static int s_wait(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) assert_int_equal(errno, EINTR);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Two renders on one state folder at once: the second waits for the first,
 * and both write what a fresh render writes. Then one killed mid-render:
 * the next render on the folder does not resume its job for nobody, and
 * still writes the same files. */
static void test_state_shared_and_killed(void **state)
{
    (void)state;
    char dir[1024];
    make_rich(dir, sizeof dir, "state2");
    pid_t a = s_spawn_state(dir, "s.json", "a"), b = s_spawn_state(dir, "s.json", "b");
    assert_int_equal(s_wait(a), 0);
    assert_int_equal(s_wait(b), 0);
    render_ok(dir, "s.json", "fresh", "1");
    s_assert_same_files(dir, "a", "fresh");
    s_assert_same_files(dir, "b", "fresh");

    /* A revision killed while it runs (or, on a fast day, just after). */
    write_rich_revision(dir, "s3.json", "-0.3");
    pid_t k = s_spawn_state(dir, "s3.json", "killed");
    s_sleep_ms(150);
    kill(k, SIGKILL);
    s_wait(k);
    /* What a killed render left half-written in the store goes. */
    char stale[2048];
    snprintf(stale, sizeof stale, "%s/state/blobs/tmp/blob-stale", dir);
    write_text(dir, "state/blobs/tmp/blob-stale", "half a blob");
    test_run_t r = render_state(dir, "s3.json", "after");
    test_run_free(&r);
    assert_false(exists(stale));
    render_ok(dir, "s3.json", "fresh3", "2");
    s_assert_same_files(dir, "after", "fresh3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workers_bit_identical),
        cmocka_unit_test(test_revision_keeps_unchanged),
        cmocka_unit_test(test_state_reuses),
        cmocka_unit_test(test_fused_same_bits),
        cmocka_unit_test(test_state_budget),
        cmocka_unit_test(test_state_shared_and_killed),
    };
    return cmocka_run_group_tests(tests, render_setup, render_teardown);
}
