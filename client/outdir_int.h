/* What mf_outdir.c shares with outdir_stream.c, and nobody else: the
 * staging folder, its list of staged files and the helpers that add to it.
 * Internal to client/. */
#ifndef MF_OUTDIR_INT_H
#define MF_OUTDIR_INT_H

#include "mf_error.h"
#include "mf_hash.h"
#include "mf_outdir.h"
#include "outdir_queue.h"

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *rel;
    char format[8];
    int64_t frames; /* -1 for a file that is not audio */
    int rate, channels, bits;
    json_t *meta;  /* an encoded file's manifest fields, or NULL */
    mf_hash_t sha; /* known (a copy hashed on the way, a kept file), else empty */
} staged_t;

struct mf_outdir {
    char *dir, *stage;
    int owner_fd;         /* stage's owner mark (mf_fs_own): it goes when this process ends */
    pthread_mutex_t lock; /* files may be written from several threads */
    staged_t *files;
    size_t n;
    outdir_queue_t *sync;   /* staged files go to disk while the job runs */
    outdir_queue_t *hasher; /* and are hashed for the manifest */
    unsigned full;          /* files not written for want of space (under lock) */
    int placing;            /* commit began moving files into dir */
};

/* fmt with its two %s filled in; malloc'd (NULL when out of memory). */
char *mf_outdir__fmt(const char *fmt, const char *a, const char *b);
/* mkdir -p for the folders of a path inside base. */
int mf_outdir__mkdirs(const char *base, const char *rel);
/* The staging folder's folders for rel, and no file at rel: a file staged
 * again is a new file, since the one before may be a store's blob linked
 * in, or being read by the hashing thread. 0, or -1 with errno set. */
int mf_outdir__make_room(const mf_outdir_t *o, const char *rel);
/* Says why rel could not be written (saved_errno's reason, else detail);
 * MF_ERR_IO, or MF_ERR_NOSPACE for a full disk, which is said once: every
 * later file fails the same way (mf_outdir_free counts them). */
mf_err_t mf_outdir__write_failed(mf_outdir_t *o, const char *rel, int saved_errno,
                                 const char *detail);
/* Adds f (owned from here, freed when this fails) to what commit places;
 * f.rel staged again replaces the earlier entry. */
mf_err_t mf_outdir__stage(mf_outdir_t *o, staged_t f);

#endif
