/* The C reference QC kernels and the dispatch that picks SIMD variants. */
#include "mf_qc_kernels.h"

#include <math.h>
#include <threads.h>

static double c_kweight(const mf_kw_coef_t *k, float s[4], const float *x, size_t n)
{
    const float *a = k->c[0], *b = k->c[1];
    float z0 = s[0], z1 = s[1], z2 = s[2], z3 = s[3];
    double acc = 0.0;
    for (size_t i = 0; i < n; i++) {
        const float u = a[0] * x[i] + z0;
        z0 = (a[1] * x[i] + z1) - a[3] * u;
        z1 = a[2] * x[i] - a[4] * u;
        const float y = b[0] * u + z2;
        z2 = (b[1] * u + z3) - b[3] * y;
        z3 = b[2] * u - b[4] * y;
        acc += (double)y * y;
    }
    s[0] = z0, s[1] = z1, s[2] = z2, s[3] = z3;
    return acc;
}

static float s_interp(const mf_tp_coef_t *c, int p, const float *x, size_t i)
{
    const float *b = x + i - MF_TP_PRE;
    float y = 0.0f;
    for (int j = 0; j < MF_TP_TAPS; j++) y += c->c[p][j] * b[j];
    return fabsf(y);
}

static float c_tp_max(const mf_tp_coef_t *c, const float *x, size_t n)
{
    float m = 0.0f;
    for (size_t i = 0; i < n; i++)
        for (int p = 0; p < c->nph; p++) m = fmaxf(m, s_interp(c, p, x, i));
    return m;
}

static void c_tp_env(const mf_tp_coef_t *c, const float *x, size_t n, float *env)
{
    for (size_t i = 0; i < n; i++) {
        float m = fmaxf(env[i], fabsf(x[i]));
        for (int p = 0; p < c->nph; p++) m = fmaxf(m, s_interp(c, p, x, i));
        env[i] = m;
    }
}

static void c_deint(const float *in, size_t n, int channels, float *l, float *r, mf_blk_stats_t *st)
{
    *st = (mf_blk_stats_t){0};
    if (channels == 1) {
        for (size_t i = 0; i < n; i++) {
            const float x = in[i];
            l[i] = x;
            st->peak[0] = fmaxf(st->peak[0], fabsf(x));
            st->sum[0] += x, st->sumsq[0] += (double)x * x;
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const float a = in[2 * i], b = in[2 * i + 1];
        l[i] = a, r[i] = b;
        st->peak[0] = fmaxf(st->peak[0], fabsf(a));
        st->peak[1] = fmaxf(st->peak[1], fabsf(b));
        st->sum[0] += a, st->sum[1] += b;
        st->sumsq[0] += (double)a * a, st->sumsq[1] += (double)b * b;
        st->sumlr += (double)a * b;
        st->side = fmaxf(st->side, fabsf(a - b));
    }
}

const mf_qc_kernels_t mf_qc_kernels_c = {
    .name = "c",
    .family = "c",
    .kweight = c_kweight,
    .tp_max = c_tp_max,
    .tp_env = c_tp_env,
    .deint = c_deint,
};

static mf_qc_kernels_t s_tables[MF_QC_ISA_COUNT];
static int s_supported[MF_QC_ISA_COUNT];
static mf_qc_isa_t s_best;
static once_flag s_once = ONCE_FLAG_INIT;

static void s_init(void)
{
    static const char *const names[MF_QC_ISA_COUNT] = {"c", "avx2", "avx512"};
    static const char *const families[MF_QC_ISA_COUNT] = {"c", "x86", "x86"};
    int have[MF_QC_ISA_COUNT] = {1, 0, 0};
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    have[MF_QC_ISA_AVX2] = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    have[MF_QC_ISA_AVX512] = have[MF_QC_ISA_AVX2] && __builtin_cpu_supports("avx512f");
#endif
    for (int isa = 0; isa < MF_QC_ISA_COUNT; isa++) {
        mf_qc_kernels_t *k = &s_tables[isa];
        *k = mf_qc_kernels_c;
        s_supported[isa] = have[isa];
        if (!have[isa]) continue;
#if defined(__x86_64__) || defined(__i386__)
        if (isa >= MF_QC_ISA_AVX2) mf_qc_init_avx2(k);
        if (isa >= MF_QC_ISA_AVX512) mf_qc_init_avx512(k);
#endif
        k->name = names[isa], k->family = families[isa];
        s_best = (mf_qc_isa_t)isa;
    }
}

const mf_qc_kernels_t *mf_qc_kernels(void)
{
    call_once(&s_once, s_init);
    return &s_tables[s_best];
}

void mf_qc_kernels_plain(void)
{
    call_once(&s_once, s_init);
    s_best = MF_QC_ISA_C;
}

const mf_qc_kernels_t *mf_qc_kernels_for(mf_qc_isa_t isa)
{
    call_once(&s_once, s_init);
    if ((int)isa < 0 || isa >= MF_QC_ISA_COUNT || !s_supported[isa]) return NULL;
    return &s_tables[isa];
}
