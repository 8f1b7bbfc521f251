/* Gating and the loudness series, from the K-weighted energy of each
 * complete 100 ms hop (ITU-R BS.1770-4 section 2.8: 400 ms blocks with 75 %
 * overlap, absolute gate -70 LKFS, relative gate -10 LU; EBU Tech 3342
 * (2016): 3 s short-term blocks every 100 ms, absolute gate -70, relative
 * gate -20 LU, LRA = 95th - 10th percentile). Internal to qc/. */
#ifndef MF_LOUDNESS_H
#define MF_LOUDNESS_H

#include <stddef.h>

typedef struct {
    double integrated, lra, momentary_max, short_term_max;
} mf_loudness_t;

/* e[i]: sum over channels of the squared K-weighted samples of hop i
 * (channel weights 1: mono, left, right), n complete hops of hop frames.
 * Fills momentary[0..n) and short_term[0..n) (NAN while the window is not
 * full) when they are not NULL. Returns 0, or -1 when out of memory for
 * its scratch arrays. */
int mf_loudness_compute(const double *e, size_t n, size_t hop, float *momentary, float *short_term,
                        mf_loudness_t *out);

#endif
