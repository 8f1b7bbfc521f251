/* The worker's message loop (mf_worker_run in a thread) against a fake
 * coordinator on 127.0.0.1, with a short heartbeat so the whole file runs
 * in a few seconds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fake_coord.h"
#include "lib_versions.h"
#include "mf_exec.h"
#include "mf_hash.h"
#include "mf_log.h"
#include "mf_params.h"
#include "mf_worker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define HB_MS 100

typedef struct {
    void *zctx;
    fake_t f;
    char *dir;
    char cache[300];
    mf_worker_opts_t o;
    atomic_int stop;
    int rc;
    pthread_t th;
} wx_t;

static void *s_run(void *arg)
{
    wx_t *wx = arg;
    wx->rc = mf_worker_run(&wx->o, &wx->stop);
    return NULL;
}

static int setup(void **state)
{
    wx_t *wx = calloc(1, sizeof *wx);
    wx->zctx = zmq_ctx_new();
    fake_open(&wx->f, wx->zctx, HB_MS);
    wx->dir = test_tmpdir();
    snprintf(wx->cache, sizeof wx->cache, "%s/cache", wx->dir);
    wx->o = (mf_worker_opts_t){.zctx = wx->zctx,
                               .endpoint = wx->f.endpoint,
                               .name = "test-worker",
                               .slots = 2,
                               .cache_dir = wx->cache,
                               .heartbeat_ms = HB_MS};
    wx->rc = -1;
    pthread_create(&wx->th, NULL, s_run, wx);
    *state = wx;
    return 0;
}

static int s_join(wx_t *wx)
{
    wx->stop = 1;
    pthread_join(wx->th, NULL);
    return wx->rc;
}

static int teardown(void **state)
{
    wx_t *wx = *state;
    if (wx->rc == -1) s_join(wx);
    fake_close(&wx->f);
    test_rmdir(&wx->dir);
    zmq_ctx_term(wx->zctx);
    free(wx);
    return 0;
}

static int s_hello(fake_t *f)
{
    return f->hellos >= 1;
}
static int s_two_hellos(fake_t *f)
{
    return f->hellos >= 2;
}
static int s_result(fake_t *f)
{
    return f->n_results >= 1;
}
static int s_beats(fake_t *f)
{
    return f->heartbeats >= 3;
}

static void test_hello_heartbeat(void **state)
{
    wx_t *wx = *state;
    assert_true(fake_until(&wx->f, s_hello, 2000));
    Mixfarm__Hello *h = wx->f.hello;
    assert_int_equal(h->slots, 2);
    assert_string_equal(h->name, "test-worker");
    assert_false(h->shared_store);
    assert_int_equal(h->n_capabilities, 4);
    assert_string_equal(h->capabilities[0], "decode");
    /* Idle, it heartbeats every interval. */
    assert_true(fake_until(&wx->f, s_beats, 1000));
    assert_int_equal(wx->f.hellos, 1);
    assert_int_equal(s_join(wx), 0);
}

/* Once the worker has said hello: a WAV of seconds at rate, in the fake
 * coordinator's store as a client would have uploaded it; its path goes
 * to wav (400 bytes). */
static mf_hash_t s_source(wx_t *wx, int rate, double seconds, char *wav)
{
    assert_true(fake_until(&wx->f, s_hello, 2000));
    snprintf(wav, 400, "%s/src.wav", wx->dir);
    test_write_wav(wav, rate, seconds);
    mf_hash_t src;
    assert_int_equal(mf_store_put_file(wx->f.store, wav, &src), MF_OK);
    return src;
}

static void test_decode_task(void **state)
{
    wx_t *wx = *state;
    /* A 44.1 kHz source decoded to 48 kHz: the output spans two chunks. */
    char wav[400];
    mf_hash_t src = s_source(wx, 44100, 3.0, wav);
    mf_decode_spec_t spec = {.from_s = 0, .length_s = -1, .start_s = 0.5, .rate = 48000};
    mf_task_t t = {.id = 42, .kind = "decode", .inputs = &src, .n_inputs = 1};
    t.params = mf_decode_spec_to_json(&spec);
    fake_send_task(&wx->f, &t);
    assert_true(fake_until(&wx->f, s_result, 5000));
    mf_task_result_t *r = &wx->f.results[0];
    assert_null(r->error);
    assert_int_equal(r->id, 42);
    assert_int_equal(r->n_outputs, 1);
    assert_true(wx->f.gets >= 1);
    assert_int_equal(wx->f.uploads_done, 1);
    assert_true(mf_store_has(wx->f.store, &r->outputs[0]));

    /* The same task run here gives the same bits. */
    char ref_dir[400];
    snprintf(ref_dir, sizeof ref_dir, "%s/ref", wx->dir);
    mf_store_t *ref = mf_store_open(ref_dir);
    mf_hash_t again;
    assert_int_equal(mf_store_put_file(ref, wav, &again), MF_OK);
    mf_task_result_t local;
    assert_int_equal(mf_exec_run(ref, &t, &local), MF_OK);
    assert_string_equal(local.outputs[0].hex, r->outputs[0].hex);
    assert_true(mf_store_size(ref, &local.outputs[0]) > (int64_t)MF_BLOB_CHUNK);
    mf_task_result_fini(&local);
    mf_store_free(&ref);
    free(t.params);
    assert_int_equal(s_join(wx), 0);
}

