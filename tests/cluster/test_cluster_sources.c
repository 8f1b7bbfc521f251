/* Cluster: sources uploaded after the submit (coordinator/coord_sources.c).
 *
 *   tasks_wait_for_their_source  a job submitted with sources_follow and no
 *                                file uploaded yet runs nothing; with one of
 *                                its two files uploaded, that track's tasks
 *                                run and the job waits for the other (status
 *                                says how many files it awaits); once
 *                                the other arrives it ends, and its outputs
 *                                are the embedded render's, bit for bit
 *   source_never_uploaded        a file that never arrives fails the job
 *                                after --source-wait, naming the file
 *   resumed_job_waits            a coordinator killed -9 while a job's files
 *                                upload resumes the job waiting for the file
 *                                it lacks, runs what it has, and ends it,
 *                                with the embedded render's bits, once the
 *                                file comes
 *   steady_upload_is_progress    a file that releases no task (its strip
 *                                also waits for its side-chain key's)
 *                                still counts as progress: files 2 s apart
 *                                never fail a job whose --source-wait is
 *                                3 s, though the second comes 4 s after
 *                                the submit
 *   upload_progress_on_a_terminal  a client on a terminal (script(1))
 *                                uploading 72 MB draws its upload's
 *                                progress, from 0/16 files to 16/16; one
 *                                writing to a pipe draws none
 *   missing_without_follow       without sources_follow a missing file is a
 *                                problem of the submit, as before
 *   client_submits_first         mixfarm render --coordinator submits before
 *                                it uploads (the coordinator says its tasks
 *                                wait), and a second render, with every
 *                                file there, waits for nothing */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster_raw.h"
#include "cluster_util.h"
#include "mf_hash.h"

static const char *s_doc =
    "{\"mixfarm\": 1, \"name\": \"follow\", \"sample_rate\": 48000,"
    " \"tracks\": [{\"name\": \"A\", \"file\": \"a.wav\", \"output\": \"Bus\"},"
    "  {\"name\": \"B\", \"file\": \"b.wav\", \"pan\": 0.3, \"output\": \"Bus\"}],"
    " \"buses\": [{\"name\": \"Bus\"}]}";
#define WAITS "the tasks that read a source still uploading wait for it"

static int group_setup(void **state)
{
    (void)state;
    return cl_init(CL_SANITIZED ? 300 : 150);
}

/* The session and its two one-second files in the test's folder. */
static void s_write_files(char *session, size_t n)
{
    const char *dir = cl_test_dir();
    char a[1200], b[1200];
    cl_path(a, sizeof a, dir, "a.wav");
    cl_path(b, sizeof b, dir, "b.wav");
    cl_write_audio(a, 0, 1, 1.0);
    cl_write_audio(b, 2, 2, 1.0);
    cl_path(session, n, dir, "s.json");
    cl_write_text(session, s_doc);
}

/* The session and its files written, and a coordinator started on c
 * (whose extra arguments the caller may have set); the test's folder. */
static const char *s_begin(cl_coord_t *c, char *session, size_t n)
{
    s_write_files(session, n);
    cl_coord_start(c, cl_test_dir(), 0);
    return cl_test_dir();
}

/* The blob of the test folder's file name (its SHA-256). */
static mf_hash_t s_blob(const char *name)
{
    char path[1200];
    cl_path(path, sizeof path, cl_test_dir(), name);
    mf_hash_t h;
    assert_int_equal(mf_hash_file(path, &h), 0);
    return h;
}

/* A source the submit names: its file in the test's folder and frames. */
typedef struct {
    const char *name;
    uint32_t frames;
} source_t;

static const source_t s_two[] = {{"a.wav", 48000}, {"b.wav", 48000}};

/* Submits doc with its n files named but not uploaded; the reply (free
 * it). */
static Mixfarm__Envelope *s_submit_doc(const char *ep, int follow, const char *doc,
                                       const source_t *src, size_t n)
{
    mf_hash_t blobs[4];
    Mixfarm__SourceRef refs[4], *ptrs[4];
    assert_true(n <= 4);
    for (size_t i = 0; i < n; i++) {
        blobs[i] = s_blob(src[i].name);
        mixfarm__source_ref__init(&refs[i]);
        refs[i].path = (char *)src[i].name;
        refs[i].hash = blobs[i].hex;
        refs[i].channels = 1, refs[i].sample_rate = 48000, refs[i].frames = src[i].frames;
        ptrs[i] = &refs[i];
    }
    return cl_submit_raw(ep, "s.json", doc, ptrs, n, follow);
}

/* Submits s_doc with its two files named but not uploaded. */
static Mixfarm__Envelope *s_submit(const char *ep, int follow)
{
    return s_submit_doc(ep, follow, s_doc, s_two, 2);
}

