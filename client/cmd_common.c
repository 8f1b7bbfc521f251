/* What the subcommands share: connections, exit codes, session loading. */
#include "mf_cli.h"
#include "mf_fs.h"
#include "mf_heap.h"
#include "mf_interrupt.h"
#include "mf_log.h"
#include "mf_tempdir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

int mf_cli_positive_int(const char *s)
{
    if (!s || !*s) return -1;
    char *end;
    long v = strtol(s, &end, 10);
    return *end || v < 1 || v > 4096 ? -1 : (int)v;
}

static const char *s_keys, *s_server_key, *s_shared_store;

void mf_cli_set_curve(const char *keys, const char *server_key)
{
    s_keys = keys;
    s_server_key = server_key;
}

/* The CURVE keys to connect with: 0 and *on set when configured, -1 when
 * the configuration is incomplete or a file is unreadable (said why). */
static int s_curve(mf_curve_keys_t *k, int *on)
{
    const char *keys = s_keys ? s_keys : getenv("MIXFARM_KEYS");
    const char *server = s_server_key ? s_server_key : getenv("MIXFARM_SERVER_KEY");
    if (keys && !*keys) keys = NULL;
    if (server && !*server) server = NULL;
    *on = keys || server;
    if (!*on) return 0;
    if (!keys || !server) {
        fprintf(stderr, "mixfarm: a secured farm needs both --curve-keys NAME (or MIXFARM_KEYS) "
                        "and --server-key FILE (or MIXFARM_SERVER_KEY)\n");
        return -1;
    }
    if (mf_curve_load(keys, k) != MF_OK || mf_curve_load_public(server, k->server_key) != MF_OK)
        return -1;
    return 0;
}

void mf_cli_set_shared_store(const char *dir)
{
    s_shared_store = dir;
}

/* --shared-store DIR, else $MIXFARM_SHARED_STORE; NULL: none. */
static const char *s_shared(void)
{
    const char *dir = s_shared_store ? s_shared_store : getenv("MIXFARM_SHARED_STORE");
    return dir && *dir ? dir : NULL;
}

/* The client's blob store: the coordinator's own, mounted here, or a
 * temporary one. 0, or an exit code (said why). */
static int s_open_store(mf_conn_t *c, const char *shared)
{
    if (!shared) {
        if (mf_temp_dir("mixfarm-client-", c->dir, sizeof c->dir, &c->owner_fd) != 0) c->dir[0] = 0;
        if (c->dir[0] && (c->store = mf_store_open(c->dir))) return 0;
        mf_error("cannot create a temporary blob store");
        return MF_EXIT_FAILED;
    }
    /* Opening creates what is missing: a mistyped folder would become an
     * empty store, so it must already hold the objects of one. */
    char objects[4200];
    struct stat st;
    snprintf(objects, sizeof objects, "%s/objects", shared);
    if (stat(objects, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr,
                "mixfarm: --shared-store %s: not a coordinator's blob store (its --state "
                "DIR/blobs, with objects/ inside)\n",
                shared);
        return MF_EXIT_USAGE;
    }
    if (!(c->store = mf_store_open(shared))) return MF_EXIT_FAILED;
    mf_store_mark_lasting(c->store); /* the farm's: copied into, never linked */
    return 0;
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
    mf_heap_pretouch(MF_HEAP_CLIENT); /* blobs come through this process's heap */
    const char *shared = s_shared();
    int rc = s_open_store(c, shared);
    if (rc == 0 && !(c->zctx = zmq_ctx_new())) rc = MF_EXIT_FAILED;
    if (rc != 0) {
        mf_conn_close(c);
        return rc;
    }
    mf_curve_keys_t k = {0};
    int secure = 0;
    if (s_curve(&k, &secure) != 0) {
        mf_conn_close(c);
        return MF_EXIT_USAGE;
    }
    c->client = mf_client_new_secure(c->zctx, endpoint, c->store, secure ? &k : NULL);
    memset(&k, 0, sizeof k);
    if (!c->client) {
        mf_conn_close(c);
        return MF_EXIT_USAGE; /* a malformed endpoint */
    }
    if (shared) {
        mf_client_shares_farm_store(c->client);
        const mf_err_t err = mf_client_check_shared_store(c->client);
        if (err != MF_OK) {
            if (err == MF_ERR_UNREACHABLE)
                mf_error("%s: the coordinator could not be reached", endpoint);
            mf_conn_close(c);
            return mf_cli_exit_for(err);
        }
    }
    return -1;
}

