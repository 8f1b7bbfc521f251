/* AVX2 + FMA QC kernels, compiled with per-function target attributes and
 * called only when the CPU has both.
 *
 * kweight: the state-space form of mf_qc_kernels.h, 8 outputs per step; the
 * only dependency between steps is the 4-element state, so a step costs a
 * few FMAs of latency instead of 8 dependent biquad updates.
 * tp_max / tp_env: the interpolator vectorised over time (8 consecutive
 * intervals per register, 16 per iteration), each coefficient broadcast once
 * for both registers and all phases. */
#include "mf_qc_kernels.h"

typedef int mf_qc_kernels_avx2_unused_t;

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define TGT __attribute__((target("avx2,fma")))
#define TGT_INLINE static inline __attribute__((always_inline, target("avx2,fma")))

TGT_INLINE float s_hmax(__m256 v)
{
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}

TGT_INLINE double s_hsum(__m256 v)
{
    __m128 m = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128d d = _mm_add_pd(_mm_cvtps_pd(m), _mm_cvtps_pd(_mm_movehl_ps(m, m)));
    return _mm_cvtsd_f64(_mm_add_sd(d, _mm_unpackhi_pd(d, d)));
}

static TGT double avx2_kweight(const mf_kw_coef_t *k, float s[4], const float *x, size_t n)
{
    __m128 st = _mm_loadu_ps(s);
    __m256 acc = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 y = _mm256_setzero_ps();
        __m128 ns = _mm_setzero_ps();
        for (int j = 0; j < 8; j++) {
            const __m256 xb = _mm256_broadcast_ss(x + i + j);
            y = _mm256_fmadd_ps(xb, _mm256_loadu_ps(k->H[j]), y);
            ns = _mm_fmadd_ps(_mm256_castps256_ps128(xb), _mm_loadu_ps(k->R[j]), ns);
        }
        /* The state part last, as a shallow tree: it is the loop-carried path. */
        const __m128 s0 = _mm_permute_ps(st, 0x00), s1 = _mm_permute_ps(st, 0x55);
        const __m128 s2 = _mm_permute_ps(st, 0xaa), s3 = _mm_permute_ps(st, 0xff);
        const __m256 b0 = _mm256_broadcastss_ps(s0), b1 = _mm256_broadcastss_ps(s1);
        const __m256 b2 = _mm256_broadcastss_ps(s2), b3 = _mm256_broadcastss_ps(s3);
        y = _mm256_fmadd_ps(b0, _mm256_loadu_ps(k->P[0]), y);
        y = _mm256_fmadd_ps(b1, _mm256_loadu_ps(k->P[1]), y);
        y = _mm256_add_ps(y, _mm256_fmadd_ps(b2, _mm256_loadu_ps(k->P[2]),
                                             _mm256_mul_ps(b3, _mm256_loadu_ps(k->P[3]))));
        const __m128 a =
            _mm_fmadd_ps(s1, _mm_loadu_ps(k->Q[1]), _mm_fmadd_ps(s0, _mm_loadu_ps(k->Q[0]), ns));
        const __m128 b =
            _mm_fmadd_ps(s3, _mm_loadu_ps(k->Q[3]), _mm_mul_ps(s2, _mm_loadu_ps(k->Q[2])));
        st = _mm_add_ps(a, b);
        acc = _mm256_fmadd_ps(y, y, acc);
    }
    _mm_storeu_ps(s, st);
    return s_hsum(acc) + (i < n ? mf_qc_kernels_c.kweight(k, s, x + i, n - i) : 0.0);
}

/* Interpolated values for intervals [i, i+16) of nph phases; returns the
 * element-wise max of their magnitudes for each half (lo: i..i+7). The
 * accumulators are named variables: as an array GCC keeps them in memory. */
TGT_INLINE void s_tp16(const mf_tp_coef_t *c, const float *b, const int nph, __m256 *lo, __m256 *hi)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0;
#pragma GCC unroll 8
    for (int j = 0; j < MF_TP_TAPS; j++) {
        const __m256 d0 = _mm256_loadu_ps(b + j), d1 = _mm256_loadu_ps(b + 8 + j);
        const __m256 k0 = _mm256_broadcast_ss(&c->c[0][j]);
        a0 = _mm256_fmadd_ps(k0, d0, a0), a1 = _mm256_fmadd_ps(k0, d1, a1);
        if (nph == 3) {
            const __m256 k1 = _mm256_broadcast_ss(&c->c[1][j]);
            const __m256 k2 = _mm256_broadcast_ss(&c->c[2][j]);
            b0 = _mm256_fmadd_ps(k1, d0, b0), b1 = _mm256_fmadd_ps(k1, d1, b1);
            c0 = _mm256_fmadd_ps(k2, d0, c0), c1 = _mm256_fmadd_ps(k2, d1, c1);
        }
    }
    const __m256 absm = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 m0 = _mm256_and_ps(a0, absm), m1 = _mm256_and_ps(a1, absm);
    if (nph == 3) {
        m0 = _mm256_max_ps(m0, _mm256_max_ps(_mm256_and_ps(b0, absm), _mm256_and_ps(c0, absm)));
        m1 = _mm256_max_ps(m1, _mm256_max_ps(_mm256_and_ps(b1, absm), _mm256_and_ps(c1, absm)));
    }
    *lo = m0, *hi = m1;
}

