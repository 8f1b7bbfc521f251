#include "mf_xfer.h"
#include "mf_interrupt.h"
#include "mf_log.h"
#include "mf_msg.h"
#include "mf_writes.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define DONE_PUTS 16 /* puts remembered as done (mf_xfer.done) */

typedef struct waiter {
    mf_xfer_fn cb;
    void *ctx;
    struct waiter *next;
} waiter_t;

/* A chunk that arrived ahead of its turn (a get writes strictly in order). */
typedef struct {
    uint64_t off;
    uint8_t *data; /* NULL: slot free */
    size_t n;
} stash_t;

typedef struct op {
    struct op *next;
    int put;
    mf_hash_t hash;
    waiter_t *waiters;
    uint64_t total;    /* blob size (a get learns it from the first reply) */
    int sized;         /* get: total is known */
    uint64_t next_off; /* next offset to ask for (get) or send (put) */
    uint64_t done_off; /* get: bytes written in order */
    int inflight;      /* chunks asked for or sent, not yet answered */
    /* get */
    mf_blob_writer_t *w;
    mf_xfer_sink_t sink; /* instead of w when sink.write is set (mf_xfer_get_into) */
    stash_t stash[MF_XFER_WINDOW];
    /* put */
    int fd;              /* the blob's file, read at each chunk's offset (or -1) */
    int live;            /* a blob still being written (mf_xfer_put_live) */
    mf_writes_t *writes; /* live: where its writer says how far it is */
    int sent_last;
    const char *task_key; /* a task's output (mf_xfer_put_output): its key, else NULL */
    mf_hash_t key;
    uint32_t output;
} op_t;

struct mf_xfer {
    void *sock;
    mf_store_t *store;
    op_t *head, *tail;
    size_t n_ops;
    int get_inflight, put_inflight;
    mf_err_t wait_err;
    /* Puts that ended well lately: asking for one again ends at once (a
     * live upload may end before its task's result asks for it). */
    mf_hash_t done[DONE_PUTS];
    size_t n_done;
};

mf_xfer_t *mf_xfer_new(void *dealer, mf_store_t *local)
{
    mf_xfer_t *x = calloc(1, sizeof *x);
    if (!x) return NULL;
    x->sock = dealer;
    x->store = local;
    return x;
}

static void s_op_free(op_t *op)
{
    while (op->waiters) {
        waiter_t *w = op->waiters;
        op->waiters = w->next;
        free(w);
    }
    if (op->w) mf_blob_writer_abort(op->w);
    if (op->sink.write) op->sink.abort(op->sink.ctx);
    for (int i = 0; i < MF_XFER_WINDOW; i++) free(op->stash[i].data);
    if (op->fd >= 0) close(op->fd);
    free(op);
}

void mf_xfer_free(mf_xfer_t **px)
{
    if (!px || !*px) return;
    mf_xfer_t *x = *px;
    while (x->head) {
        op_t *op = x->head;
        x->head = op->next;
        s_op_free(op);
    }
    free(x);
    *px = NULL;
}

size_t mf_xfer_pending(const mf_xfer_t *x)
{
    return x->n_ops;
}

/* Unlinks op, then tells its waiters (who may start new transfers). */
static void s_finish(mf_xfer_t *x, op_t *op, mf_err_t err)
{
    op_t **pp = &x->head, *prev = NULL;
    while (*pp && *pp != op) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp) return;
    *pp = op->next;
    if (x->tail == op) x->tail = prev;
    x->n_ops--;
    *(op->put ? &x->put_inflight : &x->get_inflight) -= op->inflight;
    if (err != MF_OK && x->wait_err == MF_OK) x->wait_err = err;
    if (err == MF_OK && op->put) x->done[x->n_done++ % DONE_PUTS] = op->hash;
    if (err != MF_OK)
        mf_debug("blob %.12s: %s failed: %s", op->hash.hex, op->put ? "upload" : "fetch",
                 mf_strerror(err));
    waiter_t *ws = op->waiters;
    op->waiters = NULL;
    mf_hash_t hash = op->hash;
    s_op_free(op);
    while (ws) {
        waiter_t *w = ws;
        ws = w->next;
        w->cb(w->ctx, &hash, err);
        free(w);
    }
}

