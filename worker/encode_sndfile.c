/* WAV and AIFF through libsndfile: 16/24-bit PCM (dithered) or 32-bit
 * float. A WAV is a Broadcast WAVE: its bext chunk (EBU Tech 3285 v2) holds
 * the description, originator, date, coding history and, once the file is
 * written and measured, its loudness; its LIST/INFO chunk the text tags.
 * Nothing depends on the clock: the date is the metadata's year (January
 * 1st) or 2000-01-01, the time 00:00:00, and there is no PEAK chunk (it
 * carries a timestamp). */
#include "deliver_int.h"
#include "mf_exec.h"
#include "mf_le.h"

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_bext(const mf_encode_job_t *j, int channels, SF_BROADCAST_INFO *b)
{
    const mf_encode_spec_t *e = j->spec;
    memset(b, 0, sizeof *b);
    const char *title = e->tags[MF_TAG_TITLE], *artist = e->tags[MF_TAG_ARTIST];
    snprintf(b->description, sizeof b->description, "%s%s%s", artist ? artist : "",
             artist && title ? " - " : "", title ? title : "");
    snprintf(b->originator, sizeof b->originator, "mixfarm");
    if (e->tags[MF_TAG_ISRC])
        snprintf(b->originator_reference, sizeof b->originator_reference, "%s",
                 e->tags[MF_TAG_ISRC]);
    char date[16];
    snprintf(date, sizeof date, "%.4s-01-01", e->tags[MF_TAG_YEAR] ? e->tags[MF_TAG_YEAR] : "2000");
    memcpy(b->origination_date, date, sizeof b->origination_date);
    memcpy(b->origination_time, "00:00:00", sizeof b->origination_time);
    b->version = 2;
    /* The signal's loudness for now; mf_encode_wav_set_loudness writes the
     * file's own once it is measured. 0x7fff: not known. */
    b->loudness_value = isfinite(j->lufs) ? (int16_t)lround(j->lufs * 100) : 0x7fff;
    b->loudness_range = isfinite(j->lra_lu) ? (int16_t)lround(j->lra_lu * 100) : 0x7fff;
    b->max_true_peak_level =
        isfinite(j->true_peak_dbtp) ? (int16_t)lround(j->true_peak_dbtp * 100) : 0x7fff;
    b->max_momentary_loudness = b->max_shortterm_loudness = 0x7fff;
    snprintf(b->coding_history, sizeof b->coding_history, "A=%s,F=%d,W=%d,M=%s,T=mixfarm %s\r\n",
             e->bits == 32 ? "PCM_FLOAT" : "PCM", e->rate, e->bits,
             channels == 1 ? "mono" : "stereo", MF_VERSION);
    b->coding_history_size = (uint32_t)strlen(b->coding_history);
}

