/* What the subcommands share: connections, exit codes, session loading. */
#include "mf_cli.h"
#include "mf_fs.h"
#include "mf_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

int mf_cli_positive_int(const char *s)
{
    if (!s || !*s) return -1;
    char *end;
    long v = strtol(s, &end, 10);
    return *end || v < 1 || v > 4096 ? -1 : (int)v;
}

int mf_conn_remote(mf_conn_t *c, const char *endpoint)
{
    memset(c, 0, sizeof *c);
    if (!endpoint) endpoint = getenv("MIXFARM_COORDINATOR");
    if (!endpoint || !*endpoint) {
        fprintf(stderr, "mixfarm: which coordinator? (--coordinator ENDPOINT or "
                        "MIXFARM_COORDINATOR)\n");
        return MF_EXIT_USAGE;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(c->dir, sizeof c->dir, "%s/mixfarm-client-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    c->zctx = zmq_ctx_new();
    if (!c->zctx || !mkdtemp(c->dir) || !(c->store = mf_store_open(c->dir))) {
        mf_error("cannot create a temporary blob store");
        mf_conn_close(c);
        return MF_EXIT_FAILED;
    }
    if (!(c->client = mf_client_new(c->zctx, endpoint, c->store))) {
        mf_conn_close(c);
        return MF_EXIT_USAGE; /* a malformed endpoint */
    }
    return -1;
}

int mf_conn_embedded(mf_conn_t *c, int workers)
{
    memset(c, 0, sizeof *c);
    c->farm = mf_embedded_start(workers);
    if (!c->farm) return MF_EXIT_FAILED;
    c->client = mf_client_new(mf_embedded_zctx(c->farm), mf_embedded_endpoint(c->farm),
                              mf_embedded_store(c->farm));
    if (!c->client) {
        mf_conn_close(c);
        return MF_EXIT_FAILED;
    }
    return -1;
}

void mf_conn_close(mf_conn_t *c)
{
    mf_client_free(&c->client);
    mf_embedded_stop(&c->farm);
    mf_store_free(&c->store);
    if (c->zctx) zmq_ctx_term(c->zctx);
    if (c->dir[0]) mf_fs_remove_tree(c->dir);
    memset(c, 0, sizeof *c);
}

int mf_cli_exit_for(mf_err_t err)
{
    switch (err) {
    case MF_OK:
        return MF_EXIT_OK;
    case MF_ERR_UNREACHABLE:
        return MF_EXIT_UNREACHABLE;
    case MF_ERR_INVALID:
        return MF_EXIT_USAGE;
    default:
        return MF_EXIT_FAILED;
    }
}

mf_session_t *mf_cli_load_session(const char *path)
{
    mf_diags_t d;
    mf_diags_init(&d, path);
    mf_session_t *s = mf_session_load(path, &d);
    mf_diags_print(&d);
    mf_diags_fini(&d);
    for (size_t i = 0; s && i < s->n_tracks; i++)
        if (s->tracks[i].src_rate != s->sample_rate)
            mf_info("%s: tracks[%zu] \"%s\": %d Hz, resampled to the session's %d Hz", path, i,
                    s->tracks[i].ch.name, s->tracks[i].src_rate, s->sample_rate);
    for (size_t i = 0; s && i < json_array_size(s->outputs); i++) {
        const char *fmt =
            json_string_value(json_object_get(json_array_get(s->outputs, i), "format"));
        const json_t *rate = json_object_get(json_array_get(s->outputs, i), "sample_rate");
        if (fmt && (!strcmp(fmt, "mp3") || !strcmp(fmt, "opus")))
            mf_warn("%s: outputs[%zu]: %s deliverables are not in this version yet; skipped", path,
                    i, fmt);
        else if (rate && json_integer_value(rate) != s->sample_rate)
            mf_warn("%s: outputs[%zu]: delivering at another sample rate is not in this version "
                    "yet; written at %d Hz",
                    path, i, s->sample_rate);
    }
    if (s && s->outputs && !s->mastering)
        mf_warn("%s: outputs are the master's deliverables; a session with no mastering writes "
                "the mix and stems only",
                path);
    return s;
}