static mf_err_t s_send_get(mf_xfer_t *x, op_t *op, uint64_t off, uint32_t len)
{
    Mixfarm__BlobGet g = MIXFARM__BLOB_GET__INIT;
    g.hash = op->hash.hex;
    g.offset = off;
    g.length = len;
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_BLOB_GET;
    env.blob_get = &g;
    if (mf_msg_send(x->sock, NULL, &env) != MF_OK) return MF_ERR_UNREACHABLE;
    op->inflight++;
    x->get_inflight++;
    return MF_OK;
}

/* The bytes of a put that can go now: all of a blob at rest; of a live one,
 * what its file holds (*final once it is whole). */
static mf_err_t s_put_avail(op_t *op, uint64_t *avail, int *final)
{
    *avail = op->total, *final = 1;
    if (!op->live) return MF_OK;
    int64_t written = 0;
    const mf_write_state_t st = mf_writes_state(op->writes, &op->hash, &written, NULL);
    if (st != MF_WRITE_OPEN && st != MF_WRITE_DONE) return MF_ERR_IO; /* its task failed */
    *avail = (uint64_t)written, *final = st == MF_WRITE_DONE;
    if (*final) op->total = *avail;
    return MF_OK;
}

/* Reads and sends the next chunk of a put, if it has one to send now
 * (*sent): a live put sends whole chunks until its blob is whole. */
static mf_err_t s_send_put(mf_xfer_t *x, op_t *op, int *sent)
{
    *sent = 0;
    uint64_t avail;
    int final;
    mf_err_t err = s_put_avail(op, &avail, &final);
    if (err != MF_OK || (!final && avail - op->next_off < MF_BLOB_CHUNK)) return err;
    uint64_t left = avail - op->next_off;
    size_t n = left < MF_BLOB_CHUNK ? (size_t)left : MF_BLOB_CHUNK;
    mf_chunk_t chunk;
    if (mf_chunk_new(&chunk, n) != MF_OK) return MF_ERR_NOMEM;
    uint8_t *data = mf_chunk_data(&chunk);
    errno = 0;
    const int ok = !n || pread(op->fd, data, n, (off_t)op->next_off) == (ssize_t)n;
    if (!ok) {
        mf_error("blob %.12s: reading for upload: %s", op->hash.hex,
                 errno ? strerror(errno) : "the file shrank");
        mf_msg_release(NULL, &chunk);
        return MF_ERR_IO;
    }
    Mixfarm__BlobPut p = MIXFARM__BLOB_PUT__INIT;
    p.hash = op->hash.hex;
    p.offset = op->next_off;
    p.last = final && op->next_off + n == op->total;
    p.checksum = mf_checksum(data, n);
    if (op->task_key && op->next_off == 0) {
        p.task_key = (char *)op->task_key;
        p.output = op->output;
    }
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_BLOB_PUT;
    env.blob_put = &p;
    if (mf_msg_send_chunk(x->sock, NULL, &env, &chunk) != MF_OK) return MF_ERR_UNREACHABLE;
    op->next_off += n;
    op->sent_last = p.last;
    op->inflight++;
    x->put_inflight++;
    *sent = 1;
    return MF_OK;
}

/* Issues what the windows allow for one transfer. */
static mf_err_t s_pump_op(mf_xfer_t *x, op_t *op)
{
    mf_err_t err = MF_OK;
    if (op->put) {
        int sent = 1;
        while (err == MF_OK && sent && !op->sent_last && x->put_inflight < MF_XFER_WINDOW)
            err = s_send_put(x, op, &sent);
    } else if (!op->sized) {
        /* The size comes with the first chunk; ask for more after it. */
        if (op->next_off == 0 && x->get_inflight < MF_XFER_WINDOW) {
            err = s_send_get(x, op, 0, MF_BLOB_CHUNK);
            op->next_off = MF_BLOB_CHUNK;
        }
    } else {
        while (err == MF_OK && op->next_off < op->total && x->get_inflight < MF_XFER_WINDOW) {
            uint64_t left = op->total - op->next_off;
            uint32_t n = left < MF_BLOB_CHUNK ? (uint32_t)left : MF_BLOB_CHUNK;
            err = s_send_get(x, op, op->next_off, n);
            op->next_off += n;
        }
    }
    return err;
}

static void s_pump(mf_xfer_t *x)
{
    for (op_t *op = x->head; op;) {
        mf_err_t err = s_pump_op(x, op);
        if (err != MF_OK) {
            s_finish(x, op, err); /* callbacks may have changed the list */
            op = x->head;
        } else {
            op = op->next;
        }
    }
}

static op_t *s_find(mf_xfer_t *x, const char *hex, int put)
{
    for (op_t *op = x->head; op; op = op->next)
        if (op->put == put && strcmp(op->hash.hex, hex) == 0) return op;
    return NULL;
}

