/* The FIR kernel (mf_kernels.h, fir), one body for every instruction set.
 * Lanes hold consecutive outputs, not taps: each lane adds its products in
 * tap order, one multiply and one add each, exactly as the C reference
 * (the same body with one-lane vectors) does, so every variant gives the
 * reference's bits (C17 forbids contracting them into fused
 * multiply-adds). Eight sums are in flight at once, enough to hide the
 * adds' latency on two ports; a lone vector and single outputs finish the
 * rest in the same order.
 *
 * A kernel file says MF_FIR_KERNEL(name, attributes, W) once. */
#ifndef MF_FIR_KERNEL_H
#define MF_FIR_KERNEL_H

#include "mf_kernels.h"

#include <string.h>

#define MF_FIR_KERNEL(NAME, ATTR, W)                                                               \
    ATTR void NAME(float *restrict out, const float *restrict x, size_t n,                         \
                   const float *restrict taps, int ntaps, int add)                                 \
    {                                                                                              \
        typedef float vf __attribute__((vector_size((W) * sizeof(float))));                        \
        enum { G = 8 };                                                                            \
        size_t i = 0;                                                                              \
        for (; i + G * (W) <= n; i += G * (W)) {                                                   \
            vf acc[G], v;                                                                          \
            for (int g = 0; g < G; g++) {                                                          \
                memcpy(&v, x + i + g * (W), sizeof v);                                             \
                acc[g] = taps[0] * v;                                                              \
            }                                                                                      \
            for (int m = 1; m < ntaps; m++)                                                        \
                for (int g = 0; g < G; g++) {                                                      \
                    memcpy(&v, x + i + g * (W) + m, sizeof v);                                     \
                    acc[g] += taps[m] * v;                                                         \
                }                                                                                  \
            for (int g = 0; g < G; g++) {                                                          \
                if (add) memcpy(&v, out + i + g * (W), sizeof v), acc[g] = v + acc[g];             \
                memcpy(out + i + g * (W), &acc[g], sizeof v);                                      \
            }                                                                                      \
        }                                                                                          \
        for (; i + (W) <= n; i += (W)) {                                                           \
            vf acc, v;                                                                             \
            memcpy(&v, x + i, sizeof v);                                                           \
            acc = taps[0] * v;                                                                     \
            for (int m = 1; m < ntaps; m++) {                                                      \
                memcpy(&v, x + i + m, sizeof v);                                                   \
                acc += taps[m] * v;                                                                \
            }                                                                                      \
            if (add) memcpy(&v, out + i, sizeof v), acc = v + acc;                                 \
            memcpy(out + i, &acc, sizeof v);                                                       \
        }                                                                                          \
        for (; i < n; i++) {                                                                       \
            float s = taps[0] * x[i];                                                              \
            for (int m = 1; m < ntaps; m++) s += taps[m] * x[i + m];                               \
            out[i] = add ? out[i] + s : s;                                                         \
        }                                                                                          \
    }

#endif
