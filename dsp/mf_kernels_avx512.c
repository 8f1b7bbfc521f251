/* AVX-512F kernels (16 float lanes). The biquad wavefront is the one of
 * mf_kernels_avx2.c with 16 lanes; cascades that fit in 8 lanes (stereo up to
 * 4 sections) gain nothing from wider vectors and use the AVX2 code. detect
 * stays AVX2 (memory bound either way). */
#include "mf_approx.h"
#include "mf_ballistics_kernel.h"
#include "mf_bqb_kernel.h"
#include "mf_fir_kernel.h"
#include "mf_kernels.h"
#include "mf_tanh_kernel.h"

typedef int mf_kernels_avx512_unused_t;

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define TGT __attribute__((target("avx512f")))
#define TGT_INLINE static inline __attribute__((always_inline, target("avx512f")))

void mf_dsp_avx2_biquad(float *out, const float *in, size_t frames, mf_biquad_cascade_t *st);

TGT_INLINE void s_wavefront(float *out, const float *in, size_t n, mf_biquad_cascade_t *st, int s0,
                            int ns, const int C)
{
    _Alignas(64) float b0[16] = {0}, b1[16] = {0}, b2[16] = {0}, a1[16] = {0}, a2[16] = {0};
    _Alignas(64) float z1[16] = {0}, z2[16] = {0};
    _Alignas(64) int shift[16], pick[16];
    const int last = (ns - 1) * C;
    for (int l = 0; l < 16; l++) {
        shift[l] = l >= C ? l - C : 0;
        pick[l] = l < C ? last + l : 0;
        if (l >= ns * C) continue;
        const int s = s0 + l / C, c = l % C;
        b0[l] = st->c[s][0], b1[l] = st->c[s][1], b2[l] = st->c[s][2];
        a1[l] = st->c[s][3], a2[l] = st->c[s][4];
        z1[l] = st->z[s][c][0], z2[l] = st->z[s][c][1];
    }
    const __m512 vb0 = _mm512_load_ps(b0), vb1 = _mm512_load_ps(b1), vb2 = _mm512_load_ps(b2);
    const __m512 va1 = _mm512_load_ps(a1), va2 = _mm512_load_ps(a2);
    const __m512i vshift = _mm512_load_si512(shift), vpick = _mm512_load_si512(pick);
    const __mmask16 low = C == 1 ? 1 : 3;
    __m512 vz1 = _mm512_load_ps(z1), vz2 = _mm512_load_ps(z2), y = _mm512_setzero_ps();
    const size_t steps = n + (size_t)ns - 1;
    for (size_t t = 0; t < steps; t++) {
        const __m512 xin =
            t < n ? _mm512_maskz_loadu_ps(low, in + t * (size_t)C) : _mm512_setzero_ps();
        const __m512 x = _mm512_mask_blend_ps(low, _mm512_permutexvar_ps(vshift, y), xin);
        const __m512 yn = _mm512_add_ps(_mm512_mul_ps(vb0, x), vz1);
        const __m512 z1n =
            _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(vb1, x), vz2), _mm512_mul_ps(va1, yn));
        const __m512 z2n = _mm512_sub_ps(_mm512_mul_ps(vb2, x), _mm512_mul_ps(va2, yn));
        if (t + 1 < (size_t)ns || t >= n) {
            /* Sections lo..hi-1 have a sample t - s inside the block. */
            const size_t lo = t >= n ? t - n + 1 : 0;
            const size_t hi = t + 1 < (size_t)ns ? t + 1 : (size_t)ns;
            const unsigned bits =
                ((1u << (hi * (size_t)C)) - 1u) & ~((1u << (lo * (size_t)C)) - 1u);
            const __mmask16 m = (__mmask16)bits;
            vz1 = _mm512_mask_mov_ps(vz1, m, z1n);
            vz2 = _mm512_mask_mov_ps(vz2, m, z2n);
        } else {
            vz1 = z1n, vz2 = z2n;
        }
        y = yn;
        if (t + 1 >= (size_t)ns)
            _mm512_mask_storeu_ps(out + (t + 1 - (size_t)ns) * (size_t)C, low,
                                  _mm512_permutexvar_ps(vpick, y));
    }
    _mm512_store_ps(z1, vz1), _mm512_store_ps(z2, vz2);
    for (int l = 0; l < ns * C; l++)
        st->z[s0 + l / C][l % C][0] = z1[l], st->z[s0 + l / C][l % C][1] = z2[l];
}

