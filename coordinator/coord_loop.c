/* The coordinator's event loop: poll the ROUTER, route each envelope to its
 * handler, dispatch ready tasks, keep heartbeats, and commit the journal once
 * per turn. Malformed input is logged and dropped; nothing a peer sends can
 * stop the loop. */
#include "blob_refs.h"
#include "coord_internal.h"
#include "mf_fdlimit.h"
#include "mf_curve.h"
#include "mf_log.h"
#include "mf_task.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zmq.h>

#define MAX_PER_TURN 4096 /* messages handled before the loop looks up again */
/* Chunks (1 MB each) moved before it does: a client's upload or a fetch
 * keeps the socket busy, and a task made ready by a source that has just
 * arrived, or a slot a result has just freed, would wait for the end of
 * the transfer (coord_sources.c). */
#define MAX_CHUNKS_PER_TURN 32
#define COMMIT_EVERY_S 0.030 /* the journal lags the loop by at most this (docs/farm.md) */
#define PUBLISH_EVERY_S 0.1  /* what --http shows lags the loop by at most this */

char *mf_coord_blob_dir(const char *state_dir)
{
    size_t n = strlen(state_dir) + 8;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/blobs", state_dir);
    return p;
}

static void s_sent(const mf_peer_t *peer, mf_err_t err)
{
    char name[80];
    if (err != MF_OK)
        mf_debug("send to %s failed: %s", mf_peer_name(peer, name, sizeof name),
                 zmq_strerror(errno));
}

void mf_coord_send(coord_t *c, const mf_peer_t *peer, Mixfarm__Envelope *env)
{
    s_sent(peer, mf_msg_send(c->sock, peer, env));
}

void mf_coord_send_chunk(coord_t *c, const mf_peer_t *peer, Mixfarm__Envelope *env,
                         mf_chunk_t *chunk)
{
    s_sent(peer, mf_msg_send_chunk(c->sock, peer, env, chunk));
}

void mf_coord_refuse(coord_t *c, const mf_peer_t *peer, const char *reason)
{
    char name[80];
    mf_warn("refused peer %s: %s", mf_peer_name(peer, name, sizeof name), reason);
    Mixfarm__Refuse r = MIXFARM__REFUSE__INIT;
    r.reason = (char *)reason;
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_REFUSE;
    env.refuse = &r;
    mf_coord_send(c, peer, &env);
}

static void s_handle(coord_t *c, const mf_peer_t *peer, const Mixfarm__Envelope *env,
                     mf_chunk_t *chunk)
{
    if (env->version != MF_PROTOCOL_VERSION) {
        char reason[160];
        snprintf(reason, sizeof reason,
                 "protocol version %u is not supported (this coordinator speaks %d)", env->version,
                 MF_PROTOCOL_VERSION);
        mf_coord_refuse(c, peer, reason);
        return;
    }
    worker_t *w = mf_coord_worker(c, peer);
    if (w) w->last_recv = mf_clock_now();
    switch (env->body_case) {
    case MIXFARM__ENVELOPE__BODY_HELLO:
        mf_coord_on_hello(c, peer, env->hello);
        break;
    case MIXFARM__ENVELOPE__BODY_RESULT:
        if (w) mf_metrics_observe(&c->metrics, env->result->seconds, env->result->error[0] != 0);
        mf_coord_on_result(c, peer, env->result);
        break;
    case MIXFARM__ENVELOPE__BODY_HEARTBEAT:
        break;
    case MIXFARM__ENVELOPE__BODY_PROGRESS:
        mf_coord_on_progress(c, peer, env->progress);
        break;
    case MIXFARM__ENVELOPE__BODY_BLOB_GET:
        mf_coord_on_blob_get(c, peer, env->blob_get);
        break;
    case MIXFARM__ENVELOPE__BODY_BLOB_PUT:
        mf_coord_on_blob_put(c, peer, env->blob_put, chunk);
        break;
    case MIXFARM__ENVELOPE__BODY_BLOB_HAVE:
        mf_coord_on_blob_have(c, peer, env->blob_have);
        break;
    case MIXFARM__ENVELOPE__BODY_SUBMIT:
        mf_coord_on_submit(c, peer, env->submit);
        break;
    case MIXFARM__ENVELOPE__BODY_STATUS:
        mf_coord_on_status(c, peer, env->status);
        break;
    case MIXFARM__ENVELOPE__BODY_FETCH:
        mf_coord_on_fetch(c, peer, env->fetch);
        break;
    case MIXFARM__ENVELOPE__BODY_CANCEL:
        mf_coord_on_cancel(c, peer, env->cancel);
        break;
    default: {
        char name[80];
        mf_warn("dropped a message of kind %d from %s: not for the coordinator",
                (int)env->body_case, mf_peer_name(peer, name, sizeof name));
    }
    }
}

