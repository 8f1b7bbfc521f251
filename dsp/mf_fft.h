/* FFTW plans for the whole process, made and destroyed one at a time.
 * FFTW's planner is not thread-safe, and executors make plans in parallel
 * (an embedded farm's workers are threads: a spectrum in one, a
 * convolution reverb or a reference match in another). Executing a plan is
 * safe from any thread; only these three calls touch the planner.
 *
 *   fftwf_plan p = mf_fft_plan_r2c(n, in, out);  // NULL when FFTW fails
 *   fftwf_execute(p);                            // anywhere, any time
 *   mf_fft_destroy(p);                           // NULL-safe
 */
#ifndef MF_FFT_H
#define MF_FFT_H

#include <fftw3.h>

fftwf_plan mf_fft_plan_r2c(int n, float *in, fftwf_complex *out);
fftwf_plan mf_fft_plan_c2r(int n, fftwf_complex *in, float *out);
void mf_fft_destroy(fftwf_plan p);

#endif
