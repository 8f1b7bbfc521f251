/* Monotonic time in seconds (CLOCK_MONOTONIC): for intervals, timeouts and
 * deadlines, never for dates. */
#ifndef MF_CLOCK_H
#define MF_CLOCK_H

#include <time.h>

static inline double mf_clock_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#endif
