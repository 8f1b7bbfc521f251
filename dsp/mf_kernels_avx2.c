/* AVX2 kernels (8 float lanes), compiled with per-function target attributes
 * so the project needs no special flags; only called when the CPU has AVX2.
 *
 * The biquad cascade is vectorised across sections and channels as a
 * wavefront: lane (s, c) holds section s of channel c, and at step t section s
 * works on sample t - s, taking as input what section s-1 produced at step
 * t-1 (one lane permute). Every lane does the same TDF-II arithmetic as the
 * C reference in the same order, so the results agree to the last bit unless
 * the compiler contracts differently. The first and last ns-1 steps of a pass
 * are masked so each section sees exactly samples 0..n-1 of the block; no
 * state beyond z1/z2 crosses blocks. */
#include "mf_approx.h"
#include "mf_ballistics_kernel.h"
#include "mf_bqb_kernel.h"
#include "mf_fir_kernel.h"
#include "mf_kernels.h"
#include "mf_tanh_kernel.h"

typedef int mf_kernels_avx2_unused_t;

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define TGT __attribute__((target("avx2")))
#define TGT_INLINE static inline __attribute__((always_inline, target("avx2")))

TGT_INLINE void s_wavefront(float *out, const float *in, size_t n, mf_biquad_cascade_t *st, int s0,
                            int ns, const int C)
{
    _Alignas(32) float b0[8] = {0}, b1[8] = {0}, b2[8] = {0}, a1[8] = {0}, a2[8] = {0};
    _Alignas(32) float z1[8] = {0}, z2[8] = {0}, lane[8];
    _Alignas(32) int shift[8], pick[8];
    const int last = (ns - 1) * C;
    for (int l = 0; l < 8; l++) {
        lane[l] = (float)(l / C);
        shift[l] = l >= C ? l - C : 0;
        pick[l] = l < C ? last + l : 0;
        if (l >= ns * C) continue;
        const int s = s0 + l / C, c = l % C;
        b0[l] = st->c[s][0], b1[l] = st->c[s][1], b2[l] = st->c[s][2];
        a1[l] = st->c[s][3], a2[l] = st->c[s][4];
        z1[l] = st->z[s][c][0], z2[l] = st->z[s][c][1];
    }
    const __m256 vb0 = _mm256_load_ps(b0), vb1 = _mm256_load_ps(b1), vb2 = _mm256_load_ps(b2);
    const __m256 va1 = _mm256_load_ps(a1), va2 = _mm256_load_ps(a2);
    const __m256 vlane = _mm256_load_ps(lane);
    const __m256i vshift = _mm256_load_si256((const __m256i *)shift);
    const __m256i vpick = _mm256_load_si256((const __m256i *)pick);
    __m256 vz1 = _mm256_load_ps(z1), vz2 = _mm256_load_ps(z2), y = _mm256_setzero_ps();
    const size_t steps = n + (size_t)ns - 1;
    for (size_t t = 0; t < steps; t++) {
        __m128 xin = _mm_setzero_ps();
        if (t < n) {
            if (C == 1)
                xin = _mm_load_ss(in + t);
            else
                xin = _mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)(in + 2 * t)));
        }
        const __m256 prev = _mm256_permutevar8x32_ps(y, vshift);
        const __m256 x = C == 1 ? _mm256_blend_ps(prev, _mm256_castps128_ps256(xin), 1)
                                : _mm256_blend_ps(prev, _mm256_castps128_ps256(xin), 3);
        const __m256 yn = _mm256_add_ps(_mm256_mul_ps(vb0, x), vz1);
        const __m256 z1n =
            _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(vb1, x), vz2), _mm256_mul_ps(va1, yn));
        const __m256 z2n = _mm256_sub_ps(_mm256_mul_ps(vb2, x), _mm256_mul_ps(va2, yn));
        if (t + 1 < (size_t)ns || t >= n) {
            const float tf = (float)t, lo = (float)((double)t - (double)n);
            const __m256 m = _mm256_and_ps(_mm256_cmp_ps(vlane, _mm256_set1_ps(tf), _CMP_LE_OQ),
                                           _mm256_cmp_ps(vlane, _mm256_set1_ps(lo), _CMP_GT_OQ));
            vz1 = _mm256_blendv_ps(vz1, z1n, m);
            vz2 = _mm256_blendv_ps(vz2, z2n, m);
        } else {
            vz1 = z1n, vz2 = z2n;
        }
        y = yn;
        if (t + 1 >= (size_t)ns) {
            const __m128 o = _mm256_castps256_ps128(_mm256_permutevar8x32_ps(y, vpick));
            float *dst = out + (t + 1 - (size_t)ns) * (size_t)C;
            if (C == 1)
                _mm_store_ss(dst, o);
            else
                _mm_storel_epi64((__m128i *)dst, _mm_castps_si128(o));
        }
    }
    _mm256_store_ps(z1, vz1), _mm256_store_ps(z2, vz2);
    for (int l = 0; l < ns * C; l++)
        st->z[s0 + l / C][l % C][0] = z1[l], st->z[s0 + l / C][l % C][1] = z2[l];
}