/* Adds a waiter to the transfer of hash, creating it (and returning 1 in
 * *fresh) when there is none. NULL when out of memory. */
static op_t *s_join(mf_xfer_t *x, const mf_hash_t *hash, int put, mf_xfer_fn cb, void *ctx,
                    int *fresh)
{
    waiter_t *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->cb = cb;
    w->ctx = ctx;
    op_t *op = s_find(x, hash->hex, put);
    *fresh = !op;
    if (!op && !(op = calloc(1, sizeof *op))) {
        free(w);
        return NULL;
    }
    if (*fresh) op->fd = -1;
    w->next = op->waiters;
    op->waiters = w;
    op->put = put;
    op->hash = *hash;
    return op;
}

static void s_enqueue(mf_xfer_t *x, op_t *op)
{
    if (x->tail)
        x->tail->next = op;
    else
        x->head = op;
    x->tail = op;
    x->n_ops++;
}

/* A sink's get of hash in flight: its replies cannot be told from another's. */
static int s_into_sink(mf_xfer_t *x, const mf_hash_t *hash)
{
    const op_t *op = s_find(x, hash->hex, 0);
    return op && op->sink.write;
}

void mf_xfer_get(mf_xfer_t *x, const mf_hash_t *hash, mf_xfer_fn cb, void *ctx)
{
    if (mf_store_has(x->store, hash)) {
        cb(ctx, hash, MF_OK);
        return;
    }
    if (s_into_sink(x, hash)) {
        cb(ctx, hash, MF_ERR_INVALID);
        return;
    }
    int fresh;
    op_t *op = s_join(x, hash, 0, cb, ctx, &fresh);
    if (!op) {
        cb(ctx, hash, MF_ERR_NOMEM);
        return;
    }
    if (!fresh) return;
    s_enqueue(x, op);
    op->w = mf_blob_writer_new_named(x->store, hash); /* each chunk is checked */
    if (!op->w) {
        s_finish(x, op, MF_ERR_IO);
        return;
    }
    s_pump(x);
}

void mf_xfer_get_into(mf_xfer_t *x, const mf_hash_t *hash, const mf_xfer_sink_t *sink,
                      mf_xfer_fn cb, void *ctx)
{
    if (s_find(x, hash->hex, 0)) {
        sink->abort(sink->ctx);
        cb(ctx, hash, MF_ERR_INVALID);
        return;
    }
    int fresh;
    op_t *op = s_join(x, hash, 0, cb, ctx, &fresh);
    if (!op) {
        sink->abort(sink->ctx);
        cb(ctx, hash, MF_ERR_NOMEM);
        return;
    }
    op->sink = *sink;
    s_enqueue(x, op);
    s_pump(x);
}

void mf_xfer_put(mf_xfer_t *x, const mf_hash_t *hash, mf_xfer_fn cb, void *ctx)
{
    mf_xfer_put_output(x, hash, NULL, 0, cb, ctx);
}

static int s_done_lately(const mf_xfer_t *x, const mf_hash_t *hash)
{
    const size_t n = x->n_done < DONE_PUTS ? x->n_done : DONE_PUTS;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(x->done[i].hex, hash->hex)) return 1;
    return 0;
}

/* What every put starts with: a put of hash that ended lately ends at once
 * (a live upload got there before its task's result asked); one under way
 * takes cb as one more waiter. Returns the new transfer, queued, for the
 * caller to open its source; NULL when there is nothing more to do (cb
 * then has been or will be called). */
static op_t *s_put_op(mf_xfer_t *x, const mf_hash_t *hash, const mf_hash_t *key, uint32_t output,
                      mf_xfer_fn cb, void *ctx)
{
    if (s_done_lately(x, hash)) {
        cb(ctx, hash, MF_OK);
        return NULL;
    }
    int fresh;
    op_t *op = s_join(x, hash, 1, cb, ctx, &fresh);
    if (!op) cb(ctx, hash, MF_ERR_NOMEM);
    if (!op || !fresh) return NULL;
    if (key) {
        op->key = *key;
        op->task_key = op->key.hex;
        op->output = output;
    }
    s_enqueue(x, op);
    return op;
}

