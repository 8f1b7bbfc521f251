/* libFuzzer: every message a peer can send, through the same parsers the
 * coordinator and the workers use: the farm envelope, the task and result it
 * may carry, the frames a message arrives in (a blob chunk's bytes in a
 * frame of their own: mf_msg_recv), and the task parameters an executor
 * reads (channel, decode, mastering, qc, encode). The first byte picks the
 * parser. */
#include "farm.pb-c.h"
#include "mf_hash.h"
#include "mf_msg.h"
#include "mf_encode_params.h"
#include "mf_master_params.h"
#include "mf_params.h"
#include "mf_task.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void s_envelope(const uint8_t *data, size_t size)
{
    Mixfarm__Envelope *env = mixfarm__envelope__unpack(NULL, size, data);
    if (!env) return;
    if (env->body_case == MIXFARM__ENVELOPE__BODY_TASK) {
        mf_task_t t;
        if (mf_task_from_pb(env->task, &t) == MF_OK) mf_task_fini(&t);
    } else if (env->body_case == MIXFARM__ENVELOPE__BODY_RESULT) {
        mf_task_result_t r;
        if (mf_task_result_from_pb(env->result, &r) == MF_OK) mf_task_result_fini(&r);
    }
    mixfarm__envelope__free_unpacked(env, NULL);
}

/* data as one to three frames (split where its first bytes say), sent over
 * inproc and received as a peer's message is; a chunk's bytes are read
 * where the envelope points. */
static void s_frames(const uint8_t *data, size_t size)
{
    static void *ctx, *tx, *rx;
    if (!ctx) {
        ctx = zmq_ctx_new();
        tx = zmq_socket(ctx, ZMQ_PAIR);
        rx = zmq_socket(ctx, ZMQ_PAIR);
        int ms = 1000; /* what was sent is there at once; never wait for ever */
        zmq_setsockopt(rx, ZMQ_RCVTIMEO, &ms, sizeof ms);
        if (zmq_bind(rx, "inproc://fuzz-frames") != 0 || zmq_connect(tx, "inproc://fuzz-frames"))
            abort();
    }
    if (size < 3) return;
    /* data[0]: how many frames; data[1], data[2]: the first two lengths. */
    const size_t n = 1 + data[0] % 3, left = size - 3;
    size_t cut[2] = {data[1] < left ? data[1] : left, 0};
    cut[1] = cut[0] + data[2] < left ? cut[0] + data[2] : left;
    data += 3;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const size_t end = i + 1 < n ? cut[i] : left;
        zmq_send(tx, data + at, end - at, i + 1 < n ? ZMQ_SNDMORE : 0);
        at = end;
    }
    Mixfarm__Envelope *env = NULL;
    mf_chunk_t chunk;
    if (mf_msg_recv(rx, 0, 0, NULL, &env, &chunk) != MF_OK) return;
    if (env->body_case == MIXFARM__ENVELOPE__BODY_BLOB_DATA)
        (void)mf_checksum(env->blob_data->data.data, env->blob_data->data.len);
    else if (env->body_case == MIXFARM__ENVELOPE__BODY_BLOB_PUT)
        (void)mf_checksum(env->blob_put->data.data, env->blob_put->data.len);
    mf_msg_release(env, &chunk);
}

static void s_params(uint8_t which, const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return;
    memcpy(text, data, size);
    text[size] = 0;
    const char *why;
    switch (which % 5) {
    case 0: {
        mf_chan_spec_t c;
        if (mf_chan_spec_from_json(text, &c, &why) == MF_OK) {
            char *back = mf_chan_spec_to_json(&c);
            free(back);
            mf_chan_spec_fini(&c);
        }
        break;
    }
    case 1: {
        mf_decode_spec_t d;
        mf_decode_spec_from_json(text, &d, &why);
        break;
    }
    case 2: {
        mf_mastering_spec_t m;
        if (mf_mastering_spec_from_json(text, &m, &why) == MF_OK) mf_mastering_spec_fini(&m);
        break;
    }
    case 4: {
        mf_encode_spec_t e;
        if (mf_encode_spec_from_json(text, &e, &why) == MF_OK) mf_encode_spec_fini(&e);
        break;
    }
    default: {
        mf_qc_spec_t q;
        if (mf_qc_spec_from_json(text, 4, &q, &why) == MF_OK) mf_qc_spec_fini(&q);
    }
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if ((data[0] & 0xC0) == 0xC0)
        s_frames(data + 1, size - 1);
    else if (data[0] & 0x80)
        s_envelope(data + 1, size - 1);
    else
        s_params(data[0], data + 1, size - 1);
    return 0;
}
