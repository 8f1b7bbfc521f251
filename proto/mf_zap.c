/* The coordinator's ZAP handler (ZeroMQ RFC 27): a thread with a REP socket
 * on inproc://zeromq.zap.01 that admits a CURVE peer only when its public
 * key is in the allow folder. The folder is read on every request, so a key
 * added (rotation) or removed (revocation) counts from the next handshake,
 * with no restart. Refusals are logged with the peer's address and the
 * key's fingerprint, never the key, and at most once a minute per peer and
 * key (a refused peer's socket retries every few hundred milliseconds). */
#include "mf_curve.h"
#include "mf_clock.h"
#include "mf_log.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define MAX_FRAMES 8
#define QUIET_S 60.0 /* one log line per refused peer and key per minute */
#define N_RECENT 32

typedef struct {
    char what[128]; /* "address fingerprint" */
    double at;
} recent_t;

struct mf_zap {
    char *allow_dir;
    void *rep, *monitor;
    pthread_t thread;
    int started;
    atomic_int stop;
    recent_t recent[N_RECENT];
    double last_mismatch_log;
};

/* Whether `what` was logged less than QUIET_S ago; remembers it if not. */
static int s_quiet(mf_zap_t *z, const char *what)
{
    double now = mf_clock_now();
    recent_t *oldest = &z->recent[0];
    for (int i = 0; i < N_RECENT; i++) {
        recent_t *r = &z->recent[i];
        if (!strcmp(r->what, what) && now - r->at < QUIET_S) return 1;
        if (r->at < oldest->at) oldest = r;
    }
    snprintf(oldest->what, sizeof oldest->what, "%s", what);
    oldest->at = now;
    return 0;
}

/* The 32-byte key in a .pub file (first non-comment line), quietly. */
static int s_read_pub(const char *path, uint8_t key[32])
{
    FILE *f = fopen(path, "re");
    if (!f) return -1;
    char line[256];
    int rc = -1;
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '#' || *p == '\n' || *p == '\r' || !*p) continue;
        p[strcspn(p, " \t\r\n")] = 0;
        rc = strlen(p) == MF_CURVE_Z85 - 1 && zmq_z85_decode(key, p) ? 0 : -1;
        break;
    }
    fclose(f);
    return rc;
}

/* Finds key among the folder's .pub files; fills the file's name. */
static int s_allowed(const char *dir, const uint8_t key[32], char *file, size_t n)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int found = 0;
    for (struct dirent *e; !found && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".pub") || e->d_name[0] == '.') continue;
        char path[4096];
        uint8_t k[32];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (s_read_pub(path, k) == 0 && !memcmp(k, key, 32)) {
            found = 1;
            snprintf(file, n, "%s", e->d_name);
        }
    }
    closedir(d);
    return found;
}

static void s_send(void *sock, const void *data, size_t n, int more)
{
    zmq_send(sock, data, n, more ? ZMQ_SNDMORE : 0);
}

/* One request: read every frame, decide, reply. */
static void s_answer(mf_zap_t *z)
{
    zmq_msg_t f[MAX_FRAMES];
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, z->rep, 0) < 0) {
            zmq_msg_close(&m);
            break;
        }
        more = zmq_msg_more(&m);
        if (n < MAX_FRAMES)
            f[n++] = m;
        else
            zmq_msg_close(&m);
    }
    if (n < 6) { /* not a ZAP request: REP still owes a reply */
        s_send(z->rep, "1.0", 3, 1);
        s_send(z->rep, n > 1 ? zmq_msg_data(&f[1]) : "", n > 1 ? zmq_msg_size(&f[1]) : 0, 1);
        s_send(z->rep, "500", 3, 1);
        s_send(z->rep, "malformed request", 17, 1);
        s_send(z->rep, "", 0, 1);
        s_send(z->rep, "", 0, 0);
        for (int i = 0; i < n; i++) zmq_msg_close(&f[i]);
        return;
    }
    char address[80] = "", mechanism[16] = "", file[256] = "";
    snprintf(address, sizeof address, "%.*s", (int)zmq_msg_size(&f[3]),
             (const char *)zmq_msg_data(&f[3]));
    snprintf(mechanism, sizeof mechanism, "%.*s", (int)zmq_msg_size(&f[5]),
             (const char *)zmq_msg_data(&f[5]));
    const char *status = "400", *text = "CURVE only";
    if (!strcmp(mechanism, "CURVE") && n >= 7 && zmq_msg_size(&f[6]) == 32) {
        const uint8_t *key = zmq_msg_data(&f[6]);
        char z85[MF_CURVE_Z85], fp[MF_CURVE_FP], what[128];
        zmq_z85_encode(z85, key, 32);
        mf_curve_fingerprint(z85, fp);
        if (s_allowed(z->allow_dir, key, file, sizeof file)) {
            status = "200";
            text = "OK";
            mf_debug("accepted a peer from %s: key %s (fingerprint %s)", address, file, fp);
        } else {
            text = "key not allowed";
            snprintf(what, sizeof what, "%s %s", address, fp);
            if (!s_quiet(z, what))
                mf_warn("refused a peer from %s: its CURVE key (fingerprint %s) is not in %s",
                        address, fp, z->allow_dir);
        }
    } else if (!s_quiet(z, address)) {
        mf_warn("refused a peer from %s: mechanism %s, only CURVE is accepted", address, mechanism);
    }
    s_send(z->rep, "1.0", 3, 1);
    s_send(z->rep, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), 1);
    s_send(z->rep, status, 3, 1);
    s_send(z->rep, text, strlen(text), 1);
    s_send(z->rep, file, strlen(file), 1); /* the user id: which .pub let it in */
    s_send(z->rep, "", 0, 0);
    for (int i = 0; i < n; i++) zmq_msg_close(&f[i]);
}