static TGT void avx512_biquad(float *out, const float *in, size_t frames, mf_biquad_cascade_t *st)
{
    const int C = st->channels, per = 16 / C;
    if (st->nsec * C <= 8) {
        mf_dsp_avx2_biquad(out, in, frames, st);
        return;
    }
    for (int s0 = 0; s0 < st->nsec; s0 += per) {
        const int ns = st->nsec - s0 < per ? st->nsec - s0 : per;
        if (C == 1)
            s_wavefront(out, in, frames, st, s0, ns, 1);
        else
            s_wavefront(out, in, frames, st, s0, ns, 2);
        in = out;
    }
}

static TGT void avx512_gain_ramp(float *out, const float *in, size_t frames, int channels, float g0,
                                 float g1)
{
    const float step = frames ? (g1 - g0) / (float)frames : 0.0f;
    const size_t n = frames * (size_t)channels;
    const __m512 vg0 = _mm512_set1_ps(g0), vst = _mm512_set1_ps(step);
    __m512i f = channels == 1
                    ? _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
                    : _mm512_setr_epi32(1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8);
    const __m512i inc = _mm512_set1_epi32(16 / channels);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 g = _mm512_add_ps(vg0, _mm512_mul_ps(vst, _mm512_cvtepi32_ps(f)));
        _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_loadu_ps(in + i), g));
        f = _mm512_add_epi32(f, inc);
    }
    for (; i < n; i++) out[i] = in[i] * (g0 + step * (float)(i / (size_t)channels + 1));
}

static TGT void avx512_gain_apply(float *out, const float *in, const float *gain, size_t frames,
                                  int channels)
{
    size_t i = 0;
    if (channels == 1) {
        for (; i + 16 <= frames; i += 16)
            _mm512_storeu_ps(out + i,
                             _mm512_mul_ps(_mm512_loadu_ps(in + i), _mm512_loadu_ps(gain + i)));
        for (; i < frames; i++) out[i] = in[i] * gain[i];
        return;
    }
    const __m512i dup = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    for (; i + 8 <= frames; i += 8) {
        const __m512 g =
            _mm512_permutexvar_ps(dup, _mm512_castps256_ps512(_mm256_loadu_ps(gain + i)));
        _mm512_storeu_ps(out + 2 * i, _mm512_mul_ps(_mm512_loadu_ps(in + 2 * i), g));
    }
    for (; i < frames; i++)
        out[2 * i] = in[2 * i] * gain[i], out[2 * i + 1] = in[2 * i + 1] * gain[i];
}

/* log10 and 2^y (mf_approx.h), 16 lanes. */
TGT_INLINE __m512 s_log10(__m512 x)
{
    const __m512i bits = _mm512_castps_si512(x);
    __m512i e = _mm512_sub_epi32(_mm512_srli_epi32(bits, 23), _mm512_set1_epi32(127));
    __m512 m = _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_and_si512(bits, _mm512_set1_epi32(0x007fffff)), _mm512_set1_epi32(0x3f800000)));
    const __mmask16 big = _mm512_cmp_ps_mask(m, _mm512_set1_ps(MF_APPROX_SQRT2), _CMP_GT_OQ);
    m = _mm512_mask_mul_ps(m, big, m, _mm512_set1_ps(0.5f));
    e = _mm512_mask_add_epi32(e, big, e, _mm512_set1_epi32(1));
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 z = _mm512_div_ps(_mm512_sub_ps(m, one), _mm512_add_ps(m, one));
    const __m512 z2 = _mm512_mul_ps(z, z);
    __m512 p = _mm512_set1_ps(mf_atanh_poly[0]);
#pragma GCC unroll 8
    for (int d = 1; d < MF_ATANH_TERMS; d++)
        p = _mm512_add_ps(_mm512_mul_ps(p, z2), _mm512_set1_ps(mf_atanh_poly[d]));
    const __m512 lnm = _mm512_mul_ps(_mm512_mul_ps(p, z), _mm512_set1_ps(2.0f));
    const __m512 ln =
        _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(e), _mm512_set1_ps(MF_APPROX_LN2)), lnm);
    return _mm512_mul_ps(ln, _mm512_set1_ps(MF_APPROX_LOG10E));
}

