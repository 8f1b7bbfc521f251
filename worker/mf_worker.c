/* The worker's connection loop: one zmq_poll over the coordinator's DEALER
 * and the slot threads' results (slots.c), with a short tick for heartbeats and
 * the stop flag; reconnection with back-off. Everything belongs to one
 * connection: when it is lost, what was in flight is dropped (running tasks
 * finish, unreported) and the coordinator requeues it. The tasks themselves
 * are tasks.c's. */
#include "mf_exec.h"
#include "mf_log.h"
#include "mf_msg.h"
#include "mf_worker.h"
#include "worker_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static const char *s_caps[] = {"decode", "strip", "bus", "master"};

/* How often a live upload looks at its growing file: a 1 MiB step takes
 * about a millisecond to write. */
#define LIVE_POLL_MS 2

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mf_wloop_send(mf_wloop_t *w, Mixfarm__Envelope *env)
{
    if (!w->sock) return;
    if (mf_msg_send(w->sock, NULL, env) != MF_OK)
        mf_debug("sending to the coordinator: %s", zmq_strerror(errno));
    w->last_send = s_now_ms();
}

static void s_on_message(mf_wloop_t *w, Mixfarm__Envelope *env)
{
    if (env->body_case == MIXFARM__ENVELOPE__BODY_REFUSE) {
        mf_error("refused by the coordinator: %s", env->refuse->reason);
        w->refused = 1;
        return;
    }
    if (!w->heard) {
        w->heard = 1;
        mf_info("connected to %s as %s (%d slots; arithmetic %s)", w->o->endpoint, w->name,
                w->n_slots, mf_exec_numerics());
    }
    if (env->version != MF_PROTOCOL_VERSION) {
        mf_warn("dropped a message of protocol version %u (this worker speaks %d)", env->version,
                MF_PROTOCOL_VERSION);
    } else if (env->body_case == MIXFARM__ENVELOPE__BODY_TASK) {
        mf_tasks_on_task(w, env->task);
    } else if (env->body_case != MIXFARM__ENVELOPE__BODY_HEARTBEAT &&
               !(w->xfer && mf_xfer_handle(w->xfer, env))) {
        mf_debug("dropped an unexpected message (body %d)", env->body_case);
    }
}

static void s_drain_sock(mf_wloop_t *w)
{
    for (int i = 0; i < 256 && w->sock && !w->refused; i++) {
        Mixfarm__Envelope *env = NULL;
        mf_chunk_t chunk;
        mf_err_t err = mf_msg_recv(w->sock, 0, ZMQ_DONTWAIT, NULL, &env, &chunk);
        if (err == MF_ERR_IO) return;
        w->last_recv = s_now_ms();
        if (err != MF_OK)
            mf_warn("dropped a malformed message from the coordinator");
        else
            s_on_message(w, env);
        mf_msg_release(env, &chunk);
    }
}

