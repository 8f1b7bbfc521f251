/* Heap settings for the programs (coordinator, worker, client), set once
 * at the start of main.
 *
 * Blobs move in 1 MiB chunks (MF_BLOB_CHUNK), each in a buffer allocated
 * and freed per chunk. With glibc's defaults such a buffer came from mmap,
 * or from heap memory that free() had just trimmed back to the kernel, so
 * every chunk paid for fresh pages: a page fault and a zeroed page per
 * 4 KiB, in each process a byte passes through. Keeping freed memory on the
 * heap reuses the same pages; the peak resident size is unchanged, only
 * memory already used is not given back at once. */
#ifndef MF_HEAP_H
#define MF_HEAP_H

void mf_heap_tune(void);

#endif
