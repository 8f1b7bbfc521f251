/* Blobs over the wire: chunks served from the store (BlobGet), uploads
 * streamed into it (BlobPut, one ack per chunk so senders keep a bounded
 * window), and "which of these do you lack?" (BlobHave). The reads and
 * writes themselves run off the loop (coord_blob_io.c); what they did
 * comes back here (mf_coord_blob_data, mf_coord_upload_written). Memory
 * per upload is a sender's window of chunks, whatever the blob size. Every chunk carries its XXH3
 * checksum. An upload is verified against its claimed name: by the SHA-256
 * of its bytes, or, for a task's output (mf_task_output_name), by coming
 * from the worker that runs that task. */
#include "coord_internal.h"
#include "mf_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void mf_coord_blob_data(coord_t *c, const mf_peer_t *peer, const char *hash, uint64_t offset,
                        uint64_t total, mf_chunk_t *chunk, uint64_t checksum, const char *error)
{
    Mixfarm__BlobData d = MIXFARM__BLOB_DATA__INIT;
    d.hash = (char *)hash;
    d.offset = offset;
    d.total_size = total;
    if (error) d.error = (char *)error;
    d.checksum = checksum;
    s_send_data(c, peer, &d, error ? NULL : chunk);
}

void mf_coord_on_blob_get(coord_t *c, const mf_peer_t *peer, const Mixfarm__BlobGet *m)
{
    mf_hash_t h;
    if (!mf_hash_valid(m->hash)) {
        mf_coord_blob_data(c, peer, m->hash, m->offset, 0, NULL, 0, "not a blob hash");
        return;
    }
    memcpy(h.hex, m->hash, MF_HASH_HEX);
    int64_t size = mf_store_size(c->store, &h);
    if (size < 0) {
        mf_coord_blob_data(c, peer, m->hash, m->offset, 0, NULL, 0, "no such blob");
        return;
    }
    uint32_t want = m->length < MF_BLOB_CHUNK ? m->length : MF_BLOB_CHUNK;
    if (m->offset > (uint64_t)size)
        want = 0;
    else if ((uint64_t)size - m->offset < want)
        want = (uint32_t)((uint64_t)size - m->offset);
    mf_coord_budget_use(c, &h); /* a fetch under way keeps its blob */
    mf_coord_bio_get(c, peer, &h, m->offset, want, (uint64_t)size);
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
    mf_coord_bio_abort(c, u->writer); /* after its writes queued before */
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

void mf_coord_on_blob_put(coord_t *c, const mf_peer_t *peer, const Mixfarm__BlobPut *m,
                          mf_chunk_t *chunk)
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
        u->serial = ++c->upload_serial;
        u->writer = m->task_key[0] ? mf_blob_writer_new_named(c->store, &u->hash)
                                   : mf_blob_writer_new(c->store);
        if (!u->writer) {
            char why[200];
            s_ack(c, peer, m->hash, 0, 0, s_store_refusal(why, sizeof why, errno));
            return;
        }
        c->n_uploads++;
    }
    if (!u || !u->writer || m->offset != u->received) {
        s_ack(c, peer, m->hash, u ? u->received : 0, 0, "chunk out of order");
        if (u) s_drop_upload(c, u);
        return;
    }
    u->received += m->data.len;
    u->last = mf_clock_now();
    if (mf_coord_bio_write(c, u, chunk, m->data.data, m->data.len, m->last) != MF_OK) {
        s_ack(c, peer, m->hash, u->received - m->data.len, 0, "out of memory");
        s_drop_upload(c, u);
        return;
    }
    if (m->last) u->writer = NULL; /* the writing thread commits it, and frees it */
}

void mf_coord_upload_written(coord_t *c, const mf_peer_t *peer, const mf_hash_t *hash,
                             uint64_t serial, uint64_t received, int last, mf_err_t err,
                             int saved_errno, const mf_hash_t *got)
{
    upload_t *u = s_find_upload(c, peer, hash->hex);
    if (!u || u->serial != serial) return; /* dropped meanwhile, or begun again */
    char refusal[200];
    if (err != MF_OK) {
        s_ack(c, peer, hash->hex, received, 0,
              s_store_refusal(refusal, sizeof refusal, saved_errno));
        s_drop_upload(c, u);
        return;
    }
    if (!last) {
        s_ack(c, peer, hash->hex, received, 0, NULL);
        return;
    }
    const char *why = strcmp(got->hex, hash->hex) ? "the bytes do not match the hash" : NULL;
    if (why) mf_warn("upload of %.12s refused: %s", hash->hex, why);
    mf_coord_budget_use(c, got);
    /* A mismatched blob was stored under its true hash: harmless, unnamed. */
    s_ack(c, peer, hash->hex, received, why == NULL, why);
    const int source = !why && !u->output;
    const mf_hash_t arrived = *got;
    s_drop_upload(c, u);
    if (source) mf_coord_source_arrived(c, &arrived); /* jobs may wait for it */
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