/* Connects (with CURVE and a watch on its handshakes when configured). */
static int s_connect(mf_wloop_t *w, mf_curve_watch_t **watch)
{
    w->sock = zmq_socket(w->o->zctx, ZMQ_DEALER);
    int64_t max = MF_MSG_MAX;
    int zero = 0, hwm = 256, sndtimeo = 200;
    /* The watch says why a handshake failed (a refused key, CURVE on one side
     * only); inproc has no handshake to watch. */
    int remote = strncmp(w->o->endpoint, "inproc://", 9) != 0;
    if (w->sock && ((w->o->curve && mf_curve_client(w->sock, w->o->curve) != 0) ||
                    (remote && !(*watch = mf_curve_watch_new(w->o->zctx, w->sock))))) {
        mf_error("cannot set up CURVE: %s", zmq_strerror(errno));
        zmq_close(w->sock);
        w->sock = NULL;
        return -1;
    }
    if (!w->sock || zmq_setsockopt(w->sock, ZMQ_MAXMSGSIZE, &max, sizeof max) != 0 ||
        zmq_setsockopt(w->sock, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(w->sock, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0 ||
        zmq_setsockopt(w->sock, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0 ||
        /* A connection refused in its handshake (CURVE) leaves no pipe to
         * queue on: a send must not wait for one forever. */
        zmq_setsockopt(w->sock, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo) != 0 ||
        mf_msg_endpoint_ready(w->sock, w->o->endpoint) != 0 ||
        zmq_connect(w->sock, w->o->endpoint) != 0) {
        mf_error("%s: cannot connect: %s", w->o->endpoint, zmq_strerror(errno));
        if (w->sock) zmq_close(w->sock);
        w->sock = NULL;
        return -1;
    }
    if (w->cache && !(w->xfer = mf_xfer_new(w->sock, w->store))) return -1;
    w->heard = 0;
    w->last_recv = s_now_ms();
    Mixfarm__Hello h = MIXFARM__HELLO__INIT;
    h.name = (char *)w->name;
    h.slots = (uint32_t)w->n_slots;
    h.n_capabilities = sizeof s_caps / sizeof s_caps[0];
    h.capabilities = (char **)s_caps;
    h.shared_store = w->cache == NULL;
    h.numerics = (char *)mf_exec_numerics();
    h.engine = (char *)MF_ENGINE_VERSION;
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    mf_wloop_send(w, &env);
    return 0;
}

/* Drops everything that belonged to the connection, then closes it. */
static void s_disconnect(mf_wloop_t *w)
{
    void *sock = w->sock;
    if (!sock) return;
    w->sock = NULL;
    if (w->xfer) mf_xfer_reset(w->xfer); /* frees the tasks in FETCH and UPLOAD */
    mf_tasks_drop(w);
    mf_xfer_free(&w->xfer);
    zmq_close(sock);
}

/* How often a running task's progress goes to the coordinator, at most. */
#define PROGRESS_MS 500

/* A Progress message for every running task whose progress moved since
 * the last one said it (nothing when none did). */
static void s_send_progress(mf_wloop_t *w)
{
    uint64_t ids[64];
    float done[64];
    size_t n = 0;
    for (int i = 0; i < w->n_slots && n < 64; i++) {
        const mf_wtask_t *t = w->on_slot[i];
        const uint32_t p = t ? mf_slots_progress(w->slots, i) : 0;
        if (!t || p == 0 || p == w->told[i]) continue;
        w->told[i] = p;
        ids[n] = t->t.id, done[n++] = (float)p * 1e-6f;
    }
    if (!n) return;
    Mixfarm__Progress m = MIXFARM__PROGRESS__INIT;
    m.n_task = n, m.task = ids, m.n_done = n, m.done = done;
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_PROGRESS;
    env.progress = &m;
    mf_wloop_send(w, &env);
}

/* Serves one connection; returns 1 when the coordinator fell silent. */
static int s_serve(mf_wloop_t *w, atomic_int *stop, mf_curve_watch_t *watch)
{
    int tick = w->hb_ms / 4 < 200 ? w->hb_ms / 4 : 200;
    int told = 0, live = 0;
    while (!*stop && !w->refused) {
        const char *why = watch && !told && !w->heard ? mf_curve_watch_failure(watch) : NULL;
        if (why) { /* said once per connection; the next one may be let in (key rotation) */
            mf_error("%s: %s", w->o->endpoint, why);
            told = 1;
        }
        zmq_pollitem_t it[3] = {{w->sock, 0, ZMQ_POLLIN, 0},
                                {NULL, mf_slots_fd(w->slots), ZMQ_POLLIN, 0},
                                {NULL, w->o->wake_fd, ZMQ_POLLIN, 0}};
        /* A live upload is not woken when its file grows: look again soon. */
        if (zmq_poll(it, w->o->wake_fd > 0 ? 3 : 2, live ? LIVE_POLL_MS : tick) < 0 &&
            errno != EINTR) {
            mf_error("waiting for messages: %s", zmq_strerror(errno));
            w->fatal = 1;
            return 0;
        }
        mf_tasks_drain_slots(w);
        s_drain_sock(w);
        live = mf_tasks_live(w);
        int64_t now = s_now_ms();
        if (now - w->last_recv >= 5 * (int64_t)w->hb_ms) return 1;
        if (mf_tasks_stuck(w)) _exit(3); /* its slot's thread cannot be stopped */
        if (now - w->last_progress >= PROGRESS_MS) {
            w->last_progress = now;
            s_send_progress(w);
        }
        if (now - w->last_send >= w->hb_ms) {
            Mixfarm__Heartbeat hb = MIXFARM__HEARTBEAT__INIT;
            Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
            env.body_case = MIXFARM__ENVELOPE__BODY_HEARTBEAT;
            env.heartbeat = &hb;
            mf_wloop_send(w, &env);
        }
    }
    return 0;
}

/* Waits ms before reconnecting, still freeing slots as tasks end. */
static void s_idle(mf_wloop_t *w, atomic_int *stop, int ms)
{
    int64_t until = s_now_ms() + ms;
    while (!*stop && s_now_ms() < until) {
        zmq_pollitem_t it[2] = {{NULL, mf_slots_fd(w->slots), ZMQ_POLLIN, 0},
                                {NULL, w->o->wake_fd, ZMQ_POLLIN, 0}};
        int64_t left = until - s_now_ms();
        zmq_poll(it, w->o->wake_fd > 0 ? 2 : 1, left < 200 ? (long)left : 200);
        mf_tasks_drain_slots(w);
        if (mf_tasks_stuck(w)) _exit(3);
    }
}

static int s_start(mf_wloop_t *w, const mf_worker_opts_t *o)
{
    w->o = o;
    w->name = o->name ? o->name : "worker";
    w->n_slots = o->slots < 1 ? 1 : o->slots;
    w->hb_ms = o->heartbeat_ms > 0 ? o->heartbeat_ms : 1000;
    if (o->shared_store) {
        w->store = o->shared_store;
        w->links_outputs = !mf_store_lasting(w->store);
    } else if (!o->cache_dir) {
        mf_error("no cache folder given");
        return -1;
    } else {
        int64_t budget = o->cache_bytes > 0 ? o->cache_bytes : MF_WORKER_CACHE_BYTES;
        if (!(w->cache = mf_cache_open(o->cache_dir, budget))) return -1;
        w->store = mf_cache_store(w->cache);
        /* Outputs go up while they are written (tasks.c, mf_writes.h). */
        w->writes = mf_store_watch_writes(w->store);
    }
    if (!(w->on_slot = calloc((size_t)w->n_slots, sizeof *w->on_slot)) ||
        !(w->told = calloc((size_t)w->n_slots, sizeof *w->told)))
        return -1;
    return (w->slots = mf_slots_start(w->n_slots, w->store)) ? 0 : -1;
}

int mf_worker_run(const mf_worker_opts_t *o, atomic_int *stop)
{
    mf_wloop_t w = {0};
    if (s_start(&w, o) != 0) w.fatal = 1;
    int backoff = w.hb_ms;
    while (!w.fatal && !*stop && !w.refused) {
        mf_curve_watch_t *watch = NULL;
        if (s_connect(&w, &watch) != 0) {
            mf_curve_watch_free(&watch);
            w.fatal = 1;
            break;
        }
        int lost = s_serve(&w, stop, watch);
        int heard = w.heard;
        s_disconnect(&w);
        mf_curve_watch_free(&watch);
        if (!lost) break;
        if (heard) backoff = w.hb_ms;
        mf_warn("%s the coordinator at %s; reconnecting in %g s", heard ? "lost" : "no answer from",
                o->endpoint, backoff / 1000.0);
        s_idle(&w, stop, backoff);
        backoff = backoff * 2 < 32 * w.hb_ms ? backoff * 2 : 32 * w.hb_ms;
    }
    s_disconnect(&w);
    int running = 0;
    for (mf_wtask_t *t = w.tasks; t; t = t->next) running++;
    if (running)
        mf_info("stopping: waiting for %d running task%s", running, running > 1 ? "s" : "");
    mf_slots_stop(&w.slots); /* running tasks finish first */
    mf_tasks_free_all(&w);
    free(w.on_slot);
    free(w.told);
    mf_cache_free(&w.cache);
    return w.fatal || w.refused ? 1 : 0;
}
