/* QC kernels: the inner loops of loudness and true-peak measurement, as a
 * table of function pointers chosen once from the CPU (the pattern of
 * dsp/mf_kernels.h: the C reference first, then each supported instruction
 * set overwrites what it implements, lowest first).
 *
 * Kernels are pure: no allocation, no I/O, no globals. The C versions are
 * the reference that tests/qc/test_qc_kernels.c compares every variant with. */
#ifndef MF_QC_KERNELS_H
#define MF_QC_KERNELS_H

#include <stddef.h>

/* K-weighting (ITU-R BS.1770-4 pre-filter + RLB high-pass) as two biquads
 * in transposed direct form II, state (z1a, z2a, z1b, z2b) per channel, and
 * the same filter in state-space form over blocks of 8 samples, so 8 outputs
 * come from one matrix product instead of a chain of 8 dependent steps:
 *   y[t]  = sum_j P[j][t] s_j + sum_k H[k][t] x[k]     (t = 0..7)
 *   s'[i] = sum_j Q[j][i] s_j + sum_k R[k][i] x[k]
 * Both forms share the state, so a block may end on any sample. */
typedef struct {
    _Alignas(32) float P[4][8];
    _Alignas(32) float H[8][8];
    _Alignas(32) float Q[4][4];
    _Alignas(32) float R[8][4];
    float c[2][5]; /* per section: b0 b1 b2 a1 a2 (a0 = 1) */
} mf_kw_coef_t;

/* True-peak interpolator: the value at t = n + p/R between samples n and
 * n+1 is sum_j c[p-1][j] x[n - MF_TP_PRE + j] (j < MF_TP_TAPS), for the R-1
 * fractional phases (phase 0 is the sample itself). */
#define MF_TP_TAPS 32
#define MF_TP_PRE 15  /* samples needed before n */
#define MF_TP_POST 16 /* samples needed after n */
typedef struct {
    int R;   /* oversampling factor: 4, 2 or 1 */
    int nph; /* R - 1 interpolated phases */
    _Alignas(64) float c[3][MF_TP_TAPS];
} mf_tp_coef_t;

/* What one pass over an interleaved block learns (per channel c). */
typedef struct {
    float peak[2];   /* max |x| */
    double sum[2];   /* sum of x (DC) */
    double sumsq[2]; /* sum of x^2 */
    double sumlr;    /* sum of l*r (stereo) */
    float side;      /* max |l - r| (stereo) */
} mf_blk_stats_t;

typedef struct {
    const char *name; /* "c", "avx2", "avx512" */
    /* Tables of one family give the same bits (test_qc_kernels'
     * test_variants_agree): "x86" (AVX2, AVX-512), "c". */
    const char *family;
    /* Runs n samples of one channel through the K-weighting, updating s[4];
     * returns the sum of squares of the output. */
    double (*kweight)(const mf_kw_coef_t *k, float s[4], const float *x, size_t n);
    /* max |interpolated value| over the intervals after x[0..n), phases
     * 1..R-1; x[-MF_TP_PRE] .. x[n-1+MF_TP_POST] must be readable. */
    float (*tp_max)(const mf_tp_coef_t *c, const float *x, size_t n);
    /* env[i] = max(env[i], |x[i]|, max over phases of |interpolated value|
     * between x[i] and x[i+1]) for i < n; same reach as tp_max. */
    void (*tp_env)(const mf_tp_coef_t *c, const float *x, size_t n, float *env);
    /* Splits n interleaved frames (1 or 2 channels) into l (and r), filling
     * *st (overwritten, not accumulated). */
    void (*deint)(const float *in, size_t n, int channels, float *l, float *r, mf_blk_stats_t *st);
} mf_qc_kernels_t;

typedef enum { MF_QC_ISA_C, MF_QC_ISA_AVX2, MF_QC_ISA_AVX512, MF_QC_ISA_COUNT } mf_qc_isa_t;

/* The best table for this CPU, chosen once. */
const mf_qc_kernels_t *mf_qc_kernels(void);
/* The table for one instruction set, or NULL when unsupported (tests, benchmarks). */
const mf_qc_kernels_t *mf_qc_kernels_for(mf_qc_isa_t isa);
/* From now on mf_qc_kernels() is the C table (a worker's --kernels c);
 * before any thread uses the kernels. */
void mf_qc_kernels_plain(void);

/* Coefficients for a sample rate (8 kHz .. 768 kHz). */
void mf_kw_design(mf_kw_coef_t *k, double rate);
void mf_tp_design(mf_tp_coef_t *c, double rate);

extern const mf_qc_kernels_t mf_qc_kernels_c;
void mf_qc_init_avx2(mf_qc_kernels_t *k);
void mf_qc_init_avx512(mf_qc_kernels_t *k);

#endif
