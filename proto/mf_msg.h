/* Framing for the farm protocol (farm.proto): one Envelope per ZeroMQ
 * message. On the coordinator's ROUTER socket a message is [peer id][body];
 * on a DEALER it is [body]. recv() validates the frame shape and the
 * protobuf; anything malformed is reported as MF_ERR_PROTOCOL for the caller
 * to log and drop. */
#ifndef MF_MSG_H
#define MF_MSG_H

#include <stddef.h>

#include <zmq.h>

#include "farm.pb-c.h"
#include "mf_error.h"
#include "mf_limits.h"

#define MF_BLOB_CHUNK (1u << 20)           /* bytes per blob chunk */
#define MF_MSG_MAX (MF_BLOB_CHUNK + 65536) /* no frame may be larger (ZMQ_MAXMSGSIZE) */
/* Documents and task parameters are bounded too: a session is text
 * (session/mf_limits.h has every limit of a document). */
#define MF_DOC_MAX MF_LIMIT_DOC_BYTES
/* A larger document travels as a blob (Submit.document_hash), so any
 * document within MF_DOC_MAX fits, with its source list, in one message. */
#define MF_DOC_INLINE (256u << 10)

typedef struct {
    unsigned char id[256];
    size_t n; /* 0 on a DEALER */
} mf_peer_t;

/* A blob chunk's bytes (BlobData.data, BlobPut.data) travel as a frame of
 * their own after the envelope, so protobuf copies them neither way: the
 * sender reads them straight into the frame it sends, and the receiver's
 * envelope points into the frame it received (on inproc, the embedded
 * farm's transport, the bytes are not copied at all). */
typedef struct {
    zmq_msg_t m;
    int held;  /* 1 while m is a received or prepared frame */
    int frame; /* a received envelope's data field points into m (still held, or taken) */
} mf_chunk_t;

/* Sends env (its version is set here) to peer (NULL on a DEALER). */
mf_err_t mf_msg_send(void *sock, const mf_peer_t *peer, Mixfarm__Envelope *env);
/* A frame of n bytes to fill (mf_chunk_data) and send with
 * mf_msg_send_chunk; MF_ERR_NOMEM when it cannot be had. */
mf_err_t mf_chunk_new(mf_chunk_t *c, size_t n);
void *mf_chunk_data(mf_chunk_t *c);
/* Moves a received chunk's frame to *to (a new chunk), so that it outlives
 * the envelope that came with it: mf_msg_release then frees the envelope
 * alone. MF_ERR_INVALID when from holds no frame. */
mf_err_t mf_chunk_take(mf_chunk_t *to, mf_chunk_t *from);
/* Sends env, whose blob body's data field must be empty, then the chunk's
 * frame as that data; the chunk is spent either way. */
mf_err_t mf_msg_send_chunk(void *sock, const mf_peer_t *peer, Mixfarm__Envelope *env,
                           mf_chunk_t *chunk);
/* Receives one message (flags as for zmq_msg_recv, e.g. ZMQ_DONTWAIT).
 * With router != 0 the peer id frame is expected and stored in *peer.
 * Returns MF_OK and a new envelope, MF_ERR_PROTOCOL for a malformed message
 * (consumed, *out NULL), or MF_ERR_IO when nothing could be received (errno
 * says why). A blob body may have its data in a second frame: then its data
 * field points into *chunk (NULL: such a message is malformed), which
 * mf_msg_release frees with the envelope. */
mf_err_t mf_msg_recv(void *sock, int router, int flags, mf_peer_t *peer, Mixfarm__Envelope **out,
                     mf_chunk_t *chunk);
/* Frees a received envelope (NULL is fine) and its chunk (may be NULL). */
void mf_msg_release(Mixfarm__Envelope *env, mf_chunk_t *chunk);
/* A printable short form of a peer id, for logs. */
const char *mf_peer_name(const mf_peer_t *peer, char *buf, size_t size);

/* Readies sock for endpoint before its bind or connect: an IPv6 address
 * (tcp://[fd00::5]:5555, tcp://[::]:5555) needs ZMQ_IPV6 on the socket,
 * which ZeroMQ leaves off (then "No such device"). Only for a bracketed
 * address: a host name keeps resolving to IPv4, as every farm before did.
 * On an IPv6 socket a bind to [::] accepts IPv4 clients too. 0, or -1
 * with errno. */
int mf_msg_endpoint_ready(void *sock, const char *endpoint);

#endif
