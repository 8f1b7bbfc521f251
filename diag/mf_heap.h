/* Heap settings for the programs (coordinator, worker, client), set once
 * at the start of main, before any thread starts.
 *
 * Blobs move in 1 MiB chunks (MF_BLOB_CHUNK), each in a buffer allocated
 * and freed per chunk. With glibc's defaults such a buffer came from mmap,
 * or from heap memory that free() had just trimmed back to the kernel, so
 * every chunk paid for fresh pages: a page fault and a zeroed page per
 * 4 KiB, in each process a byte passes through. Keeping freed memory on the
 * heap reuses the same pages; the peak resident size is unchanged, only
 * memory already used is not given back at once.
 *
 * Every thread allocates from the one heap (one malloc arena): a chunk
 * ZeroMQ's I/O thread received and the loop freed goes back where the next
 * one comes from, instead of each thread growing a heap of its own.
 *
 * Even so a new process touched each page of its heap a first time, one
 * page fault per 4 KiB: about 12 us each on the virtual machines these
 * figures come from (each fault leaves the guest), so a fresh coordinator
 * took 9,400 faults in its first render of the bench session (about 0.1 s
 * of CPU), each worker 3,500 and the client 2,600 in every render.
 * mf_heap_pretouch makes pages resident ahead of the work in one system
 * call (madvise MADV_POPULATE_WRITE, about 0.8 us a page there) and leaves
 * them on the heap for any thread's allocations. */
#ifndef MF_HEAP_H
#define MF_HEAP_H

#include <stddef.h>

/* What each program makes resident when it starts (a worker per slot too):
 * about what its heap reached in the bench session's renders. */
#define MF_HEAP_COORDINATOR ((size_t)32 << 20)
#define MF_HEAP_WORKER ((size_t)8 << 20)
#define MF_HEAP_WORKER_SLOT ((size_t)2 << 20)
#define MF_HEAP_CLIENT ((size_t)16 << 20) /* a client that moves blobs, or the embedded farm */

void mf_heap_tune(void);
/* Makes bytes of heap resident now (rounded up to steps of 4 MiB, at
 * most 64 MiB). Without glibc or MADV_POPULATE_WRITE (Linux 5.14) it does
 * nothing: the pages are then touched as the work needs them, as before. */
void mf_heap_pretouch(size_t bytes);

#endif
