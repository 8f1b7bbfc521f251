#include "sf_buffered.h"
#include "mf_fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define BUFFER (256 * 1024)

struct mf_sf_buffered {
    FILE *f;
    char *buf; /* f's buffer (mf_fs_buffer) */
    sf_count_t size;
};

static sf_count_t s_len(void *user)
{
    return ((mf_sf_buffered_t *)user)->size;
}

static sf_count_t s_seek(sf_count_t offset, int whence, void *user)
{
    FILE *f = ((mf_sf_buffered_t *)user)->f;
    return fseeko(f, (off_t)offset, whence) == 0 ? (sf_count_t)ftello(f) : -1;
}

static sf_count_t s_read(void *ptr, sf_count_t count, void *user)
{
    return (sf_count_t)fread(ptr, 1, (size_t)count, ((mf_sf_buffered_t *)user)->f);
}

static sf_count_t s_write(const void *ptr, sf_count_t count, void *user)
{
    (void)ptr, (void)count, (void)user;
    return 0; /* opened for reading */
}

static sf_count_t s_tell(void *user)
{
    return (sf_count_t)ftello(((mf_sf_buffered_t *)user)->f);
}

static SF_VIRTUAL_IO s_io = {s_len, s_seek, s_read, s_write, s_tell};

SNDFILE *mf_sf_buffered_open(const char *path, SF_INFO *info, mf_sf_buffered_t **io)
{
    *io = NULL;
    mf_sf_buffered_t *b = calloc(1, sizeof *b);
    struct stat st;
    if (!b || !(b->f = fopen(path, "rb")) || fstat(fileno(b->f), &st) != 0 ||
        !(b->buf = mf_fs_buffer(b->f, BUFFER))) {
        mf_sf_buffered_close(NULL, &b);
        return NULL;
    }
    b->size = (sf_count_t)st.st_size;
    SNDFILE *sf = sf_open_virtual(&s_io, SFM_READ, info, b);
    if (!sf) {
        mf_sf_buffered_close(NULL, &b);
        return NULL;
    }
    *io = b;
    return sf;
}

void mf_sf_buffered_close(SNDFILE *sf, mf_sf_buffered_t **io)
{
    if (sf) sf_close(sf);
    mf_sf_buffered_t *b = io ? *io : NULL;
    if (!b) return;
    if (b->f) fclose(b->f);
    free(b->buf); /* after fclose */
    free(b);
    *io = NULL;
}
