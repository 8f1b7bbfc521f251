/* mf_xfer against a fake coordinator: chunked gets and puts in a bounded
 * window, hash checks, failures, and the blocking wait (and Ctrl-C in it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fake_coord.h"
#include "mf_interrupt.h"
#include "mf_log.h"
#include "mf_task.h"
#include "mf_writes.h"
#include "mf_xfer.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

typedef struct {
    void *zctx, *dealer;
    fake_t f;
    char *dir;
    mf_store_t *local;
    mf_xfer_t *x;
} fx_t;

typedef struct {
    int calls;
    mf_err_t err;
} outcome_t;

static void s_done(void *ctx, const mf_hash_t *hash, mf_err_t err)
{
    (void)hash;
    outcome_t *o = ctx;
    o->calls++;
    o->err = err;
}

static int setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    fx->zctx = zmq_ctx_new();
    fake_open(&fx->f, fx->zctx, 1000);
    fx->dir = test_tmpdir();
    fx->local = mf_store_open(fx->dir);
    fx->dealer = zmq_socket(fx->zctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(fx->dealer, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(zmq_connect(fx->dealer, fx->f.endpoint), 0);
    fx->x = mf_xfer_new(fx->dealer, fx->local);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    mf_xfer_free(&fx->x);
    zmq_close(fx->dealer);
    fake_close(&fx->f);
    mf_store_free(&fx->local);
    test_rmdir(&fx->dir);
    zmq_ctx_term(fx->zctx);
    free(fx);
    return 0;
}

/* Drives both ends from this thread for ms, or until nothing is pending. */
static void s_run(fx_t *fx, int ms, int until_done)
{
    int64_t until = test_now_ms() + ms;
    while ((!until_done || mf_xfer_pending(fx->x)) && test_now_ms() < until) {
        fake_poll(&fx->f, 2);
        for (;;) {
            Mixfarm__Envelope *env = NULL;
            mf_chunk_t chunk;
            if (mf_msg_recv(fx->dealer, 0, ZMQ_DONTWAIT, NULL, &env, &chunk) != MF_OK) break;
            mf_xfer_handle(fx->x, env);
            mf_msg_release(env, &chunk);
        }
    }
}

static void s_pump(fx_t *fx, int ms)
{
    s_run(fx, ms, 1);
}

static void test_get_put_big(void **state)
{
    fx_t *fx = *state;
    mf_hash_t a, b;
    size_t size = 5 * MF_BLOB_CHUNK + 12345;
    test_random_blob(fx->f.store, size, 1, &a);
    outcome_t got = {0};
    mf_xfer_get(fx->x, &a, s_done, &got);
    s_pump(fx, 5000);
    assert_int_equal(got.calls, 1);
    assert_int_equal(got.err, MF_OK);
    assert_int_equal(mf_store_size(fx->local, &a), (int64_t)size);
    assert_int_equal(fx->f.gets, 6);

    test_random_blob(fx->local, 3 * MF_BLOB_CHUNK + 1, 2, &b);
    outcome_t put = {0}, put2 = {0};
    mf_xfer_put(fx->x, &b, s_done, &put);
    mf_xfer_put(fx->x, &b, s_done, &put2); /* merged with the first */
    assert_int_equal(mf_xfer_pending(fx->x), 1);
    s_pump(fx, 5000);
    assert_int_equal(put.err, MF_OK);
    assert_int_equal(put2.calls, 1);
    assert_int_equal(fx->f.puts, 4);
    assert_int_equal(fx->f.uploads_done, 1);
    assert_true(mf_store_has(fx->f.store, &b));
}

/* No more than the window of chunks is ever in flight. */
static void test_window(void **state)
{
    fx_t *fx = *state;
    mf_hash_t b;
    test_random_blob(fx->local, 20 * MF_BLOB_CHUNK, 3, &b);
    outcome_t put = {0};
    fx->f.hold = 1;
    mf_xfer_put(fx->x, &b, s_done, &put);
    fake_poll(&fx->f, 200);
    assert_int_equal(fx->f.puts, MF_XFER_WINDOW);
    fake_release(&fx->f, 0);
    s_pump(fx, 5000);
    assert_int_equal(put.err, MF_OK);
    assert_int_equal(fx->f.puts, 20);
    assert_true(mf_store_has(fx->f.store, &b));
}

