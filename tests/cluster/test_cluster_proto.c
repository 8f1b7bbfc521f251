/* Cluster: the edges of the protocol.
 *
 *   other_engine_refused            a fake worker whose DSP is another version
 *                                   (or that predates saying it) is refused at
 *                                   its hello, naming both versions: its bits
 *                                   would differ under the same task keys
 *   other_protocol_version_refused  a fake worker (ZeroMQ + the generated
 *                                   protobuf) says hello with version 99: it
 *                                   gets a Refuse, the coordinator logs why,
 *                                   never lists it, and keeps serving
 *   forged_output_refused           a peer that was given no task uploads a
 *                                   blob under a task output's name: refused,
 *                                   nothing stored; a chunk that does not
 *                                   match its checksum: refused
 *   upload_begun_again              an upload's chunks sent without waiting,
 *                                   then the same upload from its start (the
 *                                   first one's writes may still be queued on
 *                                   the coordinator's writing thread), some
 *                                   chunks as frames of their own, some inside
 *                                   the envelope: the blob is stored whole,
 *                                   every ack is clean and the last says done,
 *                                   nothing is left half-written; a chunk out
 *                                   of order is refused; a get returns the
 *                                   bytes with their checksum
 *   large_document                  a session of 1.7 MB (six fader lanes of
 *                                   16,000 points, within every limit), more
 *                                   than one TCP message may carry, renders
 *                                   on the farm as embedded (it travels as a
 *                                   blob)
 *   early_fetch                     a partial FetchRequest (what a client
 *                                   prefetches while the job runs): with no
 *                                   worker yet it lists nothing and is no
 *                                   error, while a plain fetch says the job is
 *                                   not done; once done it lists exactly what
 *                                   the plain fetch lists, and the mix's
 *                                   length
 *   held_status                     a status that says what its client saw
 *                                   waits for the job to change (a progress
 *                                   event): held to its wait (capped at 1 s)
 *                                   while nothing runs, answered at once when
 *                                   the client is behind or the job ended,
 *                                   and early when a task finishes
 *   unreachable_coordinator         status against a closed port exits 3
 *                                   within the client's call timeout
 *   mixed_numerics_warned           two workers whose kernels compute
 *                                   differently (Hello.numerics) join: a
 *                                   warning names both and their arithmetic
 *   one_arithmetic_per_job          a job is pinned to the arithmetic with
 *                                   the most free slots; its tasks name it
 *                                   (Task.numerics) and go only to its
 *                                   workers, a free worker of another gets
 *                                   none but the next job's; a job whose
 *                                   workers are lost waits and says so */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "cluster_raw.h"
#include "cluster_util.h"
#include "farm.pb-c.h"
#include "mf_hash.h"
#include "mf_task.h"

/* client/mf_client.c: how long a client waits for any reply. */
#define CALL_TIMEOUT_S 5.0 /* client/mf_client.c CALL_TIMEOUT_MS */

static int group_setup(void **state)
{
    (void)state;
    return cl_init(CL_SANITIZED ? 300 : 150);
}

/* A DEALER that says hello as a worker of `slots` slots, in protocol
 * version `version`, with these numerics (NULL: none). */
static const char *s_engine = MF_ENGINE_VERSION; /* what fake workers say they render with */

static void *s_fake_worker_slots(void *ctx, const char *ep, uint32_t version, const char *name,
                                 const char *numerics, uint32_t slots)
{
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(zmq_connect(sock, ep), 0);
    Mixfarm__Hello h = MIXFARM__HELLO__INIT;
    h.name = (char *)name;
    h.slots = slots;
    if (numerics) h.numerics = (char *)numerics;
    h.engine = (char *)s_engine;
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.version = version;
    env.body_case = MIXFARM__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    cl_send_raw(sock, &env);
    return sock;
}

static void *s_fake_worker(void *ctx, const char *ep, uint32_t version, const char *name,
                           const char *numerics)
{
    return s_fake_worker_slots(ctx, ep, version, name, numerics, 4);
}

