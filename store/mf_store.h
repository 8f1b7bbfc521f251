/* The content-addressed blob store: a folder of immutable files named by the
 * SHA-256 of their bytes (objects/ab/abcdef...), written through a streaming
 * writer into tmp/ and renamed into place, so a blob is whole or absent.
 * Several threads and processes may share one store: two writers of the same
 * content both succeed and leave one file.
 *
 * The action cache lives beside it (actions/<key>): a task key names the
 * output hashes of a task already computed. */
#ifndef MF_STORE_H
#define MF_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "mf_error.h"
#include "mf_hash.h"

typedef struct mf_store mf_store_t;
typedef struct mf_blob_writer mf_blob_writer_t;
typedef struct mf_writes mf_writes_t;

/* Opens (creating as needed) a store rooted at dir. NULL on failure, with
 * the reason logged. */
mf_store_t *mf_store_open(const char *dir);
void mf_store_free(mf_store_t **s);
const char *mf_store_dir(const mf_store_t *s);
/* From now on every named writer of this store publishes its progress in
 * the returned registry (mf_writes.h; owned by the store), for uploading
 * blobs while they are written. NULL when out of memory. */
mf_writes_t *mf_store_watch_writes(mf_store_t *s);

/* Marks a store that outlives this process (an embedded farm's --state):
 * no file is hard-linked into it or out of it from then on, since an edit
 * in place on one side would change the other (a source re-recorded into
 * the same file, an output retagged where it lies). A temporary store may
 * share inodes with both. */
void mf_store_mark_lasting(mf_store_t *s);
int mf_store_lasting(const mf_store_t *s);
/* Removes what writers left half-written in tmp/ (a killed process's):
 * only for a store that nothing else writes meanwhile (its owner holds a
 * lock on it). Returns how many files went. */
int mf_store_clear_tmp(mf_store_t *s);
/* The same while other processes may be writing there (a shared store):
 * only the files nothing has written for more than idle_s seconds. */
int mf_store_clear_stale_tmp(mf_store_t *s, double idle_s);

/* Where the blob lives (whether or not it exists yet); free() the result. */
char *mf_store_path(const mf_store_t *s, const mf_hash_t *h);
int mf_store_has(const mf_store_t *s, const mf_hash_t *h);
/* Size in bytes of a stored blob, or -1. */
int64_t mf_store_size(const mf_store_t *s, const mf_hash_t *h);
/* Takes a blob out of the store at once (a rename into trash/), leaving
 * the slow part, freeing its bytes, to mf_store_empty_trash: unlinking a
 * 23 MB file costs about 10 ms here, which a coordinator's loop must not
 * wait for. A blob written again meanwhile is a new file: the trash never
 * holds it. 0, or -1 with errno set. */
int mf_store_discard(mf_store_t *s, const mf_hash_t *h);
/* Deletes what is in trash/ (any thread; a store's owner at start too).
 * Returns how many files went. */
int mf_store_empty_trash(const mf_store_t *s);
/* Marks a stored blob as used now (its file's mtime): what a store held to
 * a budget evicts last (coordinator/store_budget.h). 0, or -1. */
int mf_store_touch(const mf_store_t *s, const mf_hash_t *h);
/* Calls fn for every blob in the store (not those being written): its name,
 * size, and when its file was last modified (seconds since the epoch).
 * Stops at the first non-zero fn returns, and returns it; -1 with errno set
 * when the store cannot be read (a store with no blob yet is not an error). */
typedef int (*mf_store_each_fn)(void *ctx, const mf_hash_t *h, int64_t size, double mtime);
int mf_store_each(const mf_store_t *s, mf_store_each_fn fn, void *ctx);
/* The same walk with each file's whole stat (its ctime: mf_store_guard.h),
 * over the blobs (kind "objects") or the action cache ("actions"). */
struct stat;
typedef int (*mf_store_stat_fn)(void *ctx, const mf_hash_t *h, const struct stat *st);
int mf_store_each_stat(const mf_store_t *s, const char *kind, mf_store_stat_fn fn, void *ctx);

