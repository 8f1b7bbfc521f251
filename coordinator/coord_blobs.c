/* Blobs over the wire: chunks served from the store (BlobGet), uploads
 * streamed into it (BlobPut, one ack per chunk so senders keep a bounded
 * window), and "which of these do you lack?" (BlobHave). Memory per upload
 * is one chunk, whatever the blob size. Every chunk carries its XXH3
 * checksum. An upload is verified against its claimed name: by the SHA-256
 * of its bytes, or, for a task's output (mf_task_output_name), by coming
 * from the worker that runs that task. */
#include "coord_internal.h"
#include "mf_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UPLOAD_TIMEOUT_S 60.0
#define MAX_UPLOADS 4096
#define MAX_HAVE 100000

/* Sends d, with its bytes (if any) in chunk. */
static void s_send_data(coord_t *c, const mf_peer_t *peer, Mixfarm__BlobData *d, mf_chunk_t *chunk)
{
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_BLOB_DATA;
    env.blob_data = d;
    if (chunk)
        mf_coord_send_chunk(c, peer, &env, chunk);
    else
        mf_coord_send(c, peer, &env);
}

/* A chunk of the blob at path read straight into the frame that carries it. */
static const char *s_read_chunk(const char *path, uint64_t off, uint32_t n, mf_chunk_t *chunk)
{
    if (mf_chunk_new(chunk, n) != MF_OK) return "out of memory";
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    const int ok = fd >= 0 && pread(fd, mf_chunk_data(chunk), n, (off_t)off) == (ssize_t)n;
    if (fd >= 0) close(fd);
    if (ok) return NULL;
    mf_msg_release(NULL, chunk);
    return "read error";
}

void mf_coord_on_blob_get(coord_t *c, const mf_peer_t *peer, const Mixfarm__BlobGet *m)
{
    Mixfarm__BlobData d = MIXFARM__BLOB_DATA__INIT;
    d.hash = m->hash;
    d.offset = m->offset;
    mf_hash_t h;
    if (!mf_hash_valid(m->hash)) {
        d.error = "not a blob hash";
        s_send_data(c, peer, &d, NULL);
        return;
    }
    memcpy(h.hex, m->hash, MF_HASH_HEX);
    int64_t size = mf_store_size(c->store, &h);
    if (size < 0) {
        d.error = "no such blob";
        s_send_data(c, peer, &d, NULL);
        return;
    }
    d.total_size = (uint64_t)size;
    uint32_t want = m->length < MF_BLOB_CHUNK ? m->length : MF_BLOB_CHUNK;
    if (m->offset > (uint64_t)size)
        want = 0;
    else if ((uint64_t)size - m->offset < want)
        want = (uint32_t)((uint64_t)size - m->offset);
    char *path = mf_store_path(c->store, &h);
    mf_chunk_t chunk;
    const char *why = s_read_chunk(path, m->offset, want, &chunk);
    free(path);
    if (why) {
        d.error = (char *)why;
        s_send_data(c, peer, &d, NULL);
        return;
    }
    d.checksum = mf_checksum(mf_chunk_data(&chunk), want);
    mf_coord_budget_use(c, &h); /* a fetch under way keeps its blob */
    s_send_data(c, peer, &d, &chunk);
}

static void s_ack(coord_t *c, const mf_peer_t *peer, const char *hash, uint64_t received, int done,
                  const char *error)
{
    Mixfarm__BlobPutAck a = MIXFARM__BLOB_PUT_ACK__INIT;
    a.hash = (char *)hash;
    a.received = received;
    a.done = done;
    a.error = (char *)(error ? error : "");
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_BLOB_PUT_ACK;
    env.blob_put_ack = &a;
    mf_coord_send(c, peer, &env);
}

/* Why the store refused an upload, for its sender: "No space left on
 * device" when the state folder's disk is full (the store logged the path). */
static const char *s_store_refusal(char *buf, size_t n, int saved_errno)
{
    snprintf(buf, n, "the coordinator's store cannot take it: %s",
             saved_errno ? strerror(saved_errno) : "input/output error");
    return buf;
}

static upload_t *s_find_upload(coord_t *c, const mf_peer_t *peer, const char *hash)
{
    for (size_t i = 0; i < c->n_uploads; i++) {
        upload_t *u = &c->uploads[i];
        if (u->peer.n == peer->n && !memcmp(u->peer.id, peer->id, peer->n) &&
            !strcmp(u->hash.hex, hash))
            return u;
    }
    return NULL;
}

static void s_drop_upload(coord_t *c, upload_t *u)
{
    if (u->writer) mf_blob_writer_abort(u->writer);
    *u = c->uploads[--c->n_uploads];
}

/* NULL when m (a first chunk naming a task) is an output of a task the
 * coordinator gave this peer, else why not. */
static const char *s_check_output(coord_t *c, const mf_peer_t *peer, const Mixfarm__BlobPut *m)
{
    mf_hash_t key, name;
    if (!mf_hash_valid(m->task_key)) return "bad task key";
    memcpy(key.hex, m->task_key, MF_HASH_HEX);
    mf_task_output_name(&key, m->output, &name);
    if (strcmp(name.hex, m->hash) != 0) return "not the name of that task's output";
    if (!mf_coord_worker_runs(c, peer, &key)) return "not an output of a task you were given";
    return NULL;
}

