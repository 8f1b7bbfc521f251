/* The store's reads and writes for the wire, off the loop's thread. Each
 * chunk an upload brings is copied into the page cache, and each chunk a
 * peer fetches out of it: work the loop did itself before, dispatching
 * nothing meanwhile, and much of its time when new cache pages are dear (a
 * VM's: 69 % of its CPU in a re-render here, docs/farm.md). Two threads do
 * it instead: one reads chunks for BlobGet, in any order (a getter puts its
 * window's chunks in order); one writes uploads' chunks in the order they
 * came, and commits and aborts their writers in that order too, so a
 * writer is only ever touched by that thread once its upload began. What
 * they did comes back to the loop through an eventfd it polls
 * (mf_coord_bio_fd), and the loop sends the data or the ack: a sender's
 * window of unacknowledged chunks bounds what waits here. */
#include "coord_internal.h"
#include "mf_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef enum { OP_GET, OP_WRITE, OP_ABORT } op_kind_t;

typedef struct op {
    struct op *next;
    op_kind_t kind;
    mf_peer_t peer;
    mf_hash_t hash;
    uint64_t serial; /* the upload's (OP_WRITE) */
    /* OP_GET: the blob's path, what to read, its size. */
    char *path;
    uint64_t offset, total;
    uint32_t length;
    /* OP_WRITE: the chunk (its frame, or a copy), the upload's bytes with it. */
    mf_blob_writer_t *writer;
    mf_chunk_t data;
    size_t n;
    uint64_t received;
    int last;
    /* Done: a read chunk and its checksum, or the write's outcome. */
    uint64_t checksum;
    mf_err_t err;
    int saved_errno;
    mf_hash_t got;
} op_t;

typedef struct {
    op_t *head, *tail;
} queue_t;

typedef struct {
    struct mf_bio *bio;
    queue_t todo;
    pthread_t thread;
    int started;
} lane_t;

struct mf_bio {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    lane_t reads, writes;
    queue_t done;
    int fd; /* eventfd: something is done */
};

static void s_push(queue_t *q, op_t *op)
{
    op->next = NULL;
    if (q->tail)
        q->tail->next = op;
    else
        q->head = op;
    q->tail = op;
}

static op_t *s_pop(queue_t *q)
{
    op_t *op = q->head;
    if (op && !(q->head = op->next)) q->tail = NULL;
    return op;
}

static void s_op_free(op_t *op)
{
    mf_msg_release(NULL, &op->data);
    free(op->path);
    free(op);
}

/* n bytes of the blob at path from off, straight into buf. */
static ssize_t s_pread(const char *path, void *buf, size_t n, uint64_t off)
{
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t got = 0;
    while (got < n) {
        const ssize_t k = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (k <= 0) break;
        got += (size_t)k;
    }
    close(fd);
    return (ssize_t)got;
}

/* The chunk and its checksum, here rather than on the loop's thread. */
static void s_read(op_t *op)
{
    op->err = mf_chunk_new(&op->data, op->length);
    if (op->err == MF_OK && s_pread(op->path, mf_chunk_data(&op->data), op->length, op->offset) !=
                                (ssize_t)op->length) {
        mf_msg_release(NULL, &op->data);
        op->err = MF_ERR_IO;
    }
    if (op->err == MF_OK) op->checksum = mf_checksum(mf_chunk_data(&op->data), op->length);
}

static void s_write(op_t *op)
{
    if (op->kind == OP_ABORT) {
        mf_blob_writer_abort(op->writer);
        return;
    }
    errno = 0;
    op->err = mf_blob_writer_write(op->writer, mf_chunk_data(&op->data), op->n);
    mf_msg_release(NULL, &op->data); /* its memory back now, not at the loop's turn */
    if (op->err == MF_OK && op->last)
        op->err = mf_blob_writer_commit(op->writer, &op->got);
    else if (op->err != MF_OK && op->last)
        mf_blob_writer_abort(op->writer);
    op->saved_errno = op->err != MF_OK ? errno : 0;
}

