/* Operations tests: helpers on top of tests/cluster/cluster_util.h (real
 * processes on 127.0.0.1): a coordinator with extra options, a tiny HTTP
 * client, and small sessions. */
#ifndef OPS_UTIL_H
#define OPS_UTIL_H

#include <stddef.h>

#include "cluster_util.h"

/* Starts a coordinator (on a free port, or c->port again for a restart) with extra options
 * (NULL-terminated, may be NULL) and waits until it listens; with http set (an extra
 * "--http 127.0.0.1:0" is added), *http_port receives the port it logged. */
void ops_coord_start(cl_coord_t *c, const char *dir, const char *const *extra, int http,
                     int *http_port);
/* Starts a worker with extra options (NULL-terminated, may be NULL). */
pid_t ops_worker_start(const cl_coord_t *c, const char *dir, const char *name, int slots,
                       const char *const *extra, char *log_out, size_t log_n);

typedef struct {
    int status; /* HTTP status, or -1 when no answer */
    char *type; /* Content-Type */
    char *body;
    size_t n;
} ops_http_t;

/* method path on 127.0.0.1:port, at most timeout_s. Free with ops_http_free. */
ops_http_t ops_http(int port, const char *method, const char *path, double timeout_s);
void ops_http_free(ops_http_t *r);

/* A mastered session of n_tracks short tracks (audio written beside it). */
void ops_write_mastered(const char *dir, const char *file, const char *name, int n_tracks,
                        double seconds);
/* The value of a Prometheus sample line "name value" (name with labels), or
 * -1 when absent. */
double ops_metric(const char *text, const char *name);

#endif
