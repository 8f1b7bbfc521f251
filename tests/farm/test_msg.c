/* mf_msg's framing of blob chunks: a chunk's bytes in a frame of their own,
 * used in place by the receiver, and every other shape of multipart message
 * dropped as malformed without upsetting the messages after it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mf_msg.h"
#include "mf_task.h"

#include <stdlib.h>
#include <string.h>
#include <zmq.h>

typedef struct {
    void *zctx, *router, *dealer;
} fx_t;

static int setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    fx->zctx = zmq_ctx_new();
    fx->router = zmq_socket(fx->zctx, ZMQ_ROUTER);
    fx->dealer = zmq_socket(fx->zctx, ZMQ_DEALER);
    int zero = 0, timeout = 5000;
    for (int i = 0; i < 2; i++) {
        void *s = i ? fx->dealer : fx->router;
        zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
        zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    }
    assert_int_equal(zmq_bind(fx->router, "inproc://test-msg"), 0);
    assert_int_equal(zmq_connect(fx->dealer, "inproc://test-msg"), 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    zmq_close(fx->dealer);
    zmq_close(fx->router);
    zmq_ctx_term(fx->zctx);
    free(fx);
    return 0;
}

static mf_chunk_t s_pattern(size_t n)
{
    mf_chunk_t c;
    assert_int_equal(mf_chunk_new(&c, n), MF_OK);
    uint8_t *p = mf_chunk_data(&c);
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(i * 7 + 3);
    return c;
}

static void s_check_pattern(const ProtobufCBinaryData *d, size_t n)
{
    assert_int_equal(d->len, n);
    for (size_t i = 0; i < n; i++)
        if (d->data[i] != (uint8_t)(i * 7 + 3)) fail_msg("byte %zu differs", i);
}

/* The router's next message, which must come back as want. */
static Mixfarm__Envelope *s_recv(fx_t *fx, mf_chunk_t *in, mf_err_t want)
{
    mf_peer_t peer;
    Mixfarm__Envelope *got = NULL;
    assert_int_equal(mf_msg_recv(fx->router, 1, 0, &peer, &got, in), want);
    return got;
}

/* A put up to the router and data back down to the dealer, each with its
 * bytes in a chunk frame that the received envelope points into. */
static void test_round_trip(void **state)
{
    fx_t *fx = *state;
    const size_t sizes[] = {MF_BLOB_CHUNK, 1000, 0};
    for (size_t k = 0; k < 3; k++) {
        const size_t n = sizes[k];
        Mixfarm__BlobPut p = MIXFARM__BLOB_PUT__INIT;
        p.hash = "h";
        p.offset = 7;
        Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
        env.body_case = MIXFARM__ENVELOPE__BODY_BLOB_PUT;
        env.blob_put = &p;
        mf_chunk_t c = s_pattern(n);
        assert_int_equal(mf_msg_send_chunk(fx->dealer, NULL, &env, &c), MF_OK);
        assert_false(c.held); /* spent */

        mf_peer_t peer;
        mf_chunk_t in;
        Mixfarm__Envelope *got = NULL;
        assert_int_equal(mf_msg_recv(fx->router, 1, 0, &peer, &got, &in), MF_OK);
        assert_int_equal(got->body_case, MIXFARM__ENVELOPE__BODY_BLOB_PUT);
        assert_int_equal(got->blob_put->offset, 7);
        assert_true(in.held);
        s_check_pattern(&got->blob_put->data, n);
        if (n) assert_ptr_equal(got->blob_put->data.data, zmq_msg_data(&in.m)); /* not copied */
        mf_msg_release(got, &in);

        Mixfarm__BlobData d = MIXFARM__BLOB_DATA__INIT;
        d.hash = "h";
        d.total_size = n;
        env.body_case = MIXFARM__ENVELOPE__BODY_BLOB_DATA;
        env.blob_data = &d;
        c = s_pattern(n);
        assert_int_equal(mf_msg_send_chunk(fx->router, &peer, &env, &c), MF_OK);
        assert_int_equal(mf_msg_recv(fx->dealer, 0, 0, NULL, &got, &in), MF_OK);
        assert_int_equal(got->body_case, MIXFARM__ENVELOPE__BODY_BLOB_DATA);
        assert_int_equal(got->blob_data->total_size, n);
        s_check_pattern(&got->blob_data->data, n);
        mf_msg_release(got, &in);
    }
}

