#include "mf_pipe.h"

#include <stdlib.h>
#include <string.h>

struct mf_pipe {
    mf_pipe_produce_fn produce;
    void *ctx;
    unsigned char *buf;
    size_t len, cap; /* bytes held in buf, and its size */
    uint64_t base;   /* the stream offset of buf[0] */
    int ended;
};

mf_pipe_t *mf_pipe_new(mf_pipe_produce_fn produce, void *ctx)
{
    mf_pipe_t *p = calloc(1, sizeof *p);
    if (p) p->produce = produce, p->ctx = ctx;
    return p;
}

void mf_pipe_free(mf_pipe_t **p)
{
    if (!p || !*p) return;
    free((*p)->buf);
    free(*p);
    *p = NULL;
}

mf_err_t mf_pipe_write(mf_pipe_t *p, const void *data, size_t n)
{
    if (p->ended) return MF_ERR_INVALID;
    if (p->len + n > p->cap) {
        size_t cap = p->cap ? p->cap : 64u << 10;
        while (cap < p->len + n) cap *= 2;
        unsigned char *b = realloc(p->buf, cap);
        if (!b) return MF_ERR_NOMEM;
        p->buf = b, p->cap = cap;
    }
    memcpy(p->buf + p->len, data, n);
    p->len += n;
    return MF_OK;
}

void mf_pipe_end(mf_pipe_t *p)
{
    p->ended = 1;
}

/* Nothing before off is read again: dropped, so the buffer holds only
 * what lies ahead. */
static void s_drop_before(mf_pipe_t *p, uint64_t off)
{
    const size_t d = off - p->base < p->len ? (size_t)(off - p->base) : p->len;
    if (!d) return;
    memmove(p->buf, p->buf + d, p->len - d);
    p->len -= d, p->base += d;
}

mf_err_t mf_pipe_read(mf_pipe_t *p, void *dst, size_t n, uint64_t off)
{
    if (off < p->base) return MF_ERR_INVALID;
    s_drop_before(p, off);
    while (p->base + p->len < off + n) {
        if (p->ended) return MF_ERR_CORRUPT;
        const uint64_t before = p->base + p->len;
        const mf_err_t err = p->produce(p->ctx);
        if (err != MF_OK) return err;
        if (p->base + p->len == before && !p->ended) return MF_ERR_CORRUPT; /* it makes nothing */
        s_drop_before(p, off);
    }
    memcpy(dst, p->buf + (off - p->base), n);
    return MF_OK;
}
