#include "mf_fs.h"

#include <ftw.h>
#include <stdio.h>

static int s_remove(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int mf_fs_remove_tree(const char *dir)
{
    return nftw(dir, s_remove, 16, FTW_DEPTH | FTW_PHYS);
}