static void s_heartbeat(void *sock)
{
    Mixfarm__Heartbeat hb = MIXFARM__HEARTBEAT__INIT;
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.version = MF_PROTOCOL_VERSION;
    env.body_case = MIXFARM__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    cl_send_raw(sock, &env);
}

/* The tasks a fake worker receives within ms, or until `enough` came (0:
 * all of ms); it runs none, but says it is alive. How many, and whether
 * each named `numerics` as its arithmetic. */
static int s_tasks_until(void *sock, double ms, int enough, const char *numerics, int *all_named)
{
    int n = 0;
    *all_named = 1;
    s_heartbeat(sock);
    const double end = cl_now() + ms / 1000.0;
    for (double left; (left = end - cl_now()) > 0 && (!enough || n < enough);) {
        zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};
        if (zmq_poll(&it, 1, (long)(left * 1000.0) + 1) != 1) continue;
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, 0) >= 0) {
            Mixfarm__Envelope *env =
                mixfarm__envelope__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
            if (env && env->body_case == MIXFARM__ENVELOPE__BODY_TASK) {
                n++;
                *all_named &= !strcmp(env->task->numerics, numerics);
            }
            if (env) mixfarm__envelope__free_unpacked(env, NULL);
        }
        zmq_msg_close(&m);
    }
    return n;
}

static int s_tasks_for(void *sock, double ms, const char *numerics, int *all_named)
{
    return s_tasks_until(sock, ms, 0, numerics, all_named);
}

/* The first line of the log at `path` that holds `needle`, into out (empty
 * when there is none). */
static void s_log_line(const char *path, const char *needle, char *out, size_t n)
{
    char *log = test_read_text(path);
    char *line = log ? strstr(log, needle) : NULL;
    while (line && line > log && line[-1] != '\n') line--;
    char *eol = line ? strchr(line, '\n') : NULL;
    if (eol) *eol = 0;
    snprintf(out, n, "%s", line ? line : "");
    free(log);
}

