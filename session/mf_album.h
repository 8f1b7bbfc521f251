/* Album documents (SESSION.md "Album"): a sequence of songs, each a nested
 * session (mixed in the same job) or a finished stereo mix, mastered
 * together ("mode": "album", one gain for the album) or each on its own
 * ("track"), delivered per track and, with "cue", as one image with a CUE
 * sheet. Everything is validated before any audio is read; a nested
 * session is loaded (and validated) by the session loader, its problems
 * reported under tracks[k].session.
 *
 * Ownership: mf_album_load returns an album the caller frees with
 * mf_album_free; everything inside belongs to it. */
#ifndef MF_ALBUM_H
#define MF_ALBUM_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mf_diags.h"
#include "mf_session.h"

typedef struct {
    const char *session; /* as written in the album, or NULL (borrowed from doc) */
    mf_session_t *s;     /* the loaded session */
    const char *mix;     /* as written, or NULL */
    char *mix_path;      /* resolved against the album's folder */
    int mix_channels, mix_rate;
    int64_t mix_frames;
    double gap_s;           /* silence before the track (track 1: the pre-gap) */
    double crossfade_s;     /* equal-power crossfade with the previous track */
    const json_t *metadata; /* the track's own "metadata", or NULL (borrowed) */
    int mono;               /* a mono record: its own "mono", or its session's mastering.mono */
} mf_album_track_t;

typedef struct {
    char *path, *dir, *name; /* name: album.title, else the file name without .json */
    int sample_rate;         /* default: the first track's */
    json_t *album;           /* title, artist, year, upc, cover... (borrowed from doc) */
    json_t *mastering;       /* NULL: each track through the limiter alone */
    json_t *outputs;
    int mode_album; /* 1: one gain for the album (the default), 0: each track to the target */
    int cue;
    mf_album_track_t *tracks;
    size_t n_tracks;
    json_t *doc; /* owned */
} mf_album_t;

/* Where an album's files come from on the coordinator: files (mix files,
 * the cover) keyed as the album writes them; document() returns the text of
 * a nested session (malloc'd) or NULL with why set; nested() the source of
 * the files a nested session names (see mf_album_key). */
typedef struct {
    const mf_session_source_t *files;
    char *(*document)(void *ctx, const char *file, char *why, size_t why_size);
    const mf_session_source_t *(*nested)(void *ctx, const char *session_file);
    void *ctx;
} mf_album_source_t;

/* 1 when the JSON document at path (or in text) is an album: an object with
 * an "album" key. */
int mf_album_is_album(const char *path);
int mf_album_text_is_album(const char *text);

/* Loads and validates; NULL when there was any error (each in diags). */
mf_album_t *mf_album_load(const char *path, mf_diags_t *diags);
mf_album_t *mf_album_load_text(const char *name, const char *text, const mf_album_source_t *source,
                               mf_diags_t *diags);
void mf_album_free(mf_album_t **a);

/* The key under which a file a nested session names travels to the
 * coordinator: the session's folder as the album writes it, then the file
 * as the session writes it ("night-drive/" + "audio/kick.wav"); an absolute
 * file stays as it is. malloc'd. */
char *mf_album_key(const char *session_file, const char *file);

#endif
