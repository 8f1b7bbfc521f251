/* CURVE key files, socket set-up and the handshake watch (mf_curve.h). The
 * ZAP handler is in mf_zap.c. */
#include "mf_curve.h"
#include "mf_hash.h"
#include "mf_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

void mf_curve_fingerprint(const char *z85_public, char out[MF_CURVE_FP])
{
    mf_hash_t h;
    mf_hash_bytes(z85_public, strlen(z85_public), &h);
    memcpy(out, h.hex, MF_CURVE_FP - 1);
    out[MF_CURVE_FP - 1] = 0;
}

static int s_write_all(int fd, const char *text)
{
    size_t n = strlen(text), off = 0;
    while (off < n) {
        ssize_t k = write(fd, text + off, n - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        off += (size_t)k;
    }
    return 0;
}

/* Creates path (never over an existing file) with mode and writes text. */
static mf_err_t s_create(const char *path, mode_t mode, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        mf_error("%s: %s", path,
                 errno == EEXIST ? "already exists (keys are never overwritten)" : strerror(errno));
        return errno == EEXIST ? MF_ERR_INVALID : MF_ERR_IO;
    }
    int rc = fchmod(fd, mode) == 0 && s_write_all(fd, text) == 0 && fsync(fd) == 0 ? 0 : -1;
    if (close(fd) != 0) rc = -1;
    if (rc != 0) {
        mf_error("%s: cannot write: %s", path, strerror(errno));
        unlink(path);
        return MF_ERR_IO;
    }
    return MF_OK;
}

mf_err_t mf_curve_keygen(const char *name, char fingerprint[MF_CURVE_FP])
{
    char pub[MF_CURVE_Z85], sec[MF_CURVE_Z85], fp[MF_CURVE_FP];
    if (!zmq_has("curve") || zmq_curve_keypair(pub, sec) != 0) {
        mf_error("this libzmq cannot make CURVE keys: %s", zmq_strerror(errno));
        return MF_ERR_IO;
    }
    mf_curve_fingerprint(pub, fp);
    size_t n = strlen(name) + 8;
    char *key_path = malloc(n), *pub_path = malloc(n), text[512];
    mf_err_t err = MF_ERR_NOMEM;
    if (!key_path || !pub_path) goto done;
    snprintf(key_path, n, "%s.key", name);
    snprintf(pub_path, n, "%s.pub", name);
    if (access(pub_path, F_OK) == 0) {
        mf_error("%s: already exists (keys are never overwritten)", pub_path);
        err = MF_ERR_INVALID;
        goto done;
    }
    snprintf(text, sizeof text,
             "# mixfarm CURVE secret key (fingerprint %s): keep it private, never share it\n"
             "%s\n",
             fp, sec);
    if ((err = s_create(key_path, 0600, text)) != MF_OK) goto done;
    snprintf(text, sizeof text,
             "# mixfarm CURVE public key (fingerprint %s): copy it into the coordinator's\n"
             "# --allow folder (for a worker or client) or give it as --server-key (for the\n"
             "# coordinator's own key)\n%s\n",
             fp, pub);
    if ((err = s_create(pub_path, 0644, text)) != MF_OK) unlink(key_path);
    if (err == MF_OK && fingerprint) memcpy(fingerprint, fp, MF_CURVE_FP);
done:
    memset(sec, 0, sizeof sec);
    memset(text, 0, sizeof text);
    free(key_path);
    free(pub_path);
    return err;
}

/* The first line that is neither blank nor a comment, as a Z85 key of 32
 * bytes. Never logs the file's content. */
static mf_err_t s_read_key(const char *path, char out[MF_CURVE_Z85], int *mode_out)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        mf_error("%s: %s", path, strerror(errno));
        return errno == ENOENT ? MF_ERR_NOENT : MF_ERR_IO;
    }
    struct stat st;
    if (mode_out) *mode_out = fstat(fileno(f), &st) == 0 ? (int)(st.st_mode & 0777) : 0;
    char line[256];
    mf_err_t err = MF_ERR_FORMAT;
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '#' || *p == '\n' || *p == '\r' || !*p) continue;
        size_t n = strcspn(p, " \t\r\n");
        uint8_t bin[32];
        if (n == MF_CURVE_Z85 - 1) {
            memcpy(out, p, n);
            out[n] = 0;
            if (zmq_z85_decode(bin, out)) err = MF_OK;
        }
        memset(bin, 0, sizeof bin);
        break;
    }
    memset(line, 0, sizeof line);
    fclose(f);
    if (err != MF_OK) mf_error("%s: not a CURVE key file (40 Z85 characters expected)", path);
    return err;
}

mf_err_t mf_curve_load(const char *name, mf_curve_keys_t *k)
{
    size_t n = strlen(name) + 8;
    char *path = malloc(n);
    if (!path) return MF_ERR_NOMEM;
    snprintf(path, n, "%s.key", name);
    int mode = 0;
    mf_err_t err = s_read_key(path, k->secret_key, &mode);
    if (err == MF_OK && zmq_curve_public(k->public_key, k->secret_key) != 0) {
        mf_error("%s: cannot derive the public key: %s", path, zmq_strerror(errno));
        err = MF_ERR_FORMAT;
    }
    if (err == MF_OK && (mode & 077))
        mf_warn("%s: the secret key is readable by others (mode %03o); chmod 600 it", path, mode);
    if (err != MF_OK) memset(k->secret_key, 0, sizeof k->secret_key);
    free(path);
    return err;
}