static void *s_lane_main(void *arg)
{
    lane_t *l = arg;
    struct mf_bio *b = l->bio;
    pthread_mutex_lock(&b->lock);
    for (;;) {
        op_t *op = s_pop(&l->todo);
        if (!op && b->stop) break;
        if (!op) {
            pthread_cond_wait(&b->wake, &b->lock);
            continue;
        }
        pthread_mutex_unlock(&b->lock);
        if (op->kind == OP_GET)
            s_read(op);
        else
            s_write(op);
        pthread_mutex_lock(&b->lock);
        if (op->kind == OP_ABORT) {
            s_op_free(op);
            continue;
        }
        s_push(&b->done, op);
        /* An eventfd's counter cannot fill up here: no write can fail. */
        const uint64_t one = 1;
        const ssize_t wrote = write(b->fd, &one, sizeof one);
        (void)wrote;
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

static void s_queue(struct mf_bio *b, lane_t *l, op_t *op)
{
    pthread_mutex_lock(&b->lock);
    s_push(&l->todo, op);
    pthread_cond_broadcast(&b->wake);
    pthread_mutex_unlock(&b->lock);
}

int mf_coord_bio_start(coord_t *c)
{
    struct mf_bio *b = calloc(1, sizeof *b);
    if (!b) return -1;
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->wake, NULL);
    b->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    b->reads.bio = b->writes.bio = b;
    c->bio = b;
    if (b->fd < 0 || pthread_create(&b->reads.thread, NULL, s_lane_main, &b->reads) != 0) {
        mf_error("cannot start the threads that read and write blobs");
        return -1;
    }
    b->reads.started = 1;
    if (pthread_create(&b->writes.thread, NULL, s_lane_main, &b->writes) != 0) {
        mf_error("cannot start the threads that read and write blobs");
        return -1;
    }
    b->writes.started = 1;
    return 0;
}

/* What both lanes had queued is done (an abort included) before they stop;
 * what they did and nobody took is dropped (an unfinished upload's writer
 * stays with its upload: mf_coord_free_uploads aborts it, after this). */
void mf_coord_bio_stop(coord_t *c)
{
    struct mf_bio *b = c->bio;
    if (!b) return;
    pthread_mutex_lock(&b->lock);
    b->stop = 1;
    pthread_cond_broadcast(&b->wake);
    pthread_mutex_unlock(&b->lock);
    if (b->reads.started) pthread_join(b->reads.thread, NULL);
    if (b->writes.started) pthread_join(b->writes.thread, NULL);
    for (op_t *op; (op = s_pop(&b->done));) s_op_free(op);
    if (b->fd >= 0) close(b->fd);
    pthread_mutex_destroy(&b->lock);
    pthread_cond_destroy(&b->wake);
    free(b);
    c->bio = NULL;
}

int mf_coord_bio_fd(const coord_t *c)
{
    return c->bio ? c->bio->fd : -1;
}

void mf_coord_bio_get(coord_t *c, const mf_peer_t *peer, const mf_hash_t *h, uint64_t offset,
                      uint32_t length, uint64_t total)
{
    op_t *op = calloc(1, sizeof *op);
    if (op) op->path = mf_store_path(c->store, h);
    if (!op || !op->path) {
        free(op);
        mf_coord_blob_data(c, peer, h->hex, offset, total, NULL, 0, "out of memory");
        return;
    }
    op->kind = OP_GET, op->peer = *peer, op->hash = *h;
    op->offset = offset, op->length = length, op->total = total;
    s_queue(c->bio, &c->bio->reads, op);
}

mf_err_t mf_coord_bio_write(coord_t *c, const upload_t *u, mf_chunk_t *data, const uint8_t *p,
                            size_t n, int last)
{
    op_t *op = calloc(1, sizeof *op);
    if (!op) return MF_ERR_NOMEM;
    op->kind = OP_WRITE, op->peer = u->peer, op->hash = u->hash, op->serial = u->serial;
    op->writer = u->writer, op->n = n, op->received = u->received, op->last = last;
    /* The frame the bytes arrived in moves here; bytes that came inside
     * the envelope are copied (small, or from an old peer). */
    const int framed = data && data->held && n && mf_chunk_data(data) == (const void *)p;
    if (!framed || mf_chunk_take(&op->data, data) != MF_OK) {
        if (mf_chunk_new(&op->data, n) != MF_OK) {
            free(op);
            return MF_ERR_NOMEM;
        }
        if (n) memcpy(mf_chunk_data(&op->data), p, n);
    }
    s_queue(c->bio, &c->bio->writes, op);
    return MF_OK;
}

void mf_coord_bio_abort(coord_t *c, mf_blob_writer_t *w)
{
    if (!w) return;
    op_t *op = c->bio ? calloc(1, sizeof *op) : NULL;
    if (!op) { /* no lane (stopped), or no memory: nothing else holds it */
        mf_blob_writer_abort(w);
        return;
    }
    op->kind = OP_ABORT, op->writer = w;
    s_queue(c->bio, &c->bio->writes, op);
}

void mf_coord_bio_drain(coord_t *c)
{
    struct mf_bio *b = c->bio;
    if (!b) return;
    uint64_t n;
    if (read(b->fd, &n, sizeof n) < 0) return; /* nothing done since the last turn */
    pthread_mutex_lock(&b->lock);
    queue_t done = b->done;
    b->done.head = b->done.tail = NULL;
    pthread_mutex_unlock(&b->lock);
    for (op_t *op; (op = s_pop(&done));) {
        if (op->kind == OP_GET)
            mf_coord_blob_data(c, &op->peer, op->hash.hex, op->offset, op->total,
                               op->err == MF_OK ? &op->data : NULL, op->checksum,
                               op->err == MF_OK ? NULL : "read error");
        else
            mf_coord_upload_written(c, &op->peer, &op->hash, op->serial, op->received, op->last,
                                    op->err, op->saved_errno, &op->got);
        s_op_free(op);
    }
}
