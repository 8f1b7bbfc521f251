/* The client's scratch folders (an embedded farm's store, a connection's
 * blob store, a render's staging folder in OUTDIR): each owned by its
 * process while it lives, so that the next render removes those of renders
 * that were killed or interrupted, which can hold gigabytes
 * (store/fs_owner.c). */
#ifndef MF_TEMPDIR_H
#define MF_TEMPDIR_H

#include <stddef.h>

/* Makes PARENT/<prefix>XXXXXX into out, marked as this process's:
 * *owner_fd holds the mark, to be closed once the folder is removed.
 * Stale folders of the same prefix in parent go first, said at info level
 * ("PARENT: removed 2 <what> folders of renders that were stopped"). 0,
 * or -1 with errno set. */
int mf_owned_dir(const char *parent, const char *prefix, const char *what, char *out, size_t n,
                 int *owner_fd);
/* The same in $TMPDIR (/tmp without it), what being "<prefix>*". */
int mf_temp_dir(const char *prefix, char *out, size_t n, int *owner_fd);

#endif
