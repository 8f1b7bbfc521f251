/* Slot threads: actors that run one task at a time with mf_exec_run. Each
 * has a DEALER (routing id "s<index>") connected to the loop's inproc
 * ROUTER; the loop sends a packed task, the slot answers with a packed
 * result; an empty message stops it. */
#include "mf_exec.h"
#include "mf_log.h"
#include "worker_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

typedef struct {
    pthread_t thread;
    int started;
    int busy;
    void *sock; /* the slot's DEALER, used only by its thread once started */
    mf_store_t *store;
    char id[16];
} slot_t;

struct mf_slots {
    void *router;
    slot_t *slot;
    int n;
};

static void s_send_result(void *sock, const mf_task_result_t *r)
{
    size_t len = 0;
    uint8_t *buf = mf_task_result_pack(r, &len);
    if (!buf) {
        /* Out of memory: an unreadable result still frees the slot, and the
         * loop reports the task failed. */
        zmq_send(sock, "!", 1, 0);
        return;
    }
    zmq_send(sock, buf, len, 0);
    free(buf);
}

static void *s_slot_main(void *arg)
{
    slot_t *s = arg;
    zmq_send(s->sock, "", 0, 0); /* ready */
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s->sock, 0) < 0) {
            zmq_msg_close(&m);
            if (errno == EINTR) continue;
            break;
        }
        if (zmq_msg_size(&m) == 0) { /* stop */
            zmq_msg_close(&m);
            break;
        }
        mf_task_t t;
        mf_task_result_t r = {0};
        if (mf_task_unpack(zmq_msg_data(&m), zmq_msg_size(&m), &t) != MF_OK) {
            r.error = strdup("internal error: the slot could not read its task");
        } else {
            mf_exec_run(s->store, &t, &r);
            mf_task_fini(&t);
        }
        zmq_msg_close(&m);
        s_send_result(s->sock, &r);
        mf_task_result_fini(&r);
    }
    zmq_close(s->sock);
    return NULL;
}

static void *s_socket(void *zctx, int type)
{
    void *sock = zmq_socket(zctx, type);
    int zero = 0;
    if (sock) zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    return sock;
}

mf_slots_t *mf_slots_start(void *zctx, int n, mf_store_t *store)
{
    mf_slots_t *s = calloc(1, sizeof *s);
    if (!s || !(s->slot = calloc((size_t)n, sizeof *s->slot))) goto fail;
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://mf-worker-slots-%p", (void *)s);
    int one = 1;
    if (!(s->router = s_socket(zctx, ZMQ_ROUTER)) ||
        zmq_setsockopt(s->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one) != 0 ||
        zmq_bind(s->router, ep) != 0)
        goto fail_zmq;
    for (int i = 0; i < n; i++) {
        slot_t *sl = &s->slot[i];
        sl->store = store;
        snprintf(sl->id, sizeof sl->id, "s%d", i);
        if (!(sl->sock = s_socket(zctx, ZMQ_DEALER)) ||
            zmq_setsockopt(sl->sock, ZMQ_ROUTING_ID, sl->id, strlen(sl->id)) != 0 ||
            zmq_connect(sl->sock, ep) != 0 ||
            pthread_create(&sl->thread, NULL, s_slot_main, sl) != 0) {
            if (sl->sock) zmq_close(sl->sock);
            goto fail_zmq;
        }
        sl->started = 1;
        s->n++;
    }
    /* Handshake: every slot is connected and routable before any task. */
    for (int ready = 0; ready < n;) {
        char id[16], body[8];
        if (zmq_recv(s->router, id, sizeof id, 0) < 0) goto fail_zmq;
        if (zmq_recv(s->router, body, sizeof body, 0) == 0) ready++;
    }
    return s;
fail_zmq:
    mf_error("cannot set up the slot threads: %s", zmq_strerror(errno));
fail:
    mf_slots_stop(&s);
    return NULL;
}

void mf_slots_stop(mf_slots_t **ps)
{
    if (!ps || !*ps) return;
    mf_slots_t *s = *ps;
    for (int i = 0; s->slot && i < s->n; i++) {
        slot_t *sl = &s->slot[i];
        if (!sl->started) continue;
        zmq_send(s->router, sl->id, strlen(sl->id), ZMQ_SNDMORE);
        zmq_send(s->router, "", 0, 0);
    }
    for (int i = 0; s->slot && i < s->n; i++)
        if (s->slot[i].started) pthread_join(s->slot[i].thread, NULL);
    if (s->router) zmq_close(s->router);
    free(s->slot);
    free(s);
    *ps = NULL;
}

void *mf_slots_socket(mf_slots_t *s)
{
    return s->router;
}

int mf_slots_free(const mf_slots_t *s)
{
    for (int i = 0; i < s->n; i++)
        if (!s->slot[i].busy) return i;
    return -1;
}

mf_err_t mf_slots_run(mf_slots_t *s, int slot, const mf_task_t *t)
{
    size_t len = 0;
    uint8_t *buf = mf_task_pack(t, &len);
    if (!buf) return MF_ERR_NOMEM;
    slot_t *sl = &s->slot[slot];
    int rc = zmq_send(s->router, sl->id, strlen(sl->id), ZMQ_SNDMORE);
    if (rc >= 0) rc = zmq_send(s->router, buf, len, 0);
    free(buf);
    if (rc < 0) return MF_ERR_IO;
    sl->busy = 1;
    return MF_OK;
}

int mf_slots_result(mf_slots_t *s, int *slot, mf_task_result_t *r)
{
    char id[16];
    int n = zmq_recv(s->router, id, sizeof id - 1, ZMQ_DONTWAIT);
    if (n < 0) return 0;
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, s->router, 0) < 0) {
        zmq_msg_close(&m);
        return 0;
    }
    id[n < (int)sizeof id - 1 ? n : (int)sizeof id - 1] = 0;
    int i = id[0] == 's' ? atoi(id + 1) : -1;
    mf_err_t err = mf_task_result_unpack(zmq_msg_data(&m), zmq_msg_size(&m), r);
    zmq_msg_close(&m);
    if (i < 0 || i >= s->n) {
        if (err == MF_OK) mf_task_result_fini(r);
        return 0;
    }
    s->slot[i].busy = 0;
    *slot = i;
    if (err != MF_OK) {
        memset(r, 0, sizeof *r);
        r->error = strdup("internal error: a slot's result could not be read");
    }
    return 1;
}
