#include "mf_wavf.h"
#include "mf_le.h"

#include <string.h>

static uint8_t *s_le(uint8_t *p, uint32_t v, int n)
{
    mf_le_put(p, v, n);
    return p + n;
}

static uint8_t *s_tag(uint8_t *p, const char *tag, uint32_t size)
{
    memcpy(p, tag, 4);
    return s_le(p + 4, size, 4);
}

size_t mf_wavf_header(uint8_t out[MF_WAVF_HEADER_MAX], int channels, int rate, int64_t frames)
{
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    return 0; /* the samples would need swapping: libsndfile does it */
#endif
    const uint64_t data = (uint64_t)frames * (uint64_t)channels * 4;
    /* libsndfile's own limit before it switches to RF64 (mf_outdir.c). */
    if (channels < 1 || channels > 2 || rate < 1 || frames < 0 || data > 0xFFFF0000ull) return 0;
    /* libsndfile keeps room for a PEAK chunk (position and value per
     * channel after a version and a time stamp) and, with the chunk turned
     * off, fills it with a PAD chunk of that size. */
    const uint32_t pad = 8 + 8 * (uint32_t)channels;
    uint8_t *p = out;
    const size_t len = 12 + (8 + 16) + (8 + 4) + (8 + pad) + 8;
    p = s_tag(p, "RIFF", (uint32_t)(len - 8 + data));
    memcpy(p, "WAVE", 4), p += 4;
    p = s_tag(p, "fmt ", 16);
    p = s_le(p, 3, 2); /* WAVE_FORMAT_IEEE_FLOAT */
    p = s_le(p, (uint32_t)channels, 2);
    p = s_le(p, (uint32_t)rate, 4);
    p = s_le(p, (uint32_t)rate * (uint32_t)channels * 4, 4);
    p = s_le(p, (uint32_t)channels * 4, 2);
    p = s_le(p, 32, 2);
    p = s_tag(p, "fact", 4);
    p = s_le(p, (uint32_t)frames, 4);
    p = s_tag(p, "PAD ", pad);
    memset(p, 0, pad), p += pad;
    p = s_tag(p, "data", (uint32_t)data);
    return (size_t)(p - out) == len ? len : 0;
}
