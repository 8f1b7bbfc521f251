#include "mf_tempdir.h"
#include "mf_fs.h"
#include "mf_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int mf_owned_dir(const char *parent, const char *prefix, const char *what, char *out, size_t n,
                 int *owner_fd)
{
    int64_t bytes;
    const int stale = mf_fs_sweep_stale(parent, prefix, &bytes);
    if (stale)
        mf_info("%s: removed %d %s folder%s of renders that were stopped (%.2f GB)", parent, stale,
                what, stale > 1 ? "s" : "", (double)bytes / 1e9);
    *owner_fd = -1;
    if (snprintf(out, n, "%s/%sXXXXXX", parent, prefix) >= (int)n) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (!mkdtemp(out)) return -1;
    if ((*owner_fd = mf_fs_own(out)) >= 0) return 0;
    const int saved = errno;
    mf_fs_remove_tree(out);
    errno = saved;
    return -1;
}

int mf_temp_dir(const char *prefix, char *out, size_t n, int *owner_fd)
{
    const char *tmp = getenv("TMPDIR");
    char what[128];
    snprintf(what, sizeof what, "%s*", prefix);
    return mf_owned_dir(tmp && *tmp ? tmp : "/tmp", prefix, what, out, n, owner_fd);
}