void mf_dsp_sse2_biquad(float *out, const float *in, size_t frames, mf_biquad_cascade_t *st);

TGT void mf_dsp_avx2_biquad(float *out, const float *in, size_t frames, mf_biquad_cascade_t *st);
TGT void mf_dsp_avx2_biquad(float *out, const float *in, size_t frames, mf_biquad_cascade_t *st)
{
    const int C = st->channels, per = 8 / C;
    /* A mono cascade that fits 4 lanes runs faster as SSE2 (one step of the
     * wavefront has less latency: 4.5 vs 5.2 ns/sample for 4 sections);
     * both give the C reference's bits. */
    if (C == 1 && st->nsec <= 4) {
        mf_dsp_sse2_biquad(out, in, frames, st);
        return;
    }
    if (st->nsec == 0) {
        for (size_t i = 0; i < frames * (size_t)C; i++) out[i] = in[i];
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

static TGT void avx2_gain_ramp(float *out, const float *in, size_t frames, int channels, float g0,
                               float g1)
{
    const float step = frames ? (g1 - g0) / (float)frames : 0.0f;
    const size_t n = frames * (size_t)channels;
    const __m256 vg0 = _mm256_set1_ps(g0), vst = _mm256_set1_ps(step);
    __m256i f = channels == 1 ? _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8)
                              : _mm256_setr_epi32(1, 1, 2, 2, 3, 3, 4, 4);
    const __m256i inc = _mm256_set1_epi32(8 / channels);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_add_ps(vg0, _mm256_mul_ps(vst, _mm256_cvtepi32_ps(f)));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(in + i), g));
        f = _mm256_add_epi32(f, inc);
    }
    for (; i < n; i++) out[i] = in[i] * (g0 + step * (float)(i / (size_t)channels + 1));
}

static TGT void avx2_gain_apply(float *out, const float *in, const float *gain, size_t frames,
                                int channels)
{
    size_t i = 0;
    if (channels == 1) {
        for (; i + 8 <= frames; i += 8)
            _mm256_storeu_ps(out + i,
                             _mm256_mul_ps(_mm256_loadu_ps(in + i), _mm256_loadu_ps(gain + i)));
        for (; i < frames; i++) out[i] = in[i] * gain[i];
        return;
    }
    const __m256i dup = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
    for (; i + 4 <= frames; i += 4) {
        const __m256 g =
            _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(gain + i)), dup);
        _mm256_storeu_ps(out + 2 * i, _mm256_mul_ps(_mm256_loadu_ps(in + 2 * i), g));
    }
    for (; i < frames; i++)
        out[2 * i] = in[2 * i] * gain[i], out[2 * i + 1] = in[2 * i + 1] * gain[i];
}

static TGT void avx2_detect(float *restrict out, const float *restrict in, size_t frames,
                            int channels, int power)
{
    const __m256 absm = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 half = _mm256_set1_ps(0.5f);
    size_t i = 0;
    for (; i + 8 <= frames; i += 8) {
        __m256 r;
        if (channels == 1) {
            const __m256 a = _mm256_loadu_ps(in + i);
            r = power ? _mm256_mul_ps(a, a) : _mm256_and_ps(a, absm);
        } else {
            const __m256 a = _mm256_loadu_ps(in + 2 * i), b = _mm256_loadu_ps(in + 2 * i + 8);
            /* Frames come out as 0 1 4 5 | 2 3 6 7; one 64-bit permute fixes the order. */
            const __m256 l = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
            const __m256 rr = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
            r = power
                    ? _mm256_mul_ps(_mm256_add_ps(_mm256_mul_ps(l, l), _mm256_mul_ps(rr, rr)), half)
                    : _mm256_max_ps(_mm256_and_ps(l, absm), _mm256_and_ps(rr, absm));
            r = _mm256_castpd_ps(
                _mm256_permute4x64_pd(_mm256_castps_pd(r), _MM_SHUFFLE(3, 1, 2, 0)));
        }
        _mm256_storeu_ps(out + i, r);
    }
    if (i < frames)
        mf_dsp_kernels_c.detect(out + i, in + i * (size_t)channels, frames - i, channels, power);
}

