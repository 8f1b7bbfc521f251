#include "mf_source_check.h"
#include "mf_le.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Chunks walked before giving up on finding the audio: a bound for a file
 * made of nothing but tiny chunks. */
#define MAX_CHUNKS 4096

/* Where a file's audio data is and how much of it the header declares. */
typedef struct {
    int64_t declared;      /* bytes of audio the header declares */
    int64_t start;         /* where those bytes start in the file */
    int bytes_per_frame;   /* 0 when compressed (no whole number per frame) */
    int64_t header_frames; /* AIFF: the frame count in COMM; -1 elsewhere */
    uint32_t channel_mask; /* WAVE_FORMAT_EXTENSIBLE's dwChannelMask; 0 elsewhere */
} data_chunk_t;

static uint32_t s_be16(const unsigned char *p)
{
    return (uint32_t)p[0] << 8 | (uint32_t)p[1];
}
static uint32_t s_be32(const unsigned char *p)
{
    return s_be16(p) << 16 | s_be16(p + 2);
}

static int s_read_at(FILE *f, int64_t pos, unsigned char *buf, size_t n)
{
    return fseeko(f, (off_t)pos, SEEK_SET) == 0 && fread(buf, 1, n, f) == n ? 0 : -1;
}

/* A fmt chunk of size bytes at pos: its tag, block size and, when it is
 * WAVE_FORMAT_EXTENSIBLE (40 bytes or more), its channel mask. */
static void s_fmt(FILE *f, int64_t pos, uint64_t size, uint32_t *tag, uint32_t *block_align,
                  data_chunk_t *d)
{
    unsigned char b[24];
    if (s_read_at(f, pos, b, 16) != 0) return;
    *tag = (uint32_t)mf_le_get(b, 2), *block_align = (uint32_t)mf_le_get(b + 12, 2);
    if (*tag == 0xFFFE && size >= 40 && s_read_at(f, pos, b, 24) == 0)
        d->channel_mask = (uint32_t)mf_le_get(b + 20, 4);
}

/* WAVE_FORMAT_PCM, _IEEE_FLOAT, _ALAW, _MULAW and _EXTENSIBLE: one block is
 * one frame. */
static int s_wav_frame_bytes(uint32_t tag, uint32_t block_align)
{
    int plain = tag == 1 || tag == 3 || tag == 6 || tag == 7 || tag == 0xFFFE;
    return plain ? (int)block_align : 0;
}

/* RIFF/RF64: little-endian chunks after "RIFF" size "WAVE"; an RF64 file's
 * real data size is in its ds64 chunk. 0 when a data chunk with a size was
 * found. */
static int s_riff(FILE *f, int rf64, data_chunk_t *d)
{
    int64_t pos = 12, ds64_data = -1;
    uint32_t tag = 0, block_align = 0;
    for (int k = 0; k < MAX_CHUNKS; k++) {
        unsigned char h[8], b[16];
        if (s_read_at(f, pos, h, sizeof h) != 0) return -1;
        const uint32_t size = (uint32_t)mf_le_get(h + 4, 4);
        pos += 8;
        if (!memcmp(h, "ds64", 4) && s_read_at(f, pos, b, 16) == 0)
            ds64_data = (int64_t)mf_le_get(b + 8, 8);
        if (!memcmp(h, "fmt ", 4)) s_fmt(f, pos, size, &tag, &block_align, d);
        if (!memcmp(h, "data", 4)) {
            /* 0 or 0xFFFFFFFF in a plain WAV: written while streaming, no
             * length promised. */
            int unsized = size == 0 || size == 0xFFFFFFFFu;
            d->declared = rf64 && size == 0xFFFFFFFFu ? ds64_data : unsized ? -1 : (int64_t)size;
            d->start = pos;
            d->bytes_per_frame = s_wav_frame_bytes(tag, block_align);
            return d->declared > 0 ? 0 : -1;
        }
        pos += (int64_t)size + (size & 1);
    }
    return -1;
}

/* Wave64: 16-byte GUID ids (the first four bytes spell the name) and 64-bit
 * sizes that count the 24-byte chunk header, chunks aligned to 8 bytes. */
static int s_w64(FILE *f, data_chunk_t *d)
{
    int64_t pos = 40;
    uint32_t tag = 0, block_align = 0;
    for (int k = 0; k < MAX_CHUNKS; k++) {
        unsigned char h[24];
        if (s_read_at(f, pos, h, sizeof h) != 0) return -1;
        const uint64_t size = mf_le_get(h + 16, 8);
        if (size < 24 || size > (uint64_t)INT64_MAX / 2) return -1;
        if (!memcmp(h, "fmt ", 4)) s_fmt(f, pos + 24, size - 24, &tag, &block_align, d);
        if (!memcmp(h, "data", 4)) {
            d->declared = (int64_t)size - 24;
            d->start = pos + 24;
            d->bytes_per_frame = s_wav_frame_bytes(tag, block_align);
            return d->declared > 0 ? 0 : -1;
        }
        pos += (int64_t)((size + 7) & ~(uint64_t)7);
    }
    return -1;
}

