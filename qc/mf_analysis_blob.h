/* A finished analysis as bytes, and back: an encode task measures the file
 * it wrote (it decodes it anyway, to check its peak) and hands the whole
 * analysis to the qc task, which then reports it without decoding the file
 * again. Every field and series round-trips exactly (NaN and -inf
 * included). The layout is little-endian IEEE-754, versioned; a blob that
 * is short, too long, of another version or with counts its length cannot
 * hold is refused, never read past. */
#ifndef MF_ANALYSIS_BLOB_H
#define MF_ANALYSIS_BLOB_H

#include "mf_analyze.h"
#include "mf_error.h"

#include <stddef.h>

/* *out (malloc'd, *len bytes) holds a; MF_ERR_NOMEM. */
mf_err_t mf_analysis_pack(const mf_analysis_t *a, unsigned char **out, size_t *len);
/* Fills *a (which then owns its arrays; mf_analysis_fini frees them) from
 * b; MF_ERR_INVALID for a malformed blob (*a left empty), MF_ERR_NOMEM. */
mf_err_t mf_analysis_unpack(const unsigned char *b, size_t len, mf_analysis_t *a);

#endif