/* Data inline in the envelope (the form before protocol 3) is still read. */
static void test_inline_data(void **state)
{
    fx_t *fx = *state;
    uint8_t bytes[3] = {1, 2, 3};
    Mixfarm__BlobPut p = MIXFARM__BLOB_PUT__INIT;
    p.hash = "h";
    p.data.data = bytes;
    p.data.len = sizeof bytes;
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_BLOB_PUT;
    env.blob_put = &p;
    assert_int_equal(mf_msg_send(fx->dealer, NULL, &env), MF_OK);
    mf_chunk_t in;
    Mixfarm__Envelope *got = s_recv(fx, &in, MF_OK);
    assert_false(in.held);
    assert_int_equal(got->blob_put->data.len, 3);
    assert_memory_equal(got->blob_put->data.data, bytes, 3);
    mf_msg_release(got, &in);
}

static void s_send_frames(void *sock, Mixfarm__Envelope *env, int extra_frames)
{
    env->version = MF_PROTOCOL_VERSION;
    size_t len = mixfarm__envelope__get_packed_size(env);
    uint8_t *buf = malloc(len + 1);
    mixfarm__envelope__pack(env, buf);
    assert_int_equal(zmq_send(sock, buf, len, extra_frames ? ZMQ_SNDMORE : 0), (int)len);
    for (int i = 0; i < extra_frames; i++)
        assert_int_equal(zmq_send(sock, "abcd", 4, i + 1 < extra_frames ? ZMQ_SNDMORE : 0), 4);
    free(buf);
}

/* Each malformed shape is dropped whole: the heartbeat sent after it is the
 * next message received. */
static void s_expect_dropped(fx_t *fx, Mixfarm__Envelope *env, int extra_frames, int with_chunk)
{
    s_send_frames(fx->dealer, env, extra_frames);
    Mixfarm__Heartbeat hb = MIXFARM__HEARTBEAT__INIT;
    Mixfarm__Envelope next = MIXFARM__ENVELOPE__INIT;
    next.body_case = MIXFARM__ENVELOPE__BODY_HEARTBEAT;
    next.heartbeat = &hb;
    assert_int_equal(mf_msg_send(fx->dealer, NULL, &next), MF_OK);
    mf_chunk_t in;
    assert_null(s_recv(fx, with_chunk ? &in : NULL, MF_ERR_PROTOCOL));
    if (with_chunk) assert_false(in.held);
    Mixfarm__Envelope *got = s_recv(fx, &in, MF_OK);
    assert_int_equal(got->body_case, MIXFARM__ENVELOPE__BODY_HEARTBEAT);
    mf_msg_release(got, &in);
}

static void test_malformed_shapes(void **state)
{
    fx_t *fx = *state;
    Mixfarm__Heartbeat hb = MIXFARM__HEARTBEAT__INIT;
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    s_expect_dropped(fx, &env, 1, 1); /* a chunk after a body that has no data */

    uint8_t bytes[2] = {9, 9};
    Mixfarm__BlobPut p = MIXFARM__BLOB_PUT__INIT;
    p.hash = "h";
    env.body_case = MIXFARM__ENVELOPE__BODY_BLOB_PUT;
    env.blob_put = &p;
    s_expect_dropped(fx, &env, 2, 1); /* two frames after the envelope */
    s_expect_dropped(fx, &env, 1, 0); /* a chunk where the receiver takes none */
    p.data.data = bytes;
    p.data.len = sizeof bytes;
    s_expect_dropped(fx, &env, 1, 1); /* data both inline and in a chunk */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inline_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_shapes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
