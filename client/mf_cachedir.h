/* The client's cache folder, shared by what it remembers between runs
 * (source hashes, mf_hashcache.h; recent renders, mf_recent.h):
 * $MIXFARM_CACHE_DIR, else $XDG_CACHE_HOME/mixfarm, else ~/.cache/mixfarm.
 * None of them set: no caching, nothing else changes. */
#ifndef MF_CACHEDIR_H
#define MF_CACHEDIR_H

#include <stddef.h>

/* The folder (not created) into out; 0 when there is none or it does not fit. */
int mf_cache_dir(char *out, size_t n);
/* Creates the folders above path (mkdir -p of its dirname); errors are left
 * to whoever then opens path. */
void mf_cache_mkdirs(const char *path);
/* Replaces path's content with text, whole (a temporary file beside it,
 * named after this thread, then a rename), making its folders first. Not
 * flushed: a cache entry lost to a power cut is only work to do again.
 * Silent on failure. */
void mf_cache_replace(const char *path, const char *text);

#endif
