/* A coordinator's blob store mounted on the client's machine (--shared-store):
 * checked once per connection, since everything after trusts it. A store
 * that is not the coordinator's would take the sources without the farm ever
 * seeing them, and be waited on for outputs that never come there. */
#include "client_internal.h"
#include "mf_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Whether the coordinator has blob h (it answers from its own store, and a
 * job waiting for that blob as a source takes it then). */
static mf_err_t s_coordinator_has(mf_client_t *c, const mf_hash_t *h, int *has)
{
    mf_hash_t *missing;
    size_t n;
    const mf_err_t err = mf_client__missing(c, h, 1, NULL, &missing, &n);
    *has = err == MF_OK && n == 0;
    free(missing);
    return err;
}

mf_err_t mf_client__tell_arrived(mf_client_t *c, const mf_hash_t *h)
{
    int has = 0;
    const mf_err_t err = s_coordinator_has(c, h, &has);
    if (err == MF_OK && !has)
        mf_error("%.12s: copied into the farm's store, yet the coordinator does not see it",
                 h->hex);
    return err != MF_OK ? err : has ? MF_OK : MF_ERR_IO;
}

mf_err_t mf_client_check_shared_store(mf_client_t *c)
{
    /* A probe no other store can hold: this host, process and instant. */
    char probe[512], host[256] = "";
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    gethostname(host, sizeof host - 1);
    const int n = snprintf(probe, sizeof probe, "mixfarm shared-store probe %s %ld %lld.%09ld\n",
                           host, (long)getpid(), (long long)t.tv_sec, t.tv_nsec);
    mf_store_t *s = mf_client__store(c);
    mf_hash_t h;
    mf_err_t err = mf_store_put_bytes(s, probe, (size_t)n, &h);
    if (err != MF_OK) {
        mf_error("--shared-store %s: cannot write into it: %s", mf_store_dir(s), mf_strerror(err));
        return err;
    }
    int has = 0;
    err = s_coordinator_has(c, &h, &has);
    if (mf_store_discard(s, &h) == 0) mf_store_empty_trash(s);
    if (err == MF_OK && !has) {
        mf_error("--shared-store %s: not the blob store of the coordinator at %s (a file "
                 "written there did not appear in its store)",
                 mf_store_dir(s), mf_client_endpoint(c));
        err = MF_ERR_INVALID;
    }
    return err;
}
