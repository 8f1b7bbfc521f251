/* DSP kernels: the inner loops every processor shares, as a table of function
 * pointers chosen once from the CPU (FFmpeg's pattern: the table is filled
 * with the plain C kernels first, then each supported instruction set
 * overwrites the entries it implements, lowest first, so the best one wins).
 *
 * Kernels are pure: no allocation, no I/O, no globals. The C versions are the
 * reference that tests/dsp/test_checkasm.c compares every SIMD variant with.
 *
 * Aliasing: the biquad and gain kernels are used in place, so for them out may
 * be exactly equal to in (no other overlap); that is why they do not take
 * restrict pointers. Kernels with restrict pointers need distinct buffers. */
#ifndef MF_KERNELS_H
#define MF_KERNELS_H

#include <stddef.h>

/* Enough for 16 EQ bands of 48 dB/oct (4 sections each). */
#define MF_BIQUAD_MAX_SECTIONS 64

/* A cascade of second-order sections in transposed direct form II, one state
 * per section and channel. Coefficients are normalised (a0 = 1):
 *   y = b0*x + z1;  z1 = (b1*x + z2) - a1*y;  z2 = b2*x - a2*y
 * This ordering keeps the multiply by y off the start of the next sample's
 * dependency chain (AUDIO-FACTS.md: 4.2 vs 5.7-10 ns/sample). */
typedef struct {
    int channels;                          /* 1 or 2, interleaved */
    int nsec;                              /* sections in use, 0..MF_BIQUAD_MAX_SECTIONS */
    float c[MF_BIQUAD_MAX_SECTIONS][5];    /* b0 b1 b2 a1 a2 */
    float z[MF_BIQUAD_MAX_SECTIONS][2][2]; /* [section][channel] = {z1, z2} */
} mf_biquad_cascade_t;

/* A group of up to four sections of a cascade that does not change, in
 * block state-space form (mf_bqb.h): a block of MF_BQB_N frames of output
 * is a matrix times the block's input plus a matrix times the state at its
 * start, and so is the state at its end. The state (the sections' z1, z2 in
 * order) is kept in double: the state matrices of low-frequency poles are
 * close to the identity, and float would lose the signal in them. */
#define MF_BQB_N 16
#define MF_BQB_S 8
typedef struct {
    _Alignas(64) float t[MF_BQB_N][MF_BQB_N];  /* t[j][i]: output i from input j (0 for j > i) */
    _Alignas(64) float o[MF_BQB_S][MF_BQB_N];  /* o[m][i]: output i from start state m */
    _Alignas(64) double c[MF_BQB_N][MF_BQB_S]; /* c[j][m]: end state m from input j */
    _Alignas(64) double a[MF_BQB_S][MF_BQB_S]; /* a[k][m]: end state m from start state k */
} mf_bqb_group_t;

/* Static curve of a compressor's gain computer (Giannoulis, Massberg and
 * Reiss, "Digital dynamic range compressor design", JAES 60(6), 2012, eq. 4):
 * with x the level in dB, T the threshold, R the ratio and W the knee width,
 *   2(x-T) < -W   : y = x
 *   2|x-T| <= W   : y = x + (1/R - 1) (x - T + W/2)^2 / (2W)
 *   2(x-T) > W    : y = T + (x - T)/R
 * and the output is the gain change y - x (<= 0 dB). */
typedef struct {
    float threshold_db;
    float slope;    /* 1/R - 1, in [-1, 0] */
    float knee_db;  /* W >= 0; 0 is a hard knee */
    float db_scale; /* 20 for amplitude levels, 10 for power (mean square) */
} mf_gain_curve_t;

/* The compressor's attack/release ballistics (mf_comp.c) run over groups
 * of this many frames, a prefix scan over vector lanes
 * (mf_ballistics_kernel.h); only a group's last value carries on. */
#define MF_BALLISTICS_LANES 8
/* Their coefficients: rel_pow[k] = rel^(k+1), att_pow[k] = att^(k+1), rel
 * and att the one-pole coefficients of the release and the attack. */
typedef struct {
    float rel_pow[MF_BALLISTICS_LANES], att_pow[MF_BALLISTICS_LANES];
} mf_ballistics_t;
/* c's powers of the attack and release coefficients, each the last times
 * the coefficient (in float, so every caller gets the same bits). */
void mf_ballistics_set(mf_ballistics_t *c, float att, float rel);

