/* SSE2 kernels (4 float lanes). See mf_kernels.h for the contracts and
 * mf_kernels_avx2.c for the biquad wavefront, explained once there. */
#include "mf_approx.h"
#include "mf_ballistics_kernel.h"
#include "mf_bqb_kernel.h"
#include "mf_fir_kernel.h"
#include "mf_kernels.h"
#include "mf_tanh_kernel.h"

typedef int mf_kernels_sse2_unused_t; /* keeps the unit non-empty elsewhere */

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <stdint.h>

#define TGT __attribute__((target("sse2")))
#define TGT_INLINE static inline __attribute__((always_inline, target("sse2")))

/* One pass of up to 4/C sections (lanes = sections x channels). */
TGT_INLINE void s_wavefront(float *out, const float *in, size_t n, mf_biquad_cascade_t *st, int s0,
                            int ns, const int C)
{
    _Alignas(16) float b0[4] = {0}, b1[4] = {0}, b2[4] = {0}, a1[4] = {0}, a2[4] = {0};
    _Alignas(16) float z1[4] = {0}, z2[4] = {0}, lane[4], tmp[4];
    for (int l = 0; l < 4; l++) {
        lane[l] = (float)(l / C);
        if (l >= ns * C) continue;
        const int s = s0 + l / C, c = l % C;
        b0[l] = st->c[s][0], b1[l] = st->c[s][1], b2[l] = st->c[s][2];
        a1[l] = st->c[s][3], a2[l] = st->c[s][4];
        z1[l] = st->z[s][c][0], z2[l] = st->z[s][c][1];
    }
    const __m128 vb0 = _mm_load_ps(b0), vb1 = _mm_load_ps(b1), vb2 = _mm_load_ps(b2);
    const __m128 va1 = _mm_load_ps(a1), va2 = _mm_load_ps(a2), vlane = _mm_load_ps(lane);
    __m128 vz1 = _mm_load_ps(z1), vz2 = _mm_load_ps(z2), y = _mm_setzero_ps();
    const size_t steps = n + (size_t)ns - 1, last = (size_t)(ns - 1) * (size_t)C;
    for (size_t t = 0; t < steps; t++) {
        __m128 xin = _mm_setzero_ps();
        if (t < n) {
            if (C == 1)
                xin = _mm_load_ss(in + t);
            else
                xin = _mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)(in + 2 * t)));
        }
        __m128i sh = C == 1 ? _mm_slli_si128(_mm_castps_si128(y), 4)
                            : _mm_slli_si128(_mm_castps_si128(y), 8);
        const __m128 x = _mm_or_ps(_mm_castsi128_ps(sh), xin);
        const __m128 yn = _mm_add_ps(_mm_mul_ps(vb0, x), vz1);
        const __m128 z1n = _mm_sub_ps(_mm_add_ps(_mm_mul_ps(vb1, x), vz2), _mm_mul_ps(va1, yn));
        const __m128 z2n = _mm_sub_ps(_mm_mul_ps(vb2, x), _mm_mul_ps(va2, yn));
        if (t + 1 < (size_t)ns || t >= n) {
            /* Prologue/epilogue: section s works on sample t - s only when
             * that sample exists; the others keep their state. */
            const float tf = (float)t, lo = (float)((double)t - (double)n);
            const __m128 m = _mm_and_ps(_mm_cmple_ps(vlane, _mm_set1_ps(tf)),
                                        _mm_cmpgt_ps(vlane, _mm_set1_ps(lo)));
            vz1 = _mm_or_ps(_mm_and_ps(m, z1n), _mm_andnot_ps(m, vz1));
            vz2 = _mm_or_ps(_mm_and_ps(m, z2n), _mm_andnot_ps(m, vz2));
        } else {
            vz1 = z1n, vz2 = z2n;
        }
        y = yn;
        if (t >= (size_t)ns - 1) {
            _mm_store_ps(tmp, y);
            float *o = out + (t - (size_t)ns + 1) * (size_t)C;
            o[0] = tmp[last];
            if (C == 2) o[1] = tmp[last + 1];
        }
    }
    _mm_store_ps(z1, vz1), _mm_store_ps(z2, vz2);
    for (int l = 0; l < ns * C; l++)
        st->z[s0 + l / C][l % C][0] = z1[l], st->z[s0 + l / C][l % C][1] = z2[l];
}

