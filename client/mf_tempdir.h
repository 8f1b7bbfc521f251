/* The client's temporary folders (an embedded farm's store, a connection's
 * blob store): each owned by its process while it lives, so that the next
 * render removes those of renders that were killed or interrupted, which
 * can hold gigabytes (store/fs_owner.c). */
#ifndef MF_TEMPDIR_H
#define MF_TEMPDIR_H

#include <stddef.h>

/* Makes $TMPDIR/<prefix>XXXXXX (/tmp without TMPDIR) into out, marked as
 * this process's: *owner_fd holds the mark, to be closed once the folder is
 * removed. Stale folders of the same prefix go first (said at info level).
 * 0, or -1 with errno set. */
int mf_temp_dir(const char *prefix, char *out, size_t n, int *owner_fd);

#endif