TGT_INLINE size_t s_tp_max(const mf_tp_coef_t *c, const float *x, size_t n, const int nph,
                           float *out)
{
    __m256 m = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 lo, hi;
        s_tp16(c, x + i - MF_TP_PRE, nph, &lo, &hi);
        m = _mm256_max_ps(m, _mm256_max_ps(lo, hi));
    }
    *out = s_hmax(m);
    return i;
}

static TGT float avx2_tp_max(const mf_tp_coef_t *c, const float *x, size_t n)
{
    if (c->nph == 0) return 0.0f;
    float m;
    const size_t i = c->nph == 3 ? s_tp_max(c, x, n, 3, &m) : s_tp_max(c, x, n, 1, &m);
    if (i < n) {
        const float t = mf_qc_kernels_c.tp_max(c, x + i, n - i);
        m = t > m ? t : m;
    }
    return m;
}

TGT_INLINE size_t s_tp_env(const mf_tp_coef_t *c, const float *x, size_t n, const int nph,
                           float *env)
{
    const __m256 absm = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 lo, hi;
        s_tp16(c, x + i - MF_TP_PRE, nph, &lo, &hi);
        lo = _mm256_max_ps(lo, _mm256_and_ps(_mm256_loadu_ps(x + i), absm));
        hi = _mm256_max_ps(hi, _mm256_and_ps(_mm256_loadu_ps(x + i + 8), absm));
        _mm256_storeu_ps(env + i, _mm256_max_ps(lo, _mm256_loadu_ps(env + i)));
        _mm256_storeu_ps(env + i + 8, _mm256_max_ps(hi, _mm256_loadu_ps(env + i + 8)));
    }
    return i;
}

static TGT void avx2_tp_env(const mf_tp_coef_t *c, const float *x, size_t n, float *env)
{
    size_t i = 0;
    if (c->nph == 3)
        i = s_tp_env(c, x, n, 3, env);
    else if (c->nph == 1)
        i = s_tp_env(c, x, n, 1, env);
    if (i < n) mf_qc_kernels_c.tp_env(c, x + i, n - i, env + i);
}

static TGT void avx2_deint(const float *in, size_t n, int channels, float *l, float *r,
                           mf_blk_stats_t *st)
{
    const __m256 absm = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 pl = _mm256_setzero_ps(), pr = pl, sl = pl, sr = pl, ql = pl, qr = pl, lr = pl, sd = pl;
    size_t i = 0;
    if (channels == 1) {
        for (; i + 8 <= n; i += 8) {
            const __m256 a = _mm256_loadu_ps(in + i);
            _mm256_storeu_ps(l + i, a);
            pl = _mm256_max_ps(pl, _mm256_and_ps(a, absm));
            sl = _mm256_add_ps(sl, a);
            ql = _mm256_fmadd_ps(a, a, ql);
        }
    } else {
        for (; i + 8 <= n; i += 8) {
            const __m256 a = _mm256_loadu_ps(in + 2 * i), b = _mm256_loadu_ps(in + 2 * i + 8);
            /* Frames come out as 0 1 4 5 | 2 3 6 7; one 64-bit permute fixes the order. */
            __m256 x = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
            __m256 y = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
            x = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(x), 0xd8));
            y = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(y), 0xd8));
            _mm256_storeu_ps(l + i, x);
            _mm256_storeu_ps(r + i, y);
            pl = _mm256_max_ps(pl, _mm256_and_ps(x, absm));
            pr = _mm256_max_ps(pr, _mm256_and_ps(y, absm));
            sl = _mm256_add_ps(sl, x), sr = _mm256_add_ps(sr, y);
            ql = _mm256_fmadd_ps(x, x, ql), qr = _mm256_fmadd_ps(y, y, qr);
            lr = _mm256_fmadd_ps(x, y, lr);
            sd = _mm256_max_ps(sd, _mm256_and_ps(_mm256_sub_ps(x, y), absm));
        }
    }
    mf_blk_stats_t t;
    mf_qc_kernels_c.deint(in + i * (size_t)channels, n - i, channels, l + i, r ? r + i : NULL, &t);
    st->peak[0] = s_hmax(_mm256_max_ps(pl, _mm256_set1_ps(t.peak[0])));
    st->peak[1] = s_hmax(_mm256_max_ps(pr, _mm256_set1_ps(t.peak[1])));
    st->sum[0] = s_hsum(sl) + t.sum[0], st->sum[1] = s_hsum(sr) + t.sum[1];
    st->sumsq[0] = s_hsum(ql) + t.sumsq[0], st->sumsq[1] = s_hsum(qr) + t.sumsq[1];
    st->sumlr = s_hsum(lr) + t.sumlr;
    st->side = s_hmax(_mm256_max_ps(sd, _mm256_set1_ps(t.side)));
}

void mf_qc_init_avx2(mf_qc_kernels_t *k)
{
    k->kweight = avx2_kweight;
    k->tp_max = avx2_tp_max;
    k->tp_env = avx2_tp_env;
    k->deint = avx2_deint;
}
#endif