TGT void mf_dsp_sse2_biquad(float *out, const float *in, size_t frames, mf_biquad_cascade_t *st);
TGT void mf_dsp_sse2_biquad(float *out, const float *in, size_t frames, mf_biquad_cascade_t *st)
{
    const int C = st->channels, per = 4 / C;
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

static TGT void sse2_gain_ramp(float *out, const float *in, size_t frames, int channels, float g0,
                               float g1)
{
    const float step = frames ? (g1 - g0) / (float)frames : 0.0f;
    const size_t n = frames * (size_t)channels;
    const __m128 vg0 = _mm_set1_ps(g0), vst = _mm_set1_ps(step);
    /* Lane l of sample index i belongs to frame (i + l) / channels. */
    const __m128i f0 = channels == 1 ? _mm_setr_epi32(1, 2, 3, 4) : _mm_setr_epi32(1, 1, 2, 2);
    const __m128i inc = _mm_set1_epi32(4 / channels);
    __m128i f = f0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const __m128 g = _mm_add_ps(vg0, _mm_mul_ps(vst, _mm_cvtepi32_ps(f)));
        _mm_storeu_ps(out + i, _mm_mul_ps(_mm_loadu_ps(in + i), g));
        f = _mm_add_epi32(f, inc);
    }
    for (; i < n; i++) out[i] = in[i] * (g0 + step * (float)(i / (size_t)channels + 1));
}

static TGT void sse2_gain_apply(float *out, const float *in, const float *gain, size_t frames,
                                int channels)
{
    size_t i = 0;
    if (channels == 1) {
        for (; i + 4 <= frames; i += 4)
            _mm_storeu_ps(out + i, _mm_mul_ps(_mm_loadu_ps(in + i), _mm_loadu_ps(gain + i)));
        for (; i < frames; i++) out[i] = in[i] * gain[i];
        return;
    }
    for (; i + 4 <= frames; i += 4) {
        const __m128 g = _mm_loadu_ps(gain + i);
        _mm_storeu_ps(out + 2 * i, _mm_mul_ps(_mm_loadu_ps(in + 2 * i), _mm_unpacklo_ps(g, g)));
        _mm_storeu_ps(out + 2 * i + 4,
                      _mm_mul_ps(_mm_loadu_ps(in + 2 * i + 4), _mm_unpackhi_ps(g, g)));
    }
    for (; i < frames; i++)
        out[2 * i] = in[2 * i] * gain[i], out[2 * i + 1] = in[2 * i + 1] * gain[i];
}

static TGT void sse2_detect(float *restrict out, const float *restrict in, size_t frames,
                            int channels, int power)
{
    const __m128 absm = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff)), half = _mm_set1_ps(0.5f);
    size_t i = 0;
    for (; i + 4 <= frames; i += 4) {
        __m128 r;
        if (channels == 1) {
            const __m128 a = _mm_loadu_ps(in + i);
            r = power ? _mm_mul_ps(a, a) : _mm_and_ps(a, absm);
        } else {
            const __m128 a = _mm_loadu_ps(in + 2 * i), b = _mm_loadu_ps(in + 2 * i + 4);
            const __m128 l = _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
            const __m128 rr = _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
            r = power ? _mm_mul_ps(_mm_add_ps(_mm_mul_ps(l, l), _mm_mul_ps(rr, rr)), half)
                      : _mm_max_ps(_mm_and_ps(l, absm), _mm_and_ps(rr, absm));
        }
        _mm_storeu_ps(out + i, r);
    }
    if (i < frames) /* the tail: the reference's own loop */
        mf_dsp_kernels_c.detect(out + i, in + i * (size_t)channels, frames - i, channels, power);
}

/* log10(x) for x > 0 normal (mf_approx.h). */
TGT_INLINE __m128 s_log10(__m128 x)
{
    const __m128i bits = _mm_castps_si128(x);
    __m128i e = _mm_sub_epi32(_mm_srli_epi32(bits, 23), _mm_set1_epi32(127));
    __m128 m = _mm_castsi128_ps(
        _mm_or_si128(_mm_and_si128(bits, _mm_set1_epi32(0x007fffff)), _mm_set1_epi32(0x3f800000)));
    const __m128 big = _mm_cmpgt_ps(m, _mm_set1_ps(MF_APPROX_SQRT2));
    m = _mm_or_ps(_mm_and_ps(big, _mm_mul_ps(m, _mm_set1_ps(0.5f))), _mm_andnot_ps(big, m));
    e = _mm_sub_epi32(e, _mm_castps_si128(big)); /* big is all ones = -1 */
    const __m128 one = _mm_set1_ps(1.0f);
    const __m128 z = _mm_div_ps(_mm_sub_ps(m, one), _mm_add_ps(m, one)), z2 = _mm_mul_ps(z, z);
    __m128 p = _mm_set1_ps(mf_atanh_poly[0]);
#pragma GCC unroll 8
    for (int d = 1; d < MF_ATANH_TERMS; d++)
        p = _mm_add_ps(_mm_mul_ps(p, z2), _mm_set1_ps(mf_atanh_poly[d]));
    const __m128 lnm = _mm_mul_ps(_mm_mul_ps(p, z), _mm_set1_ps(2.0f));
    const __m128 ln = _mm_add_ps(_mm_mul_ps(_mm_cvtepi32_ps(e), _mm_set1_ps(MF_APPROX_LN2)), lnm);
    return _mm_mul_ps(ln, _mm_set1_ps(MF_APPROX_LOG10E));
}