static int s_two_results(fake_t *f);

/* An output some task of the job reads stays in the worker's cache (its
 * next task here finds it); one none reads (Task.unread: a file the
 * client fetches from the coordinator) leaves it once it is up. */
static void test_unread_output_dropped(void **state)
{
    wx_t *wx = *state;
    char wav[400];
    mf_hash_t src = s_source(wx, 48000, 1.0, wav);
    mf_decode_spec_t spec = {.from_s = 0, .length_s = -1, .start_s = 0, .rate = 48000};
    mf_task_t t = {.id = 1, .kind = "decode", .inputs = &src, .n_inputs = 1};
    t.params = mf_decode_spec_to_json(&spec);
    fake_send_task(&wx->f, &t);
    assert_true(fake_until(&wx->f, s_result, 5000));
    spec.start_s = 0.25; /* other work: another output */
    free(t.params);
    t.params = mf_decode_spec_to_json(&spec);
    t.id = 2, t.unread = 1;
    fake_send_task(&wx->f, &t);
    assert_true(fake_until(&wx->f, s_two_results, 5000));
    free(t.params);
    assert_int_equal(s_join(wx), 0); /* the cache's files as the worker left them */
    mf_store_t *cache = mf_store_open(wx->cache);
    assert_non_null(cache);
    const mf_task_result_t *kept = &wx->f.results[0], *dropped = &wx->f.results[1];
    assert_null(kept->error);
    assert_null(dropped->error);
    assert_true(mf_store_has(wx->f.store, &kept->outputs[0]));
    assert_true(mf_store_has(wx->f.store, &dropped->outputs[0])); /* the coordinator has both */
    assert_true(mf_store_has(cache, &kept->outputs[0]));
    assert_false(mf_store_has(cache, &dropped->outputs[0]));
    assert_true(mf_store_has(cache, &src)); /* an input: read again, perhaps */
    mf_store_free(&cache);
}

/* A worker says its arithmetic in its hello, runs a task of its own
 * arithmetic, refuses one of another (the task's key promises that one's
 * bits), and the arithmetic is part of the key: the same work pinned to
 * another one is another task, with other output names. */
static int s_two_results(fake_t *f)
{
    return f->n_results >= 2;
}

static void test_arithmetic(void **state)
{
    wx_t *wx = *state;
    assert_true(fake_until(&wx->f, s_hello, 2000));
    assert_string_equal(wx->f.hello->numerics, mf_exec_numerics());
    assert_non_null(strstr(mf_exec_numerics(), "dsp="));
    /* The libraries' versions are part of it, by their digest. */
    mf_hash_t libs;
    mf_hash_bytes(mf_lib_versions(), strlen(mf_lib_versions()), &libs);
    char want[32];
    snprintf(want, sizeof want, " libs=%.8s", libs.hex);
    assert_non_null(strstr(mf_exec_numerics(), want));
    const char *names[] = {"glibc", "libsndfile", "soxr", "FLAC",
                           "LAME",  "opus",       "fftw", "jansson"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strstr(mf_lib_versions(), names[i]))
            fail_msg("%s is not in \"%s\"", names[i], mf_lib_versions());
    char wav[400];
    snprintf(wav, sizeof wav, "%s/src.wav", wx->dir);
    test_write_wav(wav, 48000, 0.5);
    mf_hash_t src;
    assert_int_equal(mf_store_put_file(wx->f.store, wav, &src), MF_OK);
    mf_decode_spec_t spec = {.length_s = -1, .rate = 48000};
    mf_task_t t = {.id = 1, .kind = "decode", .inputs = &src, .n_inputs = 1};
    t.params = mf_decode_spec_to_json(&spec);
    t.numerics = "dsp=other qc=other";
    fake_send_task(&wx->f, &t);
    assert_true(fake_until(&wx->f, s_result, 5000));
    const mf_task_result_t *no = &wx->f.results[0];
    print_message("    %s\n", no->error ? no->error : "(no error)");
    assert_non_null(no->error);
    assert_non_null(strstr(no->error, "dsp=other qc=other"));
    assert_non_null(strstr(no->error, mf_exec_numerics()));
    assert_int_equal(no->n_outputs, 0);
    assert_int_equal(wx->f.uploads_done, 0);

    t.id = 2, t.numerics = (char *)mf_exec_numerics();
    fake_send_task(&wx->f, &t);
    assert_true(fake_until(&wx->f, s_two_results, 5000));
    const mf_task_result_t *yes = &wx->f.results[1];
    assert_null(yes->error);
    assert_int_equal(yes->n_outputs, 1);
    mf_hash_t pinned, bare;
    mf_task_key(&t, &pinned);
    t.numerics = NULL;
    mf_task_key(&t, &bare);
    assert_string_not_equal(pinned.hex, bare.hex);
    mf_hash_t name;
    mf_task_output_name(&pinned, 0, &name);
    assert_string_equal(yes->outputs[0].hex, name.hex);
    free(t.params);
    assert_int_equal(s_join(wx), 0);
}

