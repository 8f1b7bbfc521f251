/* The client's cache of file hashes: a file whose device, inode,
 * size and modification time (to the nanosecond) are those recorded when
 * it was last hashed is not read again. What make and git trust. Not the
 * change time: putting a source into a store links it, which changes it,
 * so every render would read every source again (session 32 tried; a
 * fader re-render took 0.10 s longer). A write whose modification time
 * was put back afterwards (touch -r) is not seen. A
 * resubmitted session then costs a stat per source instead of reading
 * every byte (132 MB for 16 one-minute 24-bit tracks), and a revision
 * takes an earlier render's unchanged file without reading it.
 *
 * Kept in the cache folder (mf_cachedir.h): sources/<SHA-256 of the
 * absolute path>, one line each (sources, and OUTDIR files the client
 * wrote or a revision checked). A file modified too recently for its time
 * stamp to show the next change (50 ms; 2 s where stamps are whole
 * seconds) is not recorded. No cache folder: no caching, nothing else
 * changes. */
#ifndef MF_HASHCACHE_H
#define MF_HASHCACHE_H

#include "mf_store.h"

#include <sys/stat.h>

/* mf_store_put_file with the cache: a known file is linked into s under
 * its recorded hash without being read (or, on another file system, put
 * the ordinary way, which hashes it again and checks it). */
mf_err_t mf_hashcache_put_file(mf_store_t *s, const char *path, mf_hash_t *out);
/* The SHA-256 of a file, from the cache when it is known, else read (and
 * recorded): how a revision checks the files of the render it replaces
 * (mf_prev.h) without reading them every time. 0, or -1 when unreadable. */
int mf_hashcache_file(const char *path, mf_hash_t *out);

/* The SHA-256 the cache holds for path as it is now, without reading it:
 * 1, or 0 when it holds none. */
int mf_hashcache_known(const char *path, mf_hash_t *out);
/* Records h as the hash of path, whose stat (taken before it was renamed
 * to path: a rename keeps the inode and the time stamp) is st: a file the
 * client wrote and hashed itself (an OUTDIR file), so that a later
 * revision can take it without reading it (mf_prev.h). Skipped when its
 * time stamp is too fresh to tell a later change. */
void mf_hashcache_note(const char *path, const struct stat *st, const mf_hash_t *h);
/* Entries the cache keeps ($MIXFARM_HASHCACHE_MAX says otherwise): a
 * catalogue re-rendered every night meets tens of thousands of sources,
 * and each entry takes a block of disk. */
#define MF_HASHCACHE_MAX 20000
/* Past max entries, removes the least recently written down to max / 2
 * (their sources are read again when next met); returns how many went.
 * Done by itself now and then as entries are recorded. */
int mf_hashcache_trim(size_t max);
/* Drops what the cache holds for path (an OUTDIR no revision will take
 * files from any more, mf_recent.h): the cache does not grow with every
 * render. */
void mf_hashcache_forget(const char *path);

#endif
