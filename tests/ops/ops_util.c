#include "ops_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

void ops_coord_start(cl_coord_t *c, const char *dir, const char *const *extra, int http,
                     int *http_port)
{
    snprintf(c->state, sizeof c->state, "%s/state", dir);
    if (!c->port) c->port = cl_free_port(); /* a restart keeps its port */
    snprintf(c->ep, sizeof c->ep, "tcp://127.0.0.1:%d", c->port);
    char name[64], prog[1200];
    snprintf(name, sizeof name, "coordinator.%d.log", ++c->starts);
    cl_path(c->log, sizeof c->log, dir, name);
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm-coordinator"));
    const char *argv[32] = {prog, "--bind", c->ep, "--state", c->state};
    int n = 5;
    if (http) {
        argv[n++] = "--http";
        argv[n++] = "127.0.0.1:0";
    }
    for (int i = 0; extra && extra[i] && n < 30; i++) argv[n++] = extra[i];
    argv[n] = NULL;
    c->pid = cl_spawn(argv, NULL, c->log);
    if (!cl_wait_log(c->log, "listening on", 1, 15 * CL_SLOW) ||
        (http && !cl_wait_log(c->log, "http: dashboard on", 1, 5 * CL_SLOW))) {
        char *t = test_read_text(c->log);
        fail_msg("the coordinator did not start: %s", t);
    }
    if (http) {
        char *t = test_read_text(c->log);
        const char *p = strstr(t, "http: dashboard on http://127.0.0.1:");
        assert_non_null(p);
        *http_port = atoi(p + strlen("http: dashboard on http://127.0.0.1:"));
        free(t);
        assert_true(*http_port > 0);
    }
}

pid_t ops_worker_start(const cl_coord_t *c, const char *dir, const char *name, int slots,
                       const char *const *extra, char *log_out, size_t log_n)
{
    char cache[1200], log[1200], slots_s[16], file[128], prog[1200];
    snprintf(file, sizeof file, "cache-%s", name);
    cl_path(cache, sizeof cache, dir, file);
    snprintf(file, sizeof file, "worker-%s.log", name);
    cl_path(log, sizeof log, dir, file);
    snprintf(slots_s, sizeof slots_s, "%d", slots);
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm-worker"));
    const char *argv[32] = {prog,      "--connect", c->ep,    "--slots", slots_s,
                            "--cache", cache,       "--name", name};
    int n = 9;
    for (int i = 0; extra && extra[i] && n < 30; i++) argv[n++] = extra[i];
    argv[n] = NULL;
    if (log_out) snprintf(log_out, log_n, "%s", log);
    return cl_spawn(argv, NULL, log);
}

ops_http_t ops_http(int port, const char *method, const char *path, double timeout_s)
{
    ops_http_t r = {.status = -1};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0) close(fd);
        return r;
    }
    char req[1024];
    int k = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
                     "Content-Length: 0\r\n\r\n",
                     method, path, port);
    if (send(fd, req, (size_t)k, MSG_NOSIGNAL) != k) {
        close(fd);
        return r;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    double until = cl_now() + timeout_s;
    while (buf && cl_now() < until) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0) continue;
        if (n == cap) buf = realloc(buf, (cap *= 2) + 1);
        ssize_t got = recv(fd, buf + n, cap - n, 0);
        if (got <= 0) break;
        n += (size_t)got;
    }
    close(fd);
    if (!buf) return r;
    buf[n] = 0;
    char *head_end = strstr(buf, "\r\n\r\n");
    if (!head_end || sscanf(buf, "HTTP/1.%*d %d", &r.status) != 1) {
        free(buf);
        r.status = -1;
        return r;
    }
    *head_end = 0;
    const char *ct = strcasestr(buf, "\r\nContent-Type: ");
    if (ct) r.type = strndup(ct + 16, strcspn(ct + 16, "\r\n"));
    r.n = n - (size_t)(head_end + 4 - buf);
    r.body = malloc(r.n + 1);
    memcpy(r.body, head_end + 4, r.n);
    r.body[r.n] = 0;
    free(buf);
    return r;
}

void ops_http_free(ops_http_t *r)
{
    free(r->type);
    free(r->body);
    memset(r, 0, sizeof *r);
}

void ops_write_mastered(const char *dir, const char *file, const char *name, int n_tracks,
                        double seconds)
{
    char text[8192], audio[1200], fname[128];
    int k =
        snprintf(text, sizeof text,
                 "{\"mixfarm\": 1, \"name\": \"%s\", \"sample_rate\": 48000, \"tracks\": [", name);
    for (int i = 0; i < n_tracks; i++) {
        snprintf(fname, sizeof fname, "%s-%d.wav", name, i);
        cl_path(audio, sizeof audio, dir, fname);
        cl_write_audio(audio, i % 4, i + 7, seconds);
        k += snprintf(text + k, sizeof text - (size_t)k,
                      "%s{\"name\": \"T%d\", \"file\": \"%s\", \"gain_db\": -6, \"pan\": %.1f}",
                      i ? ", " : "", i, fname, i % 2 ? 0.3 : -0.3);
    }
    snprintf(text + k, sizeof text - (size_t)k,
             "], \"mastering\": {\"target\": \"streaming\"}, "
             "\"metadata\": {\"title\": \"%s\"}}\n",
             name);
    char path[1200];
    cl_path(path, sizeof path, dir, file);
    cl_write_text(path, text);
}

double ops_metric(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (!strncmp(p, name, n) && p[n] == ' ') return strtod(p + n + 1, NULL);
    }
    return -1;
}
