/* Cluster tests that speak the protocol themselves (ZeroMQ and the
 * generated protobuf, no mixfarm code between): a message as a peer with
 * bugs or of another version would send it. */
#ifndef CLUSTER_RAW_H
#define CLUSTER_RAW_H

#include <stddef.h>

#include "farm.pb-c.h"

/* Sends one envelope as is (its version included: mf_msg_send would
 * overwrite it). Asserts it went. */
void cl_send_raw(void *sock, Mixfarm__Envelope *env);
/* Sends env (version set here) on a socket of its own and returns the
 * first reply, or NULL when none came in time (free it). */
Mixfarm__Envelope *cl_call_raw(const char *ep, Mixfarm__Envelope *env);
/* Submits doc (named name) with its n sources named, asking the coordinator
 * to wait for the files it lacks when follow is set; asserts a SubmitReply
 * came and returns it (free it). */
Mixfarm__Envelope *cl_submit_raw(const char *ep, const char *name, const char *doc,
                                 Mixfarm__SourceRef **sources, size_t n, int follow);
/* The BlobPutAck's error for one single-chunk put (empty when none came). */
void cl_put_once(const char *ep, Mixfarm__BlobPut *p, char *error, size_t n);

#endif
