#include "mf_client.h"
#include "mf_interrupt.h"
#include "client_internal.h"
#include "mf_log.h"
#include "mf_msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

/* How long a request waits for its reply before the coordinator counts as
 * unreachable; MIXFARM_TIMEOUT_MS overrides it. */
#define CALL_TIMEOUT_MS 5000

typedef struct {
    mf_hash_t hash;
    char *doc;  /* the document that names it */
    char *name; /* "tracks[2] \"Kick\" (audio/kick.wav)" */
} source_name_t;

struct mf_client {
    void *sock;
    int timeout_ms;
    char *endpoint;
    mf_store_t *local;
    int farm_store;          /* local is the embedded farm's store */
    mf_curve_watch_t *watch; /* remote only */
    source_name_t *names;    /* what each source sent is called, for errors */
    size_t n_names;
    mf_xfer_t *xfer;   /* transfers running beside calls (a prefetch), or NULL */
    mf_early_t *early; /* outputs a watch staged, for the fetch (client_early.c) */
};

mf_client_t *mf_client_new(void *zctx, const char *endpoint, mf_store_t *local)
{
    return mf_client_new_secure(zctx, endpoint, local, NULL);
}

mf_client_t *mf_client_new_secure(void *zctx, const char *endpoint, mf_store_t *local,
                                  const mf_curve_keys_t *curve)
{
    mf_client_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->local = local;
    const char *t = getenv("MIXFARM_TIMEOUT_MS");
    c->timeout_ms = t && atoi(t) > 0 ? atoi(t) : CALL_TIMEOUT_MS;
    c->endpoint = strdup(endpoint);
    c->sock = zmq_socket(zctx, ZMQ_DEALER);
    if (!c->endpoint || !c->sock) goto fail;
    int zero = 0;
    int64_t maxmsg = MF_MSG_MAX;
    zmq_setsockopt(c->sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(c->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (curve && mf_curve_client(c->sock, curve) != 0) {
        mf_error("cannot set up CURVE: %s", zmq_strerror(errno));
        goto fail;
    }
    if (strncmp(endpoint, "inproc://", 9) && !(c->watch = mf_curve_watch_new(zctx, c->sock)))
        goto fail;
    if (mf_msg_endpoint_ready(c->sock, endpoint) != 0 || zmq_connect(c->sock, endpoint) != 0) {
        mf_error("%s: %s", endpoint, zmq_strerror(errno));
        goto fail;
    }
    return c;
fail:
    mf_client_free(&c);
    return NULL;
}

void mf_client_free(mf_client_t **cp)
{
    if (!cp || !*cp) return;
    mf_early_free(&(*cp)->early);
    mf_curve_watch_free(&(*cp)->watch);
    if ((*cp)->sock) zmq_close((*cp)->sock);
    for (size_t i = 0; i < (*cp)->n_names; i++) {
        free((*cp)->names[i].doc);
        free((*cp)->names[i].name);
    }
    free((*cp)->names);
    free((*cp)->endpoint);
    free(*cp);
    *cp = NULL;
}

void mf_client__set_early(mf_client_t *c, mf_early_t *e)
{
    mf_early_free(&c->early);
    c->early = e;
}

mf_early_t *mf_client__take_early(mf_client_t *c)
{
    mf_early_t *e = c->early;
    c->early = NULL;
    return e;
}

const char *mf_client_endpoint(const mf_client_t *c)
{
    return c->endpoint;
}

void *mf_client__socket(mf_client_t *c)
{
    return c->sock;
}
int mf_client__timeout_ms(const mf_client_t *c)
{
    return c->timeout_ms;
}
mf_store_t *mf_client__store(const mf_client_t *c)
{
    return c->local;
}
void mf_client_shares_farm_store(mf_client_t *c)
{
    c->farm_store = 1;
}
int mf_client__farm_store(const mf_client_t *c)
{
    return c->farm_store;
}
void mf_client__set_xfer(mf_client_t *c, mf_xfer_t *x)
{
    c->xfer = x;
}

mf_err_t mf_client__name_source(mf_client_t *c, const mf_hash_t *h, const char *doc,
                                const char *name)
{
    for (size_t i = 0; i < c->n_names; i++)
        if (!strcmp(c->names[i].hash.hex, h->hex)) return MF_OK; /* the first name stays */
    source_name_t *n = realloc(c->names, (c->n_names + 1) * sizeof *n);
    if (!n) return MF_ERR_NOMEM;
    c->names = n;
    source_name_t *it = &c->names[c->n_names];
    it->hash = *h;
    it->doc = strdup(doc);
    it->name = strdup(name);
    if (!it->doc || !it->name) {
        free(it->doc);
        free(it->name);
        return MF_ERR_NOMEM;
    }
    c->n_names++;
    return MF_OK;
}

const char *mf_client__source_name(const mf_client_t *c, const char *prefix, size_t n,
                                   const char **doc)
{
    for (size_t i = 0; i < c->n_names; i++) {
        if (strncmp(c->names[i].hash.hex, prefix, n) != 0) continue;
        *doc = c->names[i].doc;
        return c->names[i].name;
    }
    return NULL;
}

long long mf_client__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* interruptible: Ctrl-C (mf_interrupt.h) ends the wait; a call that tidies
 * up after one (a cancel) goes through all the same. */
static mf_err_t s_call(mf_client_t *c, Mixfarm__Envelope *req, Mixfarm__Envelope__BodyCase want,
                       Mixfarm__Envelope **reply, int interruptible)
{
    *reply = NULL;
    if (mf_msg_send(c->sock, NULL, req) != MF_OK) return MF_ERR_UNREACHABLE;
    /* One deadline for the whole call: the handshake watch wakes the poll
     * at every reconnection, and must not start the wait afresh (a client
     * without CURVE against a secured coordinator would wait for ever). */
    const long long deadline = mf_client__now_ms() + c->timeout_ms;
    for (;;) {
        if (interruptible && mf_interrupted()) return MF_ERR_CANCELLED; /* caught while busy */
        zmq_pollitem_t it[2] = {
            {.socket = c->sock, .events = ZMQ_POLLIN},
            {.socket = c->watch ? mf_curve_watch_socket(c->watch) : NULL, .events = ZMQ_POLLIN}};
        const long long left = deadline - mf_client__now_ms();
        int n = left > 0 ? zmq_poll(it, c->watch ? 2 : 1, (long)left) : 0;
        if (n < 0 && errno == EINTR) {
            if (interruptible) return MF_ERR_CANCELLED;
            continue;
        }
        const char *why = c->watch ? mf_curve_watch_failure(c->watch) : NULL;
        if (why) { /* the coordinator will never answer this connection */
            mf_error("%s: %s", c->endpoint, why);
            return MF_ERR_UNREACHABLE;
        }
        if (n <= 0) return MF_ERR_UNREACHABLE;
        if (!(it[0].revents & ZMQ_POLLIN)) continue;
        Mixfarm__Envelope *env;
        mf_chunk_t chunk; /* a blob chunk's, which no call waits for */
        mf_err_t err = mf_msg_recv(c->sock, 0, ZMQ_DONTWAIT, NULL, &env, &chunk);
        if (err != MF_OK) continue; /* malformed: dropped */
        if (env->body_case == want && !chunk.held) {
            *reply = env;
            return MF_OK;
        }
        if (c->xfer) mf_xfer_handle(c->xfer, env); /* a prefetch's chunk */
        const int refused = env->body_case == MIXFARM__ENVELOPE__BODY_REFUSE;
        if (refused) mf_error("%s: refused: %s", c->endpoint, env->refuse->reason);
        mf_msg_release(env, &chunk); /* else a stale reply: dropped */
        if (refused) return MF_ERR_PROTOCOL;
    }
}

mf_err_t mf_client_call(mf_client_t *c, Mixfarm__Envelope *req, Mixfarm__Envelope__BodyCase want,
                        Mixfarm__Envelope **reply)
{
    return s_call(c, req, want, reply, 1);
}

mf_err_t mf_client_cancel(mf_client_t *c, uint64_t job, char *why, size_t n)
{
    Mixfarm__CancelRequest m = MIXFARM__CANCEL_REQUEST__INIT;
    m.job = job;
    Mixfarm__Envelope req = MIXFARM__ENVELOPE__INIT, *rep = NULL;
    req.body_case = MIXFARM__ENVELOPE__BODY_CANCEL;
    req.cancel = &m;
    mf_err_t err = s_call(c, &req, MIXFARM__ENVELOPE__BODY_CANCEL_REPLY, &rep, 0);
    if (n) why[0] = 0;
    if (err == MF_OK && rep->cancel_reply->error[0]) {
        if (n) snprintf(why, n, "%s", rep->cancel_reply->error);
        err = MF_ERR_INVALID;
    }
    if (rep) mixfarm__envelope__free_unpacked(rep, NULL);
    return err;
}