/* log10 and 2^y (mf_approx.h), 8 lanes. */
TGT_INLINE __m256 s_log10(__m256 x)
{
    const __m256i bits = _mm256_castps_si256(x);
    __m256i e = _mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(127));
    __m256 m = _mm256_castsi256_ps(_mm256_or_si256(
        _mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x3f800000)));
    const __m256 big = _mm256_cmp_ps(m, _mm256_set1_ps(MF_APPROX_SQRT2), _CMP_GT_OQ);
    m = _mm256_blendv_ps(m, _mm256_mul_ps(m, _mm256_set1_ps(0.5f)), big);
    e = _mm256_sub_epi32(e, _mm256_castps_si256(big));
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 z = _mm256_div_ps(_mm256_sub_ps(m, one), _mm256_add_ps(m, one));
    const __m256 z2 = _mm256_mul_ps(z, z);
    __m256 p = _mm256_set1_ps(mf_atanh_poly[0]);
#pragma GCC unroll 8
    for (int d = 1; d < MF_ATANH_TERMS; d++)
        p = _mm256_add_ps(_mm256_mul_ps(p, z2), _mm256_set1_ps(mf_atanh_poly[d]));
    const __m256 lnm = _mm256_mul_ps(_mm256_mul_ps(p, z), _mm256_set1_ps(2.0f));
    const __m256 ln =
        _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(e), _mm256_set1_ps(MF_APPROX_LN2)), lnm);
    return _mm256_mul_ps(ln, _mm256_set1_ps(MF_APPROX_LOG10E));
}

TGT_INLINE __m256 s_exp2(__m256 y)
{
    y = _mm256_min_ps(_mm256_max_ps(y, _mm256_set1_ps(-126.0f)), _mm256_set1_ps(127.0f));
    const __m256i k = _mm256_cvtps_epi32(y);
    const __m256 f = _mm256_sub_ps(y, _mm256_cvtepi32_ps(k));
    __m256 p = _mm256_set1_ps(mf_exp2_poly[0]);
#pragma GCC unroll 8
    for (int d = 1; d < MF_EXP2_TERMS; d++)
        p = _mm256_add_ps(_mm256_mul_ps(p, f), _mm256_set1_ps(mf_exp2_poly[d]));
    const __m256i sc = _mm256_slli_epi32(_mm256_add_epi32(k, _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(sc));
}

/* A mask selecting the first rem (< 8) lanes, for the tail of a block. */
TGT_INLINE __m256i s_tail_mask(size_t rem)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rem),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

TGT_INLINE __m256 s_curve(__m256 level, const mf_gain_curve_t *k)
{
    const __m256 t = _mm256_set1_ps(k->threshold_db), w = _mm256_set1_ps(k->knee_db);
    const __m256 sl = _mm256_set1_ps(k->slope), hw = _mm256_set1_ps(0.5f * k->knee_db);
    const __m256 inv2w = _mm256_set1_ps(k->knee_db > 0.0f ? 0.5f / k->knee_db : 0.0f);
    const __m256 x = _mm256_mul_ps(_mm256_set1_ps(k->db_scale),
                                   s_log10(_mm256_max_ps(level, _mm256_set1_ps(1e-30f))));
    const __m256 d = _mm256_sub_ps(x, t), d2 = _mm256_add_ps(d, d), u = _mm256_add_ps(d, hw);
    const __m256 knee = _mm256_mul_ps(_mm256_mul_ps(sl, _mm256_mul_ps(u, u)), inv2w);
    const __m256 above = _mm256_cmp_ps(d2, w, _CMP_GE_OQ);
    const __m256 below = _mm256_cmp_ps(d2, _mm256_sub_ps(_mm256_setzero_ps(), w), _CMP_LE_OQ);
    return _mm256_andnot_ps(below, _mm256_blendv_ps(knee, _mm256_mul_ps(sl, d), above));
}

static TGT void avx2_gain_computer(float *restrict gr_db, const float *restrict level, size_t n,
                                   const mf_gain_curve_t *k)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(gr_db + i, s_curve(_mm256_loadu_ps(level + i), k));
    if (i < n) {
        const __m256i m = s_tail_mask(n - i);
        _mm256_maskstore_ps(gr_db + i, m, s_curve(_mm256_maskload_ps(level + i, m), k));
    }
}

