/* Writing a render's OUTDIR (CLI.md "Output layout"): every file is written
 * into a hidden folder inside OUTDIR and renamed into place when whole, so
 * OUTDIR never holds a half-written file; manifest.json comes last and lists
 * what the render wrote (size, SHA-256, format, duration). */
#ifndef MF_OUTDIR_H
#define MF_OUTDIR_H

#include <stdint.h>

#include <jansson.h>

#include "mf_store.h"

typedef struct mf_outdir mf_outdir_t;

/* Files of the user's in the way (outdir_guard.c): says each of rels[0..n)
 * (paths inside OUTDIR, given as outdir) at which OUTDIR holds a file its
 * manifest.json does not list, one no earlier render wrote, which writing
 * there would replace; returns how many. 0 when OUTDIR does not exist. */
size_t mf_outdir_check_foreign(const char *outdir, const char *const *rels, size_t n);

/* Creates OUTDIR if needed and a staging folder in it. NULL on failure
 * (logged, naming the folder). */
mf_outdir_t *mf_outdir_open(const char *outdir);
/* Writing a file at a relpath already staged replaces it. */
/* Writes a signal blob at relpath ("stems/Drums.wav") as format "wav",
 * "aiff" or "flac" with bits 16 or 24 (TPDF-dithered, deterministic) or 32
 * (float), over the timeline [0, frames): zeros where the signal is silent.
 * frames < 0: up to the signal's own end. */
mf_err_t mf_outdir_write_signal(mf_outdir_t *o, const char *relpath, const mf_store_t *s,
                                const mf_hash_t *blob, int64_t frames, const char *format,
                                int bits);
/* A signal written as a 32-bit float WAV while its blob arrives, not
 * from the store: the client's second copy of a fetched signal saved
 * (client_early.c). The signal's frames from start on the timeline go into
 * a file of file_frames (start + frames at most): the header and the
 * silence before start go first; write takes the blob's bytes in order,
 * the samples written, its trailer (store/mf_pcm.h) kept;
 * commit checks that trailer (a plain signal of these channels, rate,
 * start and frames), adds the silence after the signal and stages the
 * file as mf_outdir_write_signal would, or removes it; abort removes it.
 * Both free the stream. A staged file is hashed for the manifest by the
 * outdir's own thread (outdir_queue.h), not by the caller. NULL when this form cannot hold the file
 * (mf_wavf_header), the span does not fit or the file cannot be made.
 *
 * file_frames -1: the file's length is not known yet (a stem before the
 * mix is done). The samples are written as they come;
 * mf_outdir_stream_hold takes the place of commit, and
 * mf_outdir_stream_end, once the length is known, adds the silence after
 * the signal, writes the header again and stages the file. */
typedef struct mf_outdir_stream mf_outdir_stream_t;
mf_outdir_stream_t *mf_outdir_stream_signal(mf_outdir_t *o, const char *relpath, int channels,
                                            int rate, int64_t start, int64_t frames,
                                            int64_t file_frames);
/* A stream of unknown length whose blob arrived whole: checks its trailer
 * as commit does and keeps the file for mf_outdir_stream_end; frees the
 * stream, removing the file, when the check fails. */
mf_err_t mf_outdir_stream_hold(mf_outdir_stream_t *s, uint64_t blob_size);
/* Ends a held stream in a file of file_frames (at least start + frames)
 * and stages it, or removes it; frees the stream either way. */
mf_err_t mf_outdir_stream_end(mf_outdir_stream_t *s, int64_t file_frames);
/* A file written as its blob arrives (a listening copy): every byte of the
 * blob is the file's. It is committed with
 * mf_outdir_stream_commit_file, which checks the size and stages it as
 * mf_outdir_write_file would, meta (copied) being its manifest fields;
 * without meta, or through mf_outdir_stream_commit, it is removed. */
mf_outdir_stream_t *mf_outdir_stream_file(mf_outdir_t *o, const char *relpath);
mf_err_t mf_outdir_stream_commit_file(mf_outdir_stream_t *s, uint64_t blob_size,
                                      const json_t *meta);
mf_err_t mf_outdir_stream_write(mf_outdir_stream_t *s, const uint8_t *data, size_t n);
mf_err_t mf_outdir_stream_commit(mf_outdir_stream_t *s, uint64_t blob_size);
void mf_outdir_stream_abort(mf_outdir_stream_t *s);
/* Writes a blob's bytes as they are (qc.json); format names it in the
 * manifest ("json", "html"). */
mf_err_t mf_outdir_write_raw(mf_outdir_t *o, const char *relpath, const mf_store_t *s,
                             const mf_hash_t *blob, const char *format);
/* Writes an encoded file's bytes as they are (a deliverable); meta (may be
 * NULL) is what manifest.json says of it besides size and SHA-256 (format,
 * sample_rate, channels, bits or bitrate_kbps, duration_s: copied). */
mf_err_t mf_outdir_write_file(mf_outdir_t *o, const char *relpath, const mf_store_t *s,
                              const mf_hash_t *blob, const json_t *meta);
/* How mf_outdir_keep takes a file (flags): MF_KEEP_LINK, linked where it
 * can be (OUTDIR's own file); MF_KEEP_KNOWN, src's bytes are known to be
 * those of the SHA-256 its entry lists (checked, or the hash cache's);
 * MF_KEEP_CLONE_ONLY, by a clone (mf_fs_clone) or not at all. */
enum { MF_KEEP_LINK = 1, MF_KEEP_KNOWN = 2, MF_KEEP_CLONE_ONLY = 4 };
/* Takes relpath of the new render from an earlier render's file src (a
 * revision that would write it the same way, mf_prev.h): linked into the
 * staging folder as take allows, else cloned or copied, reading src around
 * the page cache. Bytes not known to be the entry's are checked on the
 * way, and a copy that differs is removed (MF_ERR_CORRUPT, nothing staged,
 * nothing logged: the caller fetches the file instead); nothing is
 * staged when take asks for a clone and there can be none (MF_ERR_IO). entry
 * is src's manifest entry (size, sha256, format and the rest are taken
 * from it). */
mf_err_t mf_outdir_keep(mf_outdir_t *o, const char *relpath, const char *src, unsigned take,
                        const json_t *entry);
/* Writes manifest.json, moves every staged file into place and removes the
 * staging folder. On any failure nothing further is renamed. */
mf_err_t mf_outdir_commit(mf_outdir_t *o, const char *session_name);
/* Removes whatever is staged (after a failure) and frees. */
void mf_outdir_free(mf_outdir_t **o);

#endif
