/* Small helpers shared by the processors: denormal control, time constants,
 * clamping. Header-only, pure. */
#ifndef MF_DSP_UTIL_H
#define MF_DSP_UTIL_H

#include <math.h>
#include <stddef.h>

/* Processors work through their blocks in chunks of at most this many frames,
 * so their scratch buffers have a fixed size whatever the caller's block. */
#define MF_DSP_CHUNK 512

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
/* Flush-to-zero and denormals-are-zero (MXCSR bits 15 and 6) while a
 * processor runs, so decaying tails never fall into slow subnormal
 * arithmetic; the caller's mode is restored afterwards. */
static inline unsigned mf_dsp_denormals_off(void)
{
    const unsigned old = _mm_getcsr();
    _mm_setcsr(old | 0x8040u);
    return old;
}
static inline void mf_dsp_denormals_restore(unsigned old)
{
    _mm_setcsr(old);
}
#elif defined(__aarch64__)
/* FPCR.FZ (bit 24) flushes subnormals to zero. */
static inline unsigned mf_dsp_denormals_off(void)
{
    unsigned long old;
    __asm__ volatile("mrs %0, fpcr" : "=r"(old));
    __asm__ volatile("msr fpcr, %0" ::"r"(old | (1ul << 24)));
    return (unsigned)old;
}
static inline void mf_dsp_denormals_restore(unsigned old)
{
    __asm__ volatile("msr fpcr, %0" ::"r"((unsigned long)old));
}
#else
static inline unsigned mf_dsp_denormals_off(void)
{
    return 0;
}
static inline void mf_dsp_denormals_restore(unsigned old)
{
    (void)old;
}
#endif

/* A processor's process(): fn on consecutive pieces of at most chunk frames
 * of the interleaved buffer (and of the key, when there is one), with
 * denormals flushed throughout. */
typedef void (*mf_dsp_chunk_fn)(void *st, float *buf, size_t frames, const float *key);
static inline void mf_dsp_in_chunks(void *st, int channels, float *buf, size_t frames,
                                    const float *key, size_t chunk, mf_dsp_chunk_fn fn)
{
    const unsigned fp = mf_dsp_denormals_off();
    for (size_t i = 0; i < frames; i += chunk) {
        const size_t n = frames - i < chunk ? frames - i : chunk, off = i * (size_t)channels;
        fn(st, buf + off, n, key ? key + off : NULL);
    }
    mf_dsp_denormals_restore(fp);
}

/* The coefficient of a one-pole smoother y += (1 - c)(x - y) that covers
 * 1 - 1/e (63 %) of a step in ms milliseconds; 0 (instant) for ms <= 0. */
static inline double mf_dsp_time_coef(double ms, double rate)
{
    return ms <= 0.0 ? 0.0 : exp(-1000.0 / (ms * rate));
}

static inline double mf_dsp_clamp(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* A one-pole DC blocker, y = x - x1 + r y1 with r = exp(-2 pi hz / rate):
 * a highpass with its corner at hz, where a loop's gain at DC would raise
 * a source's slight offset (the reverb's input, the delay's feedback). */
typedef struct {
    float r, x1, y1; /* pole, last input, last output */
} mf_dsp_dc_block_t;

static inline mf_dsp_dc_block_t mf_dsp_dc_block_new(double hz, double rate)
{
    return (mf_dsp_dc_block_t){.r = (float)exp(-2.0 * M_PI * hz / rate)};
}

static inline float mf_dsp_dc_block(mf_dsp_dc_block_t *b, float x)
{
    const float y = x - b->x1 + b->r * b->y1;
    b->x1 = x, b->y1 = y;
    return y;
}

/* Frames in ms milliseconds, rounded to the nearest frame. */
static inline size_t mf_dsp_ms_frames(double ms, double rate)
{
    return ms <= 0.0 ? 0 : (size_t)llround(ms * 0.001 * rate);
}

#endif
