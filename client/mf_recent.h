/* The OUTDIRs this user's renders and fetches wrote last, newest first:
 * where a revision rendered into a new folder finds the unchanged files it
 * can copy instead of fetching them again (mf_prev.h). Kept in the cache
 * folder (mf_cachedir.h) as "renders", one absolute path a line; no cache
 * folder, no list. Two clients writing it at once: the last one's list
 * wins, which costs at most a copy not made. */
#ifndef MF_RECENT_H
#define MF_RECENT_H

#include <stddef.h>

#define MF_RECENT_MAX 8

/* Up to MF_RECENT_MAX folders into dirs (each to be freed), newest first;
 * how many. */
size_t mf_recent_list(char *dirs[MF_RECENT_MAX]);
/* Puts outdir (made absolute) first, dropping an older mention of it and
 * the oldest past MF_RECENT_MAX, whose files the hash cache then forgets.
 * Silent on failure: it is only a hint. */
void mf_recent_add(const char *outdir);

#endif