void mf_coord_on_blob_put(coord_t *c, const mf_peer_t *peer, const Mixfarm__BlobPut *m)
{
    if (!mf_hash_valid(m->hash) || m->data.len > MF_BLOB_CHUNK) {
        s_ack(c, peer, m->hash, 0, 0, "bad chunk");
        return;
    }
    upload_t *u = s_find_upload(c, peer, m->hash);
    if (mf_checksum(m->data.data, m->data.len) != m->checksum) {
        s_ack(c, peer, m->hash, u ? u->received : 0, 0, "a chunk arrived damaged (checksum)");
        if (u) s_drop_upload(c, u);
        return;
    }
    if (m->offset == 0) {
        if (u) s_drop_upload(c, u); /* a restart of the same upload */
        if (c->n_uploads >= MAX_UPLOADS) {
            s_ack(c, peer, m->hash, 0, 0, "too many uploads at once");
            return;
        }
        const char *deny = m->task_key[0] ? s_check_output(c, peer, m) : NULL;
        if (deny) {
            mf_warn("upload of %.12s refused: %s", m->hash, deny);
            s_ack(c, peer, m->hash, 0, 0, deny);
            return;
        }
        upload_t *ups = realloc(c->uploads, (c->n_uploads + 1) * sizeof *ups);
        if (!ups) return;
        c->uploads = ups;
        u = &c->uploads[c->n_uploads];
        memset(u, 0, sizeof *u);
        u->peer = *peer;
        memcpy(u->hash.hex, m->hash, MF_HASH_HEX);
        u->output = m->task_key[0] != 0;
        u->writer = m->task_key[0] ? mf_blob_writer_new_named(c->store, &u->hash)
                                   : mf_blob_writer_new(c->store);
        if (!u->writer) {
            char why[200];
            s_ack(c, peer, m->hash, 0, 0, s_store_refusal(why, sizeof why, errno));
            return;
        }
        c->n_uploads++;
    }
    if (!u || m->offset != u->received) {
        s_ack(c, peer, m->hash, u ? u->received : 0, 0, "chunk out of order");
        if (u) s_drop_upload(c, u);
        return;
    }
    if (mf_blob_writer_write(u->writer, m->data.data, m->data.len) != MF_OK) {
        char why[200];
        s_ack(c, peer, m->hash, u->received, 0, s_store_refusal(why, sizeof why, errno));
        s_drop_upload(c, u);
        return;
    }
    u->received += m->data.len;
    u->last = mf_clock_now();
    if (!m->last) {
        s_ack(c, peer, m->hash, u->received, 0, NULL);
        return;
    }
    mf_hash_t got;
    mf_err_t err = mf_blob_writer_commit(u->writer, &got);
    u->writer = NULL;
    char refusal[200];
    const char *why = err != MF_OK               ? s_store_refusal(refusal, sizeof refusal, errno)
                      : strcmp(got.hex, m->hash) ? "the bytes do not match the hash"
                                                 : NULL;
    if (why) mf_warn("upload of %.12s refused: %s", m->hash, why);
    if (err == MF_OK) mf_coord_budget_use(c, &got);
    /* A mismatched blob was stored under its true hash: harmless, unnamed. */
    s_ack(c, peer, m->hash, u->received, why == NULL, why);
    const int source = !why && !u->output;
    s_drop_upload(c, u);
    if (source) mf_coord_source_arrived(c, &got); /* jobs may wait for it */
}

void mf_coord_on_blob_have(coord_t *c, const mf_peer_t *peer, const Mixfarm__BlobHave *m)
{
    Mixfarm__BlobHaveReply r = MIXFARM__BLOB_HAVE_REPLY__INIT;
    size_t n = m->n_hashes < MAX_HAVE ? m->n_hashes : MAX_HAVE;
    /* Asked once, not per hash: a submit's question names every source,
     * and a queue may hold thousands of jobs. */
    const int awaited = mf_coord_awaits_sources(c);
    r.missing = calloc(n + 1, sizeof *r.missing);
    for (size_t i = 0; r.missing && i < n; i++) {
        mf_hash_t h;
        if (!mf_hash_valid(m->hashes[i])) continue;
        memcpy(h.hex, m->hashes[i], MF_HASH_HEX);
        if (!mf_store_has(c->store, &h)) {
            r.missing[r.n_missing++] = m->hashes[i];
        } else {
            mf_coord_budget_use(c, &h); /* its submit follows: kept meanwhile */
            /* Or it went before: a client on this store (--shared-store)
             * copied a source it awaits, and says so. */
            if (awaited) mf_coord_source_arrived(c, &h);
        }
    }
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_BLOB_HAVE_REPLY;
    env.blob_have_reply = &r;
    mf_coord_send(c, peer, &env);
    free(r.missing);
}

void mf_coord_expire_uploads(coord_t *c)
{
    double now = mf_clock_now();
    for (size_t i = 0; i < c->n_uploads;) {
        if (now - c->uploads[i].last > UPLOAD_TIMEOUT_S) {
            mf_warn("upload of %.12s abandoned by its sender", c->uploads[i].hash.hex);
            s_drop_upload(c, &c->uploads[i]);
        } else {
            i++;
        }
    }
}

void mf_coord_free_uploads(coord_t *c)
{
    while (c->n_uploads) s_drop_upload(c, &c->uploads[0]);
    free(c->uploads);
    c->uploads = NULL;
}
