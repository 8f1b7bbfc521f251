/* The tanh kernel (mf_kernels.h, tanh_curve), one body for every
 * instruction set: the approximation of mf_approx.h written with GCC
 * vector types of the set's width. Every lane does the C reference's
 * operations in its order (the reference is the same body with one-lane
 * vectors); the two branches are both computed and one is picked by a
 * mask, and rounding to an integer adds and subtracts 1.5 * 2^23, so no
 * instruction differs between sets: every variant gives the reference's
 * bits. A short tail runs as one vector padded with zeros.
 *
 * A kernel file says MF_TANH_KERNEL(name, attributes, W) once. */
#ifndef MF_TANH_KERNEL_H
#define MF_TANH_KERNEL_H

#include "mf_approx.h"
#include "mf_kernels.h"

#include <stdint.h>
#include <string.h>

/* x = tanh(x), in place, for vectors of type vf (ints vi). */
#define MF_TANH_VEC(vf, vi, x)                                                                     \
    do {                                                                                           \
        const float round_ = 12582912.0f; /* 1.5 * 2^23 */                                         \
        const vi sign_ = (vi)(x)&INT32_MIN;                                                        \
        vf a_ = (vf)((vi)(x)&INT32_MAX);                                                           \
        const vi held_ = a_ > MF_TANH_MAX;                                                         \
        a_ = (vf)(((vi)a_ & ~held_) | ((vi)((vf){0} + MF_TANH_MAX) & held_));                      \
        const vf y_ = a_ * MF_APPROX_2_OVER_LN2;                                                   \
        const vf k_ = (y_ + round_) - round_, f_ = y_ - k_;                                        \
        vf p_ = (vf){0} + mf_exp2_poly[0];                                                         \
        for (int j_ = 1; j_ < MF_EXP2_TERMS; j_++) p_ = p_ * f_ + mf_exp2_poly[j_];                \
        const vf e_ = p_ * (vf)((__builtin_convertvector(k_, vi) + 127) << 23);                    \
        const vf big_ = 1.0f - 2.0f / (e_ + 1.0f);                                                 \
        const vf a2_ = a_ * a_;                                                                    \
        vf q_ = (vf){0} + mf_tanh_poly[0];                                                         \
        for (int j_ = 1; j_ < MF_TANH_TERMS; j_++) q_ = q_ * a2_ + mf_tanh_poly[j_];               \
        const vf small_ = a_ + a_ * (a2_ * q_);                                                    \
        const vi is_small_ = a_ < MF_TANH_SMALL;                                                   \
        (x) = (vf)((((vi)small_ & is_small_) | ((vi)big_ & ~is_small_)) | sign_);                  \
    } while (0)

#define MF_TANH_KERNEL(NAME, ATTR, W)                                                              \
    ATTR void NAME(float *out, const float *in, size_t n)                                          \
    {                                                                                              \
        typedef float vf __attribute__((vector_size((W) * sizeof(float))));                        \
        typedef int32_t vi __attribute__((vector_size((W) * sizeof(int32_t))));                    \
        vf x;                                                                                      \
        size_t i = 0;                                                                              \
        for (; i + (W) <= n; i += (W)) {                                                           \
            memcpy(&x, in + i, sizeof x);                                                          \
            MF_TANH_VEC(vf, vi, x);                                                                \
            memcpy(out + i, &x, sizeof x);                                                         \
        }                                                                                          \
        if (i < n) {                                                                               \
            float lanes[W] = {0};                                                                  \
            memcpy(lanes, in + i, (n - i) * sizeof *in);                                           \
            memcpy(&x, lanes, sizeof x);                                                           \
            MF_TANH_VEC(vf, vi, x);                                                                \
            memcpy(lanes, &x, sizeof x);                                                           \
            memcpy(out + i, lanes, (n - i) * sizeof *out);                                         \
        }                                                                                          \
    }

#endif