/* AIFF/AIFC: big-endian chunks; COMM holds the frame count, SSND the
 * samples after an offset. Compressed AIFC has no fixed frame size. */
static int s_aiff(FILE *f, int aifc, data_chunk_t *d)
{
    int64_t pos = 12;
    int have_comm = 0, have_ssnd = 0;
    for (int k = 0; k < MAX_CHUNKS && !(have_comm && have_ssnd); k++) {
        unsigned char h[8], b[22];
        if (s_read_at(f, pos, h, sizeof h) != 0) break;
        const uint32_t size = s_be32(h + 4);
        if (!memcmp(h, "COMM", 4) && s_read_at(f, pos + 8, b, aifc ? 22 : 18) == 0) {
            const uint32_t channels = s_be16(b), bits = s_be16(b + 6);
            static const char *plain[] = {"NONE", "twos", "sowt", "fl32", "fl64", "raw "};
            int uncompressed = !aifc;
            for (size_t i = 0; aifc && i < sizeof plain / sizeof plain[0]; i++)
                uncompressed |= !memcmp(b + 18, plain[i], 4);
            d->header_frames = s_be32(b + 2);
            d->bytes_per_frame = uncompressed ? (int)(channels * ((bits + 7) / 8)) : 0;
            have_comm = 1;
        }
        if (!memcmp(h, "SSND", 4) && size >= 8 && s_read_at(f, pos + 8, b, 8) == 0) {
            const uint32_t offset = s_be32(b);
            d->start = pos + 16 + offset;
            d->declared = (int64_t)size - 8 - offset;
            have_ssnd = 1;
        }
        pos += 8 + (int64_t)size + (size & 1);
    }
    return have_ssnd && d->declared > 0 ? 0 : -1;
}

static int s_find_data(FILE *f, data_chunk_t *d)
{
    unsigned char h[40];
    if (s_read_at(f, 0, h, sizeof h) != 0) return -1;
    if (!memcmp(h, "RIFF", 4) && !memcmp(h + 8, "WAVE", 4)) return s_riff(f, 0, d);
    if (!memcmp(h, "RF64", 4) && !memcmp(h + 8, "WAVE", 4)) return s_riff(f, 1, d);
    if (!memcmp(h, "riff", 4) && !memcmp(h + 24, "wave", 4)) return s_w64(f, d);
    if (!memcmp(h, "FORM", 4) && !memcmp(h + 8, "AIFF", 4)) return s_aiff(f, 0, d);
    if (!memcmp(h, "FORM", 4) && !memcmp(h + 8, "AIFC", 4)) return s_aiff(f, 1, d);
    return -1;
}

void mf_source_short_words(char *why, size_t why_size, double header_s, double data_s)
{
    /* Short by less than a millisecond: more digits, or both would read the same. */
    const int digits = header_s - data_s < 0.0005 ? 6 : 3;
    snprintf(why, why_size, "header says %.*f s, data holds %.*f s", digits, header_s, digits,
             data_s);
}

int mf_source_truncated(const char *path, const SF_INFO *info, char *why, size_t why_size)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f) return -1;
    data_chunk_t d = {.header_frames = -1};
    const int found = fstat(fileno(f), &st) == 0 && s_find_data(f, &d) == 0;
    fclose(f);
    if (!found || info->samplerate <= 0) return 0;
    int64_t held = (int64_t)st.st_size - d.start;
    if (held < 0) held = 0;
    const int64_t bpf = d.bytes_per_frame;
    /* Whole, or missing less than the last frame's worth (its pad byte). */
    if (d.declared <= held || (bpf > 0 && d.declared / bpf <= held / bpf)) return 0;
    const double header_frames = d.header_frames >= 0 ? (double)d.header_frames
                                 : bpf > 0            ? (double)(d.declared / bpf)
                                 : held > 0
                                     ? (double)info->frames * (double)d.declared / (double)held
                                     : -1;
    const double rate = info->samplerate;
    if (header_frames < 0) /* compressed, and not one byte of it there */
        snprintf(why, why_size, "header says %lld bytes of audio, data holds none",
                 (long long)d.declared);
    else
        mf_source_short_words(why, why_size, header_frames / rate, (double)info->frames / rate);
    return 1;
}

uint32_t mf_source_channel_mask(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    data_chunk_t d = {.header_frames = -1};
    s_find_data(f, &d); /* the fmt chunk comes before the data */
    fclose(f);
    return d.channel_mask;
}
