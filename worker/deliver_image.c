/* Cover images: what kind, and how large, from their first bytes (the
 * session validated them as JPEG or PNG where they were read). */
#include "deliver_int.h"

#include <string.h>

const char *mf_image_mime(const unsigned char *p, size_t n)
{
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n >= 8 && !memcmp(p, png, 8)) return "image/png";
    if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) return "image/jpeg";
    return NULL;
}

static unsigned s_be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static unsigned s_be32(const unsigned char *p)
{
    return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

void mf_image_size(const unsigned char *p, size_t n, unsigned *w, unsigned *h, unsigned *depth)
{
    *w = *h = *depth = 0;
    const char *mime = mf_image_mime(p, n);
    if (!mime) return;
    if (!strcmp(mime, "image/png")) {
        /* IHDR: width, height, bit depth, colour type. */
        if (n < 26 || memcmp(p + 12, "IHDR", 4)) return;
        static const unsigned samples[7] = {1, 0, 3, 1, 2, 0, 4};
        unsigned type = p[25] < 7 ? samples[p[25]] : 0;
        *w = s_be32(p + 16), *h = s_be32(p + 20);
        *depth = p[25] == 3 ? p[24] : p[24] * type;
        return;
    }
    /* JPEG: walk the markers to a start of frame (SOF0..SOF15 but DHT,
     * JPG and DAC): precision, height, width, components. */
    for (size_t i = 2; i + 9 < n;) {
        if (p[i] != 0xff) return;
        unsigned m = p[i + 1], len = s_be16(p + i + 2);
        if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
            *h = s_be16(p + i + 5), *w = s_be16(p + i + 7);
            *depth = p[i + 4] * p[i + 9];
            return;
        }
        i += 2 + len;
    }
}