TGT_INLINE __m256 s_db_gain(__m256 d)
{
    const __m256 g = s_exp2(_mm256_mul_ps(d, _mm256_set1_ps(MF_APPROX_LOG2_10_OVER_20)));
    return _mm256_andnot_ps(_mm256_cmp_ps(d, _mm256_set1_ps(-758.0f), _CMP_LT_OQ), g);
}

static TGT void avx2_db_to_gain(float *restrict out, const float *restrict db, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, s_db_gain(_mm256_loadu_ps(db + i)));
    if (i < n) {
        const __m256i m = s_tail_mask(n - i);
        _mm256_maskstore_ps(out + i, m, s_db_gain(_mm256_maskload_ps(db + i, m)));
    }
}

/* Eight samples a step: the dwords holding each 24-bit sample's bytes are
 * brought into each 128-bit lane (samples 0-3 from byte 0, 4-7 from byte
 * 12), and a byte shuffle puts every sample at the top of its dword. */
static TGT void avx2_pcm_to_float(float *restrict out, const unsigned char *restrict in, size_t n,
                                  int bytes)
{
    size_t i = 0;
    if (bytes == 3) {
        const __m256i spread = _mm256_setr_epi32(0, 1, 2, 3, 3, 4, 5, 6);
        const __m256i top = _mm256_setr_epi8(
            -1, 0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11,  /* lane 0: bytes 0-11 */
            -1, 0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11); /* lane 1: bytes 12-23 */
        const __m256 scale = _mm256_set1_ps(0x1p-31f);
        for (; i + 11 <= n; i += 8) { /* a 32-byte load: 8 bytes past the 24 used */
            const __m256i v = _mm256_loadu_si256((const __m256i *)(in + 3 * i));
            const __m256i s = _mm256_shuffle_epi8(_mm256_permutevar8x32_epi32(v, spread), top);
            _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_cvtepi32_ps(s), scale));
        }
    } else {
        const __m256 scale = _mm256_set1_ps(0x1p-15f);
        for (; i + 8 <= n; i += 8) {
            const __m128i v = _mm_loadu_si128((const __m128i *)(in + 2 * i));
            _mm256_storeu_ps(out + i,
                             _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(v)), scale));
        }
    }
    if (i < n) mf_dsp_kernels_c.pcm_to_float(out + i, in + (size_t)bytes * i, n - i, bytes);
}

MF_BQB_KERNEL(avx2_biquad_block, static TGT, 8, 4)
MF_FIR_KERNEL(avx2_fir, static TGT, 8)
MF_TANH_KERNEL(avx2_tanh_curve, static TGT, 8)
/* The ballistics with maxps (the same pick as a select by bits, in one
 * instruction) and each shift a lane permute and a blend of zeros. */
#define AVX2_UP(v, d)                                                                              \
    ((d) == 1                                                                                      \
         ? _mm256_blend_ps(                                                                        \
               _mm256_setzero_ps(),                                                                \
               _mm256_permutevar8x32_ps((v), _mm256_setr_epi32(0, 0, 1, 2, 3, 4, 5, 6)), 0xfe)     \
     : (d) == 2                                                                                    \
         ? _mm256_blend_ps(                                                                        \
               _mm256_setzero_ps(),                                                                \
               _mm256_permutevar8x32_ps((v), _mm256_setr_epi32(0, 0, 0, 1, 2, 3, 4, 5)), 0xfc)     \
         : _mm256_blend_ps(                                                                        \
               _mm256_setzero_ps(),                                                                \
               _mm256_permutevar8x32_ps((v), _mm256_setr_epi32(0, 0, 0, 0, 0, 1, 2, 3)), 0xf0))
MF_BALLISTICS_KERNEL(avx2_ballistics, static TGT, _mm256_max_ps, AVX2_UP)

void mf_dsp_init_avx2(mf_dsp_kernels_t *k)
{
    k->fir = avx2_fir;
    k->tanh_curve = avx2_tanh_curve;
    k->biquad_block = avx2_biquad_block;
    k->biquad = mf_dsp_avx2_biquad;
    k->gain_ramp = avx2_gain_ramp;
    k->gain_apply = avx2_gain_apply;
    k->detect = avx2_detect;
    k->gain_computer = avx2_gain_computer;
    k->db_to_gain = avx2_db_to_gain;
    k->ballistics = avx2_ballistics;
    k->pcm_to_float = avx2_pcm_to_float;
}
#endif
