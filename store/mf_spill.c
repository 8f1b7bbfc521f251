#include "mf_spill.h"
#include "mf_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define BUFFER (256 * 1024) /* stdio's buffer (mf_fs_buffer) */

struct mf_spill {
    FILE *f;
    char *buf;
};

/* A file without a name in dir: O_TMPFILE where the file system has it,
 * else a named one unlinked before anything is written to it. */
static int s_open_unnamed(const char *dir)
{
#ifdef O_TMPFILE
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)) return fd;
#endif
    char path[4096];
    if (snprintf(path, sizeof path, "%s/spill-XXXXXX", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    const int named = mkstemp(path);
    if (named >= 0) unlink(path);
    return named;
}

mf_spill_t *mf_spill_new(const char *dir)
{
    const int fd = s_open_unnamed(dir);
    if (fd < 0) return NULL;
    mf_spill_t *s = calloc(1, sizeof *s);
    if (s && (s->f = fdopen(fd, "w+b")) && (s->buf = mf_fs_buffer(s->f, BUFFER))) return s;
    const int saved = errno;
    if (s && s->f)
        fclose(s->f); /* and fd */
    else
        close(fd);
    free(s);
    errno = saved;
    return NULL;
}

void mf_spill_free(mf_spill_t **s)
{
    if (!s || !*s) return;
    fclose((*s)->f);
    free((*s)->buf); /* after fclose, which flushes from it */
    free(*s);
    *s = NULL;
}

mf_err_t mf_spill_append(mf_spill_t *s, const float *x, size_t n)
{
    return fwrite(x, sizeof *x, n, s->f) == n ? MF_OK : MF_ERR_IO;
}

mf_err_t mf_spill_rewind(mf_spill_t *s)
{
    return fflush(s->f) == 0 && fseek(s->f, 0, SEEK_SET) == 0 ? MF_OK : MF_ERR_IO;
}

mf_err_t mf_spill_read(mf_spill_t *s, float *x, size_t max, size_t *got)
{
    *got = fread(x, sizeof *x, max, s->f);
    return *got < max && ferror(s->f) ? MF_ERR_IO : MF_OK;
}
