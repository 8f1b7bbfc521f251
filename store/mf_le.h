/* Little-endian integers in byte buffers, whatever the host's order: the
 * sizes in WAV and AIFF headers, a signal blob's trailer, the analysis
 * blob (qc/mf_analysis_blob.c). n is the width in bytes, 1 to 8. */
#ifndef MF_LE_H
#define MF_LE_H

#include <stdint.h>

static inline void mf_le_put(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint64_t mf_le_get(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n; i-- > 0;) v = v << 8 | p[i];
    return v;
}

#endif
