#include "mf_heap.h"

#include <stdlib.h> /* defines __GLIBC__ on glibc */

#if defined(__GLIBC__)
#include <malloc.h>
#endif

/* Above a chunk and its message, so chunk buffers come from the heap. */
#define MMAP_THRESHOLD (8 << 20)
/* Freed memory kept before the heap is trimmed: a window of chunks in
 * flight for several transfers at once. */
#define TRIM_THRESHOLD (128 << 20)

void mf_heap_tune(void)
{
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD);
#endif
}
