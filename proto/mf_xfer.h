/* Asynchronous blob transfer between a peer's local store and the
 * coordinator, over the peer's DEALER socket, driven from the peer's own
 * message loop.
 *
 * A get asks for a blob in chunks (BlobGet -> BlobData) and streams them
 * through the local store's blob writer, each chunk checked against its
 * XXH3 checksum: the coordinator is the authority on names (it checked
 * every upload), a transfer only has to arrive intact. A put sends a local
 * blob in order (BlobPut -> one BlobPutAck per chunk, each with its
 * checksum; the last ack says done once the coordinator has stored and
 * verified it: by its SHA-256, or, for a task's output, by who sent it). At most
 * MF_XFER_WINDOW chunks are in flight for gets and as many for puts, so the
 * memory used is bounded by the window, never by the size of a blob.
 *
 * Transfers of the same hash in the same direction are merged: each caller
 * is still told. Transfers run in the order they were asked for.
 *
 * Lifecycle: mf_xfer_new binds the engine to a socket the caller owns (and
 * keeps open while the engine lives); the caller passes every envelope it
 * receives to mf_xfer_handle; when the connection is lost, mf_xfer_reset
 * fails whatever is in flight and the engine can be freed (a new connection
 * needs a new engine). */
#ifndef MF_XFER_H
#define MF_XFER_H

#include <stddef.h>
#include <stdint.h>

#include "farm.pb-c.h"
#include "mf_error.h"
#include "mf_hash.h"
#include "mf_store.h"

/* Chunks in flight per direction. */
#define MF_XFER_WINDOW 8

typedef struct mf_xfer mf_xfer_t;

/* Called exactly once per mf_xfer_get / mf_xfer_put call: err is MF_OK when
 * the blob is in the local store (get) or stored by the coordinator (put).
 * MF_ERR_NOENT: no such blob (at the coordinator for a get, locally for a
 * put); MF_ERR_CORRUPT: a chunk did not match its checksum; MF_ERR_PROTOCOL:
 * the coordinator answered out of turn; MF_ERR_IO: a local store error or the
 * coordinator refused an upload; MF_ERR_UNREACHABLE: the connection was lost.
 * The callback may start new transfers. */
typedef void (*mf_xfer_fn)(void *ctx, const mf_hash_t *hash, mf_err_t err);

/* dealer: a connected DEALER socket (borrowed); local: the store blobs are
 * fetched into and uploaded from (borrowed). NULL when out of memory. */
mf_xfer_t *mf_xfer_new(void *dealer, mf_store_t *local);
/* Frees the engine; transfers still in flight are dropped without their
 * callbacks (call mf_xfer_reset first to have them told). NULL-safe. */
void mf_xfer_free(mf_xfer_t **x);

/* Fetches a blob into the local store. A blob already there completes at
 * once: cb runs before this returns. */
void mf_xfer_get(mf_xfer_t *x, const mf_hash_t *hash, mf_xfer_fn cb, void *ctx);
/* Where a get's bytes go instead of the local store. write takes each
 * chunk, checked, in order; commit says the blob is whole (size bytes) and
 * cleans up after itself if it fails; abort drops what was written. A sink
 * is given exactly one commit or one abort. */
typedef struct {
    mf_err_t (*write)(void *ctx, const uint8_t *data, size_t n);
    mf_err_t (*commit)(void *ctx, uint64_t size);
    void (*abort)(void *ctx);
    void *ctx;
} mf_xfer_sink_t;

/* Fetches a blob into sink (copied) rather than into the local store: a
 * client writes a file as its blob arrives. One get of a hash at a time: a
 * sink's get while another get of that hash runs, or a plain get while a
 * sink's runs, fails at once with MF_ERR_INVALID (the sink is aborted). */
void mf_xfer_get_into(mf_xfer_t *x, const mf_hash_t *hash, const mf_xfer_sink_t *sink,
                      mf_xfer_fn cb, void *ctx);
/* Uploads a blob of the local store to the coordinator. */
void mf_xfer_put(mf_xfer_t *x, const mf_hash_t *hash, mf_xfer_fn cb, void *ctx);
/* Uploads output index of the task with this key, named
 * mf_task_output_name(key, index) (a worker, for the task it was given). */
void mf_xfer_put_output(mf_xfer_t *x, const mf_hash_t *hash, const mf_hash_t *key, uint32_t output,
                        mf_xfer_fn cb, void *ctx);

/* Uploads output index of the task with key while its writer is still
 * writing it (mf_writes.h: the store publishes named writes): whole chunks
 * as the file grows, the last once it is committed; MF_ERR_IO when the
 * write fails. A put of the same blob asked for meanwhile (the task's
 * result) joins it, and one asked for just after it ended completes at
 * once. */
void mf_xfer_put_live(mf_xfer_t *x, mf_writes_t *writes, const mf_hash_t *hash,
                      const mf_hash_t *key, uint32_t output, mf_xfer_fn cb, void *ctx);
/* 1 while a live upload waits for bytes: its caller should call
 * mf_xfer_poke again soon (it is not woken when a file grows). */
int mf_xfer_live(const mf_xfer_t *x);
/* Sends what the windows allow now. */
void mf_xfer_poke(mf_xfer_t *x);

/* Returns 1 when env was a blob reply (BlobData or BlobPutAck), which the
 * engine consumed (even one for no transfer of its own), 0 otherwise. The
 * caller still owns and frees env. */
int mf_xfer_handle(mf_xfer_t *x, const Mixfarm__Envelope *env);
/* Transfers not yet complete. */
size_t mf_xfer_pending(const mf_xfer_t *x);
/* The connection is lost: fails every transfer with MF_ERR_UNREACHABLE. */
void mf_xfer_reset(mf_xfer_t *x);

/* For simple clients with nothing else on the socket: receives and handles
 * messages until no transfer is pending (other messages are dropped with a
 * debug line). Returns MF_OK when every transfer that completed since the
 * previous wait succeeded, else the first failure's code;
 * MF_ERR_UNREACHABLE (after mf_xfer_reset) when timeout_ms passes without a
 * message; MF_ERR_CANCELLED when a signal interrupted the wait (transfers
 * stay pending: wait again or reset). */
mf_err_t mf_xfer_wait(mf_xfer_t *x, int timeout_ms);
/* For clients with calls of their own on the socket: handles messages for
 * at most ms milliseconds, returning early when no transfer is pending or a
 * signal interrupted the wait; nothing is failed. */
void mf_xfer_pump(mf_xfer_t *x, int ms);

#endif
