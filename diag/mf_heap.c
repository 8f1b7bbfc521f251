#include "mf_heap.h"

#include <stdint.h>
#include <stdlib.h> /* defines __GLIBC__ on glibc */
#include <sys/mman.h>
#include <unistd.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

/* Above a chunk and its message, so chunk buffers come from the heap. */
#define MMAP_THRESHOLD (8 << 20)
/* Freed memory kept before the heap is trimmed: a window of chunks in
 * flight for several transfers at once, and what was pre-touched. */
#define TRIM_THRESHOLD (128 << 20)
/* Pre-touched in blocks under MMAP_THRESHOLD, so they come from the heap
 * and, freed together, merge back into its free top. */
#define PRETOUCH_STEP ((size_t)4 << 20)
#define PRETOUCH_MAX 16 /* 64 MiB at most */

void mf_heap_tune(void)
{
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    mallopt(M_ARENA_MAX, 1);
#endif
}

void mf_heap_pretouch(size_t bytes)
{
#if defined(__GLIBC__) && defined(MADV_POPULATE_WRITE)
    void *block[PRETOUCH_MAX];
    size_t n = 0;
    const long size = sysconf(_SC_PAGESIZE);
    const uintptr_t page = size > 0 ? (uintptr_t)size : 4096;
    for (; n < PRETOUCH_MAX && n * PRETOUCH_STEP < bytes; n++) {
        if (!(block[n] = malloc(PRETOUCH_STEP))) break;
        const uintptr_t a = ((uintptr_t)block[n] + page - 1) & ~(page - 1);
        const uintptr_t e = ((uintptr_t)block[n] + PRETOUCH_STEP) & ~(page - 1);
        /* Unsupported (EINVAL before Linux 5.14): stop, nothing is lost. */
        if (madvise((void *)a, e - a, MADV_POPULATE_WRITE) != 0) {
            n++;
            break;
        }
    }
    while (n) free(block[--n]);
#else
    (void)bytes;
#endif
}
