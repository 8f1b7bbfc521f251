/* What earlier renders wrote, for a revision: OUTDIR's own previous render
 * (a revision rendered into the same folder) and the user's recent renders
 * in other folders (mf_recent.h: a revision rendered beside the one it
 * revises). Each folder's render.json says from which blob and how each
 * output was written, its manifest.json what bytes each file held. An
 * output the new render would write exactly so is taken from there instead
 * of being fetched and written again (an unchanged stem of a revised mix):
 * OUTDIR's file linked in place, another folder's copied and checked
 * against its manifest on the way (mf_outdir_keep). A blob's name says
 * what task made it, and every task is deterministic, so the same blob
 * written the same way is the same file. Anything missing, older or
 * unreadable: nothing is taken from that folder. */
#ifndef MF_PREV_H
#define MF_PREV_H

#include <stdint.h>

#include <jansson.h>

typedef struct mf_prev mf_prev_t;

/* How an output is written: from which blob, as which format and bits, over
 * how many frames (-1: its own length; MF_PREV_ANY_FRAMES: not known yet,
 * for a guess made while the job runs). */
typedef struct {
    const char *blob, *format;
    int bits;
    int64_t frames;
} mf_prev_how_t;

#define MF_PREV_ANY_FRAMES (-2)

/* A file an output can be taken from. */
typedef struct {
    char *path;          /* the file */
    const json_t *entry; /* its manifest entry (size, sha256, format...): borrowed */
    int here;            /* OUTDIR's own, at the output's path: kept by a link */
    int known;           /* its bytes known to be the entry's SHA-256 (hash cache) */
    int clone_only;      /* another folder's, to be taken only by a clone (MF_PREV_CLONES) */
} mf_prev_file_t;

/* What is taken from the recent renders in other folders: nothing; any
 * file, by a copy where it cannot be cloned (a client whose outputs cross
 * a network); or only what the file system clones (mf_fs_clone: no bytes
 * move, so it pays even where the fetch is as near). mf_client__reuse. */
enum { MF_PREV_HERE_ONLY = 0, MF_PREV_COPIES = 1, MF_PREV_CLONES = 2 };

/* OUTDIR's previous render and, as elsewhere (MF_PREV_*) says, the recent
 * ones in other folders (only folders the user owns that others cannot
 * write to). NULL when there is none to take files from. */
mf_prev_t *mf_prev_load(const char *outdir, int elsewhere);
/* Whether an earlier render wrote an output exactly as `how`: in OUTDIR at
 * relpath, elsewhere at any path (reads no audio). NULL-safe: 0. */
int mf_prev_had(const mf_prev_t *p, const char *relpath, const mf_prev_how_t *how);
/* The file relpath, written as `how`, can be taken from: OUTDIR's own when
 * it still holds the bytes its manifest lists (its size, then its SHA-256:
 * read once, then known from the client's hash cache while the file is
 * untouched); else another folder's whose size is the one its manifest
 * lists and whose hash the cache does not know to be another (known: it
 * knows it to be that one; else the bytes are checked as they are
 * copied). 1 and *out filled (free with mf_prev_file_fini), or 0. */
int mf_prev_find(const mf_prev_t *p, const char *relpath, const mf_prev_how_t *how,
                 mf_prev_file_t *out);
void mf_prev_file_fini(mf_prev_file_t *f);
void mf_prev_free(mf_prev_t **p);

#endif
