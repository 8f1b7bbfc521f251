/* NEON kernels (AArch64, 4 float lanes): the SSE2 set, operation for
 * operation (mf_kernels_sse2.c; the biquad wavefront is explained in
 * mf_kernels_avx2.c), so that both stay within checkasm's tolerance of the
 * C reference. Multiplies and adds are kept separate (no fused
 * multiply-add), as in the SSE2 kernels. NEON is part of every AArch64 CPU:
 * no run-time check. */
#include "mf_approx.h"
#include "mf_ballistics_kernel.h"
#include "mf_bqb_kernel.h"
#include "mf_fir_kernel.h"
#include "mf_kernels.h"
#include "mf_tanh_kernel.h"

typedef int mf_kernels_neon_unused_t; /* keeps the unit non-empty elsewhere */

#if defined(__aarch64__)
#include <arm_neon.h>
#include <stdint.h>

#define NEON_INLINE static inline __attribute__((always_inline))

/* One pass of up to 4/C sections (lanes = sections x channels). */
NEON_INLINE void s_wavefront(float *out, const float *in, size_t n, mf_biquad_cascade_t *st, int s0,
                             int ns, const int C)
{
    float b0[4] = {0}, b1[4] = {0}, b2[4] = {0}, a1[4] = {0}, a2[4] = {0};
    float z1[4] = {0}, z2[4] = {0}, lane[4], tmp[4];
    for (int l = 0; l < 4; l++) {
        lane[l] = (float)(l / C);
        if (l >= ns * C) continue;
        const int s = s0 + l / C, c = l % C;
        b0[l] = st->c[s][0], b1[l] = st->c[s][1], b2[l] = st->c[s][2];
        a1[l] = st->c[s][3], a2[l] = st->c[s][4];
        z1[l] = st->z[s][c][0], z2[l] = st->z[s][c][1];
    }
    const float32x4_t vb0 = vld1q_f32(b0), vb1 = vld1q_f32(b1), vb2 = vld1q_f32(b2);
    const float32x4_t va1 = vld1q_f32(a1), va2 = vld1q_f32(a2), vlane = vld1q_f32(lane);
    const float32x4_t zero = vdupq_n_f32(0.0f);
    float32x4_t vz1 = vld1q_f32(z1), vz2 = vld1q_f32(z2), y = zero;
    const size_t steps = n + (size_t)ns - 1, last = (size_t)(ns - 1) * (size_t)C;
    for (size_t t = 0; t < steps; t++) {
        float32x4_t xin = zero;
        if (t < n)
            xin = C == 1 ? vsetq_lane_f32(in[t], zero, 0)
                         : vcombine_f32(vld1_f32(in + 2 * t), vdup_n_f32(0.0f));
        /* Each section takes the previous section's last output: lanes
         * move up by one section (C lanes), the first takes the input. */
        const float32x4_t sh = C == 1 ? vextq_f32(zero, y, 3) : vextq_f32(zero, y, 2);
        const float32x4_t x =
            vreinterpretq_f32_u32(/* disjoint lanes: the bits, or'ed */
                                  vorrq_u32(vreinterpretq_u32_f32(sh), vreinterpretq_u32_f32(xin)));
        const float32x4_t yn = vaddq_f32(vmulq_f32(vb0, x), vz1);
        const float32x4_t z1n = vsubq_f32(vaddq_f32(vmulq_f32(vb1, x), vz2), vmulq_f32(va1, yn));
        const float32x4_t z2n = vsubq_f32(vmulq_f32(vb2, x), vmulq_f32(va2, yn));
        if (t + 1 < (size_t)ns || t >= n) {
            /* Prologue/epilogue: section s works on sample t - s only when
             * that sample exists; the others keep their state. */
            const float tf = (float)t, lo = (float)((double)t - (double)n);
            const uint32x4_t m =
                vandq_u32(vcleq_f32(vlane, vdupq_n_f32(tf)), vcgtq_f32(vlane, vdupq_n_f32(lo)));
            vz1 = vbslq_f32(m, z1n, vz1);
            vz2 = vbslq_f32(m, z2n, vz2);
        } else {
            vz1 = z1n, vz2 = z2n;
        }
        y = yn;
        if (t >= (size_t)ns - 1) {
            vst1q_f32(tmp, y);
            float *o = out + (t - (size_t)ns + 1) * (size_t)C;
            o[0] = tmp[last];
            if (C == 2) o[1] = tmp[last + 1];
        }
    }
    vst1q_f32(z1, vz1), vst1q_f32(z2, vz2);
    for (int l = 0; l < ns * C; l++)
        st->z[s0 + l / C][l % C][0] = z1[l], st->z[s0 + l / C][l % C][1] = z2[l];
}

