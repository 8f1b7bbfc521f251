#include "mf_source_reader.h"
#include "mf_source_check.h"

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mf_source_reader {
    SNDFILE *sf;
    SF_INFO sfi;
    mf_pcm_info_t info; /* start and frames after trimming */
    sf_count_t from;    /* the file's frame at info.start */
    int64_t pos;        /* next frame to read, relative to info.start */
};

mf_err_t mf_source_reader_open(const mf_store_t *s, const mf_hash_t *h,
                               const mf_decode_spec_t *spec, mf_source_reader_t **out, char *why,
                               size_t why_size)
{
    *out = NULL;
    mf_source_reader_t *r = calloc(1, sizeof *r);
    char *path = mf_store_path(s, h);
    if (!r || !path) {
        free(r);
        free(path);
        return MF_ERR_NOMEM;
    }
    mf_err_t err = MF_ERR_FORMAT;
    r->sf = sf_open(path, SFM_READ, &r->sfi);
    if (!r->sf) {
        snprintf(why, why_size, "%s", sf_strerror(NULL));
        goto fail;
    }
    if (r->sfi.channels < 1 || r->sfi.channels > 2 || r->sfi.samplerate != spec->rate) {
        snprintf(why, why_size, "%d channels at %d Hz, expected 1 or 2 at %d Hz", r->sfi.channels,
                 r->sfi.samplerate, spec->rate);
        goto fail;
    }
    if (mf_source_truncated(path, &r->sfi, why, why_size) != 0) {
        err = MF_ERR_CORRUPT;
        goto fail;
    }
    r->from = llround(spec->from_s * spec->rate);
    sf_count_t count = r->sfi.frames - r->from;
    if (spec->length_s >= 0 && llround(spec->length_s * spec->rate) < count)
        count = llround(spec->length_s * spec->rate);
    if (count < 0) count = 0;
    if (count > 0 && r->from > 0 && sf_seek(r->sf, r->from, SEEK_SET) < 0) {
        snprintf(why, why_size, "cannot seek to %.3f s", spec->from_s);
        goto fail;
    }
    r->info = (mf_pcm_info_t){.channels = r->sfi.channels,
                              .rate = spec->rate,
                              .start = llround(spec->start_s * spec->rate),
                              .frames = count};
    free(path);
    *out = r;
    return MF_OK;
fail:
    free(path);
    mf_source_reader_free(&r);
    return err;
}

const mf_pcm_info_t *mf_source_reader_info(const mf_source_reader_t *r)
{
    return &r->info;
}

mf_err_t mf_source_reader_read_span(mf_source_reader_t *r, int64_t t, size_t n, float *out,
                                    char *why, size_t why_size)
{
    const int ch = r->info.channels;
    int64_t from = t - r->info.start, to = from + (int64_t)n;
    if (from < 0) from = 0;
    if (to > r->info.frames) to = r->info.frames;
    if (from >= to) {
        memset(out, 0, n * (size_t)ch * sizeof(float));
        return MF_OK;
    }
    if (from < r->pos) return MF_ERR_INVALID; /* sequential readers only */
    if (from > r->pos && sf_seek(r->sf, r->from + from, SEEK_SET) < 0) return MF_ERR_IO;
    const size_t lead = (size_t)(r->info.start + from - t), want = (size_t)(to - from);
    memset(out, 0, lead * (size_t)ch * sizeof(float));
    sf_count_t got = sf_readf_float(r->sf, out + lead * (size_t)ch, (sf_count_t)want);
    if (got != (sf_count_t)want) {
        mf_source_short_words(why, why_size, (double)r->sfi.frames / r->sfi.samplerate,
                              (double)(r->from + from + (got > 0 ? got : 0)) / r->sfi.samplerate);
        return MF_ERR_CORRUPT;
    }
    memset(out + (lead + want) * (size_t)ch, 0, (n - lead - want) * (size_t)ch * sizeof(float));
    r->pos = to;
    return MF_OK;
}

void mf_source_reader_free(mf_source_reader_t **r)
{
    if (!r || !*r) return;
    if ((*r)->sf) sf_close((*r)->sf);
    free(*r);
    *r = NULL;
}
