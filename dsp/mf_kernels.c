/* The C reference kernels and the dispatch that picks SIMD variants. */
#include "mf_kernels.h"
#include "mf_bqb_kernel.h"
#include "mf_fir_kernel.h"
#include "mf_tanh_kernel.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <threads.h>

static void c_biquad(float *out, const float *in, size_t frames, mf_biquad_cascade_t *st)
{
    const int ch = st->channels;
    /* Section after section over the whole block: each pass reads what the
     * previous one wrote, so in-place use is fine. */
    const float *src = in;
    if (st->nsec == 0 && out != in) memmove(out, in, frames * (size_t)ch * sizeof *out);
    for (int s = 0; s < st->nsec; s++) {
        const float b0 = st->c[s][0], b1 = st->c[s][1], b2 = st->c[s][2];
        const float a1 = st->c[s][3], a2 = st->c[s][4];
        for (int c = 0; c < ch; c++) {
            float z1 = st->z[s][c][0], z2 = st->z[s][c][1];
            for (size_t i = 0; i < frames; i++) {
                const float x = src[i * (size_t)ch + (size_t)c];
                const float y = b0 * x + z1;
                z1 = (b1 * x + z2) - a1 * y;
                z2 = b2 * x - a2 * y;
                out[i * (size_t)ch + (size_t)c] = y;
            }
            st->z[s][c][0] = z1, st->z[s][c][1] = z2;
        }
        src = out;
    }
}

/* One-lane vectors: the order of operations every variant keeps. */
MF_BQB_KERNEL(c_biquad_block, static, 1, 1)
MF_FIR_KERNEL(c_fir, static, 1)
MF_TANH_KERNEL(c_tanh_curve, static, 1)

static void c_gain_ramp(float *out, const float *in, size_t frames, int channels, float g0,
                        float g1)
{
    const float step = frames ? (g1 - g0) / (float)frames : 0.0f;
    for (size_t i = 0; i < frames; i++) {
        const float g = g0 + step * (float)(i + 1);
        for (int c = 0; c < channels; c++)
            out[i * (size_t)channels + (size_t)c] = in[i * (size_t)channels + (size_t)c] * g;
    }
}

static void c_gain_apply(float *out, const float *in, const float *gain, size_t frames,
                         int channels)
{
    for (size_t i = 0; i < frames; i++)
        for (int c = 0; c < channels; c++)
            out[i * (size_t)channels + (size_t)c] = in[i * (size_t)channels + (size_t)c] * gain[i];
}

static void c_detect(float *restrict out, const float *restrict in, size_t frames, int channels,
                     int power)
{
    for (size_t i = 0; i < frames; i++) {
        const float *f = in + i * (size_t)channels;
        if (power) {
            float s = 0.0f;
            for (int c = 0; c < channels; c++) s += f[c] * f[c];
            out[i] = s / (float)channels;
        } else {
            float m = 0.0f;
            for (int c = 0; c < channels; c++) m = fmaxf(m, fabsf(f[c]));
            out[i] = m;
        }
    }
}

static void c_gain_computer(float *restrict gr_db, const float *restrict level, size_t n,
                            const mf_gain_curve_t *k)
{
    const float t = k->threshold_db, w = k->knee_db, sl = k->slope;
    for (size_t i = 0; i < n; i++) {
        const float x = k->db_scale * log10f(fmaxf(level[i], 1e-30f));
        const float d = x - t;
        float gr;
        if (2.0f * d <= -w)
            gr = 0.0f;
        else if (2.0f * d >= w)
            gr = sl * d;
        else {
            const float u = d + 0.5f * w;
            gr = sl * u * u / (2.0f * w);
        }
        gr_db[i] = gr;
    }
}

void mf_ballistics_set(mf_ballistics_t *c, float att, float rel)
{
    float a = att, r = rel;
    for (int k = 0; k < MF_BALLISTICS_LANES; k++) {
        c->att_pow[k] = a, c->rel_pow[k] = r;
        a *= att, r *= rel;
    }
}

/* The reference: each lane of mf_ballistics_kernel.h's scan, one after
 * another, with its operations in its order (lanes below the shift take
 * zeros). */
static void c_ballistics(float *gr, size_t groups, const mf_ballistics_t *c, float st[2])
{
    enum { L = MF_BALLISTICS_LANES };
    static const int shift[3] = {1, 2, 4};
    const float rel = c->rel_pow[0], att = c->att_pow[0];
    const float rs[3] = {c->rel_pow[0], c->rel_pow[1], c->rel_pow[3]};
    const float as[3] = {c->att_pow[0], c->att_pow[1], c->att_pow[3]};
    for (size_t g = 0; g < groups; g++, gr += L) {
        float A[L], B[L], C[L], y1[L], nA[L], nB[L];
        for (int l = 0; l < L; l++) A[l] = -gr[l], B[l] = (1.0f - rel) * A[l];
        for (int s = 0; s < 3; s++) {
            for (int l = 0; l < L; l++) {
                const int d = shift[s];
                const float ua = l >= d ? A[l - d] : 0.0f, ub = l >= d ? B[l - d] : 0.0f;
                const float t = rs[s] * ua + B[l];
                nA[l] = A[l] > t ? A[l] : t;
                nB[l] = rs[s] * ub + B[l];
            }
            memcpy(A, nA, sizeof A), memcpy(B, nB, sizeof B);
        }
        for (int l = 0; l < L; l++) {
            const float t = c->rel_pow[l] * st[0] + B[l];
            y1[l] = A[l] > t ? A[l] : t;
            C[l] = (1.0f - att) * y1[l];
        }
        for (int s = 0; s < 3; s++) {
            float nC[L];
            for (int l = 0; l < L; l++) {
                const int d = shift[s];
                nC[l] = as[s] * (l >= d ? C[l - d] : 0.0f) + C[l];
            }
            memcpy(C, nC, sizeof C);
        }
        for (int l = 0; l < L; l++) gr[l] = c->att_pow[l] * st[1] + C[l];
        st[0] = y1[L - 1], st[1] = gr[L - 1];
    }
}