/* Handshakes that fail before ZAP is asked: peers without CURVE, or with
 * another server key. The address is the listening endpoint. */
static void s_watch(mf_zap_t *z)
{
    unsigned short event;
    unsigned value;
    char addr[128];
    while (mf_curve__read_event(z->monitor, &event, &value, addr, sizeof addr) == 0) {
        if (event != ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) continue;
        double now = mf_clock_now();
        if (now - z->last_mismatch_log < 10) continue;
        z->last_mismatch_log = now;
        const char *why =
            value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH ? "it does not use CURVE"
            : value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC    ? "it has another server key"
                                                                : "a protocol error";
        mf_warn("refused a peer on %s: the CURVE handshake failed (%s)", addr, why);
    }
}

static void *s_main(void *arg)
{
    mf_zap_t *z = arg;
    mf_log_thread_min(MF_LOG_DEBUG);
    while (!z->stop) {
        zmq_pollitem_t it[2] = {{z->rep, 0, ZMQ_POLLIN, 0}, {z->monitor, 0, ZMQ_POLLIN, 0}};
        int k = zmq_poll(it, z->monitor ? 2 : 1, 200);
        if (k < 0) continue; /* EINTR; ETERM cannot happen before stop */
        if (it[0].revents & ZMQ_POLLIN) s_answer(z);
        if (z->monitor && (it[1].revents & ZMQ_POLLIN)) s_watch(z);
    }
    return NULL;
}

mf_zap_t *mf_zap_start(void *zctx, const char *allow_dir, void *server_sock)
{
    mf_zap_t *z = calloc(1, sizeof *z);
    if (!z || !(z->allow_dir = strdup(allow_dir))) goto fail;
    DIR *d = opendir(allow_dir);
    if (!d) {
        mf_error("%s: cannot read the --allow folder", allow_dir);
        goto fail;
    }
    int keys = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        char path[4096];
        uint8_t k[32];
        if (len < 5 || strcmp(e->d_name + len - 4, ".pub") || e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", allow_dir, e->d_name);
        if (s_read_pub(path, k) == 0)
            keys++;
        else
            mf_warn("%s: not a CURVE public key file; ignored", path);
    }
    closedir(d);
    int zero = 0;
    z->rep = zmq_socket(zctx, ZMQ_REP);
    if (!z->rep || zmq_setsockopt(z->rep, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_bind(z->rep, ZAP_ENDPOINT) != 0) {
        mf_error("cannot start the CURVE authenticator: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    if (server_sock) {
        char ep[64];
        snprintf(ep, sizeof ep, "inproc://mixfarm-zap-watch-%p", (void *)z);
        if (zmq_socket_monitor(server_sock, ep, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) != 0 ||
            !(z->monitor = zmq_socket(zctx, ZMQ_PAIR)) ||
            zmq_setsockopt(z->monitor, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
            zmq_connect(z->monitor, ep) != 0) {
            mf_error("cannot watch the coordinator's handshakes: %s", zmq_strerror(zmq_errno()));
            goto fail;
        }
    }
    if (pthread_create(&z->thread, NULL, s_main, z) != 0) goto fail;
    z->started = 1;
    mf_info("CURVE: %d allowed key%s in %s (read again at every connection)", keys,
            keys == 1 ? "" : "s", allow_dir);
    return z;
fail:
    mf_zap_stop(&z);
    return NULL;
}

void mf_zap_stop(mf_zap_t **zp)
{
    if (!zp || !*zp) return;
    mf_zap_t *z = *zp;
    z->stop = 1;
    if (z->started) pthread_join(z->thread, NULL);
    if (z->rep) zmq_close(z->rep);
    if (z->monitor) zmq_close(z->monitor);
    free(z->allow_dir);
    free(z);
    *zp = NULL;
}
