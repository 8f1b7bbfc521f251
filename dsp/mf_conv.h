/* Partitioned FFT convolution without latency, for long impulse responses
 * (the convolution reverb). Non-uniform partitions (Gardner, "Efficient
 * convolution without input-output delay", JAES 43(3), 1995; the level
 * scheme of Garcia, "Optimal filter partition for efficient convolution
 * with short input/output delay", AES 113th convention, 2002):
 *
 *   taps [0, 64)                    direct form, 32 sums at a time
 *   level 1: blocks of 64 samples   taps [64, 512): 7 partitions of 64
 *   level 2: blocks of 512          taps [512, 4096)
 *   ...each level 8 times the last (at most 32768) with 7 partitions,
 *   until one takes every remaining tap: where that costs less than
 *   opening the next level (an estimate of both in flops a sample), or at
 *   blocks of 32768. At 48 kHz a 0.1 s IR ends on 9 partitions of 512, a
 *   1 s IR on 11 of 4096, a 10 s IR on 14 of 32768.
 *
 * A level with blocks of N runs uniformly partitioned overlap-save (FFT of
 * 2N, a frequency-domain delay line of its partitions' input spectra) once
 * per N input samples; its first tap is at N or later, so its output is
 * ready before it is due and the whole costs no latency. The result is the
 * linear convolution of the input (from the first sample processed) with
 * the taps, to float rounding.
 *
 * FFTW plans are made when an IR or a convolver is created, through
 * mf_fft.h (one lock for every planner call in the process); processing
 * only executes plans, which FFTW allows concurrently. */
#ifndef MF_CONV_H
#define MF_CONV_H

#include <stddef.h>

/* An impulse response, transformed: read-only once made, so any number of
 * convolvers (one per channel, say) may share it. */
typedef struct mf_conv_ir mf_conv_ir_t;
/* One channel's running convolution. */
typedef struct mf_conv mf_conv_t;

/* n taps h[0], h[stride], ... scaled by gain. NULL when out of memory or
 * n is 0. */
mf_conv_ir_t *mf_conv_ir_new(const float *h, size_t n, size_t stride, float gain);
void mf_conv_ir_free(mf_conv_ir_t **ir);
size_t mf_conv_ir_taps(const mf_conv_ir_t *ir);

/* A convolver with ir (borrowed: it must outlive the convolver), starting
 * from silence. NULL when out of memory. */
mf_conv_t *mf_conv_new(const mf_conv_ir_t *ir);
void mf_conv_free(mf_conv_t **c);
/* out[i*stride] = (h * x)(t + i) for the next n input samples in[i*stride];
 * out may be in. No allocation. */
void mf_conv_process(mf_conv_t *c, const float *in, float *out, size_t n, size_t stride);

#endif
