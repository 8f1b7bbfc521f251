/* Signals for the qc tests: EBU-style sine sequences and music-like noise,
 * generated in blocks and fed to an analyzer (no long buffers). */
#ifndef QC_TEST_UTIL_H
#define QC_TEST_UTIL_H

#include "mf_analyze.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* One segment of a stereo 1 kHz sine sequence: dBFS peak per channel. */
typedef struct {
    double dbfs, seconds;
} qt_seg_t;

/* Feeds the segments (phase continuous) to a new analyzer and finishes it. */
static inline void qt_sines(double fs, const qt_seg_t *seg, size_t n, unsigned flags,
                            mf_analysis_t *out)
{
    mf_analyzer_t *a = mf_analyzer_new(2, fs, flags);
    float buf[2 * 1024];
    double ph = 0.0;
    for (size_t s = 0; s < n; s++) {
        const double amp = pow(10.0, seg[s].dbfs / 20.0);
        int64_t left = llround(seg[s].seconds * fs);
        while (left > 0) {
            const size_t m = left < 1024 ? (size_t)left : 1024;
            for (size_t i = 0; i < m; i++) {
                buf[2 * i] = buf[2 * i + 1] = (float)(amp * sin(ph));
                ph += 2.0 * M_PI * 1000.0 / fs;
            }
            mf_analyzer_feed(a, buf, m);
            left -= (int64_t)m;
        }
    }
    mf_analyzer_finish(a, out);
    mf_analyzer_free(&a);
}

/* xorshift64: repeatable noise in [-1, 1). */
static inline double qt_rand(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return (double)(*s >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

/* Music-like stereo: low-passed noise, a bass tone and partials under a slow
 * level envelope (about -20 LUFS, peaks around -9 dBFS). */
static inline void qt_music(float *x, size_t frames, int channels, double fs, uint64_t seed)
{
    double lp[32] = {0}; /* up to 32 channels */
    uint64_t s = seed;
    for (size_t i = 0; i < frames; i++) {
        const double t = (double)i / fs, env = 0.3 + 0.25 * sin(2 * M_PI * 0.13 * t);
        for (int c = 0; c < channels; c++) {
            lp[c] += (0.12 + 0.05 * c) * (qt_rand(&s) - lp[c]);
            const double v = 0.5 * lp[c] + 0.2 * sin(2 * M_PI * 110 * t + c) +
                             0.1 * sin(2 * M_PI * (440 + 220 * c) * t) + 0.04 * qt_rand(&s) +
                             0.05 * sin(2 * M_PI * 3520 * t) * (fmod(t, 0.5) < 0.1);
            x[i * (size_t)channels + (size_t)c] = (float)(env * v);
        }
    }
}

static inline void qt_analyse(const float *x, size_t frames, int channels, double fs,
                              unsigned flags, mf_analysis_t *out)
{
    mf_analyzer_t *a = mf_analyzer_new(channels, fs, flags);
    for (size_t i = 0; i < frames; i += 3000) /* an odd block size on purpose */
        mf_analyzer_feed(a, x + i * (size_t)channels, frames - i < 3000 ? frames - i : 3000);
    mf_analyzer_finish(a, out);
    mf_analyzer_free(&a);
}

#endif
