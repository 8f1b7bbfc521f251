/* Bytes handed from a producer to one reader inside one task, through
 * memory: the signal of a strip that the bus reading it runs itself
 * (mf_task.h, inlined), which no store ever holds. The reader asks for
 * byte ranges in order; whatever is not there yet, produce(ctx) makes
 * (it writes some bytes, or ends the pipe). Memory is what lies between
 * the last read's start and the producer's last write: a window and a
 * block, whatever the signal's length. */
#ifndef MF_PIPE_H
#define MF_PIPE_H

#include <stddef.h>
#include <stdint.h>

#include "mf_error.h"

typedef struct mf_pipe mf_pipe_t;

typedef mf_err_t (*mf_pipe_produce_fn)(void *ctx);

/* NULL when out of memory. ctx is borrowed. */
mf_pipe_t *mf_pipe_new(mf_pipe_produce_fn produce, void *ctx);
void mf_pipe_free(mf_pipe_t **p);

/* The producer's side: n more bytes; then the end. */
mf_err_t mf_pipe_write(mf_pipe_t *p, const void *data, size_t n);
void mf_pipe_end(mf_pipe_t *p);

/* Copies bytes [off, off + n) into dst, producing until they are there.
 * off never goes back before the previous read's off (MF_ERR_INVALID);
 * MF_ERR_CORRUPT when the pipe ends short of them, or its producer makes
 * nothing; else produce's error. */
mf_err_t mf_pipe_read(mf_pipe_t *p, void *dst, size_t n, uint64_t off);

#endif
