/* What the encode and qc executors share: the signal a deliverable is made
 * from, word-length reduction, the encoders (one file per format), and the
 * decoding of a delivered file for QC.
 *
 *   master blob -> gain -> [true-peak limiter] -> soxr -> encoder -> file
 *                                                           file -> decoder -> analysis
 */
#ifndef MF_DELIVER_INT_H
#define MF_DELIVER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "mf_album_params.h"
#include "mf_analyze.h"
#include "mf_encode_params.h"
#include "mf_qc.h"
#include "mf_store.h"
#include "mf_task.h"

#include <jansson.h>

/* ---- the signal (deliver_signal.c) ---- */

typedef struct mf_deliver_src mf_deliver_src_t;

/* The signal blob from timeline frame 0 to its end, times gain_db, through
 * the true-peak limiter at limit_dbtp when that is not NAN (latency
 * compensated), resampled to out_rate by soxr (very high quality, one
 * thread) and cut or padded to exactly round(frames * out_rate / rate)
 * frames. NULL with *err set on failure. */
mf_deliver_src_t *mf_deliver_src_new(const mf_store_t *s, const mf_hash_t *signal, int out_rate,
                                     double gain_db, double limit_dbtp, double release_ms,
                                     double lookahead_ms, mf_err_t *err);
int mf_deliver_src_channels(const mf_deliver_src_t *d);
int64_t mf_deliver_src_frames(const mf_deliver_src_t *d);
/* Up to max interleaved frames into buf; *got = 0 at the end. */
mf_err_t mf_deliver_src_read(mf_deliver_src_t *d, float *buf, size_t max, size_t *got);
/* From now on, reading says share times the part of the signal read as r's
 * progress (mf_exec_progress): the share of the task its encoding is. */
void mf_deliver_src_report(mf_deliver_src_t *d, mf_task_result_t *r, double share);
void mf_deliver_src_free(mf_deliver_src_t **d);

/* ---- word-length reduction (deliver_signal.c) ---- */

/* TPDF dither (two uniform variables, +-1 LSB peak) from a fixed seed, so
 * identical renders give identical bits; with noise shaping, the
 * quantisation error is fed back through a 3-tap F-weighted filter
 * (Wannamaker 1992: 1.623, -0.982, 0.109) that moves the noise out of the
 * ear's most sensitive band. */
typedef struct {
    uint64_t state;
    int channels, bits, shaped;
    double err[2][3];
} mf_dither_t;

void mf_dither_init(mf_dither_t *d, int channels, int bits, int shaped);
/* frames interleaved frames to integers at the scale of bits (16-bit:
 * -32768..32767). */
void mf_dither_run(mf_dither_t *d, const float *in, int32_t *out, size_t frames);

/* ---- encoders (encode_*.c) ---- */

typedef struct {
    const mf_encode_spec_t *spec;
    mf_deliver_src_t *src;
    const unsigned char *cover; /* NULL when none */
    size_t cover_len;
    double lufs, lra_lu, true_peak_dbtp; /* of the signal, for loudness tags */
    const char *path;                    /* the file to write */
    char why[256];                       /* set on failure */
    int delay, padding;                  /* set by lossy encoders: frames to trim */
    int gapless;                         /* the file tells its decoder what to trim */
} mf_encode_job_t;

mf_err_t mf_encode_sndfile(mf_encode_job_t *j); /* wav (with bext) and aiff */
mf_err_t mf_encode_flac(mf_encode_job_t *j);
mf_err_t mf_encode_mp3(mf_encode_job_t *j);
mf_err_t mf_encode_opus(mf_encode_job_t *j);

/* "TITLE", "ARTIST", ...: a tag's Vorbis comment field name (FLAC, Opus;
 * vorbis_comment.c). */
const char *mf_vorbis_comment_name(mf_tag_t t);

/* Writes the loudness of a finished WAV into its bext chunk (EBU Tech 3285
 * v2: value, range, max true peak, max momentary and short-term, in 0.01
 * units), measured on the file itself. */
mf_err_t mf_encode_wav_set_loudness(const char *path, const mf_analysis_t *a);

/* "image/jpeg" or "image/png" from the first bytes; NULL otherwise. */
const char *mf_image_mime(const unsigned char *data, size_t len);
/* Width, height and bits per pixel from a JPEG SOF or PNG IHDR; 0 when unknown. */
void mf_image_size(const unsigned char *data, size_t len, unsigned *w, unsigned *h,
                   unsigned *depth);

/* An ID3v2.4 tag (malloc'd, *len bytes): TIT2 TPE1 TALB TPE2 TRCK TPOS TDRC
 * TCON TCOM TCOP TSRC COMM, TXXX:BARCODE and APIC for the cover. */
unsigned char *mf_id3v24(const mf_encode_spec_t *e, const unsigned char *cover, size_t cover_len,
                         size_t *len);

/* ---- albums (album_cue.c, qc_redbook.c) ---- */

/* The CUE sheet of an album image (malloc'd text, CRLF lines): index00 and
 * index01 of each track in samples, frame samples per CD frame (1/75 s). */
char *mf_album_cue(const mf_sequence_spec_t *q, const int64_t *index00, const int64_t *index01,
                   int64_t frame);

/* Adds a red_book problem to p for each rule an album image breaks, from
 * the sequence task's timings (see qc_redbook.c). */
void mf_qc_red_book(const json_t *timings, int lossless, int rate, int bits, mf_qc_problems_t *p);
/* The silences an album's sequence put into its image (the pre-gap, the
 * gaps before tracks) from its timings: at most max into out; their count. */
size_t mf_qc_album_pauses(const json_t *timings, mf_qc_span_t *out, size_t max);

/* ---- decoding a delivered file (deliver_decode.c) ---- */

typedef struct {
    int channels, rate;
    int64_t frames; /* after the decoder removed delay and padding */
} mf_decoded_t;

/* Decodes the file at path with libsndfile (WAV, AIFF, FLAC; MP3 through
 * mpg123 with gapless trimming from the LAME header; Ogg Opus with its
 * pre-skip and end trimming) and analyses every frame (flags of
 * mf_analyze.h). why says what went wrong. */
mf_err_t mf_deliver_measure(const char *path, unsigned flags, mf_analysis_t *out,
                            mf_decoded_t *info, char *why, size_t why_size);

#endif