static void mixed_numerics_warned(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    void *ctx = zmq_ctx_new();
    void *a = s_fake_worker(ctx, c.ep, MF_PROTOCOL_VERSION, "fake-x86", "dsp=x86 qc=x86");
    assert_true(cl_wait_log(c.log, "fake-x86 joined", 1, 10));
    void *b = s_fake_worker(ctx, c.ep, MF_PROTOCOL_VERSION, "fake-arm", "dsp=neon qc=c");
    assert_true(cl_wait_log(c.log, "fake-arm joined", 1, 10));
    assert_true(cl_wait_log(c.log, "other arithmetic", 1, 5));
    char line[512];
    s_log_line(c.log, "other arithmetic", line, sizeof line);
    const int names_both = strstr(line, "fake-arm") && strstr(line, "fake-x86") &&
                           strstr(line, "dsp=neon qc=c") && strstr(line, "dsp=x86 qc=x86");
    if (!names_both) fail_msg("the warning does not name both workers and both: %s", line);
    zmq_close(a), zmq_close(b);
    zmq_ctx_term(ctx);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

/* A job runs on workers of one arithmetic: the one with the most free
 * slots when it starts (fake-b's two against fake-a's one); its tasks name
 * it, and fake-a, free, gets none of them. A second job, while fake-b is
 * busy, goes to fake-a, with fake-a's. When fake-b is lost, the first job
 * waits for a worker of its arithmetic and says so. */
static void one_arithmetic_per_job(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    const cl_session_t ses = {.n_tracks = 3, .prefix = "t"}; /* more ready tasks than slots */
    cl_write_session(dir, "s.json", "pinned", &ses, 1.0, 0.5);
    char session[1200];
    cl_path(session, sizeof session, dir, "s.json");
    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    void *ctx = zmq_ctx_new();
    const char *fa = "dsp=fake-a qc=c", *fb = "dsp=fake-b qc=c";
    void *a = s_fake_worker_slots(ctx, c.ep, MF_PROTOCOL_VERSION, "fake-a", fa, 1);
    assert_true(cl_wait_log(c.log, "fake-a joined", 1, 10));
    void *b = s_fake_worker_slots(ctx, c.ep, MF_PROTOCOL_VERSION, "fake-b", fb, 2);
    assert_true(cl_wait_log(c.log, "fake-b joined", 1, 10));
    assert_true(cl_file_contains(c.log, "each job runs on workers of one arithmetic"));
    const uint64_t job1 = cl_submit(&c, session, 0);
    cl_status_t st;
    int named;
    assert_int_equal(s_tasks_until(b, 3000 * CL_SLOW, 2, fb, &named), 2);
    assert_true(named);
    assert_int_equal(s_tasks_for(a, 1000, fa, &named), 0);
    const uint64_t job2 = cl_submit(&c, session, 0); /* fake-b is busy: it goes to fake-a */
    assert_int_equal(s_tasks_until(a, 3000 * CL_SLOW, 1, fa, &named), 1);
    assert_true(named);
    assert_int_equal(cl_status(&c, job1, &st), 0); /* status --json says each job's */
    assert_string_equal(st.numerics, fb);
    assert_int_equal(cl_status(&c, job2, &st), 0);
    assert_string_equal(st.numerics, fa);
    zmq_close(b); /* lost after 5 s of silence: its tasks go back, not to fake-a */
    const char *waits = "job 1 waits for a worker that computes with dsp=fake-b";
    int got = 0;
    for (double end = cl_now() + 15 * CL_SLOW; cl_now() < end && !cl_file_contains(c.log, waits);)
        got += s_tasks_for(a, 250, fa, &named); /* fake-a stays */
    assert_true(cl_file_contains(c.log, waits));
    assert_int_equal(got, 0);
    zmq_close(a);
    zmq_ctx_term(ctx);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

/* A fake worker's hello (protocol version, name) gets a Refuse; its reason
 * into reason. */
static void s_expect_refused(const cl_coord_t *c, uint32_t version, const char *name, char *reason,
                             size_t reason_n)
{
    void *ctx = zmq_ctx_new();
    void *sock = s_fake_worker(ctx, c->ep, version, name, NULL);
    zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};
    int n = zmq_poll(&it, 1, (long)(10000 * CL_SLOW));
    Mixfarm__Envelope *rep = NULL;
    int body = -1;
    reason[0] = 0;
    if (n == 1) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, 0) >= 0)
            rep = mixfarm__envelope__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
        zmq_msg_close(&m);
    }
    if (rep) {
        body = (int)rep->body_case;
        if (rep->body_case == MIXFARM__ENVELOPE__BODY_REFUSE)
            snprintf(reason, reason_n, "%s", rep->refuse->reason);
        mixfarm__envelope__free_unpacked(rep, NULL);
    }
    zmq_close(sock);
    zmq_ctx_term(ctx);
    if (n != 1) fail_msg("no answer to %s's hello within %.0f s", name, 10 * CL_SLOW);
    if (body != MIXFARM__ENVELOPE__BODY_REFUSE)
        fail_msg("%s's hello got an envelope of kind %d, not a Refuse", name, body);
    print_message("    Refuse: \"%s\"\n", reason);
}

/* A worker whose DSP is another version than the task keys name would give
 * other bits under the same keys: refused at its hello, saying both. */