/* Chunks that arrive out of order are put back in order. */
static void test_reordered(void **state)
{
    fx_t *fx = *state;
    mf_hash_t a;
    test_random_blob(fx->f.store, 12 * MF_BLOB_CHUNK + 3, 8, &a);
    outcome_t got = {0};
    fx->f.hold = 1;
    mf_xfer_get(fx->x, &a, s_done, &got);
    s_run(fx, 50, 0);
    assert_int_equal(fx->f.gets, 1); /* the size comes first */
    fake_release(&fx->f, 0);
    fx->f.hold = 1;
    s_run(fx, 100, 0);
    assert_int_equal(fx->f.gets, 1 + MF_XFER_WINDOW);
    fake_release(&fx->f, 1);
    s_run(fx, 50, 0);
    /* The window is freed only as chunks are written, in order. */
    assert_true(fx->f.gets <= 1 + 2 * MF_XFER_WINDOW);
    s_pump(fx, 5000);
    assert_int_equal(got.err, MF_OK);
    assert_int_equal(fx->f.gets, 13);
    assert_true(mf_store_has(fx->local, &a));
}

static void test_corrupt_chunk(void **state)
{
    fx_t *fx = *state;
    mf_hash_t a;
    test_random_blob(fx->f.store, 3 * MF_BLOB_CHUNK, 4, &a);
    fx->f.corrupt = 1;
    outcome_t got = {0};
    mf_xfer_get(fx->x, &a, s_done, &got);
    s_pump(fx, 5000);
    assert_int_equal(got.calls, 1);
    assert_int_equal(got.err, MF_ERR_CORRUPT);
    assert_false(mf_store_has(fx->local, &a));
}

/* A sink that keeps what it is given (mf_xfer_get_into). */
typedef struct {
    uint8_t *bytes;
    size_t n, cap;
    int commits, aborts;
    uint64_t committed;
    mf_err_t fail_at_write; /* returned by the write that crosses fail_after */
    size_t fail_after;
} mem_sink_t;

static mf_err_t s_mem_write(void *ctx, const uint8_t *data, size_t n)
{
    mem_sink_t *m = ctx;
    if (m->fail_at_write && m->n + n > m->fail_after) return m->fail_at_write;
    if (m->n + n > m->cap) {
        m->cap = (m->n + n) * 2;
        m->bytes = realloc(m->bytes, m->cap);
    }
    memcpy(m->bytes + m->n, data, n);
    m->n += n;
    return MF_OK;
}

static mf_err_t s_mem_commit(void *ctx, uint64_t size)
{
    mem_sink_t *m = ctx;
    m->commits++;
    m->committed = size;
    return MF_OK;
}

static void s_mem_abort(void *ctx)
{
    ((mem_sink_t *)ctx)->aborts++;
}

/* A get into a sink: every byte in order (chunks released out of order),
 * one commit with the size, nothing in the local store; a sink whose
 * write fails is aborted once and the get fails with its error; a get of a
 * hash already being fetched the other way is refused at once. */