/* Submits with sources_follow; the job (asserts it was taken as it is). */
static uint64_t s_take(Mixfarm__Envelope *rep)
{
    const uint64_t job = rep->submit_reply->job;
    assert_true(job > 0);
    assert_int_equal(rep->submit_reply->n_problems, 0);
    mixfarm__envelope__free_unpacked(rep, NULL);
    return job;
}

static uint64_t s_submit_follow(const char *ep)
{
    return s_take(s_submit(ep, 1));
}

/* Uploads the test folder's file name in one chunk (it is small). */
static void s_upload(const char *ep, const char *name)
{
    char path[1200];
    cl_path(path, sizeof path, cl_test_dir(), name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t bytes[1 << 20];
    const size_t n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    assert_true(n > 0 && n < sizeof bytes);
    mf_hash_t h = s_blob(name);
    Mixfarm__BlobPut p = MIXFARM__BLOB_PUT__INIT;
    p.hash = h.hex;
    p.data.data = bytes;
    p.data.len = n;
    p.last = 1;
    p.checksum = mf_checksum(bytes, n);
    char error[256];
    cl_put_once(ep, &p, error, sizeof error);
    assert_string_equal(error, "");
}

/* The job's error as the coordinator says it (malloc'd). */
static char *s_job_error(const char *ep, uint64_t job)
{
    Mixfarm__StatusRequest st = MIXFARM__STATUS_REQUEST__INIT;
    st.job = job;
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_STATUS;
    env.status = &st;
    Mixfarm__Envelope *rep = cl_call_raw(ep, &env);
    assert_non_null(rep);
    assert_int_equal(rep->body_case, MIXFARM__ENVELOPE__BODY_STATUS_REPLY);
    assert_int_equal(rep->status_reply->n_jobs, 1);
    char *e = strdup(rep->status_reply->jobs[0]->error);
    mixfarm__envelope__free_unpacked(rep, NULL);
    return e;
}

/* Polls until the job has at least `done` tasks done (asserts it does
 * within timeout_s, and that it is still running then). */
static cl_status_t s_wait_done(const cl_coord_t *c, uint64_t job, int done, double timeout_s)
{
    cl_status_t st = {0};
    const double end = cl_now() + timeout_s;
    while (cl_now() < end) {
        assert_int_equal(cl_status(c, job, &st), 0);
        if (st.done >= done) break;
        cl_sleep(0.1);
    }
    assert_true(st.done >= done);
    return st;
}

/* Asserts the job runs nothing yet and awaits that many files. */
static void s_assert_idle(const cl_coord_t *c, uint64_t job, int awaited)
{
    cl_status_t st;
    assert_int_equal(cl_status(c, job, &st), 0);
    assert_string_equal(st.state, "running");
    assert_int_equal(st.done, 0);
    assert_int_equal(st.awaited, awaited);
}

/* Uploads b.wav to a job waiting for it alone; asserts the job ends with
 * nothing awaited and the outputs of an embedded render of the session;
 * then stops the farm and passes the test. */
static void s_end_with_b(cl_coord_t *c, uint64_t job, const char *session)
{
    s_upload(c->ep, "b.wav");
    cl_status_t st;
    cl_wait_state(c, job, "done", 60 * CL_SLOW, &st);
    assert_int_equal(st.awaited, 0);
    char out_d[1200], out_e[1200];
    cl_path(out_d, sizeof out_d, cl_test_dir(), "out-d");
    cl_path(out_e, sizeof out_e, cl_test_dir(), "out-e");
    cl_render(session, out_e, 2, NULL);
    assert_true(cl_fetch_ok(c, job, out_d, out_e) >= 3);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

static void tasks_wait_for_their_source(void **state)
{
    (void)state;
    char session[1200];
    cl_coord_t c = {0};
    const char *dir = s_begin(&c, session, sizeof session);
    cl_worker_start(&c, dir, "w1", 2, NULL, 0);
    cl_wait_joined(&c, "w1", 30 * CL_SLOW);
    const uint64_t job = s_submit_follow(c.ep);
    assert_true(cl_file_contains(c.log, WAITS));

    /* Nothing there: nothing runs (every task reads a source, or what
     * comes of one). */
    cl_sleep(0.5);
    s_assert_idle(&c, job, 2);

    /* A's file: A's tasks run, B's wait, and the job with them. */
    s_upload(c.ep, "a.wav");
    cl_status_t st = s_wait_done(&c, job, 1, 30 * CL_SLOW);
    cl_sleep(0.5);
    assert_int_equal(cl_status(&c, job, &st), 0);
    print_message("    with a.wav only: %d of %d tasks done\n", st.done, st.total);
    assert_string_equal(st.state, "running");
    assert_true(st.done >= 1 && st.done < st.total);
    assert_int_equal(st.running, 0);
    assert_int_equal(st.awaited, 1);

    /* B's file: the job ends, as an embedded render of the same session. */
    s_end_with_b(&c, job, session);
}

static void source_never_uploaded(void **state)
{
    (void)state;
    char session[1200];
    static const char *const wait[] = {"--source-wait", "1", NULL};
    cl_coord_t c = {.extra = wait};
    const char *dir = s_begin(&c, session, sizeof session);
    cl_worker_start(&c, dir, "w1", 2, NULL, 0);
    const uint64_t job = s_submit_follow(c.ep);
    s_upload(c.ep, "a.wav");
    const double t0 = cl_now();
    cl_wait_state(&c, job, "failed", 30 * CL_SLOW, NULL);
    char *error = s_job_error(c.ep, job);
    print_message("    after %.1f s: \"%s\"\n", cl_now() - t0, error);
    assert_non_null(strstr(error, "\"b.wav\""));
    assert_non_null(strstr(error, "never finished uploading"));
    free(error);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

static void resumed_job_waits(void **state)
{
    (void)state;
    char session[1200];
    cl_coord_t c = {0};
    const char *dir = s_begin(&c, session, sizeof session);
    const uint64_t job = s_submit_follow(c.ep);
    s_upload(c.ep, "a.wav");
    /* Killed while its client uploads: the journal has the job, the store
     * one of its two files. */
    cl_stop(c.pid, SIGKILL, 10);
    cl_coord_start(&c, dir, c.port); /* same port, same --state */
    cl_worker_start(&c, dir, "w1", 2, NULL, 0);
    cl_status_t st;
    assert_int_equal(cl_status(&c, job, &st), 0);
    assert_string_equal(st.state, "running");
    assert_int_equal(st.awaited, 1);
    st = s_wait_done(&c, job, 1, 30 * CL_SLOW); /* a.wav's tasks run meanwhile */
    assert_string_equal(st.state, "running");
    /* A client sends the other file (a resubmission would): the job ends. */
    s_end_with_b(&c, job, session);
}

/* A's compressor is keyed from B: a.wav arriving first releases nothing
 * (A's strip also waits for B's), yet it is progress, and the job's
 * --source-wait clock starts again from it. */
static void steady_upload_is_progress(void **state)
{
    (void)state;
    static const char *doc =
        "{\"mixfarm\": 1, \"name\": \"follow\", \"sample_rate\": 48000,"
        " \"tracks\": [{\"name\": \"A\", \"file\": \"a.wav\", \"output\": \"Bus\","
        "   \"inserts\": [{\"type\": \"compressor\", \"sidechain\": \"B\"}]},"
        "  {\"name\": \"B\", \"file\": \"b.wav\", \"pan\": 0.3, \"output\": \"Bus\"}],"
        " \"buses\": [{\"name\": \"Bus\"}]}";
    static const char *const wait[] = {"--source-wait", "3", NULL};
    char session[1200];
    cl_coord_t c = {.extra = wait};
    const char *dir = s_begin(&c, session, sizeof session);
    cl_write_text(session, doc);
    cl_worker_start(&c, dir, "w1", 2, NULL, 0);
    const uint64_t job = s_take(s_submit_doc(c.ep, 1, doc, s_two, 2));
    /* Each file 2 s after the one before, within the 3 s allowed between
     * two of them; from the submit to b.wav is 4 s. */
    cl_sleep(2.0);
    s_upload(c.ep, "a.wav");
    cl_sleep(2.0);
    s_assert_idle(&c, job, 1);
    s_end_with_b(&c, job, session);
}

/* A session of 16 tracks of 47 s in the test's folder, files PREFIX00.wav
 * to PREFIX15.wav (72 MB of 16-bit audio, over the 64 MiB from which the
 * client shows its upload), written as name. */
static void s_big_session(const char *name, const char *prefix, int seed, char *session, size_t n)
{
    const char *dir = cl_test_dir();
    char doc[8192];
    size_t at = (size_t)snprintf(doc, sizeof doc,
                                 "{\"mixfarm\": 1, \"name\": \"big\", \"sample_rate\": 48000, "
                                 "\"tracks\": [");
    for (int i = 0; i < 16; i++) {
        char file[32], path[1200];
        snprintf(file, sizeof file, "%s%02d.wav", prefix, i);
        cl_path(path, sizeof path, dir, file);
        cl_write_audio(path, i % 4, seed + i, 47.0);
        at += (size_t)snprintf(doc + at, sizeof doc - at, "%s{\"name\": \"T%d\", \"file\": \"%s\"}",
                               i ? ", " : "", i, file);
    }
    snprintf(doc + at, sizeof doc - at, "]}");
    cl_path(session, n, dir, name);
    cl_write_text(session, doc);
}

/* A client on a terminal (script(1) gives it one) shows its upload; one
 * writing to a pipe does not, for as many bytes. */
static void upload_progress_on_a_terminal(void **state)
{
    (void)state;
    if (access("/usr/bin/script", X_OK) != 0) { /* util-linux's (bsdutils, always in Debian) */
        printf("SKIP upload_progress_on_a_terminal: no /usr/bin/script\n");
        cl_test_pass();
        skip();
    }
    char session[1200], big1[1200], big2[1200], out1[1200], out2[1200];
    cl_coord_t c = {0};
    const char *dir = s_begin(&c, session, sizeof session);
    s_big_session("big1.json", "t", 0, big1, sizeof big1);
    s_big_session("big2.json", "u", 100, big2, sizeof big2);
    cl_path(out1, sizeof out1, dir, "out-tty");
    cl_path(out2, sizeof out2, dir, "out-pipe");
    cl_worker_start(&c, dir, "w1", 2, NULL, 0);
    char cmd[4000];
    snprintf(cmd, sizeof cmd, "'%s' render '%s' -o '%s' --coordinator '%s'", cl_bin("mixfarm"),
             big1, out1, c.ep);
    const char *argv[] = {"/usr/bin/script", "-qec", cmd, "/dev/null", NULL};
    cl_run_t r = cl_run(argv, 120 * CL_SLOW);
    if (r.rc != 0) fail_msg("script -qec mixfarm render: exit %d: %s%s", r.rc, r.out, r.err);
    /* Drawn over itself (\r): before the first file, and once all are up. */
    if (!strstr(r.out, "mixfarm: uploading: 0/16 files, 0.0/") ||
        !strstr(r.out, "mixfarm: uploading: 16/16 files"))
        fail_msg("no upload progress on the terminal:\n%s", r.out);
    cl_run_free(&r);
    const char *plain[] = {cl_bin("mixfarm"), "render", big2, "-o", out2,
                           "--coordinator",   c.ep,     NULL};
    r = cl_run(plain, 120 * CL_SLOW);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.err, "uploading 16 of 16 source files"));
    assert_null(strstr(r.err, "uploading:"));
    cl_run_free(&r);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

static void missing_without_follow(void **state)
{
    (void)state;
    char session[1200];
    cl_coord_t c = {0};
    s_begin(&c, session, sizeof session);
    s_upload(c.ep, "a.wav");
    Mixfarm__Envelope *rep = s_submit(c.ep, 0);
    const Mixfarm__SubmitReply *r = rep->submit_reply;
    assert_int_equal(r->job, 0);
    int named = 0;
    for (size_t i = 0; i < r->n_problems; i++) {
        print_message("    %s\n", r->problems[i]);
        named |= strstr(r->problems[i], "b.wav") && strstr(r->problems[i], "was not uploaded");
    }
    assert_true(named);
    mixfarm__envelope__free_unpacked(rep, NULL);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

static void client_submits_first(void **state)
{
    (void)state;
    char session[1200], out1[1200], out2[1200];
    cl_coord_t c = {0};
    const char *dir = s_begin(&c, session, sizeof session);
    cl_path(out1, sizeof out1, dir, "out1");
    cl_path(out2, sizeof out2, dir, "out2");
    cl_worker_start(&c, dir, "w1", 2, NULL, 0);
    cl_render(session, out1, 0, &c);
    assert_int_equal(cl_count_lines(c.log, WAITS), 1);
    cl_render(session, out2, 0, &c);
    assert_int_equal(cl_count_lines(c.log, WAITS), 1);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(tasks_wait_for_their_source, cl_setup, cl_teardown,
                                                 "tasks_wait_for_their_source"),
        cmocka_unit_test_prestate_setup_teardown(source_never_uploaded, cl_setup, cl_teardown,
                                                 "source_never_uploaded"),
        cmocka_unit_test_prestate_setup_teardown(resumed_job_waits, cl_setup, cl_teardown,
                                                 "resumed_job_waits"),
        cmocka_unit_test_prestate_setup_teardown(steady_upload_is_progress, cl_setup, cl_teardown,
                                                 "steady_upload_is_progress"),
        cmocka_unit_test_prestate_setup_teardown(upload_progress_on_a_terminal, cl_setup,
                                                 cl_teardown, "upload_progress_on_a_terminal"),
        cmocka_unit_test_prestate_setup_teardown(missing_without_follow, cl_setup, cl_teardown,
                                                 "missing_without_follow"),
        cmocka_unit_test_prestate_setup_teardown(client_submits_first, cl_setup, cl_teardown,
                                                 "client_submits_first"),
    };
    return cmocka_run_group_tests_name("cluster_sources", tests, group_setup, NULL);
}
