/* The signal blob: float32 interleaved samples followed by a 32-byte trailer
 * (magic, channels, rate, start frame on the timeline, frame count). The
 * trailer comes last so a signal can be hashed and stored as it streams out,
 * before its length is known (reverb tails).
 *
 * Readers are sequential and timeline-based: read_span() fills any span of
 * the timeline, zeros where the signal is silent, so a bus sums its inputs
 * without caring where each one starts. */
#ifndef MF_PCM_H
#define MF_PCM_H

#include <stddef.h>
#include <stdint.h>

#include "mf_store.h"

typedef struct {
    int channels;
    int rate;
    int64_t start; /* first frame's position on the session timeline */
    int64_t frames;
} mf_pcm_info_t;

typedef struct mf_pcm_writer mf_pcm_writer_t;
typedef struct mf_pcm_reader mf_pcm_reader_t;

mf_pcm_writer_t *mf_pcm_writer_new(mf_store_t *s, int channels, int rate, int64_t start);
/* The same, stored under a name the caller gives (mf_blob_writer_new_named):
 * nothing is hashed. */
mf_pcm_writer_t *mf_pcm_writer_new_named(mf_store_t *s, const mf_hash_t *name, int channels,
                                         int rate, int64_t start);
/* A panned signal: one channel stored, read as two, each channel c being
 * ((x * g[c][0]) * g[c][1]) * g[c][2] in float32, the products a channel
 * strip computes for a mono track with a fixed pan, fader and level, in its
 * order. Readers get exactly the bits a stereo blob of those products would
 * give, from half the bytes written, read and sent. write() then takes
 * mono frames. */
#define MF_PCM_GAINS 3
mf_pcm_writer_t *mf_pcm_writer_new_panned(mf_store_t *s, const mf_hash_t *name,
                                          float gains[2][MF_PCM_GAINS], int rate, int64_t start);
/* A signal through a pipe (mf_pipe.h) instead of the store: what a channel
 * hands to the one reading it inside one task (mf_task.h, inlined). The
 * writer takes what a blob's writer takes (gains NULL: a plain signal of
 * channels; else a panned one), and its commit ends the pipe (out is
 * zeroed: nothing is stored). The reader reads what a reader of that blob
 * would: w is the pipe's writer (its info), frames how many it will have
 * written in all. p is borrowed by both, and outlives them. */
typedef struct mf_pipe mf_pipe_t;
mf_pcm_writer_t *mf_pcm_writer_new_pipe(mf_pipe_t *p, int channels, float gains[2][MF_PCM_GAINS],
                                        int rate, int64_t start);
mf_err_t mf_pcm_reader_open_pipe(mf_pipe_t *p, const mf_pcm_writer_t *w, int64_t frames,
                                 mf_pcm_reader_t **out);
/* frames interleaved frames of the channels the writer stores (one for a
 * panned writer). */
mf_err_t mf_pcm_writer_write(mf_pcm_writer_t *w, const float *buf, size_t frames);
/* Seals the blob; frees the writer either way. */
mf_err_t mf_pcm_writer_commit(mf_pcm_writer_t *w, mf_hash_t *out);
void mf_pcm_writer_abort(mf_pcm_writer_t *w);

/* The trailer's length: the signal's samples are the blob's bytes before it
 * (a panned signal's, before its gains too). */
#define MF_PCM_TRAILER 32
/* What a stored signal blob's trailer says, read without opening a reader (*panned:
 * one channel stored, read as two). MF_ERR_NOENT, or MF_ERR_CORRUPT when
 * it is no signal or its size does not add up. */
mf_err_t mf_pcm_peek(const mf_store_t *s, const mf_hash_t *h, mf_pcm_info_t *info, int *panned);
/* The same checks of a trailer t that ends a blob of size bytes (a client
 * that streamed the blob elsewhere). */
mf_err_t mf_pcm_trailer_check(const uint8_t t[MF_PCM_TRAILER], uint64_t size, mf_pcm_info_t *info,
                              int *panned);

/* Opens a signal blob; MF_ERR_NOENT if absent, MF_ERR_CORRUPT if the
 * trailer or the size does not add up. */
mf_err_t mf_pcm_reader_open(const mf_store_t *s, const mf_hash_t *h, mf_pcm_reader_t **out);
const mf_pcm_info_t *mf_pcm_reader_info(const mf_pcm_reader_t *r);
/* Fills out with frames [t, t + n) of the timeline (zeros outside the
 * signal), in the reader's channel count. Spans must not go backwards. */
mf_err_t mf_pcm_reader_read_span(mf_pcm_reader_t *r, int64_t t, size_t n, float *out);
/* Frames [t, t + n) as read_span gives them, without a second copy where
 * it can: a pointer into the reader's 128 KB window when the span lies
 * inside a signal read as it is stored (no view) and fits the window, else
 * buf filled by read_span. NULL on error (*err says which). Valid until
 * the next call on r. */
const float *mf_pcm_reader_span(mf_pcm_reader_t *r, int64_t t, size_t n, float *buf, mf_err_t *err);
/* The same span added into acc (acc[i] += what read_span would give, in
 * the same arithmetic): a sum's inputs without a pass through a buffer.
 * acc must hold no negative zero (a sum started from +0 never does), so
 * the frames outside the signal, where read_span gives +0, are left as
 * they are. */
mf_err_t mf_pcm_reader_add_span(mf_pcm_reader_t *r, int64_t t, size_t n, float *acc);
/* Makes r read as a panned signal would: two channels, each channel c of
 * the stored one (mono) or of its own (stereo) being ((x * g[c][0]) *
 * g[c][1]) * g[c][2]. How a channel applies an unpanned strip's pan, fader
 * and level (mf_params.h in_gains). Before the first read; not on a panned
 * signal (MF_ERR_INVALID). */
mf_err_t mf_pcm_reader_view(mf_pcm_reader_t *r, float gains[2][MF_PCM_GAINS]);
void mf_pcm_reader_free(mf_pcm_reader_t **r);

/* Reads just the trailer of a stored signal. */
mf_err_t mf_pcm_info(const mf_store_t *s, const mf_hash_t *h, mf_pcm_info_t *out);

#endif
