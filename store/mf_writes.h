/* Named writes in progress, published for whoever uploads a blob while it
 * is being written: a worker sends a task's output to the coordinator as
 * the task produces it, so the upload ends with the task instead of
 * starting then. A store publishes them once mf_store_watch_writes is on;
 * each named writer (mf_blob_writer_new_named) then says how many bytes
 * its file holds (in steps of MF_WRITES_STEP), and when it is committed or
 * has failed. Thread-safe: writers run in task threads, the uploader in
 * the worker's loop. */
#ifndef MF_WRITES_H
#define MF_WRITES_H

#include <stdint.h>

#include "mf_hash.h"

#define MF_WRITES_STEP (1 << 20) /* bytes between two publications */

typedef enum {
    MF_WRITE_NONE,   /* no such write is known, or not begun */
    MF_WRITE_OPEN,   /* being written */
    MF_WRITE_DONE,   /* committed: the blob is in the store, *written is its size */
    MF_WRITE_FAILED, /* aborted or failed: nothing will come */
} mf_write_state_t;

typedef struct mf_writes mf_writes_t;

mf_writes_t *mf_writes_new(void);
void mf_writes_free(mf_writes_t **w);

/* The uploader expects a write of name (before the task that makes it
 * starts); mf_writes_forget ends that. */
void mf_writes_expect(mf_writes_t *w, const mf_hash_t *name);

/* The writer's side, for expected names only. opened: fd is the file being
 * written (duplicated). */
void mf_writes_opened(mf_writes_t *w, const mf_hash_t *name, int fd);
void mf_writes_progress(mf_writes_t *w, const mf_hash_t *name, int64_t written);
void mf_writes_ended(mf_writes_t *w, const mf_hash_t *name, int64_t size, int ok);

/* The uploader's side: the state of name's write, the bytes readable so
 * far and, when fd is not NULL and the write is known, a new descriptor of
 * its file (the caller closes it; it stays valid after the commit renames
 * the file). */
mf_write_state_t mf_writes_state(mf_writes_t *w, const mf_hash_t *name, int64_t *written, int *fd);
/* How many expected writes have begun so far: the uploader looks for new
 * ones only when this moved. */
unsigned long mf_writes_opened_count(mf_writes_t *w);
/* Forgets name's write (its upload is over, or its task is). */
void mf_writes_forget(mf_writes_t *w, const mf_hash_t *name);

#endif