static void test_get_into_sink(void **state)
{
    fx_t *fx = *state;
    mf_hash_t a;
    const size_t size = 4 * MF_BLOB_CHUNK + 777;
    test_random_blob(fx->f.store, size, 9, &a);
    char *path = mf_store_path(fx->f.store, &a);
    FILE *f = fopen(path, "rb");
    uint8_t *want = malloc(size);
    assert_int_equal(fread(want, 1, size, f), size);
    fclose(f), free(path);

    mem_sink_t m = {0};
    const mf_xfer_sink_t sink = {s_mem_write, s_mem_commit, s_mem_abort, &m};
    outcome_t got = {0};
    fx->f.hold = 1;
    mf_xfer_get_into(fx->x, &a, &sink, s_done, &got);
    s_run(fx, 50, 0);
    fake_release(&fx->f, 0);
    fx->f.hold = 1;
    s_run(fx, 100, 0);
    fake_release(&fx->f, 1); /* the window's chunks, last first */
    s_pump(fx, 5000);
    assert_int_equal(got.calls, 1);
    assert_int_equal(got.err, MF_OK);
    assert_int_equal(m.commits, 1);
    assert_int_equal(m.aborts, 0);
    assert_int_equal(m.committed, size);
    assert_int_equal(m.n, size);
    assert_memory_equal(m.bytes, want, size);
    assert_false(mf_store_has(fx->local, &a));

    mem_sink_t bad = {.fail_at_write = MF_ERR_IO, .fail_after = 2 * MF_BLOB_CHUNK};
    const mf_xfer_sink_t bad_sink = {s_mem_write, s_mem_commit, s_mem_abort, &bad};
    outcome_t failed = {0};
    mf_xfer_get_into(fx->x, &a, &bad_sink, s_done, &failed);
    s_pump(fx, 5000);
    assert_int_equal(failed.err, MF_ERR_IO);
    assert_int_equal(bad.aborts, 1);
    assert_int_equal(bad.commits, 0);

    mem_sink_t other = {0};
    const mf_xfer_sink_t other_sink = {s_mem_write, s_mem_commit, s_mem_abort, &other};
    outcome_t plain = {0}, refused = {0}, into = {0}, plain_refused = {0};
    mf_xfer_get(fx->x, &a, s_done, &plain);
    mf_xfer_get_into(fx->x, &a, &other_sink, s_done, &refused);
    assert_int_equal(refused.err, MF_ERR_INVALID);
    assert_int_equal(other.aborts, 1);
    s_pump(fx, 5000);
    assert_int_equal(plain.err, MF_OK);
    mf_hash_t b;
    test_random_blob(fx->f.store, MF_BLOB_CHUNK + 1, 10, &b);
    mem_sink_t third = {0};
    const mf_xfer_sink_t third_sink = {s_mem_write, s_mem_commit, s_mem_abort, &third};
    mf_xfer_get_into(fx->x, &b, &third_sink, s_done, &into);
    mf_xfer_get(fx->x, &b, s_done, &plain_refused);
    assert_int_equal(plain_refused.err, MF_ERR_INVALID);
    s_pump(fx, 5000);
    assert_int_equal(into.err, MF_OK);
    assert_int_equal(third.n, MF_BLOB_CHUNK + 1);
    free(want), free(m.bytes), free(bad.bytes), free(other.bytes), free(third.bytes);
}

/* When a get fails, it starts another of the same blob (a client that
 * fetches again what it could not stream). */
typedef struct {
    mf_xfer_t *x;
    outcome_t first, again;
} retry_t;

static void s_retry(void *ctx, const mf_hash_t *hash, mf_err_t err)
{
    retry_t *r = ctx;
    s_done(&r->first, hash, err);
    if (err != MF_OK) mf_xfer_get(r->x, hash, s_done, &r->again);
}

/* The chunks a failed get had asked for still arrive after it failed; a
 * new get of the same blob, started at once, drops them (its bytes are
 * theirs, but it did not ask) instead of failing on them. */
static void test_late_replies_dropped(void **state)
{
    fx_t *fx = *state;
    mf_hash_t a;
    test_random_blob(fx->f.store, 4 * MF_BLOB_CHUNK + 5, 11, &a);
    mem_sink_t bad = {.fail_at_write = MF_ERR_IO, .fail_after = MF_BLOB_CHUNK};
    const mf_xfer_sink_t sink = {s_mem_write, s_mem_commit, s_mem_abort, &bad};
    retry_t r = {.x = fx->x};
    fx->f.hold = 1;
    mf_xfer_get_into(fx->x, &a, &sink, s_retry, &r);
    s_run(fx, 50, 0);
    fake_release(&fx->f, 0); /* the first chunk: the size */
    fx->f.hold = 1;
    s_run(fx, 100, 0);
    assert_int_equal(fx->f.held_n, 4); /* the rest, asked for at once */
    fake_release(&fx->f, 0);           /* the second fails the sink; two more follow it */
    s_pump(fx, 5000);
    assert_int_equal(r.first.err, MF_ERR_IO);
    assert_int_equal(r.again.calls, 1);
    assert_int_equal(r.again.err, MF_OK);
    assert_true(mf_store_has(fx->local, &a));
    free(bad.bytes);
}