TGT_INLINE __m128 s_curve(__m128 level, const mf_gain_curve_t *k)
{
    const __m128 t = _mm_set1_ps(k->threshold_db), w = _mm_set1_ps(k->knee_db);
    const __m128 sl = _mm_set1_ps(k->slope), hw = _mm_set1_ps(0.5f * k->knee_db);
    const __m128 inv2w = _mm_set1_ps(k->knee_db > 0.0f ? 0.5f / k->knee_db : 0.0f);
    const __m128 x =
        _mm_mul_ps(_mm_set1_ps(k->db_scale), s_log10(_mm_max_ps(level, _mm_set1_ps(1e-30f))));
    const __m128 d = _mm_sub_ps(x, t), d2 = _mm_add_ps(d, d), u = _mm_add_ps(d, hw);
    const __m128 knee = _mm_mul_ps(_mm_mul_ps(sl, _mm_mul_ps(u, u)), inv2w);
    const __m128 above = _mm_cmpge_ps(d2, w);
    const __m128 below = _mm_cmple_ps(d2, _mm_sub_ps(_mm_setzero_ps(), w));
    const __m128 r = _mm_or_ps(_mm_and_ps(above, _mm_mul_ps(sl, d)), _mm_andnot_ps(above, knee));
    return _mm_andnot_ps(below, r);
}

static TGT void sse2_gain_computer(float *restrict gr_db, const float *restrict level, size_t n,
                                   const mf_gain_curve_t *k)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(gr_db + i, s_curve(_mm_loadu_ps(level + i), k));
    if (i < n) { /* the same code on a padded copy, so results do not depend on position */
        _Alignas(16) float tmp[4] = {0};
        for (size_t j = i; j < n; j++) tmp[j - i] = level[j];
        _mm_store_ps(tmp, s_curve(_mm_load_ps(tmp), k));
        for (size_t j = i; j < n; j++) gr_db[j] = tmp[j - i];
    }
}

/* 2^y (mf_approx.h). */
TGT_INLINE __m128 s_exp2(__m128 y)
{
    y = _mm_min_ps(_mm_max_ps(y, _mm_set1_ps(-126.0f)), _mm_set1_ps(127.0f));
    const __m128i k = _mm_cvtps_epi32(y);
    const __m128 f = _mm_sub_ps(y, _mm_cvtepi32_ps(k));
    __m128 p = _mm_set1_ps(mf_exp2_poly[0]);
#pragma GCC unroll 8
    for (int d = 1; d < MF_EXP2_TERMS; d++)
        p = _mm_add_ps(_mm_mul_ps(p, f), _mm_set1_ps(mf_exp2_poly[d]));
    const __m128i sc = _mm_slli_epi32(_mm_add_epi32(k, _mm_set1_epi32(127)), 23);
    return _mm_mul_ps(p, _mm_castsi128_ps(sc));
}

TGT_INLINE __m128 s_db_gain(__m128 d)
{
    const __m128 g = s_exp2(_mm_mul_ps(d, _mm_set1_ps(MF_APPROX_LOG2_10_OVER_20)));
    return _mm_andnot_ps(_mm_cmplt_ps(d, _mm_set1_ps(-758.0f)), g);
}

static TGT void sse2_db_to_gain(float *restrict out, const float *restrict db, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(out + i, s_db_gain(_mm_loadu_ps(db + i)));
    if (i < n) {
        _Alignas(16) float tmp[4] = {0};
        for (size_t j = i; j < n; j++) tmp[j - i] = db[j];
        _mm_store_ps(tmp, s_db_gain(_mm_load_ps(tmp)));
        for (size_t j = i; j < n; j++) out[j] = tmp[j - i];
    }
}

MF_BQB_KERNEL(sse2_biquad_block, static TGT, 4, 2)
MF_FIR_KERNEL(sse2_fir, static TGT, 4)
MF_TANH_KERNEL(sse2_tanh_curve, static TGT, 4)
/* Eight lanes in two registers, with shuffles between them. */
MF_BALLISTICS_KERNEL(sse2_ballistics, static TGT, MF_BAL_MAX_BITS, MF_BAL_UP_SHUFFLE)

void mf_dsp_init_sse2(mf_dsp_kernels_t *k)
{
    k->fir = sse2_fir;
    k->tanh_curve = sse2_tanh_curve;
    k->biquad_block = sse2_biquad_block;
    k->biquad = mf_dsp_sse2_biquad;
    k->gain_ramp = sse2_gain_ramp;
    k->gain_apply = sse2_gain_apply;
    k->detect = sse2_detect;
    k->gain_computer = sse2_gain_computer;
    k->db_to_gain = sse2_db_to_gain;
    k->ballistics = sse2_ballistics;
}
#endif
