#include "cluster_raw.h"
#include "cluster_util.h"
#include "mf_task.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <zmq.h>

/* Sends one envelope as is (its version included: mf_msg_send would
 * overwrite it). */
void cl_send_raw(void *sock, Mixfarm__Envelope *env)
{
    size_t len = mixfarm__envelope__get_packed_size(env);
    uint8_t *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    mixfarm__envelope__pack(env, buf);
    int rc = zmq_send(sock, buf, len, 0);
    free(buf);
    assert_int_equal(rc, (int)len);
}

/* Sends env (version set here) on a socket of its own and returns the
 * first reply, or NULL when none came in time (free it). */
Mixfarm__Envelope *cl_call_raw(const char *ep, Mixfarm__Envelope *env)
{
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(zmq_connect(sock, ep), 0);
    env->version = MF_PROTOCOL_VERSION;
    cl_send_raw(sock, env);
    Mixfarm__Envelope *rep = NULL;
    zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};
    if (zmq_poll(&it, 1, (long)(10000 * CL_SLOW)) == 1) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, 0) >= 0)
            rep = mixfarm__envelope__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
        zmq_msg_close(&m);
    }
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return rep;
}

Mixfarm__Envelope *cl_submit_raw(const char *ep, const char *name, const char *doc,
                                 Mixfarm__SourceRef **sources, size_t n, int follow)
{
    Mixfarm__Submit sub = MIXFARM__SUBMIT__INIT;
    sub.name = (char *)name;
    sub.document = (char *)doc;
    sub.sources = sources;
    sub.n_sources = n;
    sub.sources_follow = follow;
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_SUBMIT;
    env.submit = &sub;
    Mixfarm__Envelope *rep = cl_call_raw(ep, &env);
    assert_non_null(rep);
    assert_int_equal(rep->body_case, MIXFARM__ENVELOPE__BODY_SUBMIT_REPLY);
    return rep;
}

/* The BlobPutAck's error for one single-chunk put (empty when none came). */
void cl_put_once(const char *ep, Mixfarm__BlobPut *p, char *error, size_t n)
{
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_BLOB_PUT;
    env.blob_put = p;
    Mixfarm__Envelope *rep = cl_call_raw(ep, &env);
    snprintf(error, n, "%s", "");
    if (rep && rep->body_case == MIXFARM__ENVELOPE__BODY_BLOB_PUT_ACK)
        snprintf(error, n, "%s", rep->blob_put_ack->error);
    if (rep) mixfarm__envelope__free_unpacked(rep, NULL);
}
