/* FLAC through libFLAC (compression level 5): 16 or 24 bits, dithered;
 * Vorbis comments for every tag (ISRC among them) and a PICTURE block
 * (front cover) when the session has a cover. libFLAC writes STREAMINFO
 * (length, MD5 of the audio) when it finishes; its vendor string is the
 * library's, fixed by the package, so the bytes depend on the input only. */
#include "deliver_int.h"
#include "mf_exec.h"

#include <FLAC/metadata.h>
#include <FLAC/stream_encoder.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static FLAC__StreamMetadata *s_comments(const mf_encode_spec_t *e)
{
    FLAC__StreamMetadata *m = FLAC__metadata_object_new(FLAC__METADATA_TYPE_VORBIS_COMMENT);
    for (int i = 0; m && i < MF_TAG__COUNT; i++) {
        FLAC__StreamMetadata_VorbisComment_Entry entry;
        if (!e->tags[i]) continue;
        if (!FLAC__metadata_object_vorbiscomment_entry_from_name_value_pair(
                &entry, mf_vorbis_comment_name((mf_tag_t)i), e->tags[i]) ||
            !FLAC__metadata_object_vorbiscomment_append_comment(m, entry, false)) {
            FLAC__metadata_object_delete(m);
            return NULL;
        }
    }
    return m;
}

static FLAC__StreamMetadata *s_picture(const unsigned char *data, size_t len)
{
    const char *mime = mf_image_mime(data, len);
    FLAC__StreamMetadata *m = mime ? FLAC__metadata_object_new(FLAC__METADATA_TYPE_PICTURE) : NULL;
    if (!m) return NULL;
    unsigned w, h, depth;
    mf_image_size(data, len, &w, &h, &depth);
    m->data.picture.type = FLAC__STREAM_METADATA_PICTURE_TYPE_FRONT_COVER;
    m->data.picture.width = w, m->data.picture.height = h, m->data.picture.depth = depth;
    if (!FLAC__metadata_object_picture_set_mime_type(m, (char *)mime, true) ||
        !FLAC__metadata_object_picture_set_description(m, (FLAC__byte *)"", true) ||
        !FLAC__metadata_object_picture_set_data(m, (FLAC__byte *)data, (FLAC__uint32)len, true)) {
        FLAC__metadata_object_delete(m);
        return NULL;
    }
    return m;
}

mf_err_t mf_encode_flac(mf_encode_job_t *j)
{
    const mf_encode_spec_t *e = j->spec;
    const int ch = mf_deliver_src_channels(j->src);
    FLAC__StreamEncoder *enc = FLAC__stream_encoder_new();
    FLAC__StreamMetadata *meta[2] = {s_comments(e),
                                     j->cover ? s_picture(j->cover, j->cover_len) : NULL};
    unsigned n_meta = meta[1] ? 2 : 1;
    float *buf = malloc(sizeof(float) * MF_BLOCK * (size_t)ch);
    int32_t *ibuf = malloc(sizeof(int32_t) * MF_BLOCK * (size_t)ch);
    mf_err_t err = enc && meta[0] && (!j->cover || meta[1]) && buf && ibuf ? MF_OK : MF_ERR_NOMEM;
    if (err == MF_OK) {
        FLAC__stream_encoder_set_verify(enc, false);
        FLAC__stream_encoder_set_compression_level(enc, 5);
        FLAC__stream_encoder_set_channels(enc, (unsigned)ch);
        FLAC__stream_encoder_set_bits_per_sample(enc, (unsigned)e->bits);
        FLAC__stream_encoder_set_sample_rate(enc, (unsigned)e->rate);
        FLAC__stream_encoder_set_total_samples_estimate(
            enc, (FLAC__uint64)mf_deliver_src_frames(j->src));
        FLAC__stream_encoder_set_metadata(enc, meta, n_meta);
        FLAC__StreamEncoderInitStatus st = FLAC__stream_encoder_init_file(enc, j->path, NULL, NULL);
        if (st != FLAC__STREAM_ENCODER_INIT_STATUS_OK) {
            snprintf(j->why, sizeof j->why, "libFLAC: %s", FLAC__StreamEncoderInitStatusString[st]);
            err = MF_ERR_IO;
        }
    }
    mf_dither_t d;
    mf_dither_init(&d, ch, e->bits, e->noise_shaping);
    for (size_t n = 1; err == MF_OK && n > 0;) {
        err = mf_deliver_src_read(j->src, buf, MF_BLOCK, &n);
        if (err != MF_OK || n == 0) break;
        mf_dither_run(&d, buf, ibuf, n);
        if (!FLAC__stream_encoder_process_interleaved(enc, ibuf, (unsigned)n)) {
            snprintf(j->why, sizeof j->why, "libFLAC: %s",
                     FLAC__stream_encoder_get_resolved_state_string(enc));
            err = MF_ERR_IO;
        }
    }
    if (enc && FLAC__stream_encoder_get_state(enc) == FLAC__STREAM_ENCODER_OK &&
        !FLAC__stream_encoder_finish(enc) && err == MF_OK) {
        snprintf(j->why, sizeof j->why, "libFLAC: cannot finish the file");
        err = MF_ERR_IO;
    }
    if (enc) FLAC__stream_encoder_delete(enc);
    for (unsigned i = 0; i < 2; i++)
        if (meta[i]) FLAC__metadata_object_delete(meta[i]);
    free(buf);
    free(ibuf);
    return err;
}