/* Handles what is waiting, up to a bound so timers still run under load. */
static void s_drain(coord_t *c)
{
    int chunks = 0;
    for (int i = 0; i < MAX_PER_TURN && chunks < MAX_CHUNKS_PER_TURN; i++) {
        mf_peer_t peer;
        Mixfarm__Envelope *env = NULL;
        mf_chunk_t chunk;
        mf_err_t err = mf_msg_recv(c->sock, 1, ZMQ_DONTWAIT, &peer, &env, &chunk);
        if (err == MF_ERR_IO) return; /* nothing more for now */
        if (err == MF_ERR_PROTOCOL) {
            char name[80];
            mf_warn("dropped a malformed message from %s", mf_peer_name(&peer, name, sizeof name));
            continue;
        }
        chunks += env->body_case == MIXFARM__ENVELOPE__BODY_BLOB_PUT ||
                  env->body_case == MIXFARM__ENVELOPE__BODY_BLOB_GET;
        s_handle(c, &peer, env, &chunk);
        mf_msg_release(env, &chunk);
    }
}

/* CURVE on the ROUTER, and the authenticator that admits only the keys in
 * --allow; both before the first bind, so no peer slips in unchecked. */
static int s_secure(coord_t *c, const mf_coord_opts_t *o)
{
    mf_curve_keys_t k = {0};
    if (!o->curve_allow) {
        mf_error("--curve-keys needs --allow DIR (the public keys of the workers and clients)");
        return -1;
    }
    int rc = -1;
    if (mf_curve_load(o->curve_keys, &k) != MF_OK) goto done;
    if (!(c->zap = mf_zap_start(o->zctx, o->curve_allow, c->sock))) goto done;
    if (mf_curve_server(c->sock, &k) != 0) {
        mf_error("cannot set up CURVE: %s", zmq_strerror(errno));
        goto done;
    }
    char fp[MF_CURVE_FP];
    mf_curve_fingerprint(k.public_key, fp);
    mf_info("CURVE: on, server key fingerprint %s", fp);
    rc = 0;
done:
    memset(&k, 0, sizeof k); /* the secret stays in libzmq only */
    return rc;
}

