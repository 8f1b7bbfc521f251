/* Framing for the farm protocol (farm.proto): one Envelope per ZeroMQ
 * message. On the coordinator's ROUTER socket a message is [peer id][body];
 * on a DEALER it is [body]. recv() validates the frame shape and the
 * protobuf; anything malformed is reported as MF_ERR_PROTOCOL for the caller
 * to log and drop. */
#ifndef MF_MSG_H
#define MF_MSG_H

#include <stddef.h>

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

/* Sends env (its version is set here) to peer (NULL on a DEALER). */
mf_err_t mf_msg_send(void *sock, const mf_peer_t *peer, Mixfarm__Envelope *env);
/* Receives one message (flags as for zmq_msg_recv, e.g. ZMQ_DONTWAIT).
 * With router != 0 the peer id frame is expected and stored in *peer.
 * Returns MF_OK and a new envelope (mixfarm__envelope__free_unpacked),
 * MF_ERR_PROTOCOL for a malformed message (consumed, *out NULL), or
 * MF_ERR_IO when nothing could be received (errno says why). */
mf_err_t mf_msg_recv(void *sock, int router, int flags, mf_peer_t *peer, Mixfarm__Envelope **out);
/* A printable short form of a peer id, for logs. */
const char *mf_peer_name(const mf_peer_t *peer, char *buf, size_t size);

#endif