int mf_conn_embedded(mf_conn_t *c, int workers, const char *state_dir, int64_t store_budget)
{
    memset(c, 0, sizeof *c);
    if (s_shared_store) { /* $MIXFARM_SHARED_STORE is for remote farms only */
        fprintf(stderr, "mixfarm: --shared-store is a remote coordinator's store; an embedded "
                        "farm keeps its own (--state)\n");
        return MF_EXIT_USAGE;
    }
    mf_heap_pretouch(MF_HEAP_CLIENT); /* the whole farm's, in this process */
    c->farm = mf_embedded_start(workers, state_dir, store_budget);
    if (!c->farm) return MF_EXIT_FAILED;
    c->client = mf_client_new(mf_embedded_zctx(c->farm), mf_embedded_endpoint(c->farm),
                              mf_embedded_store(c->farm));
    if (!c->client) {
        mf_conn_close(c);
        return MF_EXIT_FAILED;
    }
    mf_client_shares_farm_store(c->client);
    return -1;
}

void mf_conn_close(mf_conn_t *c)
{
    mf_client_free(&c->client);
    mf_embedded_stop(&c->farm);
    mf_store_free(&c->store);
    if (c->zctx) zmq_ctx_term(c->zctx);
    if (c->dir[0]) mf_fs_remove_owned(c->dir, &c->owner_fd);
    memset(c, 0, sizeof *c);
}

void mf_conn_die_interrupted(mf_conn_t *c)
{
    mf_log_silence(); /* the farm's threads report what the stop does to them */
    if (c->dir[0]) mf_fs_remove_tree(c->dir);
    mf_embedded_discard(c->farm);
    mf_interrupt_exit();
}

const char *mf_cli_cannot_make(const char *path)
{
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", path);
    size_t n = strlen(parent);
    while (n > 1 && parent[n - 1] == '/') parent[--n] = 0; /* "out/" */
    char *slash = strrchr(parent, '/');
    if (!slash)
        snprintf(parent, sizeof parent, ".");
    else
        slash[slash == parent] = 0; /* "/out": "/" */
    struct stat st;
    if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode)) return "its folder does not exist";
    if (access(parent, W_OK | X_OK) != 0) return "cannot be made there (Permission denied)";
    /* access() lets root through where mkdir fails (/proc, a share that
     * squashes root): a folder made and removed at once tells. */
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/.mixfarm-probe-%ld", parent, (long)getpid());
    static char why[160];
    if (mkdir(probe, 0700) != 0 && errno != EEXIST) {
        snprintf(why, sizeof why, "cannot be made there (%s)", strerror(errno));
        return why;
    }
    rmdir(probe);
    return NULL;
}

int mf_cli_check_outdir(const char *outdir)
{
    struct stat st;
    const char *why = NULL;
    if (stat(outdir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            why = "exists and is not a folder";
        else if (access(outdir, W_OK | X_OK) != 0)
            why = strerror(errno);
    } else {
        why = mf_cli_cannot_make(outdir);
    }
    if (!why) return -1;
    fprintf(stderr, "mixfarm: %s: %s\n", outdir, why);
    return MF_EXIT_USAGE;
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
    size_t audible = 0;
    for (size_t i = 0; s && i < s->n_tracks; i++) audible += mf_session_track_audible(s, i) != 0;
    if (s && !audible)
        mf_warn("%s: every track is muted, or silent beside a soloed one that is muted: the mix "
                "and everything made from it is empty (0 s)",
                path);
    if (s && s->outputs && !s->mastering)
        mf_warn("%s: outputs are the master's deliverables; a session with no mastering writes "
                "the mix and stems only",
                path);
    return s;
}
