/* The coordinator's HTTP server (--http ADDR:PORT), on libmicrohttpd's own
 * thread: the dashboard at /, the JSON API under /api/, Prometheus metrics at
 * /metrics, each done job's QC report at /jobs/ID/qc.html and /healthz. It
 * reads only the published snapshot (http_snap.h) and immutable blobs; it
 * never touches the loop's state. Read-only: every other method gets 405. */
#include "http_snap.h"
#include "mf_log.h"
#include "mf_store.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

extern const char mf_http_dashboard[]; /* http_dashboard.c */

struct mf_http {
    struct MHD_Daemon *d;
    mf_snap_t *snap;
    mf_store_t *store; /* the coordinator's blobs, read only here */
    int port;
};
typedef struct mf_http mf_http_t;

static enum MHD_Result s_reply(struct MHD_Connection *conn, unsigned status, const char *type,
                               char *body_owned)
{
    if (!body_owned) {
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        type = "text/plain; charset=utf-8";
        body_owned = strdup("out of memory\n");
        if (!body_owned) return MHD_NO;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body_owned), body_owned, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body_owned);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ok = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result s_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
    return s_reply(conn, status, "text/plain; charset=utf-8", strdup(text));
}

static enum MHD_Result s_json(struct MHD_Connection *conn, unsigned status, char *json)
{
    return s_reply(conn, status, "application/json", json);
}

/* "123" then the rest of the path; 0 when it is not a job id. */
static uint64_t s_job_id(const char *p, const char **rest)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p, &end, 10);
    if (errno || end == p || *p == '-' || *p == '+') return 0;
    *rest = end;
    return v;
}

/* A done job's qc.html: the blob, served from its file. */
static enum MHD_Result s_qc_html(mf_http_t *h, struct MHD_Connection *conn, uint64_t id)
{
    mf_hash_t hash = {{0}};
    pthread_mutex_lock(&h->snap->lock);
    mf_snap_job_t *e = mf_snap_job(h->snap, id);
    if (e) memcpy(hash.hex, e->qc_html, MF_HASH_HEX);
    pthread_mutex_unlock(&h->snap->lock);
    if (!hash.hex[0])
        return s_text(conn, MHD_HTTP_NOT_FOUND,
                      e ? "this job has no QC report (not done, or not mastered)\n"
                        : "no such job\n");
    char *path = mf_store_path(h->store, &hash);
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    free(path);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0) close(fd);
        return s_text(conn, MHD_HTTP_NOT_FOUND, "the report is gone from the blob store\n");
    }
    struct MHD_Response *r = MHD_create_response_from_fd((size_t)st.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ok = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result s_route(mf_http_t *h, struct MHD_Connection *conn, const char *url)
{
    const char *rest = "";
    if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
        return s_reply(conn, MHD_HTTP_OK, "text/html; charset=utf-8", strdup(mf_http_dashboard));
    if (!strcmp(url, "/healthz")) return s_text(conn, MHD_HTTP_OK, "ok\n");
    if (!strcmp(url, "/metrics"))
        return s_reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                       mf_snap_prometheus(h->snap));
    if (!strcmp(url, "/api/jobs") || !strcmp(url, "/api/jobs/"))
        return s_json(conn, MHD_HTTP_OK, mf_snap_jobs_json(h->snap));
    if (!strcmp(url, "/api/workers") || !strcmp(url, "/api/workers/"))
        return s_json(conn, MHD_HTTP_OK, mf_snap_workers_json(h->snap));
    if (!strncmp(url, "/api/jobs/", 10)) {
        uint64_t id = s_job_id(url + 10, &rest);
        if (id && !*rest) {
            int found = 0;
            char *doc = mf_snap_job_json(h->snap, id, &found);
            if (found) return s_json(conn, MHD_HTTP_OK, doc);
        }
        return s_json(conn, MHD_HTTP_NOT_FOUND, strdup("{\"error\":\"no such job\"}"));
    }
    if (!strncmp(url, "/jobs/", 6)) {
        uint64_t id = s_job_id(url + 6, &rest);
        if (id && !strcmp(rest, "/qc.html")) return s_qc_html(h, conn, id);
    }
    return s_text(conn, MHD_HTTP_NOT_FOUND,
                  "not found: try /, /api/jobs, /api/jobs/ID, /api/workers, /metrics\n");
}

static enum MHD_Result s_access(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload,
                                size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        if (*upload_size) { /* swallow a body, then refuse */
            *upload_size = 0;
            return MHD_YES;
        }
        if (!*con_cls) {
            *con_cls = (void *)1;
            return MHD_YES;
        }
        return s_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "read only: GET or HEAD\n");
    }
    return s_route(cls, conn, url);
}

/* "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:8080", ":8080" or "8080" (the
 * last two on 127.0.0.1). Fills host and port; -1 when malformed. */
static int s_split(const char *spec, char *host, size_t n, char *port, size_t pn)
{
    const char *colon = strrchr(spec, ':');
    const char *p = colon ? colon + 1 : spec;
    size_t hl = colon ? (size_t)(colon - spec) : 0;
    if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
        spec++;
        hl -= 2;
    }
    if (!*p || strlen(p) >= pn || strspn(p, "0123456789") != strlen(p) || hl >= n) return -1;
    snprintf(port, pn, "%s", p);
    if (hl == 0)
        snprintf(host, n, "127.0.0.1");
    else
        snprintf(host, n, "%.*s", (int)hl, spec);
    return atoi(port) <= 65535 ? 0 : -1;
}

mf_http_t *mf_http_start(const char *spec, mf_snap_t *snap)
{
    char host[256], port[16];
    if (s_split(spec, host, sizeof host, port, sizeof port) != 0) {
        mf_error("--http %s: expected ADDRESS:PORT, such as 127.0.0.1:8080", spec);
        return NULL;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                    *ai = NULL;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0) {
        mf_error("--http %s: %s", spec, gai_strerror(gai));
        return NULL;
    }
    mf_http_t *h = calloc(1, sizeof *h);
    if (!h) goto fail;
    h->snap = snap;
    if (!(h->store = mf_store_open(snap->blob_dir))) goto fail;
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, s_access, h, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                            MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                            MHD_OPTION_END);
    if (!h->d) {
        mf_error("--http %s: cannot listen (address in use, or not this host's?)", spec);
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : atoi(port);
    mf_info("http: dashboard on http://%s%s%s:%d/ (API /api/jobs, metrics /metrics)",
            ai->ai_family == AF_INET6 ? "[" : "", host, ai->ai_family == AF_INET6 ? "]" : "",
            h->port);
    freeaddrinfo(ai);
    return h;
fail:
    freeaddrinfo(ai);
    if (h) mf_store_free(&h->store);
    free(h);
    return NULL;
}

void mf_http_stop(mf_http_t **hp)
{
    if (!hp || !*hp) return;
    mf_http_t *h = *hp;
    if (h->d) MHD_stop_daemon(h->d);
    mf_store_free(&h->store);
    free(h);
    *hp = NULL;
}

const struct mf_http_server mf_http_server = {mf_http_start, mf_http_stop};
