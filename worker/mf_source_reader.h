/* A source file's bytes (a blob) read as a signal on the session timeline,
 * at the file's own rate, trimmed and placed by an mf_decode_spec_t: the
 * one way the worker opens and reads a source. mf_source_signal.h reads it
 * and resamples it to the session rate when it is at another (for the
 * decode task and for strips alike).
 *
 * A WAV or AIFF that holds less than its header declares is refused when
 * opened, whatever part of it the session uses (libsndfile would quietly
 * read it as a shorter file); data that ends or breaks early in the part
 * read fails the read. */
#ifndef MF_SOURCE_READER_H
#define MF_SOURCE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "mf_params.h"
#include "mf_pcm.h"
#include "mf_store.h"

typedef struct mf_source_reader mf_source_reader_t;

/* Opens blob h as audio through libsndfile; info's rate is the file's,
 * start is spec->start_s at that rate. On failure why says what is wrong,
 * whole: MF_ERR_NOENT or MF_ERR_IO when the worker cannot read its own copy
 * ("blob <hash12>: ..."), MF_ERR_FORMAT when it is no audio or has more
 * than two channels, MF_ERR_CORRUPT when it holds less than its header says
 * or cannot seek (the file's fault: "source <hash12>: ...", which the client
 * maps back to the file's name). A fault of the content is returned only
 * once the worker's copy is checked against its hash; a copy that differs
 * is MF_ERR_IO ("blob <hash12>: ..."). */
mf_err_t mf_source_reader_open(const mf_store_t *s, const mf_hash_t *h,
                               const mf_decode_spec_t *spec, mf_source_reader_t **out, char *why,
                               size_t why_size);
const mf_pcm_info_t *mf_source_reader_info(const mf_source_reader_t *r);
/* As mf_pcm_reader_read_span: frames [t, t + n) of the timeline, zeros
 * outside the signal; spans never go backwards. MF_ERR_CORRUPT when the
 * data ends or breaks early ("source <hash12>: header says X s, data holds
 * Y s", with libsndfile's reason when it gives one, in why). */
mf_err_t mf_source_reader_read_span(mf_source_reader_t *r, int64_t t, size_t n, float *out,
                                    char *why, size_t why_size);
void mf_source_reader_free(mf_source_reader_t **r);
/* Whether err, from a reader or mf_source_signal.h, is the source file's
 * fault: any worker reading it would fail the same way. */
int mf_source_fault(mf_err_t err);

#endif
