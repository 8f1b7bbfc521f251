#include "mf_fft.h"

#include <pthread.h>

/* One lock for every planner call in the process, and FFTW's own
 * (fftwf_make_planner_thread_safe) for any library that plans without us. */
static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;

static void s_init(void)
{
    fftwf_make_planner_thread_safe();
}

static void s_enter(void)
{
    pthread_once(&s_once, s_init);
    pthread_mutex_lock(&s_lock);
}

fftwf_plan mf_fft_plan_r2c(int n, float *in, fftwf_complex *out)
{
    s_enter();
    fftwf_plan p = fftwf_plan_dft_r2c_1d(n, in, out, FFTW_ESTIMATE);
    pthread_mutex_unlock(&s_lock);
    return p;
}

fftwf_plan mf_fft_plan_c2r(int n, fftwf_complex *in, float *out)
{
    s_enter();
    fftwf_plan p = fftwf_plan_dft_c2r_1d(n, in, out, FFTW_ESTIMATE);
    pthread_mutex_unlock(&s_lock);
    return p;
}

void mf_fft_destroy(fftwf_plan p)
{
    if (!p) return;
    s_enter();
    fftwf_destroy_plan(p);
    pthread_mutex_unlock(&s_lock);
}
