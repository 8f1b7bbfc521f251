/* Small file-system helpers the store, the worker and the output writer share. */
#ifndef MF_FS_H
#define MF_FS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mf_error.h"

/* rm -r: removes a folder and everything below it (never follows links).
 * Returns 0, or -1 with errno set. */
int mf_fs_remove_tree(const char *dir);

/* Scratch folders owned by a living process (fs_owner.c). mf_fs_own marks
 * dir as this process's for as long as the returned descriptor stays open
 * (close it after removing dir); -1 with errno. mf_fs_sweep_stale removes
 * the folders in dir whose names start with prefix and whose owner has
 * ended (a kill, a crash), or which were never marked and are an hour old;
 * it returns how many, *bytes (if given) the space they held. */
int mf_fs_own(const char *dir);
int mf_fs_sweep_stale(const char *dir, const char *prefix, int64_t *bytes);
/* Removes an owned folder, then closes its owner descriptor (*owner_fd,
 * set to -1; -1 for none). Where an open file keeps its folder from going
 * (FUSE: exFAT drives), the removal is tried again once the mark is closed.
 * 0, or -1 with errno. */
int mf_fs_remove_owned(const char *dir, int *owner_fd);
/* Opens path (made if missing) and takes an exclusive flock on it, held
 * for as long as the descriptor stays open (the kernel drops it however
 * the process ends): the descriptor, or -1 with errno (EWOULDBLOCK:
 * another holds it and wait is 0; with wait, this waits for it). */
int mf_fs_lock_file(const char *path, int wait);

/* A size on disk as a daemon's option gives it: "4294967296", "500M", "4G",
 * "1.5T" (binary multiples; a trailing B or iB is allowed). Bytes, or -1
 * when it is not one (or not positive). */
int64_t mf_parse_size(const char *s);

/* Gives f a full buffer of size bytes, to be freed after fclose(f); NULL
 * (f unchanged) when out of memory. Our own: for a buffer it allocates
 * itself glibc ignores the size asked of setvbuf and takes 4 KiB, a system
 * call per 4 KiB of a signal. */
char *mf_fs_buffer(FILE *f, size_t size);

/* A new file (created, or emptied) for bytes written once, flushed to disk
 * soon and not read back soon: an OUTDIR's deliverables. Its data goes
 * straight to the device (O_DIRECT) from an aligned buffer of our own,
 * not through the page cache: the cache would hold a second copy of every
 * byte until the flush writes it out, and giving a file system new
 * cache pages is much of what writing costs on a virtual machine (about 2
 * ns a byte here, against 0.1 without them). Where the file system cannot
 * (tmpfs), or once the file is seeked (a header written again), it is an
 * ordinary buffered file. Write, seek and fclose as any FILE; fclose
 * reports what the last write hit (ENOSPC). NULL with errno set. */
FILE *mf_fs_create_direct(const char *path);

/* A file opened for reading once, around the page cache as
 * mf_fs_create_direct writes: an earlier render's file copied into a new
 * one (read from the device, not into new cache pages that only the copy
 * would use). Where the file system cannot, an ordinary one. NULL with
 * errno set. */
FILE *mf_fs_open_direct(const char *path);

/* dst made a copy-on-write clone of src (FICLONE: Btrfs, XFS, bcachefs,
 * OCFS2; not ext4 or tmpfs): the same bytes at no cost in time or space
 * until either file is written to, and either may be. 0; or -1 with errno
 * set (EOPNOTSUPP, EXDEV across file systems, EEXIST...) and nothing left
 * at dst, when the caller copies instead. dst must not exist; it is made
 * as fopen makes a file (0666 less the umask). */
int mf_fs_clone(const char *src, const char *dst);
/* The same into the empty file open for writing at dst_fd (mkstemp's). */
int mf_fs_clone_into(const char *src, int dst_fd);

/* Durability on power loss. A file renamed into place is only as safe as
 * its data on disk: without a flush, a crash after the rename may leave the
 * name over an empty or partial file. mf_fs_sync waits until path's data
 * (a file) or entries (a folder) are on disk. 0, or -1 with errno set (an
 * error writing the data, ENOSPC included, shows here); 0 where the file
 * system cannot sync at all (EINVAL, ENOTSUP). */
int mf_fs_sync(const char *path);
/* rename(tmp, path) that survives a power cut: tmp's data on disk first,
 * then the folder's new entry. 0, or -1 with errno set. */
int mf_fs_rename_durable(const char *tmp, const char *path);
/* Writes len bytes to path through a temporary file in the same folder and
 * mf_fs_rename_durable: the old file or the new one, whole, even after a
 * power cut. MF_ERR_IO (errno set) or MF_ERR_NOMEM on failure, nothing left
 * behind. */
mf_err_t mf_fs_write_atomic(const char *path, const void *data, size_t len);

#endif
