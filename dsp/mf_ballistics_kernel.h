/* The compressor's ballistics kernel (mf_kernels.h, ballistics), one body
 * for every instruction set that has eight float lanes in GCC vector types.
 *
 * Both one-poles of a frame are maps y -> max(A, P*y + B) (the attack's
 * with A = 0), and such maps compose into the same form, so a group of
 * MF_BALLISTICS_LANES frames is a prefix scan over the lanes (Hillis and
 * Steele: shifts by 1, 2 and 4) and only the group's last value carries to
 * the next group. For the release map f(y) = max(r, rel*y + (1-rel)*r),
 * the composition of frames 0..k is max(A_k, rel^(k+1)*y + B_k), and step
 * d composes each lane with the d lanes before it (rel^d, the power of d
 * frames; a shifted-in zero (A, B) = (0, 0) is the identity, as every A >=
 * B >= 0). The attack is linear: y_k = att^(k+1)*y + C_k.
 *
 * Every lane does the C reference's operations in its order, with no
 * fused multiply-add, and the lane-wise max picks one of its operands
 * exactly (x86's maxps does: a > b ? a : b), so every variant gives the
 * reference's bits. A kernel file says
 * MF_BALLISTICS_KERNEL(name, attributes, MAX, UP) once, with its lane-wise
 * max MAX(a, b) and its shift UP(v, d) of the lanes up by d (1, 2 or 4),
 * zeros in. */
#ifndef MF_BALLISTICS_KERNEL_H
#define MF_BALLISTICS_KERNEL_H

#include "mf_kernels.h"

#include <string.h>

/* The portable lane operations (SSE2, NEON): a max by a select of bits,
 * shifts by shuffles. */
typedef float mf_bal_vf __attribute__((vector_size(MF_BALLISTICS_LANES * sizeof(float))));
typedef int mf_bal_vi __attribute__((vector_size(MF_BALLISTICS_LANES * sizeof(int))));
#define MF_BAL_MAX_BITS(a, b)                                                                      \
    ((mf_bal_vf)(((mf_bal_vi)(a) & ((a) > (b))) | ((mf_bal_vi)(b) & ~((a) > (b)))))
#define MF_BAL_UP_SHUFFLE(v, d)                                                                    \
    ((d) == 1   ? __builtin_shufflevector((mf_bal_vf){0}, (v), 0, 8, 9, 10, 11, 12, 13, 14)        \
     : (d) == 2 ? __builtin_shufflevector((mf_bal_vf){0}, (v), 0, 1, 8, 9, 10, 11, 12, 13)         \
                : __builtin_shufflevector((mf_bal_vf){0}, (v), 0, 1, 2, 3, 8, 9, 10, 11))

#define MF_BALLISTICS_KERNEL(NAME, ATTR, MAX, UP)                                                  \
    ATTR void NAME(float *gr, size_t groups, const mf_ballistics_t *c, float st[2])                \
    {                                                                                              \
        typedef mf_bal_vf vf;                                                                      \
        vf rp, ap, a;                                                                              \
        memcpy(&rp, c->rel_pow, sizeof rp);                                                        \
        memcpy(&ap, c->att_pow, sizeof ap);                                                        \
        const vf rel1 = (vf){0} + (1.0f - c->rel_pow[0]), att1 = (vf){0} + (1.0f - c->att_pow[0]); \
        const vf r1 = (vf){0} + c->rel_pow[0], r2 = (vf){0} + c->rel_pow[1];                       \
        const vf r4 = (vf){0} + c->rel_pow[3], a1 = (vf){0} + c->att_pow[0];                       \
        const vf a2 = (vf){0} + c->att_pow[1], a4 = (vf){0} + c->att_pow[3];                       \
        vf Y1 = (vf){0} + st[0], Y = (vf){0} + st[1];                                              \
        for (size_t g_ = 0; g_ < groups; g_++, gr += MF_BALLISTICS_LANES) {                        \
            memcpy(&a, gr, sizeof a);                                                              \
            vf A = -a, B = rel1 * A;                                                               \
            A = MAX(A, r1 * UP(A, 1) + B), B = r1 * UP(B, 1) + B;                                  \
            A = MAX(A, r2 * UP(A, 2) + B), B = r2 * UP(B, 2) + B;                                  \
            A = MAX(A, r4 * UP(A, 4) + B), B = r4 * UP(B, 4) + B;                                  \
            const vf y1 = MAX(A, rp * Y1 + B);                                                     \
            vf C = att1 * y1;                                                                      \
            C = a1 * UP(C, 1) + C;                                                                 \
            C = a2 * UP(C, 2) + C;                                                                 \
            C = a4 * UP(C, 4) + C;                                                                 \
            const vf y = ap * Y + C;                                                               \
            memcpy(gr, &y, sizeof y);                                                              \
            Y1 = __builtin_shufflevector(y1, y1, 7, 7, 7, 7, 7, 7, 7, 7);                          \
            Y = __builtin_shufflevector(y, y, 7, 7, 7, 7, 7, 7, 7, 7);                             \
        }                                                                                          \
        st[0] = Y1[0], st[1] = Y[0];                                                               \
    }

#endif