static void test_missing_present_empty(void **state)
{
    fx_t *fx = *state;
    mf_hash_t none, empty;
    mf_hash_bytes("not stored", 10, &none);
    outcome_t got = {0}, put = {0}, at_once = {0}, e = {0};
    mf_xfer_get(fx->x, &none, s_done, &got);
    mf_xfer_put(fx->x, &none, s_done, &put);
    assert_int_equal(put.err, MF_ERR_NOENT); /* not in the local store either */
    s_pump(fx, 2000);
    assert_int_equal(got.err, MF_ERR_NOENT);

    mf_blob_writer_t *w = mf_blob_writer_new(fx->f.store);
    mf_blob_writer_commit(w, &empty);
    mf_xfer_get(fx->x, &empty, s_done, &e);
    s_pump(fx, 2000);
    assert_int_equal(e.err, MF_OK);
    assert_int_equal(mf_store_size(fx->local, &empty), 0);
    mf_xfer_get(fx->x, &empty, s_done, &at_once);
    assert_int_equal(at_once.calls, 1); /* present: done before returning */
}

static void test_put_refused(void **state)
{
    fx_t *fx = *state;
    mf_hash_t b;
    test_random_blob(fx->local, 1000, 5, &b);
    /* The fake has an upload of this hash half done: the new one is out of
     * order, so it answers with an error. */
    snprintf(fx->f.up[0].hash, sizeof fx->f.up[0].hash, "%s", b.hex);
    fx->f.up[0].w = mf_blob_writer_new(fx->f.store);
    fx->f.up[0].received = 7;
    outcome_t put = {0};
    mf_xfer_put(fx->x, &b, s_done, &put);
    s_pump(fx, 2000);
    assert_int_equal(put.err, MF_ERR_IO);
}

static atomic_int s_fake_stop;
static void *s_fake_thread(void *arg)
{
    while (!s_fake_stop) fake_poll(arg, 10);
    return NULL;
}

/* A task's output goes up while it is written: chunks leave as the file
 * grows past each whole chunk, the last once the writer commits; the
 * coordinator gets the same bytes under the task's output name. A put of
 * the same blob asked for afterwards (the task's result) ends at once. */
static void test_live_put(void **state)
{
    fx_t *fx = *state;
    mf_writes_t *writes = mf_store_watch_writes(fx->local);
    assert_non_null(writes);
    mf_hash_t key, name, fetched;
    mf_hash_bytes("a task", 6, &key);
    mf_task_output_name(&key, 0, &name);
    mf_writes_expect(writes, &name);
    mf_blob_writer_t *w = mf_blob_writer_new_named(fx->local, &name);
    assert_non_null(w);
    outcome_t live = {0};
    mf_xfer_put_live(fx->x, writes, &name, &key, 0, s_done, &live);
    assert_true(mf_xfer_live(fx->x));
    const size_t step = MF_BLOB_CHUNK / 2, steps = 7; /* 3.5 chunks */
    uint8_t *bytes = malloc(step * steps);
    for (size_t i = 0; i < step * steps; i++) bytes[i] = (uint8_t)(i * 2654435761u >> 13);
    for (size_t k = 0; k < steps; k++) {
        assert_int_equal(mf_blob_writer_write(w, bytes + k * step, step), MF_OK);
        mf_xfer_poke(fx->x);
        s_run(fx, 20, 0);
    }
    /* Three whole chunks written: three sent, none of them the last. */
    assert_int_equal(fx->f.puts, 3);
    assert_int_equal(fx->f.uploads_done, 0);
    assert_int_equal(live.calls, 0);
    mf_hash_t committed;
    assert_int_equal(mf_blob_writer_commit(w, &committed), MF_OK);
    mf_xfer_poke(fx->x);
    s_pump(fx, 5000);
    assert_int_equal(live.calls, 1);
    assert_int_equal(live.err, MF_OK);
    assert_int_equal(fx->f.puts, 4);
    assert_int_equal(fx->f.uploads_done, 1);
    assert_false(mf_xfer_live(fx->x));
    char *path = mf_store_path(fx->f.store, &name);
    assert_int_equal(mf_hash_file(path, &fetched), 0);
    free(path);
    mf_hash_t want;
    mf_hash_bytes(bytes, step * steps, &want);
    assert_string_equal(fetched.hex, want.hex);
    outcome_t again = {0};
    mf_xfer_put_output(fx->x, &name, &key, 0, s_done, &again);
    assert_int_equal(again.calls, 1); /* at once: no second upload */
    assert_int_equal(fx->f.puts, 4);
    free(bytes);
}

