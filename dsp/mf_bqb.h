/* A cascade of second-order sections that does not change (an EQ nothing
 * automates, a playback model), run in blocks: MF_BQB_N frames at a time,
 * each group of four sections one matrix product (mf_kernels.h's
 * mf_bqb_group_t). The recursive kernel waits on every sample's multiply
 * and add; a block's outputs are independent of each other, so the SIMD
 * lanes fill, and the state kept in double makes it more accurate too.
 *
 * Output does not depend on how the signal is cut into calls: an
 * unfinished block's outputs are computed from the state at its start,
 * and the block is run again whole once its last frame arrives.
 *
 *   mf_bqb_t *b = mf_bqb_new(&cascade);   // its coefficients and state
 *   mf_bqb_run(b, out, in, frames);       // interleaved, in place allowed
 *   mf_bqb_state(b, &cascade);            // where the recursive kernel goes on
 *   mf_bqb_free(&b);
 */
#ifndef MF_BQB_H
#define MF_BQB_H

#include "mf_kernels.h"

#include <stddef.h>

typedef struct mf_bqb mf_bqb_t;

/* Whether st is better run in blocks: one group (up to four sections), where
 * AVX2 and AVX-512 run it 1.4-1.7x faster than the recursive kernel
 * (tests/bench/bench_dsp); longer cascades are no faster, SSE2 is slower.
 * It depends on the cascade only, never on the CPU: a session renders to
 * the same bits on every machine of a farm. */
int mf_bqb_suits(const mf_biquad_cascade_t *st);
/* From st's channels, sections, coefficients and state; with kernels k
 * (NULL: the best for this CPU). NULL when out of memory. */
mf_bqb_t *mf_bqb_new(const mf_biquad_cascade_t *st, const mf_dsp_kernels_t *k);
void mf_bqb_run(mf_bqb_t *b, float *out, const float *in, size_t frames);
/* Writes the coefficients and the state after the last frame run into st. */
void mf_bqb_state(const mf_bqb_t *b, mf_biquad_cascade_t *st);
void mf_bqb_free(mf_bqb_t **b);

#endif
