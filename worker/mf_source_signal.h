/* A source file read as a signal at the session rate: mf_source_reader.h
 * (the file, trimmed and placed, at its own rate), resampled by soxr when
 * its rate is not the session's. The decode task writes what it reads; a
 * strip reads its track's file through it, whatever the file's rate, so a
 * farm neither stores nor moves a decoded copy and an embedded bus can run
 * the strip inside it.
 *
 * The same bits however it is read: soxr is fed the file MF_BLOCK frames
 * at a time in order, whatever spans the caller asks for, and its output
 * is held until read. The signal has llround(frames * rate / file rate)
 * frames (what soxr gives, drained; held to that count should it differ)
 * and starts at llround(start_s * rate). */
#ifndef MF_SOURCE_SIGNAL_H
#define MF_SOURCE_SIGNAL_H

#include "mf_params.h"
#include "mf_pcm.h"
#include "mf_store.h"

#include <stddef.h>
#include <stdint.h>

typedef struct mf_source_signal mf_source_signal_t;

/* Opens blob h as audio resampled to spec->rate; errors and why as
 * mf_source_reader_open, and MF_ERR_INVALID when soxr refuses the rates. */
mf_err_t mf_source_signal_open(const mf_store_t *s, const mf_hash_t *h,
                               const mf_decode_spec_t *spec, mf_source_signal_t **out, char *why,
                               size_t why_size);
/* At the session rate: channels, rate, start and frames. */
const mf_pcm_info_t *mf_source_signal_info(const mf_source_signal_t *g);
/* Frames [t, t + n) of the timeline, zeros outside the signal; spans never
 * go backwards. Errors and why as mf_source_reader_read_span. */
mf_err_t mf_source_signal_read_span(mf_source_signal_t *g, int64_t t, size_t n, float *out,
                                    char *why, size_t why_size);
/* The source's duration in seconds (what a task reports as audio done). */
double mf_source_signal_seconds(const mf_source_signal_t *g);
void mf_source_signal_free(mf_source_signal_t **g);

#endif