typedef struct {
    const char *name; /* "c", "sse2", "avx2", "avx512", "neon" */
    /* Tables of one family give the same bits (checkasm's
     * test_variants_agree): "x86" (SSE2, AVX2, AVX-512), "neon", "c". */
    const char *family;
    /* Runs frames frames through the cascade, updating st->z. */
    void (*biquad)(float *out, const float *in, size_t frames, mf_biquad_cascade_t *st);
    /* Runs blocks blocks of MF_BQB_N frames of one channel (planar, in
     * place) through a group; s is the state at the first block's start,
     * and on return at the last one's end. Outputs have no negative zero,
     * so that they do not depend on inputs that only meet zero
     * coefficients (mf_bqb.c's unfinished blocks). */
    void (*biquad_block)(const mf_bqb_group_t *g, float *x, size_t blocks, double *s);
    /* out = in * g for interleaved frames, g going linearly from g0 (exclusive)
     * to g1 (reached at the last frame): g(i) = g0 + (g1 - g0) (i+1) / frames. */
    void (*gain_ramp)(float *out, const float *in, size_t frames, int channels, float g0, float g1);
    /* out[i*ch + c] = in[i*ch + c] * gain[i]: one gain per frame. */
    void (*gain_apply)(float *out, const float *in, const float *gain, size_t frames, int channels);
    /* Linked detector input: out[i] = max |in| over the frame's channels
     * (power = 0), or the mean of squares over them (power = 1). */
    void (*detect)(float *restrict out, const float *restrict in, size_t frames, int channels,
                   int power);
    /* gr_db[i] = curve(db_scale * log10(max(level[i], 1e-30))) - that level. */
    void (*gain_computer)(float *restrict gr_db, const float *restrict level, size_t n,
                          const mf_gain_curve_t *curve);
    /* The ballistics of groups groups of MF_BALLISTICS_LANES frames, in
     * place: gr[i] holds a gain change r_i <= 0 dB and becomes y_i >= 0, the
     * reduction after y1_i = max(-r_i, rel * y1_(i-1) + (1 - rel) * (-r_i))
     * (an instant attack that releases with rel) and y_i = att * y_(i-1) +
     * (1 - att) * y1_i (Giannoulis, Massberg and Reiss, JAES 2012, eq. 17).
     * st = {y1, y} before the first frame; after the last on return. Every
     * variant gives the C reference's bits. */
    void (*ballistics)(float *gr, size_t groups, const mf_ballistics_t *c, float st[2]);
    /* out[i] = 10^(db[i]/20); db below -758 gives 0. */
    void (*db_to_gain)(float *restrict out, const float *restrict db, size_t n);
    /* n little-endian signed integer samples of bytes (2 or 3) each to
     * float, x / 2^(8 bytes - 1): exact, so every variant gives the same
     * bits, and they are libsndfile's (a WAV source read raw). */
    void (*pcm_to_float)(float *restrict out, const unsigned char *restrict in, size_t n,
                         int bytes);
    /* out[i] = sum of taps[m] * x[i + m] for m < ntaps (x holds n + ntaps
     * - 1 samples), added in tap order; add = 1 adds it to out[i]. Every
     * variant of every family gives the same bits (mf_fir_kernel.h). */
    void (*fir)(float *restrict out, const float *restrict x, size_t n, const float *restrict taps,
                int ntaps, int add);
    /* out[i] = tanh(in[i]) within 2e-7 (mf_approx.h); out may equal in.
     * Every variant of every family gives the same bits. */
    void (*tanh_curve)(float *out, const float *in, size_t n);
} mf_dsp_kernels_t;

/* x86-64: C, then SSE2, AVX2, AVX-512 as the CPU has them; AArch64: C and
 * NEON (which every AArch64 CPU has). */
typedef enum {
    MF_ISA_C,
    MF_ISA_SSE2,
    MF_ISA_AVX2,
    MF_ISA_AVX512,
    MF_ISA_NEON,
    MF_ISA_COUNT
} mf_isa_t;

/* The best table for this CPU; chosen once, valid for the process lifetime. */
const mf_dsp_kernels_t *mf_dsp_kernels(void);
/* The table for one instruction set (C plus everything up to isa), or NULL
 * when the CPU or the build does not support it. For tests and benchmarks. */
const mf_dsp_kernels_t *mf_dsp_kernels_for(mf_isa_t isa);
/* From now on mf_dsp_kernels() is the C table, whatever the CPU has (a
 * worker's --kernels c). Call it before any thread uses the kernels. */
void mf_dsp_kernels_plain(void);

/* Sets every section of st to pass through and clears the state. */
void mf_biquad_cascade_reset(mf_biquad_cascade_t *st, int channels, int nsec);

/* The C reference table (SIMD variants use it for tails of blocks). */
extern const mf_dsp_kernels_t mf_dsp_kernels_c;

/* Per-ISA initialisers: each overwrites the entries it implements. */
void mf_dsp_init_sse2(mf_dsp_kernels_t *k);
void mf_dsp_init_avx2(mf_dsp_kernels_t *k);
void mf_dsp_init_avx512(mf_dsp_kernels_t *k);
void mf_dsp_init_neon(mf_dsp_kernels_t *k);

#endif