static void neon_biquad(float *out, const float *in, size_t frames, mf_biquad_cascade_t *st)
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

static void neon_gain_ramp(float *out, const float *in, size_t frames, int channels, float g0,
                           float g1)
{
    const float step = frames ? (g1 - g0) / (float)frames : 0.0f;
    const size_t n = frames * (size_t)channels;
    const float32x4_t vg0 = vdupq_n_f32(g0), vst = vdupq_n_f32(step);
    /* Lane l of sample index i belongs to frame (i + l) / channels. */
    static const int32_t mono[4] = {1, 2, 3, 4}, stereo[4] = {1, 1, 2, 2};
    const int32x4_t inc = vdupq_n_s32(4 / channels);
    int32x4_t f = vld1q_s32(channels == 1 ? mono : stereo);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t g = vaddq_f32(vg0, vmulq_f32(vst, vcvtq_f32_s32(f)));
        vst1q_f32(out + i, vmulq_f32(vld1q_f32(in + i), g));
        f = vaddq_s32(f, inc);
    }
    for (; i < n; i++) out[i] = in[i] * (g0 + step * (float)(i / (size_t)channels + 1));
}

static void neon_gain_apply(float *out, const float *in, const float *gain, size_t frames,
                            int channels)
{
    size_t i = 0;
    if (channels == 1) {
        for (; i + 4 <= frames; i += 4)
            vst1q_f32(out + i, vmulq_f32(vld1q_f32(in + i), vld1q_f32(gain + i)));
        for (; i < frames; i++) out[i] = in[i] * gain[i];
        return;
    }
    for (; i + 4 <= frames; i += 4) {
        const float32x4_t g = vld1q_f32(gain + i);
        vst1q_f32(out + 2 * i, vmulq_f32(vld1q_f32(in + 2 * i), vzip1q_f32(g, g)));
        vst1q_f32(out + 2 * i + 4, vmulq_f32(vld1q_f32(in + 2 * i + 4), vzip2q_f32(g, g)));
    }
    for (; i < frames; i++)
        out[2 * i] = in[2 * i] * gain[i], out[2 * i + 1] = in[2 * i + 1] * gain[i];
}

static void neon_detect(float *restrict out, const float *restrict in, size_t frames, int channels,
                        int power)
{
    const float32x4_t half = vdupq_n_f32(0.5f);
    size_t i = 0;
    for (; i + 4 <= frames; i += 4) {
        float32x4_t r;
        if (channels == 1) {
            const float32x4_t a = vld1q_f32(in + i);
            r = power ? vmulq_f32(a, a) : vabsq_f32(a);
        } else {
            const float32x4x2_t lr = vld2q_f32(in + 2 * i); /* deinterleaved */
            const float32x4_t l = lr.val[0], rr = lr.val[1];
            r = power ? vmulq_f32(vaddq_f32(vmulq_f32(l, l), vmulq_f32(rr, rr)), half)
                      : vmaxq_f32(vabsq_f32(l), vabsq_f32(rr));
        }
        vst1q_f32(out + i, r);
    }
    if (i < frames) /* the tail: the reference's own loop */
        mf_dsp_kernels_c.detect(out + i, in + i * (size_t)channels, frames - i, channels, power);
}

