/* The client's cache of source-file hashes: a file whose device, inode,
 * size and modification time (to the nanosecond) are those recorded when
 * it was last hashed is not read again. What make and git trust. A
 * resubmitted session then costs a stat per source instead of reading
 * every byte (132 MB for 16 one-minute 24-bit tracks).
 *
 * Kept under $MIXFARM_CACHE_DIR, else $XDG_CACHE_HOME/mixfarm, else
 * ~/.cache/mixfarm: sources/<SHA-256 of the absolute path>, one line each
 * (sources, and the files of an OUTDIR a revision checks).
 * A file modified less than 2 s before it was hashed is not recorded
 * (its next change could keep the same time stamp). No cache folder: no
 * caching, nothing else changes. */
#ifndef MF_HASHCACHE_H
#define MF_HASHCACHE_H

#include "mf_store.h"

/* mf_store_put_file with the cache: a known file is linked into s under
 * its recorded hash without being read (or, on another file system, put
 * the ordinary way, which hashes it again and checks it). */
mf_err_t mf_hashcache_put_file(mf_store_t *s, const char *path, mf_hash_t *out);
/* The SHA-256 of a file, from the cache when it is known, else read (and
 * recorded): how a revision checks the files of the render it replaces
 * (mf_prev.h) without reading them every time. 0, or -1 when unreadable. */
int mf_hashcache_file(const char *path, mf_hash_t *out);

#endif
