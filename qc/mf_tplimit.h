/* A fast look-ahead true-peak limiter for the mastering core.
 *
 * Detector: the QC true-peak interpolator (mf_qc_kernels.h, SIMD), so the
 * limiter and the meter that checks it agree; each frame is charged the
 * largest of its own sample and the interpolated values on both sides.
 * Gain (the design of dsp/proc_limiter.c): g(t) = min(1, ceiling/peak(t));
 * h(t) = min of g over [t, t+L] (L look-ahead frames, a monotonic deque);
 * release: r(t) = min(h, h + rel (r(t-1) - h)), so r <= h; output gain is
 * the mean of r over the last L frames. Each of those L values comes from a
 * window that contains t, so the gain at t never exceeds g(t): the output
 * stays under the ceiling, and gain reduction ramps in over L frames.
 * Latency: L + MF_TP_POST frames. Pure: no allocation after _new. */
#ifndef MF_TPLIMIT_H
#define MF_TPLIMIT_H

#include <stddef.h>

typedef struct mf_tplim mf_tplim_t;

/* channels 1 or 2; ceiling in dBTP; release and look-ahead in ms. */
mf_tplim_t *mf_tplim_new(int channels, double rate, double ceiling_dbtp, double release_ms,
                         double lookahead_ms);
void mf_tplim_free(mf_tplim_t **l);
size_t mf_tplim_latency(const mf_tplim_t *l);
/* out[i] = in[i - latency] * gain * limiter gain; frames of any count;
 * out may equal in. gain is linear and must stay the same for a run. */
void mf_tplim_process(mf_tplim_t *l, float *out, const float *in, size_t frames, float gain);
/* The lowest limiter gain so far, in dB (<= 0). */
double mf_tplim_max_reduction_db(const mf_tplim_t *l);

#endif