/* log10(x) for x > 0 normal (mf_approx.h). */
NEON_INLINE float32x4_t s_log10(float32x4_t x)
{
    const int32x4_t bits = vreinterpretq_s32_f32(x);
    int32x4_t e = vsubq_s32(vshrq_n_s32(bits, 23), vdupq_n_s32(127));
    float32x4_t m = vreinterpretq_f32_s32(
        vorrq_s32(vandq_s32(bits, vdupq_n_s32(0x007fffff)), vdupq_n_s32(0x3f800000)));
    const uint32x4_t big = vcgtq_f32(m, vdupq_n_f32(MF_APPROX_SQRT2));
    m = vbslq_f32(big, vmulq_f32(m, vdupq_n_f32(0.5f)), m);
    e = vsubq_s32(e, vreinterpretq_s32_u32(big)); /* big is all ones = -1 */
    const float32x4_t one = vdupq_n_f32(1.0f);
    const float32x4_t z = vdivq_f32(vsubq_f32(m, one), vaddq_f32(m, one)), z2 = vmulq_f32(z, z);
    float32x4_t p = vdupq_n_f32(mf_atanh_poly[0]);
#pragma GCC unroll 8
    for (int d = 1; d < MF_ATANH_TERMS; d++)
        p = vaddq_f32(vmulq_f32(p, z2), vdupq_n_f32(mf_atanh_poly[d]));
    const float32x4_t lnm = vmulq_f32(vmulq_f32(p, z), vdupq_n_f32(2.0f));
    const float32x4_t ln = vaddq_f32(vmulq_f32(vcvtq_f32_s32(e), vdupq_n_f32(MF_APPROX_LN2)), lnm);
    return vmulq_f32(ln, vdupq_n_f32(MF_APPROX_LOG10E));
}

NEON_INLINE float32x4_t s_curve(float32x4_t level, const mf_gain_curve_t *k)
{
    const float32x4_t t = vdupq_n_f32(k->threshold_db), w = vdupq_n_f32(k->knee_db);
    const float32x4_t sl = vdupq_n_f32(k->slope), hw = vdupq_n_f32(0.5f * k->knee_db);
    const float32x4_t inv2w = vdupq_n_f32(k->knee_db > 0.0f ? 0.5f / k->knee_db : 0.0f);
    const float32x4_t x =
        vmulq_f32(vdupq_n_f32(k->db_scale), s_log10(vmaxq_f32(level, vdupq_n_f32(1e-30f))));
    const float32x4_t d = vsubq_f32(x, t), d2 = vaddq_f32(d, d), u = vaddq_f32(d, hw);
    const float32x4_t knee = vmulq_f32(vmulq_f32(sl, vmulq_f32(u, u)), inv2w);
    const uint32x4_t above = vcgeq_f32(d2, w), below = vcleq_f32(d2, vnegq_f32(w));
    const float32x4_t r = vbslq_f32(above, vmulq_f32(sl, d), knee);
    return vbslq_f32(below, vdupq_n_f32(0.0f), r);
}

static void neon_gain_computer(float *restrict gr_db, const float *restrict level, size_t n,
                               const mf_gain_curve_t *k)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(gr_db + i, s_curve(vld1q_f32(level + i), k));
    if (i < n) { /* the same code on a padded copy, so results do not depend on position */
        float tmp[4] = {0};
        for (size_t j = i; j < n; j++) tmp[j - i] = level[j];
        vst1q_f32(tmp, s_curve(vld1q_f32(tmp), k));
        for (size_t j = i; j < n; j++) gr_db[j] = tmp[j - i];
    }
}

/* 2^y (mf_approx.h); k rounded to nearest, as SSE2's conversion does. */
NEON_INLINE float32x4_t s_exp2(float32x4_t y)
{
    y = vminq_f32(vmaxq_f32(y, vdupq_n_f32(-126.0f)), vdupq_n_f32(127.0f));
    const int32x4_t k = vcvtnq_s32_f32(y);
    const float32x4_t f = vsubq_f32(y, vcvtq_f32_s32(k));
    float32x4_t p = vdupq_n_f32(mf_exp2_poly[0]);
#pragma GCC unroll 8
    for (int d = 1; d < MF_EXP2_TERMS; d++)
        p = vaddq_f32(vmulq_f32(p, f), vdupq_n_f32(mf_exp2_poly[d]));
    const int32x4_t sc = vshlq_n_s32(vaddq_s32(k, vdupq_n_s32(127)), 23);
    return vmulq_f32(p, vreinterpretq_f32_s32(sc));
}