/* Adds a file's bytes as a blob (linked into a store that is not lasting,
 * mf_store_link_file; else copied), hashing them. */
mf_err_t mf_store_put_file(mf_store_t *s, const char *path, mf_hash_t *out);
/* Makes the file at path, whose SHA-256 is h, the blob h of a store that is
 * not lasting, without copying it: a hard link, or a symbolic one to its
 * absolute path when the file is on another file system (a session on a
 * data disk, TMPDIR on tmpfs: a copy would cost its size in time and in
 * space, on every render). The store never writes into a blob, so either
 * reads what the file holds. 0, or -1 when neither is possible or the
 * store is lasting (then copy it: mf_store_copy_file). */
int mf_store_link_file(mf_store_t *s, const char *path, const mf_hash_t *h);
/* Copies a file whose SHA-256 is known to be want in as a blob, hashing it
 * on the way: MF_ERR_IO when its bytes are no longer those. */
mf_err_t mf_store_copy_file(mf_store_t *s, const char *path, const mf_hash_t *want);

/* Streaming writer: write any number of times, then commit (which names the
 * blob by its hash) or abort. Both free the writer. On failure (NULL,
 * MF_ERR_IO) errno says why, ENOSPC for a full disk. */
mf_blob_writer_t *mf_blob_writer_new(mf_store_t *s);
/* A writer that stores its bytes under a name the caller vouches for,
 * without hashing them: the caller hashes them itself (a transfer checking
 * what it receives) or the name is derived from the task that computed them
 * (mf_task_output_name). commit returns that name. */
mf_blob_writer_t *mf_blob_writer_new_named(mf_store_t *s, const mf_hash_t *name);
/* A named writer whose bytes go to disk around the page cache
 * (mf_fs_create_direct): a blob nobody reads again but as a file (an
 * embedded farm's listening copy, linked into OUTDIR), so that no cache
 * pages are taken for it. Its bytes are hashed on the way, and the store
 * handle remembers their SHA-256 (mf_store_digest), so that the file is
 * not read back to be hashed either. A store whose writes are watched
 * (live uploads read them as they grow) gets an ordinary writer. */
mf_blob_writer_t *mf_blob_writer_new_direct(mf_store_t *s, const mf_hash_t *name);
/* The SHA-256 of a blob's bytes when this store handle wrote it with
 * mf_blob_writer_new_direct (in memory, the last 256 of them): 1 and *sha,
 * or 0. */
int mf_store_digest(const mf_store_t *s, const mf_hash_t *blob, mf_hash_t *sha);
mf_err_t mf_blob_writer_write(mf_blob_writer_t *w, const void *data, size_t n);
/* Both end the writer and free it: commit whatever it returns (on failure
 * the blob is not stored), abort always. */
mf_err_t mf_blob_writer_commit(mf_blob_writer_t *w, mf_hash_t *out);
void mf_blob_writer_abort(mf_blob_writer_t *w);

/* Stores n bytes from memory (a report, a document) as a blob named by
 * their hash. */
mf_err_t mf_store_put_bytes(mf_store_t *s, const void *data, size_t n, mf_hash_t *out);
/* A blob's bytes with a NUL after them (malloc'd; *len, when given, gets
 * their count), or NULL when it is absent, unreadable or over max bytes. */
char *mf_store_read_text(const mf_store_t *s, const mf_hash_t *h, size_t max, size_t *len);

/* The action cache: outputs of the task with this key (NUL-separated hex
 * hashes). get returns the number of outputs (up to max), or -1 if absent. */
int mf_store_action_get(const mf_store_t *s, const mf_hash_t *key, mf_hash_t *outs, int max);
mf_err_t mf_store_action_put(mf_store_t *s, const mf_hash_t *key, const mf_hash_t *outs, int n);
/* Forgets the task with this key: it runs again when asked for. 0, or -1. */
int mf_store_action_drop(mf_store_t *s, const mf_hash_t *key);

#endif
