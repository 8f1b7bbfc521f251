/* Decoding a delivered file, as a listener's player would, for QC: the
 * encode task checks its own output this way, and the qc task measures
 * every deliverable this way. libsndfile reads WAV, AIFF and FLAC, MP3
 * through mpg123 (which trims the encoder delay and padding the LAME header
 * records) and Ogg Opus (pre-skip and the end granule position trimmed). */
#include "deliver_int.h"
#include "sf_buffered.h"

#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>

#define BLOCK 4096

mf_err_t mf_deliver_measure(const char *path, unsigned flags, mf_analysis_t *out,
                            mf_decoded_t *info, char *why, size_t why_size)
{
    SF_INFO si = {0};
    mf_sf_buffered_t *io = NULL;
    SNDFILE *sf = mf_sf_buffered_open(path, &si, &io);
    if (!sf) {
        snprintf(why, why_size, "cannot decode it: %s", sf_strerror(NULL));
        return MF_ERR_FORMAT;
    }
    mf_analyzer_t *a = NULL;
    float *buf = NULL;
    mf_err_t err = MF_ERR_FORMAT;
    if (si.channels < 1 || si.channels > 2) {
        snprintf(why, why_size, "decodes to %d channels", si.channels);
        goto done;
    }
    a = mf_analyzer_new(si.channels, si.samplerate, flags);
    buf = malloc(sizeof(float) * BLOCK * (size_t)si.channels);
    err = a && buf ? MF_OK : MF_ERR_NOMEM;
    *info = (mf_decoded_t){.channels = si.channels, .rate = si.samplerate};
    sf_count_t n;
    while (err == MF_OK && (n = sf_readf_float(sf, buf, BLOCK)) > 0) {
        err = mf_analyzer_feed(a, buf, (size_t)n);
        info->frames += n;
    }
    if (err == MF_OK && sf_error(sf) != SF_ERR_NO_ERROR) {
        snprintf(why, why_size, "decoding failed: %s", sf_strerror(sf));
        err = MF_ERR_CORRUPT;
    }
    if (err == MF_OK) err = mf_analyzer_finish(a, out);
done:
    mf_analyzer_free(&a);
    free(buf);
    mf_sf_buffered_close(sf, &io);
    return err;
}
