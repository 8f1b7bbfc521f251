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

mf_err_t mf_msg_recv(void *sock, int router, int flags, mf_peer_t *peer, Mixfarm__Envelope **out)
{
    *out = NULL;
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
    int more = zmq_msg_more(&m);
    mf_err_t err = MF_OK;
    if (more) {
        s_drain(sock);
        err = MF_ERR_PROTOCOL;
    } else {
        *out = mixfarm__envelope__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
        if (!*out) err = MF_ERR_PROTOCOL;
    }
    zmq_msg_close(&m);
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