static int s_open(coord_t *c, const mf_coord_opts_t *o)
{
    if (mkdir(o->state_dir, 0755) != 0 && errno != EEXIST) {
        mf_error("%s: cannot create the state folder: %s", o->state_dir, strerror(errno));
        return -1;
    }
    char *blobs = mf_coord_blob_dir(o->state_dir);
    c->store = blobs ? mf_store_open(blobs) : NULL;
    if (c->store && mf_coord_bio_start(c) != 0) return -1;
    free(blobs);
    /* Before anything reads the store: the jobs resumed below see only
     * what survived (mf_store_guard.h). */
    if (c->store && o->guard_store &&
        !(c->guard = mf_store_guard_open(c->store, MF_STORE_SYNC_EVERY_S, NULL)))
        return -1;
    c->journal = c->store ? mf_journal_open(o->state_dir) : NULL;
    if (!c->journal || mf_coord_budget_open(c) != 0) return -1;
    c->fd_limit = mf_fd_limit(); /* each program's main raised it */
    c->sock = zmq_socket(o->zctx, ZMQ_ROUTER);
    int64_t maxmsg = MF_MSG_MAX;
    int zero = 0, hwm = 100000, mandatory = 0;
    zmq_setsockopt(c->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt(c->sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(c->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(c->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(c->sock, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof mandatory);
    if (o->curve_keys && s_secure(c, o) != 0) return -1;
    for (size_t i = 0; i < o->n_binds; i++) /* every bind shares the socket's IPv6 option */
        if (mf_msg_endpoint_ready(c->sock, o->binds[i]) != 0) return -1;
    for (size_t i = 0; i < o->n_binds; i++) {
        if (zmq_bind(c->sock, o->binds[i]) != 0) {
            mf_error("cannot bind %s: %s", o->binds[i], zmq_strerror(errno));
            return -1;
        }
        mf_info("listening on %s", o->binds[i]);
    }
    if (o->http && !o->http_server) {
        mf_error("--http %s: this program serves no HTTP (mixfarm-coordinator does)", o->http);
        return -1;
    }
    if (o->http) {
        char *blobs2 = mf_coord_blob_dir(o->state_dir);
        c->snap = blobs2 ? mf_snap_new(blobs2, c->heartbeat_s) : NULL;
        free(blobs2);
        if (!c->snap || !(c->http = o->http_server->start(o->http, c->snap))) return -1;
    }
    return 0;
}

#define FD_CHECK_EVERY_S 10.0
#define FD_CHECK_JOINED_S 1.0 /* a thousand workers joining at once count once a second */

void mf_coord_fd_check(coord_t *c, double now)
{
    const double t = mf_clock_now();
    if (c->fd_limit <= 0 || t < c->fd_checked + (now > 0 ? FD_CHECK_EVERY_S : FD_CHECK_JOINED_S))
        return;
    c->fd_checked = t;
    const long used = mf_fd_count();
    if (used < 0 || used * 10 < c->fd_limit * 9 || (c->fd_warned > 0 && t < c->fd_warned + 60))
        return;
    c->fd_warned = t;
    mf_warn("%ld of %ld open files in use: workers and clients past the limit cannot connect, "
            "and blobs cannot be opened; raise it (ulimit -n; LimitNOFILE= for a systemd service)",
            used, c->fd_limit);
}

static void s_close(coord_t *c)
{
    if (c->http) c->opts->http_server->stop(&c->http); /* before anything it shows goes */
    mf_snap_free(&c->snap);
    mf_coord_free_jobs(c);
    mf_coord_bio_stop(c); /* what was queued is done; an upload's writer is its own again */
    mf_coord_free_uploads(c);
    mf_coord_status_free(c);
    mf_blob_refs_free(&c->refs);
    mf_coord_budget_close(c);
    mf_coord_trash_stop(c);
    for (size_t i = 0; i < c->n_workers; i++) {
        free(c->workers[i].running);
        free(c->workers[i].held);
    }
    free(c->workers);
    if (c->sock) zmq_close(c->sock);
    mf_zap_stop(&c->zap);
    mf_journal_free(&c->journal);
    mf_store_guard_free(&c->guard);
    mf_store_free(&c->store);
}

int mf_coord_run(const mf_coord_opts_t *o, atomic_int *stop)
{
    coord_t c = {.opts = o};
    c.heartbeat_s = o->heartbeat_s > 0 ? o->heartbeat_s : 1.0;
    c.locality_due = INFINITY;
    c.dead_s = c.heartbeat_s * (o->dead_after > 0 ? o->dead_after : 5);
    if (s_open(&c, o) != 0) {
        s_close(&c);
        return 1;
    }
    mf_journal_begin(c.journal);
    mf_coord_resume_jobs(&c);
    c.prune_jobs = 1; /* the history of jobs a previous run finished */
    if (o->bench_noop_tasks) mf_coord_add_noop_job(&c, o->bench_noop_tasks);
    mf_journal_commit(c.journal);
    double next_tick = 0, next_commit = 0, next_publish = 0;
    int unpublished = 0; /* messages came since the last snapshot (--http) */
    while (!*stop) {
        zmq_pollitem_t item[3] = {{.socket = c.sock, .events = ZMQ_POLLIN},
                                  {.fd = mf_coord_bio_fd(&c), .events = ZMQ_POLLIN},
                                  {.fd = o->wake_fd, .events = ZMQ_POLLIN}};
        int timeout = (int)(c.heartbeat_s * 250); /* a quarter of the heartbeat, in ms */
        const double held = mf_coord_status_next(&c) - mf_clock_now(); /* a held status's end */
        if (held * 1000.0 < timeout) timeout = held > 0 ? (int)ceil(held * 1000.0) : 0;
        const double due = c.locality_due - mf_clock_now(); /* a waiting task's patience */
        if (due * 1000.0 < timeout) timeout = due > 0 ? (int)ceil(due * 1000.0) : 0;
        /* The bounds the journal and the snapshot promise hold when nothing
         * comes: the last task's end is not left uncommitted (or unshown)
         * for a quarter of a heartbeat. */
        double soon = INFINITY;
        if (mf_journal_pending(c.journal)) soon = next_commit;
        if (c.snap && unpublished) soon = fmin(soon, next_publish);
        soon -= mf_clock_now();
        if (soon * 1000.0 < timeout) timeout = soon > 0 ? (int)ceil(soon * 1000.0) : 0;
        const int events = zmq_poll(item, o->wake_fd > 0 ? 3 : 2, timeout);
        if (events < 0 && errno != EINTR) {
            mf_error("poll: %s", zmq_strerror(errno));
            break;
        }
        unpublished |= events > 0;
        mf_journal_begin(c.journal); /* a no-op while a group is open */
        if (item[0].revents & ZMQ_POLLIN) s_drain(&c);
        if (item[1].revents & ZMQ_POLLIN) mf_coord_bio_drain(&c);
        mf_coord_dispatch(&c);
        if (c.n_waits) mf_coord_status_wake(&c);
        double now = mf_clock_now();
        if (now >= next_tick) {
            mf_coord_heartbeats(&c);
            mf_arith_repin_tick(&c, now);
            mf_coord_expire_uploads(&c);
            mf_coord_expire_sources(&c, now);
            next_tick = now + c.heartbeat_s / 4;
        }
        mf_coord_prune_tick(&c, now); /* each returns at once until it is due */
        mf_coord_fd_check(&c, now);
        mf_coord_budget_tick(&c, now);
        /* Group commit: one transaction for every turn in the last few ms. */
        if (now >= next_commit) {
            mf_journal_commit(c.journal);
            next_commit = now + COMMIT_EVERY_S;
        }
        if (c.snap && now >= next_publish) {
            mf_coord_snap_publish(&c);
            next_publish = now + PUBLISH_EVERY_S;
            unpublished = 0;
        }
    }
    mf_journal_commit(c.journal);
    mf_info("stopping");
    s_close(&c);
    return 0;
}