NEON_INLINE float32x4_t s_db_gain(float32x4_t d)
{
    const float32x4_t g = s_exp2(vmulq_f32(d, vdupq_n_f32(MF_APPROX_LOG2_10_OVER_20)));
    return vbslq_f32(vcltq_f32(d, vdupq_n_f32(-758.0f)), vdupq_n_f32(0.0f), g);
}

/* Eight samples a step: vld3/vld2 split the bytes by position, and the
 * bytes are zipped into the top of each sample's 32 (16) bits. */
static void neon_pcm_to_float(float *restrict out, const unsigned char *restrict in, size_t n,
                              int bytes)
{
    size_t i = 0;
    if (bytes == 3) {
        for (; i + 8 <= n; i += 8) {
            const uint8x8x3_t b = vld3_u8(in + 3 * i);
            /* (b1 b2) as 16-bit highs, (0 b0) as lows: b0 << 8 | b1 << 16 | b2 << 24 */
            const uint16x8_t hi = vorrq_u16(vmovl_u8(b.val[1]), vshll_n_u8(b.val[2], 8));
            const uint16x8_t lo = vshll_n_u8(b.val[0], 8);
            const int32x4_t w0 = vreinterpretq_s32_u16(vzip1q_u16(lo, hi));
            const int32x4_t w1 = vreinterpretq_s32_u16(vzip2q_u16(lo, hi));
            vst1q_f32(out + i, vmulq_n_f32(vcvtq_f32_s32(w0), 0x1p-31f));
            vst1q_f32(out + i + 4, vmulq_n_f32(vcvtq_f32_s32(w1), 0x1p-31f));
        }
    } else {
        for (; i + 8 <= n; i += 8) {
            const int16x8_t v = vreinterpretq_s16_u8(vld1q_u8(in + 2 * i));
            vst1q_f32(out + i, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(v))), 0x1p-15f));
            vst1q_f32(out + i + 4,
                      vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(v))), 0x1p-15f));
        }
    }
    if (i < n) mf_dsp_kernels_c.pcm_to_float(out + i, in + (size_t)bytes * i, n - i, bytes);
}

static void neon_db_to_gain(float *restrict out, const float *restrict db, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(out + i, s_db_gain(vld1q_f32(db + i)));
    if (i < n) {
        float tmp[4] = {0};
        for (size_t j = i; j < n; j++) tmp[j - i] = db[j];
        vst1q_f32(tmp, s_db_gain(vld1q_f32(tmp)));
        for (size_t j = i; j < n; j++) out[j] = tmp[j - i];
    }
}

MF_BQB_KERNEL(neon_biquad_block, static, 4, 2)
MF_FIR_KERNEL(neon_fir, static, 4)
MF_TANH_KERNEL(neon_tanh_curve, static, 4)
MF_BALLISTICS_KERNEL(neon_ballistics, static, MF_BAL_MAX_BITS, MF_BAL_UP_SHUFFLE)

void mf_dsp_init_neon(mf_dsp_kernels_t *k)
{
    k->fir = neon_fir;
    k->tanh_curve = neon_tanh_curve;
    k->biquad_block = neon_biquad_block;
    k->biquad = neon_biquad;
    k->gain_ramp = neon_gain_ramp;
    k->gain_apply = neon_gain_apply;
    k->detect = neon_detect;
    k->gain_computer = neon_gain_computer;
    k->db_to_gain = neon_db_to_gain;
    k->ballistics = neon_ballistics;
    k->pcm_to_float = neon_pcm_to_float;
}
#endif
