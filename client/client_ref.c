#include "client_ref.h"
#include "mf_hashcache.h"

#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mf_err_t mf_client__reference_source(const mf_session_t *s, mf_store_t *store,
                                     Mixfarm__SourceRef *ref, mf_hash_t *hash, int *added)
{
    *added = 0;
    const char *written = json_string_value(json_object_get(s->mastering, "reference"));
    if (!written) return MF_OK;
    char *path = mf_session_file(s, written);
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    mf_err_t err = f ? MF_OK : MF_ERR_FORMAT; /* validation read it a moment ago */
    if (f) sf_close(f);
    if (err == MF_OK) err = mf_hashcache_put_file(store, path, hash);
    free(path);
    if (err != MF_OK) return err;
    mixfarm__source_ref__init(ref);
    ref->path = (char *)written;
    ref->hash = hash->hex;
    ref->channels = (uint32_t)info.channels;
    ref->sample_rate = (uint32_t)info.samplerate;
    ref->frames = (uint64_t)info.frames;
    *added = 1;
    return MF_OK;
}