static void other_engine_refused(void **state)
{
    (void)state;
    cl_coord_t c = {0};
    cl_coord_start(&c, cl_test_dir(), 0);
    char reason[256];
    s_engine = "mixfarm-engine-0";
    s_expect_refused(&c, MF_PROTOCOL_VERSION, "fake-e0", reason, sizeof reason);
    s_engine = MF_ENGINE_VERSION;
    assert_non_null(strstr(reason, "fake-e0 renders with mixfarm-engine-0"));
    assert_non_null(strstr(reason, MF_ENGINE_VERSION));
    assert_true(cl_wait_log(c.log, "refused", 1, 5));
    assert_false(cl_file_contains(c.log, "fake-e0 joined"));
    /* One that predates the field says none. */
    s_engine = "";
    s_expect_refused(&c, MF_PROTOCOL_VERSION, "fake-old", reason, sizeof reason);
    s_engine = MF_ENGINE_VERSION;
    assert_non_null(strstr(reason, "fake-old renders with an older engine"));
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

static void other_protocol_version_refused(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    char reason[256];
    s_expect_refused(&c, 99, "fake-v99", reason, sizeof reason);
    assert_non_null(strstr(reason, "version"));

    /* One log line says it was refused, and why. */
    assert_true(cl_wait_log(c.log, "refused", 1, 5));
    char line[512];
    s_log_line(c.log, "refused", line, sizeof line);
    const char *said = strstr(line, "refused"); /* what follows the timestamp */
    if (!said || !strstr(said, "version") || !strstr(said, "99"))
        fail_msg("the refusal log line does not name the version: %s", line);
    assert_false(cl_file_contains(c.log, "fake-v99 joined"));

    /* The coordinator goes on serving. */
    char prog[1200];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    const char *argv[] = {prog, "status", "--coordinator", c.ep, "--json", NULL};
    cl_run_t r = cl_run(argv, 30 * CL_SLOW);
    int rc = r.rc;
    cl_run_free(&r);
    assert_int_equal(rc, 0);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

static void forged_output_refused(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    /* A blob posing as output 0 of some task: named as such, bytes intact. */
    mf_hash_t key, name;
    mf_hash_bytes("some task", 9, &key);
    mf_task_output_name(&key, 0, &name);
    uint8_t bytes[] = "not what the task computed";
    Mixfarm__BlobPut p = MIXFARM__BLOB_PUT__INIT;
    p.hash = name.hex;
    p.data.data = bytes;
    p.data.len = sizeof bytes;
    p.last = 1;
    p.checksum = mf_checksum(bytes, sizeof bytes);
    p.task_key = key.hex;
    char error[256];
    cl_put_once(c.ep, &p, error, sizeof error);
    print_message("    forged output: \"%s\"\n", error);
    assert_non_null(strstr(error, "not an output of a task you were given"));
    char obj[1400];
    snprintf(obj, sizeof obj, "%s/blobs/objects/%.2s/%s", c.state, name.hex, name.hex);
    assert_int_equal(access(obj, F_OK), -1);
    /* A source upload whose chunk was damaged on the way. */
    mf_hash_t content;
    mf_hash_bytes(bytes, sizeof bytes, &content);
    p.hash = content.hex;
    p.task_key = "";
    p.checksum ^= 1;
    cl_put_once(c.ep, &p, error, sizeof error);
    print_message("    damaged chunk: \"%s\"\n", error);
    assert_non_null(strstr(error, "checksum"));
    /* And intact, it is taken. */
    p.checksum ^= 1;
    cl_put_once(c.ep, &p, error, sizeof error);
    assert_string_equal(error, "");
    snprintf(obj, sizeof obj, "%s/blobs/objects/%.2s/%s", c.state, content.hex, content.hex);
    assert_int_equal(access(obj, F_OK), 0);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

/* Sends chunk [off, off + n) of bytes as a BlobPut of hash, its data as a
 * frame of its own (framed) or inside the envelope. */
static void s_put_chunk(void *sock, const char *hash, const uint8_t *bytes, uint64_t off, size_t n,
                        int last, int framed)
{
    Mixfarm__BlobPut p = MIXFARM__BLOB_PUT__INIT;
    p.hash = (char *)hash;
    p.offset = off;
    p.last = last;
    p.checksum = mf_checksum(bytes + off, n);
    if (!framed) p.data.data = (uint8_t *)bytes + off, p.data.len = n;
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.version = MF_PROTOCOL_VERSION;
    env.body_case = MIXFARM__ENVELOPE__BODY_BLOB_PUT;
    env.blob_put = &p;
    size_t len = mixfarm__envelope__get_packed_size(&env);
    uint8_t *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    mixfarm__envelope__pack(&env, buf);
    assert_int_equal(zmq_send(sock, buf, len, framed ? ZMQ_SNDMORE : 0), (int)len);
    if (framed) assert_int_equal(zmq_send(sock, bytes + off, n, 0), (int)n);
    free(buf);
}

/* The next reply on sock (NULL after 10 s); free it. */
static Mixfarm__Envelope *s_reply(void *sock)
{
    zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};
    if (zmq_poll(&it, 1, (long)(10000 * CL_SLOW)) != 1) return NULL;
    zmq_msg_t m;
    zmq_msg_init(&m);
    Mixfarm__Envelope *rep = NULL;
    if (zmq_msg_recv(&m, sock, 0) >= 0)
        rep = mixfarm__envelope__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
    /* A data frame after a BlobData: its bytes, kept in the envelope. */
    if (rep && rep->body_case == MIXFARM__ENVELOPE__BODY_BLOB_DATA && zmq_msg_more(&m)) {
        zmq_msg_t d;
        zmq_msg_init(&d);
        assert_true(zmq_msg_recv(&d, sock, 0) >= 0);
        rep->blob_data->data.len = zmq_msg_size(&d);
        rep->blob_data->data.data = malloc(rep->blob_data->data.len + 1);
        memcpy(rep->blob_data->data.data, zmq_msg_data(&d), rep->blob_data->data.len);
        zmq_msg_close(&d);
    }
    zmq_msg_close(&m);
    return rep;
}

static int s_files_in(const char *dir)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "find '%s' -type f | wc -l", dir);
    FILE *f = popen(cmd, "r");
    int n = -1;
    if (f && fscanf(f, "%d", &n) != 1) n = -1;
    if (f) pclose(f);
    return n;
}

