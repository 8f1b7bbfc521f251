#include "mf_tempdir.h"
#include "mf_fs.h"
#include "mf_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int mf_temp_dir(const char *prefix, char *out, size_t n, int *owner_fd)
{
    const char *tmp = getenv("TMPDIR");
    tmp = tmp && *tmp ? tmp : "/tmp";
    int64_t bytes;
    const int stale = mf_fs_sweep_stale(tmp, prefix, &bytes);
    if (stale)
        mf_info("%s: removed %d %s* folder%s of renders that were stopped (%.2f GB)", tmp, stale,
                prefix, stale > 1 ? "s" : "", (double)bytes / 1e9);
    *owner_fd = -1;
    if (snprintf(out, n, "%s/%sXXXXXX", tmp, prefix) >= (int)n) {
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
