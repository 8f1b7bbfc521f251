/* Ogg Opus through libopusenc, always at 48 kHz (Opus runs at 48 kHz; the
 * signal arrives there through soxr, so libopusenc's own resampler never
 * runs and the pre-skip is the encoder's look-ahead alone). OpusTags hold
 * every tag, the cover as METADATA_BLOCK_PICTURE, and R128_TRACK_GAIN
 * (RFC 7845: Q7.8 dB that bring the track to -23 LUFS). The Ogg serial
 * number is fixed (libopusenc draws a random one), so the bytes depend on
 * the input only. */
#include "deliver_int.h"
#include "mf_exec.h"

#include <math.h>
#include <opus/opusenc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERIALNO 0x6d786677 /* "mxfw" */

static OggOpusComments *s_comments(const mf_encode_job_t *j)
{
    OggOpusComments *c = ope_comments_create();
    int rc = c ? OPE_OK : OPE_ALLOC_FAIL;
    for (int i = 0; rc == OPE_OK && i < MF_TAG__COUNT; i++)
        if (j->spec->tags[i])
            rc = ope_comments_add(c, mf_vorbis_comment_name((mf_tag_t)i), j->spec->tags[i]);
    if (rc == OPE_OK && isfinite(j->lufs)) {
        double q = round((-23.0 - j->lufs) * 256.0);
        char gain[16];
        snprintf(gain, sizeof gain, "%d", (int)(q < -32768 ? -32768 : q > 32767 ? 32767 : q));
        rc = ope_comments_add(c, "R128_TRACK_GAIN", gain);
    }
    if (rc == OPE_OK && j->cover)
        rc = ope_comments_add_picture_from_memory(c, (const char *)j->cover, j->cover_len, 3, NULL);
    if (rc != OPE_OK && c) ope_comments_destroy(c);
    return rc == OPE_OK ? c : NULL;
}

/* The pre-skip the file declares (OpusHead: magic, version, channels, pre-skip LE). */
static int s_pre_skip(const char *path)
{
    unsigned char head[128];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(head, 1, sizeof head, f) : 0;
    if (f) fclose(f);
    for (size_t i = 0; i + 12 <= n; i++)
        if (!memcmp(head + i, "OpusHead", 8)) return head[i + 10] | head[i + 11] << 8;
    return -1;
}

mf_err_t mf_encode_opus(mf_encode_job_t *j)
{
    const mf_encode_spec_t *e = j->spec;
    const int ch = mf_deliver_src_channels(j->src);
    if (e->rate != 48000) {
        snprintf(j->why, sizeof j->why, "Opus runs at 48000 Hz, not %d", e->rate);
        return MF_ERR_INVALID;
    }
    OggOpusComments *c = s_comments(j);
    float *buf = malloc(sizeof(float) * MF_BLOCK * (size_t)ch);
    int rc = OPE_OK;
    OggOpusEnc *enc = c && buf ? ope_encoder_create_file(j->path, c, 48000, ch, 0, &rc) : NULL;
    mf_err_t err = enc ? MF_OK : c && buf ? MF_ERR_IO : MF_ERR_NOMEM;
    if (enc && (ope_encoder_ctl(enc, OPE_SET_SERIALNO(SERIALNO)) != OPE_OK ||
                ope_encoder_ctl(enc, OPUS_SET_BITRATE(e->bitrate_kbps * 1000)) != OPE_OK))
        rc = OPE_BAD_ARG, err = MF_ERR_INVALID;
    size_t total = 0;
    for (size_t n = 1; err == MF_OK && n > 0; total += n) {
        err = mf_deliver_src_read(j->src, buf, MF_BLOCK, &n);
        if (err == MF_OK && n > 0 && (rc = ope_encoder_write_float(enc, buf, (int)n)) != OPE_OK)
            err = MF_ERR_IO;
    }
    /* An empty master (every track muted): libopusenc 0.2.1 aborts the
     * process when drained with no audio (xiph/libopusenc#24), so the file
     * holds one silent sample; QC says the length is wrong either way. */
    if (err == MF_OK && total == 0) {
        memset(buf, 0, sizeof(float) * (size_t)ch);
        if ((rc = ope_encoder_write_float(enc, buf, 1)) != OPE_OK) err = MF_ERR_IO;
    }
    if (err == MF_OK && (rc = ope_encoder_drain(enc)) != OPE_OK) err = MF_ERR_IO;
    if (rc != OPE_OK) snprintf(j->why, sizeof j->why, "libopusenc: %s", ope_strerror(rc));
    if (enc) ope_encoder_destroy(enc);
    if (c) ope_comments_destroy(c);
    free(buf);
    if (err == MF_OK) j->delay = s_pre_skip(j->path), j->gapless = 1;
    return err;
}
