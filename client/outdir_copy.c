/* OUTDIR's files taken whole from a file: a blob of the store (a listening
 * copy, a report, an encoded deliverable) or an earlier render's file (a
 * revision's unchanged stem, mf_outdir_keep), linked, cloned or copied
 * into the staging folder, hashed for the manifest unless the hash is
 * known. Part of mf_outdir.h; the staging itself is mf_outdir.c. */
#include "mf_fs.h"
#include "mf_log.h"
#include "outdir_int.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Copies the file at src to path (in the staging folder), hashing the
 * bytes on the way for the manifest (a blob's name is not always their
 * hash: a task's output is named after the task) unless sha is NULL.
 * around_cache: src is read around the page cache (an earlier render's
 * file, on disk and not read again soon; never a blob just fetched, whose
 * pages may still be on their way to disk). clone_only: by a clone or not
 * at all (MF_ERR_IO). */
static mf_err_t s_copy(mf_outdir_t *o, const char *relpath, const char *src, const char *path,
                       mf_hash_t *sha, int around_cache, int clone_only)
{
    /* An earlier render's file that cannot be read is not this render's
     * failure: the caller fetches it instead. */
    const mf_log_level_t unreadable = around_cache ? MF_LOG_DEBUG : MF_LOG_ERROR;
    /* Where the file system clones (Btrfs, XFS), the copy shares src's
     * blocks: nothing is written, and the clone is read only for a hash
     * still to be computed (its own bytes: src may change meanwhile). Its
     * folder is made and no file is there (s_stage_copy). */
    const int cloned = mf_fs_clone(src, path) == 0;
    if (cloned && !sha) return MF_OK;
    if (!cloned && clone_only) {
        mf_debug("%s: %s cannot be cloned here (%s): fetched", relpath, src, strerror(errno));
        return MF_ERR_IO;
    }
    const char *from = cloned ? path : src;
    FILE *in = around_cache ? mf_fs_open_direct(from) : fopen(from, "rb");
    if (!in) {
        mf_log(unreadable, "%s: reading it for %s: %s", src, relpath, strerror(errno));
        if (cloned) unlink(path);
        return MF_ERR_IO;
    }
    FILE *out = cloned ? NULL : mf_fs_create_direct(path);
    int saved = out || cloned ? 0 : errno;
    char buf[1 << 16];
    size_t n;
    mf_hasher_t *h = sha ? mf_hasher_new() : NULL;
    if (sha && !h) saved = ENOMEM;
    while ((out || cloned) && !saved && (n = fread(buf, 1, sizeof buf, in)) > 0) {
        if (h) mf_hasher_update(h, buf, n);
        if (out && fwrite(buf, 1, n, out) != n) saved = errno;
    }
    if (h) mf_hasher_final(h, sha);
    mf_hasher_free(&h);
    const int read_failed = !saved && ferror(in);
    if (read_failed) saved = errno;
    fclose(in);
    if (out && fclose(out) != 0 && !saved) saved = errno; /* the last buffer lands here */
    if (read_failed) {
        mf_log(unreadable, "%s: reading it for %s: %s", src, relpath, strerror(saved));
        unlink(path);
        return MF_ERR_IO;
    }
    return saved ? mf_outdir__write_failed(o, relpath, saved, NULL) : MF_OK;
}

/* How s_stage_copy takes a file: mf_outdir_keep's MF_KEEP_* (a link
 * first, else a copy; the hash known; a clone or nothing), and src an
 * earlier render's file (read around the page cache). */
enum { TAKE_OLD = 8 };

/* Stages the file at src, whose bytes should have the SHA-256 sha (NULL
 * when not known: then hashed for the manifest with the other files):
 * linked into the staging folder when take allows it and src is on the
 * same file system, else copied, and hashed on the way unless MF_KEEP_KNOWN.
 * A copy whose bytes are not sha's is removed, not staged,
 * MF_ERR_CORRUPT. *got is the hash the manifest will take, empty when it
 * is still to be computed. */
static mf_err_t s_stage_copy(mf_outdir_t *o, const char *relpath, const char *src,
                             const mf_hash_t *sha, int take, const char *format, const json_t *meta,
                             mf_hash_t *got)
{
    char *path = mf_outdir__fmt("%s/%s", o->stage, relpath);
    mf_err_t err = path ? MF_OK : MF_ERR_NOMEM;
    if (err == MF_OK && mf_outdir__make_room(o, relpath) != 0)
        err = mf_outdir__write_failed(o, relpath, errno, NULL);
    got->hex[0] = 0;
    if (err == MF_OK && (take & MF_KEEP_LINK) && link(src, path) == 0) {
        /* The blob was made 0600 (mkstemp); in OUTDIR it is a document
         * like the files written there, which others may read. */
        (void)chmod(path, 0644);
        if (sha) *got = *sha; /* else hashed once staged */
    } else if (err == MF_OK && (take & MF_KEEP_KNOWN) && sha) {
        err = s_copy(o, relpath, src, path, NULL, take & TAKE_OLD, take & MF_KEEP_CLONE_ONLY);
        *got = *sha;
    } else if (err == MF_OK) {
        err = s_copy(o, relpath, src, path, got, take & TAKE_OLD, take & MF_KEEP_CLONE_ONLY);
        if (err == MF_OK && sha && strcmp(got->hex, sha->hex)) {
            unlink(path);
            err = MF_ERR_CORRUPT;
        }
    }
    free(path);
    if (err != MF_OK) return err;
    staged_t f = {.rel = strdup(relpath), .frames = -1, .sha = *got};
    snprintf(f.format, sizeof f.format, "%s", format);
    if (meta && !(f.meta = json_deep_copy(meta))) {
        free(f.rel);
        return MF_ERR_NOMEM;
    }
    return mf_outdir__stage(o, f); /* frees f's parts when it fails */
}

/* A file's blob is linked into place when the store is on the same file
 * system and temporary (the client's own, or an embedded farm's without
 * --state; a store never writes a blob twice), else copied. Its name is
 * not always the SHA-256 of its bytes (a listening copy is named after its
 * task), so the manifest's hash is computed from the bytes, unless the
 * file's report says its SHA-256 is the blob's name (an encoded
 * deliverable, worker/exec_encode.c): a store names a blob by its bytes'
 * hash when it hashes them, so then the hash is known; so it is when this
 * very store handle wrote the blob around the page cache, hashing it on
 * the way (an embedded farm's listening copy, mf_store_digest). A copy is
 * hashed on the way all the same. */
static mf_err_t s_write_raw(mf_outdir_t *o, const char *relpath, const mf_store_t *s,
                            const mf_hash_t *blob, const char *format, const json_t *meta)
{
    char *src = mf_store_path(s, blob);
    const char *said = json_string_value(json_object_get(meta, "sha256"));
    mf_hash_t sha = *blob, got;
    const int known = (said && !strcmp(said, blob->hex)) || mf_store_digest(s, blob, &sha);
    const int take = mf_store_lasting(s) ? 0 : MF_KEEP_LINK;
    mf_err_t err =
        src ? s_stage_copy(o, relpath, src, known ? &sha : NULL, take, format, meta, &got)
            : MF_ERR_NOMEM;
    if (err == MF_ERR_CORRUPT)
        mf_error("%s: the blob %.12s for %s does not hold the bytes its name says", o->dir,
                 blob->hex, relpath);
    free(src);
    return err;
}

mf_err_t mf_outdir_write_file(mf_outdir_t *o, const char *relpath, const mf_store_t *s,
                              const mf_hash_t *blob, const json_t *meta)
{
    const char *fmt = json_string_value(json_object_get(meta, "format"));
    const char *ext = strrchr(relpath, '.');
    return s_write_raw(o, relpath, s, blob, fmt ? fmt : ext ? ext + 1 : "", meta);
}

mf_err_t mf_outdir_write_raw(mf_outdir_t *o, const char *relpath, const mf_store_t *s,
                             const mf_hash_t *blob, const char *format)
{
    return s_write_raw(o, relpath, s, blob, format, NULL);
}

mf_err_t mf_outdir_keep(mf_outdir_t *o, const char *relpath, const char *src, unsigned take,
                        const json_t *entry)
{
    const char *sha = json_string_value(json_object_get(entry, "sha256"));
    const char *format = json_string_value(json_object_get(entry, "format"));
    if (!sha || !mf_hash_valid(sha) || !format) return MF_ERR_INVALID;
    mf_hash_t want, got;
    memcpy(want.hex, sha, MF_HASH_HEX);
    return s_stage_copy(o, relpath, src, &want, (int)take | TAKE_OLD, format, entry, &got);
}
