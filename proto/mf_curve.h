/* CURVE security for the farm (ZeroMQ's CurveZMQ): key files, socket set-up,
 * the coordinator's ZAP handler and a watch on a connecting socket's
 * handshakes.
 *
 * Key files are text: optional "#" comment lines, then the key in Z85 (40
 * characters). NAME.key holds the secret key (mode 0600; the public key is
 * derived from it), NAME.pub the public key. A public key is shown in logs
 * only as its fingerprint (the first 16 hex digits of the SHA-256 of its Z85
 * form); a secret key is never logged.
 *
 * Without a ZAP handler, CURVE lets in any peer that knows the server's
 * public key; mf_zap_start binds one that admits only the public keys found
 * in an allow folder (one .pub file each), read again on every handshake so
 * adding or removing a file takes effect for the next connection. */
#ifndef MF_CURVE_H
#define MF_CURVE_H

#include "mf_error.h"

#define MF_CURVE_Z85 41 /* 40 Z85 characters and a NUL */
#define MF_CURVE_FP 17  /* 16 hex digits and a NUL */

typedef struct {
    char public_key[MF_CURVE_Z85];
    char secret_key[MF_CURVE_Z85];
    char server_key[MF_CURVE_Z85]; /* a client's or worker's: the coordinator's public key */
} mf_curve_keys_t;

/* Writes a new key pair: NAME.key (mode 0600, refused if it exists) and
 * NAME.pub. fingerprint (may be NULL) receives the public key's. Logs why on
 * failure: MF_ERR_INVALID (a file exists), MF_ERR_IO. */
mf_err_t mf_curve_keygen(const char *name, char fingerprint[MF_CURVE_FP]);
/* Reads NAME.key into k (public and secret; server_key untouched). Warns
 * when the file is readable by others. Logs why on failure. */
mf_err_t mf_curve_load(const char *name, mf_curve_keys_t *k);
/* Reads a public key file (FILE, or FILE.pub when FILE does not exist). */
mf_err_t mf_curve_load_public(const char *file, char out[MF_CURVE_Z85]);
void mf_curve_fingerprint(const char *z85_public, char out[MF_CURVE_FP]);

/* Socket set-up, before bind or connect: 0, or -1 with errno set. */
int mf_curve_server(void *sock, const mf_curve_keys_t *k);
int mf_curve_client(void *sock, const mf_curve_keys_t *k);

/* The ZAP handler: a thread answering inproc://zeromq.zap.01 in zctx. With
 * server_sock, it also watches that socket's handshakes and logs peers that
 * fail before ZAP is asked (no CURVE, or the wrong server key). Call before
 * the server socket binds. NULL on failure (logged). */
typedef struct mf_zap mf_zap_t;
mf_zap_t *mf_zap_start(void *zctx, const char *allow_dir, void *server_sock);
void mf_zap_stop(mf_zap_t **z);

/* A watch on a connecting socket: why its last handshake failed, if it did.
 * mf_curve_watch_failure reads the events without waiting and returns a
 * sentence (valid until the next call), or NULL when none failed. */
typedef struct mf_curve_watch mf_curve_watch_t;
mf_curve_watch_t *mf_curve_watch_new(void *zctx, void *sock);
void *mf_curve_watch_socket(mf_curve_watch_t *w); /* to poll, ZMQ_POLLIN */
const char *mf_curve_watch_failure(mf_curve_watch_t *w);
void mf_curve_watch_free(mf_curve_watch_t **w);

/* Shared by mf_curve.c and mf_zap.c: reads one socket-monitor event without
 * waiting (0, or -1 when none); the words for a failed handshake event. */
int mf_curve__read_event(void *pair, unsigned short *event, unsigned *value, char *addr,
                         unsigned long n);
const char *mf_curve__failure_words(unsigned short event, unsigned value);

#endif
