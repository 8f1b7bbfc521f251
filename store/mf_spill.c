#include "mf_spill.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* stdio's buffer, ours: glibc sizes one it allocates itself at 4 KiB,
 * whatever setvbuf asks, and a pass would cost a system call per 4 KiB. */
#define BUFFER (256 * 1024)

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
    mf_spill_t *s = fd >= 0 ? calloc(1, sizeof *s) : NULL;
    if (s && (!(s->buf = malloc(BUFFER)) || !(s->f = fdopen(fd, "w+b")))) {
        free(s->buf), free(s);
        s = NULL;
    }
    if (!s) {
        const int saved = errno;
        if (fd >= 0) close(fd);
        errno = saved;
        return NULL;
    }
    setvbuf(s->f, s->buf, _IOFBF, BUFFER);
    return s;
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
