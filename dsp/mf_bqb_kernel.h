/* The block biquad kernel (mf_kernels.h, biquad_block), one body for every
 * instruction set. It is written with GCC vector types of the set's width
 * (WF floats, WD doubles per vector), so every lane does the same
 * multiplies and adds in the same order as the C reference, which is the
 * same body with one-lane vectors: every variant gives the reference's bits
 * (C17 forbids contracting them into fused multiply-adds).
 *
 * Per block: the next state (double) from the inputs, then from the start
 * state; the outputs (float) from the start state, then from the inputs.
 * Two accumulators each halve the chains of dependent adds. The four
 * products are spelled out: written as one macro used for each, GCC 12
 * unrolled them differently and the AVX2 variant ran 1.5x slower
 * (bench_dsp, 2.9 against 1.9 ns a mono sample).
 *
 * A kernel file says MF_BQB_KERNEL(name, attributes, WF, WD) once. */
#ifndef MF_BQB_KERNEL_H
#define MF_BQB_KERNEL_H

#include "mf_kernels.h"

#include <string.h>

#define MF_BQB_KERNEL(NAME, ATTR, WF, WD)                                                          \
    ATTR void NAME(const mf_bqb_group_t *restrict g, float *restrict x, size_t blocks,             \
                   double *restrict s)                                                             \
    {                                                                                              \
        typedef float vf __attribute__((vector_size((WF) * sizeof(float))));                       \
        typedef double vd __attribute__((vector_size((WD) * sizeof(double))));                     \
        enum { N = MF_BQB_N, S = MF_BQB_S, NY = MF_BQB_N / (WF), NS = MF_BQB_S / (WD) };           \
        double sd[S], xd[N];                                                                       \
        float sf[S];                                                                               \
        memcpy(sd, s, sizeof sd);                                                                  \
        for (size_t b = 0; b < blocks; b++, x += N) {                                              \
            vd sa[NS], sb[NS], c0, c1;                                                             \
            vf ya[NY], yb[NY], t0, t1;                                                             \
            for (int j = 0; j < N; j++) xd[j] = x[j];                                              \
            for (int m = 0; m < S; m++) sf[m] = (float)sd[m];                                      \
            for (int k = 0; k < NS; k++) {                                                         \
                memcpy(&c0, &g->c[0][k * (WD)], sizeof c0);                                        \
                memcpy(&c1, &g->c[1][k * (WD)], sizeof c1);                                        \
                sa[k] = c0 * xd[0], sb[k] = c1 * xd[1];                                            \
            }                                                                                      \
            for (int j = 2; j < N; j += 2)                                                         \
                for (int k = 0; k < NS; k++) {                                                     \
                    memcpy(&c0, &g->c[j][k * (WD)], sizeof c0);                                    \
                    memcpy(&c1, &g->c[j + 1][k * (WD)], sizeof c1);                                \
                    sa[k] += c0 * xd[j], sb[k] += c1 * xd[j + 1];                                  \
                }                                                                                  \
            for (int m = 0; m < S; m += 2)                                                         \
                for (int k = 0; k < NS; k++) {                                                     \
                    memcpy(&c0, &g->a[m][k * (WD)], sizeof c0);                                    \
                    memcpy(&c1, &g->a[m + 1][k * (WD)], sizeof c1);                                \
                    sa[k] += c0 * sd[m], sb[k] += c1 * sd[m + 1];                                  \
                }                                                                                  \
            for (int k = 0; k < NS; k++) {                                                         \
                const vd next = sa[k] + sb[k];                                                     \
                memcpy(&sd[k * (WD)], &next, sizeof next);                                         \
            }                                                                                      \
            for (int k = 0; k < NY; k++) {                                                         \
                memcpy(&t0, &g->o[0][k * (WF)], sizeof t0);                                        \
                memcpy(&t1, &g->o[1][k * (WF)], sizeof t1);                                        \
                ya[k] = t0 * sf[0], yb[k] = t1 * sf[1];                                            \
            }                                                                                      \
            for (int m = 2; m < S; m += 2)                                                         \
                for (int k = 0; k < NY; k++) {                                                     \
                    memcpy(&t0, &g->o[m][k * (WF)], sizeof t0);                                    \
                    memcpy(&t1, &g->o[m + 1][k * (WF)], sizeof t1);                                \
                    ya[k] += t0 * sf[m], yb[k] += t1 * sf[m + 1];                                  \
                }                                                                                  \
            for (int j = 0; j < N; j += 2)                                                         \
                for (int k = 0; k < NY; k++) {                                                     \
                    memcpy(&t0, &g->t[j][k * (WF)], sizeof t0);                                    \
                    memcpy(&t1, &g->t[j + 1][k * (WF)], sizeof t1);                                \
                    ya[k] += t0 * x[j], yb[k] += t1 * x[j + 1];                                    \
                }                                                                                  \
            for (int k = 0; k < NY; k++) {                                                         \
                const vf y = (ya[k] + yb[k]) + 0.0f; /* -0 + 0 = +0 */                             \
                memcpy(x + k * (WF), &y, sizeof y);                                                \
            }                                                                                      \
        }                                                                                          \
        memcpy(s, sd, sizeof sd);                                                                  \
    }

#endif
