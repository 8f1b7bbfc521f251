/* MP3 through LAME: CBR at bitrate_kbps or VBR (vbr_quality 0 best .. 9),
 * quality 2, joint stereo. The file is an ID3v2.4 tag (id3v2.c), then
 * LAME's frames, the first of which is the Xing/LAME header: LAME reserves
 * it and fills it in at the end (lame_get_lametag_frame), with the encoder
 * delay and padding a gapless decoder (mpg123, ffmpeg, iTunes) trims, so
 * the decoded file has exactly the master's length. */
#include "deliver_int.h"
#include "mf_exec.h"

#include <lame/lame.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_setup(lame_global_flags *gf, const mf_encode_spec_t *e, int ch)
{
    lame_set_num_channels(gf, ch);
    lame_set_in_samplerate(gf, e->rate);
    lame_set_out_samplerate(gf, e->rate);
    lame_set_mode(gf, ch == 1 ? MONO : JOINT_STEREO);
    lame_set_quality(gf, 2);
    if (isnan(e->vbr_quality)) {
        lame_set_VBR(gf, vbr_off);
        lame_set_brate(gf, e->bitrate_kbps);
    } else {
        lame_set_VBR(gf, vbr_default);
        lame_set_VBR_quality(gf, (float)e->vbr_quality);
    }
    lame_set_bWriteVbrTag(gf, 1);           /* the Xing/LAME header, CBR too (gapless) */
    lame_set_write_id3tag_automatic(gf, 0); /* ours is 2.4 */
    return lame_init_params(gf);
}

mf_err_t mf_encode_mp3(mf_encode_job_t *j)
{
    const mf_encode_spec_t *e = j->spec;
    const int ch = mf_deliver_src_channels(j->src);
    lame_global_flags *gf = lame_init();
    size_t tag_len = 0, out_cap = MF_BLOCK * 5 / 4 + 7200;
    unsigned char *tag = mf_id3v24(e, j->cover, j->cover_len, &tag_len);
    unsigned char *out = malloc(out_cap);
    float *buf = malloc(sizeof(float) * MF_BLOCK * (size_t)ch);
    float *l = malloc(sizeof(float) * MF_BLOCK), *r = malloc(sizeof(float) * MF_BLOCK);
    FILE *f = NULL;
    mf_err_t err = gf && tag && out && buf && l && r ? MF_OK : MF_ERR_NOMEM;
    if (err == MF_OK && s_setup(gf, e, ch) < 0) {
        snprintf(j->why, sizeof j->why, "LAME refuses %d Hz at these settings", e->rate);
        err = MF_ERR_INVALID;
    }
    if (err == MF_OK && (!(f = fopen(j->path, "wb")) || fwrite(tag, 1, tag_len, f) != tag_len))
        err = MF_ERR_IO;
    for (size_t n = 1; err == MF_OK && n > 0;) {
        err = mf_deliver_src_read(j->src, buf, MF_BLOCK, &n);
        if (err != MF_OK) break;
        for (size_t i = 0; i < n; i++) {
            l[i] = buf[i * (size_t)ch];
            r[i] = buf[i * (size_t)ch + (size_t)(ch - 1)];
        }
        int k = n ? lame_encode_buffer_ieee_float(gf, l, r, (int)n, out, (int)out_cap)
                  : lame_encode_flush(gf, out, (int)out_cap);
        if (k < 0) {
            snprintf(j->why, sizeof j->why, "LAME failed (%d)", k);
            err = MF_ERR_INVALID;
        } else if (fwrite(out, 1, (size_t)k, f) != (size_t)k) {
            err = MF_ERR_IO;
        }
    }
    if (err == MF_OK) {
        /* The header frame goes where LAME left room for it: first, after the
         * tag. At low CBR rates (32 kbps at 44.1 kHz) it does not fit in a
         * frame and LAME writes none: such a file is not gapless. */
        unsigned char head[2880];
        size_t k = lame_get_lametag_frame(gf, head, sizeof head);
        if (k > sizeof head ||
            (k && (fseek(f, (long)tag_len, SEEK_SET) != 0 || fwrite(head, 1, k, f) != k)))
            err = MF_ERR_IO;
        j->delay = lame_get_encoder_delay(gf);
        j->padding = lame_get_encoder_padding(gf);
        j->gapless = k > 0;
    }
    if (f && fclose(f) != 0 && err == MF_OK) err = MF_ERR_IO;
    if (err == MF_ERR_IO && !j->why[0]) snprintf(j->why, sizeof j->why, "cannot write the file");
    if (gf) lame_close(gf);
    free(tag);
    free(out);
    free(buf);
    free(l);
    free(r);
    return err;
}