static void c_db_to_gain(float *restrict out, const float *restrict db, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = db[i] < -758.0f ? 0.0f : exp2f(db[i] * 0.16609640474436813f);
}

static void c_pcm_to_float(float *restrict out, const unsigned char *restrict in, size_t n,
                           int bytes)
{
    /* The bytes at the top of an int32, as libsndfile does, then scaled by
     * a power of two: exact. */
    if (bytes == 3)
        for (size_t i = 0; i < n; i++, in += 3)
            out[i] = (float)(int32_t)((uint32_t)in[0] << 8 | (uint32_t)in[1] << 16 |
                                      (uint32_t)in[2] << 24) *
                     0x1p-31f;
    else
        for (size_t i = 0; i < n; i++, in += 2)
            out[i] = (float)(int16_t)(uint16_t)((unsigned)in[0] | (unsigned)in[1] << 8) * 0x1p-15f;
}

const mf_dsp_kernels_t mf_dsp_kernels_c = {
    .name = "c",
    .family = "c",
    .biquad = c_biquad,
    .biquad_block = c_biquad_block,
    .gain_ramp = c_gain_ramp,
    .gain_apply = c_gain_apply,
    .detect = c_detect,
    .gain_computer = c_gain_computer,
    .ballistics = c_ballistics,
    .db_to_gain = c_db_to_gain,
    .pcm_to_float = c_pcm_to_float,
    .fir = c_fir,
    .tanh_curve = c_tanh_curve,
};

void mf_biquad_cascade_reset(mf_biquad_cascade_t *st, int channels, int nsec)
{
    memset(st, 0, sizeof *st);
    st->channels = channels;
    st->nsec = nsec;
    for (int s = 0; s < MF_BIQUAD_MAX_SECTIONS; s++) st->c[s][0] = 1.0f;
}

static mf_dsp_kernels_t s_tables[MF_ISA_COUNT];
static int s_supported[MF_ISA_COUNT];
static mf_isa_t s_best;
static once_flag s_once = ONCE_FLAG_INIT;

static void s_init(void)
{
    static const char *const names[MF_ISA_COUNT] = {"c", "sse2", "avx2", "avx512", "neon"};
    static const char *const families[MF_ISA_COUNT] = {"c", "x86", "x86", "x86", "neon"};
    int have[MF_ISA_COUNT] = {1, 0, 0, 0, 0};
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    have[MF_ISA_SSE2] = __builtin_cpu_supports("sse2");
    have[MF_ISA_AVX2] = have[MF_ISA_SSE2] && __builtin_cpu_supports("avx2");
    have[MF_ISA_AVX512] = have[MF_ISA_AVX2] && __builtin_cpu_supports("avx512f");
#elif defined(__aarch64__)
    have[MF_ISA_NEON] = 1;
#endif
    for (int isa = 0; isa < MF_ISA_COUNT; isa++) {
        mf_dsp_kernels_t *k = &s_tables[isa];
        *k = mf_dsp_kernels_c;
        s_supported[isa] = have[isa];
        if (!have[isa]) continue;
#if defined(__x86_64__) || defined(__i386__)
        if (isa >= MF_ISA_SSE2) mf_dsp_init_sse2(k);
        if (isa >= MF_ISA_AVX2) mf_dsp_init_avx2(k);
        if (isa >= MF_ISA_AVX512) mf_dsp_init_avx512(k);
#elif defined(__aarch64__)
        if (isa == MF_ISA_NEON) mf_dsp_init_neon(k);
#endif
        k->name = names[isa], k->family = families[isa];
        s_best = (mf_isa_t)isa;
    }
}

const mf_dsp_kernels_t *mf_dsp_kernels(void)
{
    call_once(&s_once, s_init);
    return &s_tables[s_best];
}

void mf_dsp_kernels_plain(void)
{
    call_once(&s_once, s_init);
    s_best = MF_ISA_C;
}

const mf_dsp_kernels_t *mf_dsp_kernels_for(mf_isa_t isa)
{
    call_once(&s_once, s_init);
    if ((int)isa < 0 || isa >= MF_ISA_COUNT || !s_supported[isa]) return NULL;
    return &s_tables[isa];
}