static void test_missing_input(void **state)
{
    wx_t *wx = *state;
    assert_true(fake_until(&wx->f, s_hello, 2000));
    mf_hash_t none;
    mf_hash_bytes("nowhere", 7, &none);
    mf_decode_spec_t spec = {.length_s = -1, .rate = 48000};
    mf_task_t t = {.id = 7, .kind = "decode", .inputs = &none, .n_inputs = 1};
    t.params = mf_decode_spec_to_json(&spec);
    fake_send_task(&wx->f, &t);
    free(t.params);
    assert_true(fake_until(&wx->f, s_result, 2000));
    assert_int_equal(wx->f.results[0].id, 7);
    assert_non_null(wx->f.results[0].error);
    char prefix[13];
    snprintf(prefix, sizeof prefix, "%.12s", none.hex);
    assert_non_null(strstr(wx->f.results[0].error, prefix));
    assert_int_equal(s_join(wx), 0);
}

static void test_garbage(void **state)
{
    wx_t *wx = *state;
    assert_true(fake_until(&wx->f, s_hello, 2000));
    fake_send_raw(&wx->f, "\xff\xff\xff garbage", 11);
    fake_send_raw(&wx->f, "", 0);
    /* A well-formed envelope from another protocol version. */
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    Mixfarm__Heartbeat hb = MIXFARM__HEARTBEAT__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    env.version = 99;
    size_t n = mixfarm__envelope__get_packed_size(&env);
    uint8_t buf[64];
    mixfarm__envelope__pack(&env, buf);
    fake_send_raw(&wx->f, buf, n);
    /* A task whose key does not match its contents. */
    Mixfarm__Task m = MIXFARM__TASK__INIT;
    m.version = MF_PROTOCOL_VERSION;
    m.id = 9;
    m.kind = "decode";
    m.key = "0000";
    env = (Mixfarm__Envelope)MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_TASK;
    env.task = &m;
    fake_send(&wx->f, &env);
    assert_true(fake_until(&wx->f, s_result, 2000));
    assert_int_equal(wx->f.results[0].id, 9);
    assert_non_null(wx->f.results[0].error);
    /* Still alive, on the same connection. */
    int beats = wx->f.heartbeats;
    fake_poll(&wx->f, 3 * HB_MS);
    assert_true(wx->f.heartbeats > beats);
    assert_int_equal(wx->f.hellos, 1);
    assert_int_equal(s_join(wx), 0);
}

static void test_refuse(void **state)
{
    wx_t *wx = *state;
    assert_true(fake_until(&wx->f, s_hello, 2000));
    Mixfarm__Refuse ref = MIXFARM__REFUSE__INIT;
    ref.reason = "protocol version 1 is too old";
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_REFUSE;
    env.refuse = &ref;
    fake_send(&wx->f, &env);
    pthread_join(wx->th, NULL);
    assert_int_equal(wx->rc, 1);
}

static void test_reconnect(void **state)
{
    wx_t *wx = *state;
    assert_true(fake_until(&wx->f, s_hello, 2000));
    wx->f.silent = 1;
    /* 5 silent intervals, then a 1-interval back-off, then a new Hello. */
    assert_true(fake_until(&wx->f, s_two_hellos, 20 * HB_MS));
    assert_false(wx->f.hello_peer[0].n == wx->f.hello_peer[1].n &&
                 memcmp(wx->f.hello_peer[0].id, wx->f.hello_peer[1].id, wx->f.hello_peer[0].n) ==
                     0); /* a new socket */
    wx->f.silent = 0;
    fake_poll(&wx->f, 8 * HB_MS); /* answered now: it stays */
    assert_int_equal(wx->f.hellos, 2);
    assert_int_equal(s_join(wx), 0);
}

int main(void)
{
    mf_log_init("test_worker", MF_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hello_heartbeat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unread_output_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arithmetic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
