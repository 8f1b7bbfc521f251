/* A source file's bytes read as a signal on the session timeline, at the
 * file's own rate: what a strip reads when its file is already at the
 * session rate, so the farm neither stores nor moves a decoded copy (a
 * file at another rate goes through a decode task, whose resampled signal
 * is worth keeping). Trimmed and placed by an mf_decode_spec_t, exactly as
 * the decode task would; the same frames, so the same bits either way. */
#ifndef MF_SOURCE_READER_H
#define MF_SOURCE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "mf_params.h"
#include "mf_pcm.h"
#include "mf_store.h"

typedef struct mf_source_reader mf_source_reader_t;

/* Opens blob h as audio through libsndfile. MF_ERR_FORMAT when it is no
 * audio, has more than two channels or another rate than spec->rate;
 * MF_ERR_CORRUPT when it holds less audio than its header says. why says
 * which in words. */
mf_err_t mf_source_reader_open(const mf_store_t *s, const mf_hash_t *h,
                               const mf_decode_spec_t *spec, mf_source_reader_t **out, char *why,
                               size_t why_size);
const mf_pcm_info_t *mf_source_reader_info(const mf_source_reader_t *r);
/* As mf_pcm_reader_read_span: frames [t, t + n) of the timeline, zeros
 * outside the signal; spans never go backwards. MF_ERR_CORRUPT when the
 * data ends early (why filled). */
mf_err_t mf_source_reader_read_span(mf_source_reader_t *r, int64_t t, size_t n, float *out,
                                    char *why, size_t why_size);
void mf_source_reader_free(mf_source_reader_t **r);

#endif
