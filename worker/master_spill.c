#include "master_spill.h"
#include "mf_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static mf_err_t s_append(void *ctx, const float *x, size_t n)
{
    return mf_spill_append(ctx, x, n);
}

static mf_err_t s_rewind(void *ctx)
{
    return mf_spill_rewind(ctx);
}

static mf_err_t s_read(void *ctx, float *x, size_t max, size_t *got)
{
    return mf_spill_read(ctx, x, max, got);
}

const mf_master_spill_t *mf_master_spill_open(const mf_store_t *s, mf_master_spill_file_t *out)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tmp", mf_store_dir(s));
    return mf_master_spill_open_in(dir, out);
}

const mf_master_spill_t *mf_master_spill_open_in(const char *dir, mf_master_spill_file_t *out)
{
    out->file = mf_spill_new(dir);
    if (!out->file) {
        mf_debug("mastering: no spill file in %s (%s): the inserts run on every pass", dir,
                 strerror(errno));
        return NULL;
    }
    out->iface = (mf_master_spill_t){s_append, s_rewind, s_read, out->file};
    return &out->iface;
}

void mf_master_spill_close(mf_master_spill_file_t *m)
{
    mf_spill_free(&m->file);
}
