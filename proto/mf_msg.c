#include "mf_msg.h"
#include "mf_task.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

mf_err_t mf_msg_send(void *sock, const mf_peer_t *peer, Mixfarm__Envelope *env)
{
    env->version = MF_PROTOCOL_VERSION;
    size_t len = mixfarm__envelope__get_packed_size(env);
    zmq_msg_t m;
    if (zmq_msg_init_size(&m, len) != 0) return MF_ERR_NOMEM;
    mixfarm__envelope__pack(env, zmq_msg_data(&m));
    if (peer && peer->n && zmq_send(sock, peer->id, peer->n, ZMQ_SNDMORE) < 0) {
        zmq_msg_close(&m);
        return MF_ERR_IO;
    }
    if (zmq_msg_send(&m, sock, 0) < 0) {
        zmq_msg_close(&m);
        return MF_ERR_IO;
    }
    return MF_OK;
}

mf_err_t mf_chunk_new(mf_chunk_t *c, size_t n)
{
    c->frame = 0;
    c->held = zmq_msg_init_size(&c->m, n) == 0;
    return c->held ? MF_OK : MF_ERR_NOMEM;
}

void *mf_chunk_data(mf_chunk_t *c)
{
    return zmq_msg_data(&c->m);
}

static void s_chunk_close(mf_chunk_t *c)
{
    if (c && c->held) zmq_msg_close(&c->m);
    if (c) c->held = 0;
}

mf_err_t mf_msg_send_chunk(void *sock, const mf_peer_t *peer, Mixfarm__Envelope *env,
                           mf_chunk_t *chunk)
{
    env->version = MF_PROTOCOL_VERSION;
    size_t len = mixfarm__envelope__get_packed_size(env);
    zmq_msg_t m;
    if (zmq_msg_init_size(&m, len) != 0) {
        s_chunk_close(chunk);
        return MF_ERR_NOMEM;
    }
    mixfarm__envelope__pack(env, zmq_msg_data(&m));
    mf_err_t err = MF_ERR_IO;
    if (peer && peer->n && zmq_send(sock, peer->id, peer->n, ZMQ_SNDMORE) < 0)
        zmq_msg_close(&m);
    else if (zmq_msg_send(&m, sock, ZMQ_SNDMORE) < 0)
        zmq_msg_close(&m);
    else if (zmq_msg_send(&chunk->m, sock, 0) >= 0) {
        chunk->held = 0; /* ZeroMQ owns the frame now */
        err = MF_OK;
    }
    s_chunk_close(chunk);
    return err;
}

/* The data field a chunk's frame stands for, in the blob bodies that have
 * one; NULL for any other body. */
static ProtobufCBinaryData *s_chunk_field(Mixfarm__Envelope *env)
{
    if (env->body_case == MIXFARM__ENVELOPE__BODY_BLOB_DATA) return &env->blob_data->data;
    if (env->body_case == MIXFARM__ENVELOPE__BODY_BLOB_PUT) return &env->blob_put->data;
    return NULL;
}

mf_err_t mf_chunk_take(mf_chunk_t *to, mf_chunk_t *from)
{
    to->held = to->frame = 0;
    if (!from->held || zmq_msg_init(&to->m) != 0) return MF_ERR_INVALID;
    if (zmq_msg_move(&to->m, &from->m) != 0) {
        zmq_msg_close(&to->m);
        return MF_ERR_INVALID;
    }
    to->held = 1, from->held = 0;
    return MF_OK;
}

void mf_msg_release(Mixfarm__Envelope *env, mf_chunk_t *chunk)
{
    if (env && chunk && (chunk->held || chunk->frame)) {
        ProtobufCBinaryData *d = s_chunk_field(env);
        if (d) d->data = NULL, d->len = 0; /* the frame's, not protobuf's to free */
    }
    if (env) mixfarm__envelope__free_unpacked(env, NULL);
    s_chunk_close(chunk);
}

/* Drops the rest of a multipart message. */
static void s_drain(void *sock)
{
    int more = 0;
    size_t sz = sizeof more;
    while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        zmq_msg_recv(&m, sock, 0);
        zmq_msg_close(&m);
    }
}

/* The chunk frame after an envelope: only after a blob body whose data
 * field is empty, and the last frame. */
static mf_err_t s_recv_chunk(void *sock, Mixfarm__Envelope *env, mf_chunk_t *chunk)
{
    ProtobufCBinaryData *d = s_chunk_field(env);
    if (!chunk || !d || d->len) return MF_ERR_PROTOCOL;
    zmq_msg_init(&chunk->m);
    chunk->held = chunk->frame = 1;
    if (zmq_msg_recv(&chunk->m, sock, 0) < 0 || zmq_msg_more(&chunk->m)) return MF_ERR_PROTOCOL;
    d->data = zmq_msg_data(&chunk->m);
    d->len = zmq_msg_size(&chunk->m);
    return MF_OK;
}

mf_err_t mf_msg_recv(void *sock, int router, int flags, mf_peer_t *peer, Mixfarm__Envelope **out,
                     mf_chunk_t *chunk)
{
    *out = NULL;
    if (chunk) chunk->held = chunk->frame = 0;
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, sock, flags) < 0) {
        zmq_msg_close(&m);
        return MF_ERR_IO;
    }
    if (router) {
        size_t n = zmq_msg_size(&m);
        if (peer) {
            peer->n = n < sizeof peer->id ? n : sizeof peer->id;
            memcpy(peer->id, zmq_msg_data(&m), peer->n);
        }
        if (!zmq_msg_more(&m)) { /* an id with no body */
            zmq_msg_close(&m);
            return MF_ERR_PROTOCOL;
        }
        zmq_msg_close(&m);
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, 0) < 0) {
            zmq_msg_close(&m);
            return MF_ERR_PROTOCOL;
        }
    } else if (peer) {
        peer->n = 0;
    }
    const int more = zmq_msg_more(&m);
    Mixfarm__Envelope *env = mixfarm__envelope__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
    zmq_msg_close(&m);
    mf_err_t err = env ? MF_OK : MF_ERR_PROTOCOL;
    if (env && more) err = s_recv_chunk(sock, env, chunk);
    if (err == MF_OK) {
        *out = env;
        return MF_OK;
    }
    if (more) s_drain(sock);
    mf_msg_release(env, chunk);
    return err;
}

const char *mf_peer_name(const mf_peer_t *peer, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < peer->n && o + 3 < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%02x", peer->id[i]);
    return buf;
}

int mf_msg_endpoint_ready(void *sock, const char *endpoint)
{
    const char *host = strstr(endpoint, "://");
    if (!host || host[3] != '[') return 0;
    const int on = 1;
    return zmq_setsockopt(sock, ZMQ_IPV6, &on, sizeof on);
}