void mf_xfer_put_live(mf_xfer_t *x, mf_writes_t *writes, const mf_hash_t *hash,
                      const mf_hash_t *key, uint32_t output, mf_xfer_fn cb, void *ctx)
{
    op_t *op = s_put_op(x, hash, key, output, cb, ctx);
    if (!op) return;
    op->live = 1;
    op->writes = writes;
    int64_t written;
    const mf_write_state_t st = mf_writes_state(writes, hash, &written, &op->fd);
    if (op->fd < 0 || (st != MF_WRITE_OPEN && st != MF_WRITE_DONE)) {
        s_finish(x, op, MF_ERR_NOENT);
        return;
    }
    mf_debug("blob %.12s: uploading while it is written (%lld bytes so far)", hash->hex,
             (long long)written);
    s_pump(x);
}

int mf_xfer_live(const mf_xfer_t *x)
{
    for (const op_t *op = x->head; op; op = op->next)
        if (op->live && !op->sent_last) return 1;
    return 0;
}

void mf_xfer_poke(mf_xfer_t *x)
{
    s_pump(x);
}

void mf_xfer_put_output(mf_xfer_t *x, const mf_hash_t *hash, const mf_hash_t *key, uint32_t output,
                        mf_xfer_fn cb, void *ctx)
{
    op_t *op = s_put_op(x, hash, key, output, cb, ctx);
    if (!op) return;
    char *path = mf_store_path(x->store, hash);
    op->fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    free(path);
    struct stat st;
    if (op->fd < 0 || fstat(op->fd, &st) != 0) {
        s_finish(x, op, MF_ERR_NOENT);
        return;
    }
    op->total = (uint64_t)st.st_size;
    s_pump(x);
}

/* A chunk's stash slot. A stashed chunk still counts as in flight until it
 * is written, so a get's outstanding chunks lie within one window after
 * done_off and their index modulo the window never collides: the memory
 * held is bounded by the window. */
static stash_t *s_slot(op_t *op, uint64_t off)
{
    return &op->stash[(off / MF_BLOB_CHUNK) % MF_XFER_WINDOW];
}

/* Writes one in-order chunk (which leaves the window). */
static mf_err_t s_write(mf_xfer_t *x, op_t *op, const uint8_t *data, size_t n)
{
    op->inflight--;
    x->get_inflight--;
    op->done_off += n;
    if (n == 0) return MF_OK; /* an empty blob: data may be NULL */
    return op->sink.write ? op->sink.write(op->sink.ctx, data, n)
                          : mf_blob_writer_write(op->w, data, n);
}

/* Takes a chunk: written if it is next, then whatever stashed chunks now
 * follow it; else stashed until its turn. */
static mf_err_t s_take(mf_xfer_t *x, op_t *op, uint64_t off, const uint8_t *data, size_t n)
{
    stash_t *s = s_slot(op, off);
    if (off != op->done_off) {
        if (s->data) return MF_ERR_PROTOCOL; /* the same chunk twice */
        if (!(s->data = malloc(n ? n : 1))) return MF_ERR_NOMEM;
        memcpy(s->data, data, n);
        s->off = off;
        s->n = n;
        return MF_OK;
    }
    mf_err_t err = s_write(x, op, data, n);
    while (err == MF_OK && (s = s_slot(op, op->done_off))->data && s->off == op->done_off) {
        err = s_write(x, op, s->data, s->n);
        free(s->data);
        s->data = NULL;
    }
    return err;
}

/* Names the whole blob in the store (every chunk was checked). */
static mf_err_t s_commit(op_t *op)
{
    if (op->sink.write) {
        const mf_xfer_sink_t k = op->sink;
        op->sink.write = NULL; /* committed: no abort */
        return k.commit(k.ctx, op->total);
    }
    mf_hash_t stored;
    mf_blob_writer_t *w = op->w;
    op->w = NULL;
    return mf_blob_writer_commit(w, &stored);
}