/* A write that fails ends its live upload with an error. */
static void test_live_put_failed(void **state)
{
    fx_t *fx = *state;
    mf_writes_t *writes = mf_store_watch_writes(fx->local);
    mf_hash_t key, name;
    mf_hash_bytes("a failing task", 14, &key);
    mf_task_output_name(&key, 0, &name);
    mf_writes_expect(writes, &name);
    mf_blob_writer_t *w = mf_blob_writer_new_named(fx->local, &name);
    outcome_t live = {0};
    mf_xfer_put_live(fx->x, writes, &name, &key, 0, s_done, &live);
    static uint8_t chunk[MF_BLOB_CHUNK];
    assert_int_equal(mf_blob_writer_write(w, chunk, sizeof chunk), MF_OK);
    mf_xfer_poke(fx->x);
    s_run(fx, 50, 0);
    mf_blob_writer_abort(w);
    mf_xfer_poke(fx->x);
    s_pump(fx, 2000);
    assert_int_equal(live.calls, 1);
    assert_int_equal(live.err, MF_ERR_IO);
    assert_int_equal(fx->f.uploads_done, 0);
}

static void test_wait_and_reset(void **state)
{
    fx_t *fx = *state;
    mf_hash_t a, c;
    test_random_blob(fx->f.store, 2 * MF_BLOB_CHUNK + 5, 6, &a);
    test_random_blob(fx->f.store, 77, 7, &c);
    pthread_t th;
    s_fake_stop = 0;
    pthread_create(&th, NULL, s_fake_thread, &fx->f);
    outcome_t got = {0};
    mf_xfer_get(fx->x, &a, s_done, &got);
    assert_int_equal(mf_xfer_wait(fx->x, 2000), MF_OK);
    assert_int_equal(got.err, MF_OK);
    s_fake_stop = 1;
    pthread_join(th, NULL);

    /* Nobody answers now. */
    outcome_t lost = {0};
    mf_xfer_get(fx->x, &c, s_done, &lost);
    assert_int_equal(mf_xfer_wait(fx->x, 100), MF_ERR_UNREACHABLE);
    assert_int_equal(lost.err, MF_ERR_UNREACHABLE);
    assert_int_equal(mf_xfer_pending(fx->x), 0);

    outcome_t reset = {0};
    mf_xfer_get(fx->x, &c, s_done, &reset);
    mf_xfer_reset(fx->x);
    assert_int_equal(reset.err, MF_ERR_UNREACHABLE);
}

/* Ctrl-C caught while the thread was busy (its poll not yet entered, so
 * nothing to break): the wait sees the signal and gives up at once,
 * whoever answers, instead of waiting out the transfer (a client's upload
 * of gigabytes). Last: the signal stays caught for the program's rest. */
static void test_wait_interrupted(void **state)
{
    fx_t *fx = *state;
    mf_hash_t a;
    test_random_blob(fx->f.store, 2 * MF_BLOB_CHUNK + 5, 8, &a);
    pthread_t th;
    s_fake_stop = 0;
    pthread_create(&th, NULL, s_fake_thread, &fx->f);
    outcome_t got = {0};
    mf_xfer_get(fx->x, &a, s_done, &got);
    mf_interrupt_catch();
    raise(SIGINT); /* handled at once, in this thread, outside any poll */
    assert_int_equal(mf_interrupted(), SIGINT);
    assert_int_equal(mf_xfer_wait(fx->x, 60000), MF_ERR_CANCELLED);
    s_fake_stop = 1;
    pthread_join(th, NULL);
    mf_xfer_reset(fx->x);
}

int main(void)
{
    mf_log_init("test_xfer", MF_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_put_big, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reordered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_chunk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_into_sink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_replies_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_present_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_live_put, setup, teardown),
        cmocka_unit_test_setup_teardown(test_live_put_failed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_and_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_interrupted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