mf_err_t mf_curve_load_public(const char *file, char out[MF_CURVE_Z85])
{
    if (access(file, F_OK) != 0) {
        size_t n = strlen(file) + 8;
        char *alt = malloc(n);
        if (!alt) return MF_ERR_NOMEM;
        snprintf(alt, n, "%s.pub", file);
        mf_err_t err = access(alt, F_OK) == 0 ? s_read_key(alt, out, NULL) : MF_ERR_NOENT;
        free(alt);
        if (err != MF_ERR_NOENT) return err;
    }
    return s_read_key(file, out, NULL);
}

int mf_curve_server(void *sock, const mf_curve_keys_t *k)
{
    int one = 1;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0) return -1;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, k->secret_key, MF_CURVE_Z85 - 1) != 0) return -1;
    /* A domain makes libzmq ask the ZAP handler about every peer. */
    return zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, "mixfarm", 7);
}

int mf_curve_client(void *sock, const mf_curve_keys_t *k)
{
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, k->server_key, MF_CURVE_Z85 - 1) != 0) return -1;
    if (zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, k->public_key, MF_CURVE_Z85 - 1) != 0) return -1;
    return zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, k->secret_key, MF_CURVE_Z85 - 1);
}

/* ---- the handshake watch ---- */

struct mf_curve_watch {
    void *pair;
    char failure[200];
    int failed;
    int closed; /* connections closed by the peer mid-handshake, in a row */
};

mf_curve_watch_t *mf_curve_watch_new(void *zctx, void *sock)
{
    mf_curve_watch_t *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    static int s_count;
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://mixfarm-watch-%d-%d", (int)getpid(),
             __atomic_fetch_add(&s_count, 1, __ATOMIC_RELAXED));
    int events = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                 ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
    int zero = 0;
    if (zmq_socket_monitor(sock, ep, events) != 0 || !(w->pair = zmq_socket(zctx, ZMQ_PAIR)) ||
        zmq_setsockopt(w->pair, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_connect(w->pair, ep) != 0) {
        mf_curve_watch_free(&w);
        return NULL;
    }
    return w;
}

void *mf_curve_watch_socket(mf_curve_watch_t *w)
{
    return w->pair;
}

/* Reads one monitor event (two frames); 0, or -1 when none is waiting. */
int mf_curve__read_event(void *pair, unsigned short *event, unsigned *value, char *addr,
                         unsigned long n)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, pair, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return -1;
    }
    const uint8_t *d = zmq_msg_data(&m);
    int ok = zmq_msg_size(&m) >= 6 && zmq_msg_more(&m);
    if (ok) {
        memcpy(event, d, 2);
        memcpy(value, d + 2, 4);
    }
    zmq_msg_close(&m);
    if (!ok) return -1;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, pair, 0) >= 0 && addr) {
        size_t k = zmq_msg_size(&m) < n - 1 ? zmq_msg_size(&m) : n - 1;
        memcpy(addr, zmq_msg_data(&m), k);
        addr[k] = 0;
    }
    zmq_msg_close(&m);
    return 0;
}

const char *mf_curve__failure_words(unsigned short event, unsigned value)
{
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        return "the coordinator refused this key (its public key is not in the coordinator's "
               "--allow folder)";
    if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
        return "CURVE on one side only (--curve-keys, MIXFARM_KEYS)";
    if (value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
        return "the CURVE handshake failed: wrong server key (--server-key, MIXFARM_SERVER_KEY)";
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        return "the coordinator closes the connection during the handshake: CURVE on one side "
               "only (--curve-keys, MIXFARM_KEYS), or the wrong server key (--server-key, "
               "MIXFARM_SERVER_KEY)";
    return "the secure handshake failed (a protocol error)";
}

const char *mf_curve_watch_failure(mf_curve_watch_t *w)
{
    unsigned short event;
    unsigned value;
    while (mf_curve__read_event(w->pair, &event, &value, NULL, 0) == 0) {
        /* The peer closing once mid-handshake may be a restart; twice in a
         * row (libzmq retries within a few hundred ms) is a refusal. */
        w->closed = event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL ? w->closed + 1 : 0;
        w->failed = event != ZMQ_EVENT_HANDSHAKE_SUCCEEDED &&
                    (event != ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL || w->closed >= 2);
        if (w->failed)
            snprintf(w->failure, sizeof w->failure, "%s", mf_curve__failure_words(event, value));
    }
    return w->failed ? w->failure : NULL;
}

void mf_curve_watch_free(mf_curve_watch_t **wp)
{
    if (!wp || !*wp) return;
    if ((*wp)->pair) zmq_close((*wp)->pair);
    free(*wp);
    *wp = NULL;
}