static mf_err_t s_on_data(mf_xfer_t *x, op_t *op, const Mixfarm__BlobData *d)
{
    if (d->error[0]) {
        mf_debug("blob %.12s: the coordinator says: %s", op->hash.hex, d->error);
        return MF_ERR_NOENT;
    }
    uint64_t off = d->offset;
    /* A chunk not asked for, or had already, is a late reply to an earlier
     * get of the same blob that failed (its bytes are these bytes): not
     * this transfer's, and no error of it. */
    if ((!op->sized && off != 0) || off < op->done_off || off >= op->next_off ||
        (off != op->done_off && s_slot(op, off)->data && s_slot(op, off)->off == off)) {
        mf_debug("blob %.12s: a chunk at %llu not asked for: dropped", op->hash.hex,
                 (unsigned long long)off);
        return MF_OK;
    }
    if (!op->sized) {
        op->total = d->total_size;
        op->sized = 1;
    }
    /* In whole chunks, of the size the first one gave. */
    if (d->total_size != op->total || off % MF_BLOB_CHUNK ||
        (off >= op->total && !(off == 0 && op->total == 0)))
        return MF_ERR_PROTOCOL;
    uint64_t left = op->total - off;
    if (d->data.len != (left < MF_BLOB_CHUNK ? left : MF_BLOB_CHUNK)) return MF_ERR_PROTOCOL;
    if (mf_checksum(d->data.data, d->data.len) != d->checksum) {
        mf_warn("blob %.12s: the chunk at %llu arrived damaged (checksum)", op->hash.hex,
                (unsigned long long)off);
        return MF_ERR_CORRUPT;
    }
    return s_take(x, op, off, d->data.data, d->data.len);
}

static mf_err_t s_on_ack(mf_xfer_t *x, op_t *op, const Mixfarm__BlobPutAck *a, int *done)
{
    if (a->error[0]) {
        mf_warn("blob %.12s: the coordinator refused the upload: %s", op->hash.hex, a->error);
        return MF_ERR_IO;
    }
    if (op->inflight > 0) {
        op->inflight--;
        x->put_inflight--;
    }
    *done = a->done;
    /* The last chunk's ack must say done. */
    if (!a->done && op->sent_last && op->inflight == 0) return MF_ERR_PROTOCOL;
    return MF_OK;
}

int mf_xfer_handle(mf_xfer_t *x, const Mixfarm__Envelope *env)
{
    if (env->body_case == MIXFARM__ENVELOPE__BODY_BLOB_DATA) {
        const Mixfarm__BlobData *d = env->blob_data;
        op_t *op = s_find(x, d->hash, 0);
        if (!op) return 1; /* a late reply to a transfer already over */
        mf_err_t err = s_on_data(x, op, d);
        if (err == MF_OK && op->sized && op->done_off == op->total) {
            err = s_commit(op);
            s_finish(x, op, err);
        } else if (err != MF_OK) {
            s_finish(x, op, err);
        }
        s_pump(x);
        return 1;
    }
    if (env->body_case == MIXFARM__ENVELOPE__BODY_BLOB_PUT_ACK) {
        const Mixfarm__BlobPutAck *a = env->blob_put_ack;
        op_t *op = s_find(x, a->hash, 1);
        if (!op) return 1;
        int done = 0;
        mf_err_t err = s_on_ack(x, op, a, &done);
        if (err != MF_OK || done) s_finish(x, op, err);
        s_pump(x);
        return 1;
    }
    return 0;
}

void mf_xfer_reset(mf_xfer_t *x)
{
    while (x->head) s_finish(x, x->head, MF_ERR_UNREACHABLE);
}

/* Handles every message already queued on the socket. */
static void s_drain(mf_xfer_t *x)
{
    for (;;) {
        Mixfarm__Envelope *env = NULL;
        mf_chunk_t chunk;
        mf_err_t err = mf_msg_recv(x->sock, 0, ZMQ_DONTWAIT, NULL, &env, &chunk);
        if (err == MF_ERR_IO) break;
        if (err != MF_OK)
            mf_debug("dropped a malformed message");
        else if (!mf_xfer_handle(x, env))
            mf_debug("dropped a message (body %d) while waiting for blobs", env->body_case);
        mf_msg_release(env, &chunk);
    }
}

static long long s_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void mf_xfer_pump(mf_xfer_t *x, int ms)
{
    const long long end = s_ms() + ms;
    for (long long left = ms; left > 0 && x->n_ops; left = end - s_ms()) {
        zmq_pollitem_t it = {x->sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, (long)left) <= 0) return;
        s_drain(x);
    }
}

mf_err_t mf_xfer_wait(mf_xfer_t *x, int timeout_ms)
{
    while (x->n_ops) {
        /* Caught while this thread was busy (no poll to break): seen here. */
        if (mf_interrupted()) return MF_ERR_CANCELLED;
        zmq_pollitem_t it = {x->sock, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(&it, 1, timeout_ms);
        if (rc < 0 && errno == EINTR) return MF_ERR_CANCELLED;
        if (rc <= 0) {
            mf_xfer_reset(x);
            x->wait_err = MF_OK;
            return MF_ERR_UNREACHABLE;
        }
        s_drain(x);
    }
    mf_err_t err = x->wait_err;
    x->wait_err = MF_OK;
    return err;
}
