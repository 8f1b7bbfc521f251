/* Small file-system helpers the store and the output writer share. */
#ifndef MF_FS_H
#define MF_FS_H

/* rm -r: removes a folder and everything below it (never follows links).
 * Returns 0, or -1 with errno set. */
int mf_fs_remove_tree(const char *dir);

#endif