TGT_INLINE __m512 s_exp2(__m512 y)
{
    y = _mm512_min_ps(_mm512_max_ps(y, _mm512_set1_ps(-126.0f)), _mm512_set1_ps(127.0f));
    const __m512i k = _mm512_cvtps_epi32(y);
    const __m512 f = _mm512_sub_ps(y, _mm512_cvtepi32_ps(k));
    __m512 p = _mm512_set1_ps(mf_exp2_poly[0]);
#pragma GCC unroll 8
    for (int d = 1; d < MF_EXP2_TERMS; d++)
        p = _mm512_add_ps(_mm512_mul_ps(p, f), _mm512_set1_ps(mf_exp2_poly[d]));
    const __m512i sc = _mm512_slli_epi32(_mm512_add_epi32(k, _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(sc));
}

TGT_INLINE __m512 s_curve(__m512 level, const mf_gain_curve_t *k)
{
    const __m512 t = _mm512_set1_ps(k->threshold_db), w = _mm512_set1_ps(k->knee_db);
    const __m512 sl = _mm512_set1_ps(k->slope), hw = _mm512_set1_ps(0.5f * k->knee_db);
    const __m512 inv2w = _mm512_set1_ps(k->knee_db > 0.0f ? 0.5f / k->knee_db : 0.0f);
    const __m512 x = _mm512_mul_ps(_mm512_set1_ps(k->db_scale),
                                   s_log10(_mm512_max_ps(level, _mm512_set1_ps(1e-30f))));
    const __m512 d = _mm512_sub_ps(x, t), d2 = _mm512_add_ps(d, d), u = _mm512_add_ps(d, hw);
    const __m512 knee = _mm512_mul_ps(_mm512_mul_ps(sl, _mm512_mul_ps(u, u)), inv2w);
    const __mmask16 above = _mm512_cmp_ps_mask(d2, w, _CMP_GE_OQ);
    const __mmask16 below =
        _mm512_cmp_ps_mask(d2, _mm512_sub_ps(_mm512_setzero_ps(), w), _CMP_LE_OQ);
    const __m512 r = _mm512_mask_blend_ps(above, knee, _mm512_mul_ps(sl, d));
    return _mm512_mask_mov_ps(r, below, _mm512_setzero_ps());
}

static TGT void avx512_gain_computer(float *restrict gr_db, const float *restrict level, size_t n,
                                     const mf_gain_curve_t *k)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(gr_db + i, s_curve(_mm512_loadu_ps(level + i), k));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(gr_db + i, m, s_curve(_mm512_maskz_loadu_ps(m, level + i), k));
    }
}

TGT_INLINE __m512 s_db_gain(__m512 d)
{
    const __m512 g = s_exp2(_mm512_mul_ps(d, _mm512_set1_ps(MF_APPROX_LOG2_10_OVER_20)));
    const __mmask16 off = _mm512_cmp_ps_mask(d, _mm512_set1_ps(-758.0f), _CMP_LT_OQ);
    return _mm512_mask_mov_ps(g, off, _mm512_setzero_ps());
}

static TGT void avx512_db_to_gain(float *restrict out, const float *restrict db, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, s_db_gain(_mm512_loadu_ps(db + i)));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(out + i, m, s_db_gain(_mm512_maskz_loadu_ps(m, db + i)));
    }
}

MF_BQB_KERNEL(avx512_biquad_block, static TGT, 16, 8)
MF_FIR_KERNEL(avx512_fir, static TGT, 16)
MF_TANH_KERNEL(avx512_tanh_curve, static TGT, 16)
/* The ballistics with maxps and each shift one valignd with a zero
 * register: AVX-512VL, which mf_dsp_init_avx512 checks for (0.84 ns a
 * frame here against 1.13 for the AVX2 code's permute and blend). */
#define AVX512_UP(v, d)                                                                            \
    _mm256_castsi256_ps(                                                                           \
        _mm256_alignr_epi32(_mm256_castps_si256(v), _mm256_setzero_si256(), 8 - (d)))
MF_BALLISTICS_KERNEL(avx512_ballistics, static __attribute__((target("avx512f,avx512vl"))),
                     _mm256_max_ps, AVX512_UP)

void mf_dsp_init_avx512(mf_dsp_kernels_t *k)
{
    k->fir = avx512_fir;
    k->tanh_curve = avx512_tanh_curve;
    k->biquad_block = avx512_biquad_block;
    k->biquad = avx512_biquad;
    k->gain_ramp = avx512_gain_ramp;
    k->gain_apply = avx512_gain_apply;
    k->gain_computer = avx512_gain_computer;
    k->db_to_gain = avx512_db_to_gain;
    if (__builtin_cpu_supports("avx512vl")) k->ballistics = avx512_ballistics;
}
#endif