static void upload_begun_again(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    enum { CHUNK = 300000, N = 3 * CHUNK + 1234 };
    uint8_t *bytes = malloc(N);
    assert_non_null(bytes);
    for (size_t i = 0; i < N; i++) bytes[i] = (uint8_t)(i * 2654435761u >> 13);
    mf_hash_t h;
    mf_hash_bytes(bytes, N, &h);
    void *ctx = zmq_ctx_new(), *sock = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(zmq_connect(sock, c.ep), 0);
    /* Two chunks, then the upload again from its start, to its end. */
    s_put_chunk(sock, h.hex, bytes, 0, CHUNK, 0, 1);
    s_put_chunk(sock, h.hex, bytes, CHUNK, CHUNK, 0, 0);
    for (uint64_t off = 0; off < N; off += CHUNK) {
        const size_t n = N - off < CHUNK ? N - off : CHUNK;
        s_put_chunk(sock, h.hex, bytes, off, n, off + n == N, off / CHUNK % 2 == 0);
    }
    int done = 0, acks = 0;
    while (!done) {
        Mixfarm__Envelope *rep = s_reply(sock);
        assert_non_null(rep);
        assert_int_equal(rep->body_case, MIXFARM__ENVELOPE__BODY_BLOB_PUT_ACK);
        assert_string_equal(rep->blob_put_ack->error, "");
        done = rep->blob_put_ack->done;
        if (done) assert_int_equal(rep->blob_put_ack->received, N);
        acks++;
        mixfarm__envelope__free_unpacked(rep, NULL);
    }
    print_message("    begun again: %d acks, the last one done\n", acks);
    char obj[1400], tmp[1400];
    snprintf(obj, sizeof obj, "%s/blobs/objects/%.2s/%s", c.state, h.hex, h.hex);
    assert_int_equal(access(obj, F_OK), 0);
    snprintf(tmp, sizeof tmp, "%s/blobs/tmp", c.state);
    for (int i = 0; i < 100 && s_files_in(tmp) != 0; i++) usleep(20000);
    assert_int_equal(s_files_in(tmp), 0); /* the first upload's file went */
    /* A chunk that begins no upload it continues. */
    mf_hash_t other;
    mf_hash_bytes(bytes, 10, &other);
    s_put_chunk(sock, other.hex, bytes, 5, 5, 1, 1);
    Mixfarm__Envelope *rep = s_reply(sock);
    assert_non_null(rep);
    assert_int_equal(rep->body_case, MIXFARM__ENVELOPE__BODY_BLOB_PUT_ACK);
    assert_non_null(strstr(rep->blob_put_ack->error, "out of order"));
    mixfarm__envelope__free_unpacked(rep, NULL);
    /* The stored bytes come back, chunk by chunk, each with its checksum. */
    uint8_t *got = calloc(1, N);
    assert_non_null(got);
    for (uint64_t off = 0; off < N; off += 1u << 20) {
        Mixfarm__BlobGet g = MIXFARM__BLOB_GET__INIT;
        g.hash = h.hex, g.offset = off, g.length = 1u << 20;
        Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
        env.version = MF_PROTOCOL_VERSION;
        env.body_case = MIXFARM__ENVELOPE__BODY_BLOB_GET;
        env.blob_get = &g;
        cl_send_raw(sock, &env);
        rep = s_reply(sock);
        assert_non_null(rep);
        assert_int_equal(rep->body_case, MIXFARM__ENVELOPE__BODY_BLOB_DATA);
        const Mixfarm__BlobData *d = rep->blob_data;
        assert_string_equal(d->error, "");
        assert_int_equal(d->total_size, N);
        assert_int_equal(d->checksum, mf_checksum(d->data.data, d->data.len));
        assert_true(off + d->data.len <= N);
        memcpy(got + off, d->data.data, d->data.len);
        mixfarm__envelope__free_unpacked(rep, NULL);
    }
    assert_memory_equal(got, bytes, N);
    free(got), free(bytes);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

static void large_document(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    char path[1200], doc_path[1200];
    snprintf(path, sizeof path, "%s/tone.wav", dir);
    cl_write_audio(path, 2, 1, 2.0);
    size_t cap = 4u << 20, len = 0;
    char *doc = malloc(cap);
    assert_non_null(doc);
    len += (size_t)snprintf(doc + len, cap - len, "{\"mixfarm\": 1, \"tracks\": [");
    for (int k = 0; k < 6; k++) {
        len += (size_t)snprintf(doc + len, cap - len,
                                "%s{\"name\": \"T%d\", \"file\": \"tone.wav\","
                                " \"automation\": {\"gain_db\": [",
                                k ? ", " : "", k);
        for (int i = 0; i < 16000; i++)
            len += (size_t)snprintf(doc + len, cap - len, "%s[%.6f, %.3f]", i ? ", " : "",
                                    2.0 * i / 16000.0, -6.0 * (i % 7) / 7.0);
        len += (size_t)snprintf(doc + len, cap - len, "]}}");
    }
    snprintf(doc + len, cap - len, "]}");
    assert_true(strlen(doc) > 1200000); /* over a message's 1.06 MiB */
    snprintf(doc_path, sizeof doc_path, "%s/big.json", dir);
    FILE *f = fopen(doc_path, "w");
    assert_non_null(f);
    fputs(doc, f);
    fclose(f);
    free(doc);

    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    cl_worker_start(&c, dir, "w1", 2, NULL, 0);
    char out_d[1200], out_e[1200];
    snprintf(out_d, sizeof out_d, "%s/out-d", dir);
    snprintf(out_e, sizeof out_e, "%s/out-e", dir);
    cl_render(doc_path, out_d, 0, &c);
    cl_render(doc_path, out_e, 2, NULL);
    char mix_d[1300], mix_e[1300];
    snprintf(mix_d, sizeof mix_d, "%s/mix.wav", out_d);
    snprintf(mix_e, sizeof mix_e, "%s/mix.wav", out_e);
    cl_assert_same_file(mix_d, mix_e);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

/* One FetchRequest over a socket of its own; the reply (free it). */
static Mixfarm__Envelope *s_fetch_raw(const char *ep, uint64_t job, int partial)
{
    Mixfarm__FetchRequest f = MIXFARM__FETCH_REQUEST__INIT;
    f.job = job;
    f.partial = partial;
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_FETCH;
    env.fetch = &f;
    Mixfarm__Envelope *rep = cl_call_raw(ep, &env);
    assert_non_null(rep);
    assert_int_equal(rep->body_case, MIXFARM__ENVELOPE__BODY_FETCH_REPLY);
    return rep;
}

/* A coordinator in c with a job of three tracks submitted and no worker
 * yet: nothing runs until the test starts one. Returns the job. */
static uint64_t s_idle_job(cl_coord_t *c, const char *name)
{
    const char *dir = cl_test_dir();
    const cl_session_t ses = {.n_tracks = 3, .prefix = "t"};
    cl_write_session(dir, "s.json", name, &ses, 1.0, 0.5);
    char session[1200];
    cl_path(session, sizeof session, dir, "s.json");
    cl_coord_start(c, dir, 0);
    return cl_submit(c, session, 0);
}

static void early_fetch(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    cl_coord_t c = {0};
    const uint64_t job = s_idle_job(&c, "early");
    Mixfarm__Envelope *plain = s_fetch_raw(c.ep, job, 0), *early = s_fetch_raw(c.ep, job, 1);
    print_message("    plain fetch of a running job: \"%s\"\n", plain->fetch_reply->error);
    assert_non_null(strstr(plain->fetch_reply->error, "not done"));
    assert_string_equal(early->fetch_reply->error, "");
    assert_int_equal(early->fetch_reply->n_outputs, 0);
    mixfarm__envelope__free_unpacked(plain, NULL);
    mixfarm__envelope__free_unpacked(early, NULL);

    cl_worker_start(&c, dir, "w1", 2, NULL, 0);
    cl_wait_state(&c, job, "done", 120 * CL_SLOW, NULL);
    plain = s_fetch_raw(c.ep, job, 0), early = s_fetch_raw(c.ep, job, 1);
    const Mixfarm__FetchReply *p = plain->fetch_reply, *e = early->fetch_reply;
    assert_string_equal(p->error, "");
    assert_string_equal(e->error, "");
    print_message("    done: %zu outputs either way\n", e->n_outputs);
    assert_true(p->n_outputs >= 3); /* mix.wav, qc.json, listen/... */
    assert_int_equal(e->n_outputs, p->n_outputs);
    /* The mix's length too, so that a client can write the mix and the
     * stems before the end. */
    assert_true(p->frames > 0);
    assert_int_equal(e->frames, p->frames);
    for (size_t i = 0; i < p->n_outputs; i++) {
        assert_string_equal(e->outputs[i]->path, p->outputs[i]->path);
        assert_string_equal(e->outputs[i]->hash, p->outputs[i]->hash);
        assert_string_equal(e->outputs[i]->info, p->outputs[i]->info);
    }
    mixfarm__envelope__free_unpacked(plain, NULL);
    mixfarm__envelope__free_unpacked(early, NULL);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

/* One StatusRequest for job, held for up to wait_ms unless the job's
 * tasks done + failed differ from seen; the reply (free it) and how long
 * it took. */
static Mixfarm__Envelope *s_status_raw(const char *ep, uint64_t job, uint32_t wait_ms,
                                       uint32_t seen, double *secs)
{
    Mixfarm__StatusRequest st = MIXFARM__STATUS_REQUEST__INIT;
    st.job = job;
    st.wait_ms = wait_ms;
    st.seen = seen;
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_STATUS;
    env.status = &st;
    const double t0 = cl_now();
    Mixfarm__Envelope *rep = cl_call_raw(ep, &env);
    *secs = cl_now() - t0;
    assert_non_null(rep);
    assert_int_equal(rep->body_case, MIXFARM__ENVELOPE__BODY_STATUS_REPLY);
    assert_true(rep->status_reply->can_wait);
    return rep;
}

static uint32_t s_finished(const Mixfarm__Envelope *rep)
{
    const Mixfarm__JobStatus *j = rep->status_reply->jobs[0];
    return j->tasks_done + j->tasks_failed;
}

static void held_status(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    cl_coord_t c = {0};
    const uint64_t job = s_idle_job(&c, "held");
    double secs;
    /* Nothing changes: held until wait_ms (at most 1000 ms). */
    Mixfarm__Envelope *rep = s_status_raw(c.ep, job, 300, 0, &secs);
    print_message("    nothing moved: answered after %.3f s (asked to wait 0.3 s)\n", secs);
    assert_true(secs >= 0.25);
    assert_int_equal(s_finished(rep), 0);
    mixfarm__envelope__free_unpacked(rep, NULL);
    rep = s_status_raw(c.ep, job, 60000, 0, &secs);
    print_message("    asked to wait 60 s: answered after %.3f s\n", secs);
    assert_true(secs >= 0.9 && secs < 5 * CL_SLOW);
    mixfarm__envelope__free_unpacked(rep, NULL);
    /* What the client saw is already out of date: at once. */
    rep = s_status_raw(c.ep, job, 1000, 7, &secs);
    assert_true(secs < 0.5 * CL_SLOW);
    mixfarm__envelope__free_unpacked(rep, NULL);

    /* With a worker, a held status comes back when a task finishes, long
     * before its second is up; and once the job is done, at once. */
    cl_worker_start(&c, dir, "w1", 2, NULL, 0);
    uint32_t seen = 0;
    int early = 0, asked = 0;
    for (;;) {
        rep = s_status_raw(c.ep, job, 1000, seen, &secs);
        const Mixfarm__JobStatus *j = rep->status_reply->jobs[0];
        const int done = !strcmp(j->state, "done");
        early += s_finished(rep) != seen && secs < 0.8;
        asked++;
        seen = s_finished(rep);
        mixfarm__envelope__free_unpacked(rep, NULL);
        if (done) break;
        assert_true(asked < 600);
    }
    print_message("    %d held statuses until done, %d woken by a finished task\n", asked, early);
    assert_true(early >= 1);
    rep = s_status_raw(c.ep, job, 1000, seen, &secs);
    assert_true(secs < 0.5 * CL_SLOW); /* an ended job is not waited on */
    mixfarm__envelope__free_unpacked(rep, NULL);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

static void unreachable_coordinator(void **state)
{
    (void)state;
    char ep[64], prog[1200];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", cl_free_port()); /* nobody listens */
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    const char *argv[] = {prog, "status", "--coordinator", ep, NULL};
    cl_run_t r = cl_run(argv, CALL_TIMEOUT_S + 15 * CL_SLOW);
    int rc = r.rc;
    double secs = r.secs;
    char err[512];
    snprintf(err, sizeof err, "%s", r.err);
    cl_run_free(&r);
    print_message("    status on %s: exit %d after %.1f s: %.*s\n", ep, rc, secs,
                  (int)strcspn(err, "\n"), err);
    if (rc == -2) fail_msg("status against a closed port still waits after %.0f s", secs);
    assert_int_equal(rc, 3);
    assert_non_null(strstr(err, "could not be reached"));
    assert_true(secs <= CALL_TIMEOUT_S + 5 * CL_SLOW);
    cl_test_pass();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(other_protocol_version_refused, cl_setup,
                                                 cl_teardown, "other_protocol_version_refused"),
        cmocka_unit_test_prestate_setup_teardown(other_engine_refused, cl_setup, cl_teardown,
                                                 "other_engine_refused"),
        cmocka_unit_test_prestate_setup_teardown(forged_output_refused, cl_setup, cl_teardown,
                                                 "forged_output_refused"),
        cmocka_unit_test_prestate_setup_teardown(upload_begun_again, cl_setup, cl_teardown,
                                                 "upload_begun_again"),
        cmocka_unit_test_prestate_setup_teardown(large_document, cl_setup, cl_teardown,
                                                 "large_document"),
        cmocka_unit_test_prestate_setup_teardown(early_fetch, cl_setup, cl_teardown, "early_fetch"),
        cmocka_unit_test_prestate_setup_teardown(held_status, cl_setup, cl_teardown, "held_status"),
        cmocka_unit_test_prestate_setup_teardown(mixed_numerics_warned, cl_setup, cl_teardown,
                                                 "mixed_numerics_warned"),
        cmocka_unit_test_prestate_setup_teardown(one_arithmetic_per_job, cl_setup, cl_teardown,
                                                 "one_arithmetic_per_job"),
        cmocka_unit_test_prestate_setup_teardown(unreachable_coordinator, cl_setup, cl_teardown,
                                                 "unreachable_coordinator"),
    };
    return cmocka_run_group_tests_name("cluster_proto", tests, group_setup, NULL);
}
