/* AVX-512F QC kernels: the true-peak interpolator with 16 lanes (32
 * intervals per iteration, coefficients as embedded broadcasts). kweight and
 * deint keep their AVX2 versions: the K-weighting step is latency-bound on
 * its 4-element state and deint is memory-bound. */
#include "mf_qc_kernels.h"

typedef int mf_qc_kernels_avx512_unused_t;

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define TGT __attribute__((target("avx512f")))
#define TGT_INLINE static inline __attribute__((always_inline, target("avx512f")))

/* As s_tp16 in mf_qc_kernels_avx2.c, 32 intervals per call. */
TGT_INLINE void s_tp32(const mf_tp_coef_t *c, const float *b, const int nph, __m512 *lo, __m512 *hi)
{
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0;
#pragma GCC unroll 8
    for (int j = 0; j < MF_TP_TAPS; j++) {
        const __m512 d0 = _mm512_loadu_ps(b + j), d1 = _mm512_loadu_ps(b + 16 + j);
        const __m512 k0 = _mm512_set1_ps(c->c[0][j]);
        a0 = _mm512_fmadd_ps(k0, d0, a0), a1 = _mm512_fmadd_ps(k0, d1, a1);
        if (nph == 3) {
            const __m512 k1 = _mm512_set1_ps(c->c[1][j]), k2 = _mm512_set1_ps(c->c[2][j]);
            b0 = _mm512_fmadd_ps(k1, d0, b0), b1 = _mm512_fmadd_ps(k1, d1, b1);
            c0 = _mm512_fmadd_ps(k2, d0, c0), c1 = _mm512_fmadd_ps(k2, d1, c1);
        }
    }
    __m512 m0 = _mm512_abs_ps(a0), m1 = _mm512_abs_ps(a1);
    if (nph == 3) {
        m0 = _mm512_max_ps(m0, _mm512_max_ps(_mm512_abs_ps(b0), _mm512_abs_ps(c0)));
        m1 = _mm512_max_ps(m1, _mm512_max_ps(_mm512_abs_ps(b1), _mm512_abs_ps(c1)));
    }
    *lo = m0, *hi = m1;
}

TGT_INLINE size_t s_tp_max(const mf_tp_coef_t *c, const float *x, size_t n, const int nph,
                           float *out)
{
    __m512 m = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 lo, hi;
        s_tp32(c, x + i - MF_TP_PRE, nph, &lo, &hi);
        m = _mm512_max_ps(m, _mm512_max_ps(lo, hi));
    }
    *out = _mm512_reduce_max_ps(m);
    return i;
}

static TGT float avx512_tp_max(const mf_tp_coef_t *c, const float *x, size_t n)
{
    if (c->nph == 0) return 0.0f;
    float m;
    const size_t i = c->nph == 3 ? s_tp_max(c, x, n, 3, &m) : s_tp_max(c, x, n, 1, &m);
    if (i < n) {
        /* The remainder (< 32 intervals) through the AVX2 or C kernel. */
        const mf_qc_kernels_t *k = mf_qc_kernels_for(MF_QC_ISA_AVX2);
        const float t = (k ? k : &mf_qc_kernels_c)->tp_max(c, x + i, n - i);
        m = t > m ? t : m;
    }
    return m;
}

TGT_INLINE size_t s_tp_env(const mf_tp_coef_t *c, const float *x, size_t n, const int nph,
                           float *env)
{
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 lo, hi;
        s_tp32(c, x + i - MF_TP_PRE, nph, &lo, &hi);
        lo = _mm512_max_ps(lo, _mm512_abs_ps(_mm512_loadu_ps(x + i)));
        hi = _mm512_max_ps(hi, _mm512_abs_ps(_mm512_loadu_ps(x + i + 16)));
        _mm512_storeu_ps(env + i, _mm512_max_ps(lo, _mm512_loadu_ps(env + i)));
        _mm512_storeu_ps(env + i + 16, _mm512_max_ps(hi, _mm512_loadu_ps(env + i + 16)));
    }
    return i;
}

static TGT void avx512_tp_env(const mf_tp_coef_t *c, const float *x, size_t n, float *env)
{
    size_t i = 0;
    if (c->nph == 3)
        i = s_tp_env(c, x, n, 3, env);
    else if (c->nph == 1)
        i = s_tp_env(c, x, n, 1, env);
    if (i < n) {
        const mf_qc_kernels_t *k = mf_qc_kernels_for(MF_QC_ISA_AVX2);
        (k ? k : &mf_qc_kernels_c)->tp_env(c, x + i, n - i, env + i);
    }
}

void mf_qc_init_avx512(mf_qc_kernels_t *k)
{
    k->tp_max = avx512_tp_max;
    k->tp_env = avx512_tp_env;
}
#endif