static void s_strings(SNDFILE *sf, const mf_encode_spec_t *e)
{
    static const struct {
        int str;
        mf_tag_t tag;
    } map[] = {
        {SF_STR_TITLE, MF_TAG_TITLE},         {SF_STR_ARTIST, MF_TAG_ARTIST},
        {SF_STR_ALBUM, MF_TAG_ALBUM},         {SF_STR_TRACKNUMBER, MF_TAG_TRACK},
        {SF_STR_DATE, MF_TAG_YEAR},           {SF_STR_GENRE, MF_TAG_GENRE},
        {SF_STR_COPYRIGHT, MF_TAG_COPYRIGHT}, {SF_STR_COMMENT, MF_TAG_COMMENT},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (e->tags[map[i].tag]) sf_set_string(sf, map[i].str, e->tags[map[i].tag]);
}

mf_err_t mf_encode_sndfile(mf_encode_job_t *j)
{
    const mf_encode_spec_t *e = j->spec;
    const int ch = mf_deliver_src_channels(j->src), wav = !strcmp(e->format, "wav");
    const int64_t frames = mf_deliver_src_frames(j->src);
    int sub = e->bits == 16 ? SF_FORMAT_PCM_16 : e->bits == 24 ? SF_FORMAT_PCM_24 : SF_FORMAT_FLOAT;
    /* A plain WAV unless the data outgrows what its 32-bit sizes can say. */
    int big = frames * ch * (e->bits / 8) > 0xFFFF0000LL;
    SF_INFO info = {.samplerate = e->rate,
                    .channels = ch,
                    .format =
                        (wav ? (big ? SF_FORMAT_RF64 : SF_FORMAT_WAV) : SF_FORMAT_AIFF) | sub};
    SNDFILE *sf = sf_open(j->path, SFM_WRITE, &info);
    if (!sf) {
        snprintf(j->why, sizeof j->why, "%s", sf_strerror(NULL));
        return MF_ERR_IO;
    }
    sf_command(sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
    if (wav) {
        SF_BROADCAST_INFO b;
        s_bext(j, ch, &b);
        if (!sf_command(sf, SFC_SET_BROADCAST_INFO, &b, sizeof b)) {
            snprintf(j->why, sizeof j->why, "cannot set the bext chunk: %s", sf_strerror(sf));
            sf_close(sf);
            return MF_ERR_IO;
        }
    }
    s_strings(sf, e);
    float *buf = malloc(sizeof(float) * MF_BLOCK * (size_t)ch);
    int32_t *ibuf = e->bits < 32 ? malloc(sizeof(int32_t) * MF_BLOCK * (size_t)ch) : NULL;
    mf_dither_t d;
    mf_dither_init(&d, ch, e->bits < 32 ? e->bits : 24, e->noise_shaping);
    mf_err_t err = buf && (e->bits == 32 || ibuf) ? MF_OK : MF_ERR_NOMEM;
    for (size_t n = 1; err == MF_OK && n > 0;) {
        err = mf_deliver_src_read(j->src, buf, MF_BLOCK, &n);
        if (err != MF_OK || n == 0) break;
        sf_count_t wrote;
        if (ibuf) {
            mf_dither_run(&d, buf, ibuf, n);
            for (size_t i = 0; i < n * (size_t)ch; i++)
                ibuf[i] = (int32_t)((uint32_t)ibuf[i] << (32 - e->bits)); /* libsndfile's scale */
            wrote = sf_writef_int(sf, ibuf, (sf_count_t)n);
        } else {
            wrote = sf_writef_float(sf, buf, (sf_count_t)n);
        }
        if (wrote != (sf_count_t)n) {
            snprintf(j->why, sizeof j->why, "%s", sf_strerror(sf));
            err = MF_ERR_IO;
        }
    }
    if (sf_close(sf) != 0 && err == MF_OK) err = MF_ERR_IO;
    free(buf);
    free(ibuf);
    return err;
}

/* ---- the loudness of a finished WAV ---- */

static void s_put16(unsigned char *p, double v)
{
    int16_t x = isfinite(v) && fabs(v) < 327 ? (int16_t)lround(v * 100) : 0x7fff;
    p[0] = (unsigned char)((uint16_t)x & 0xff), p[1] = (unsigned char)((uint16_t)x >> 8);
}

mf_err_t mf_encode_wav_set_loudness(const char *path, const mf_analysis_t *a)
{
    FILE *f = fopen(path, "r+b");
    if (!f) return MF_ERR_IO;
    unsigned char head[12], ck[8];
    mf_err_t err = MF_ERR_FORMAT;
    if (fread(head, 1, 12, f) != 12 || memcmp(head + 8, "WAVE", 4)) goto done;
    /* Walk the chunks (RF64's sizes live in ds64, but bext comes before
     * the data chunk, whose size is the only one that can be -1). */
    for (long pos = 12; fseek(f, pos, SEEK_SET) == 0 && fread(ck, 1, 8, f) == 8;) {
        uint32_t size = (uint32_t)mf_le_get(ck + 4, 4);
        if (!memcmp(ck, "bext", 4)) {
            /* description 256, originator 32, reference 32, date 10, time 8,
             * time reference 8, version 2, UMID 64: loudness at 412. */
            unsigned char v[10];
            s_put16(v, a->integrated_lufs);
            s_put16(v + 2, a->lra_lu);
            s_put16(v + 4, a->true_peak_dbtp);
            s_put16(v + 6, a->momentary_max_lufs);
            s_put16(v + 8, a->short_term_max_lufs);
            err = size >= 422 && fseek(f, pos + 8 + 412, SEEK_SET) == 0 && fwrite(v, 1, 10, f) == 10
                      ? MF_OK
                      : MF_ERR_IO;
            break;
        }
        if (!memcmp(ck, "data", 4)) break;
        pos += 8 + (long)size + (size & 1);
    }
done:
    if (fclose(f) != 0 && err == MF_OK) err = MF_ERR_IO;
    return err;
}
