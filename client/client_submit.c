/* Submitting a session: its audio files (tracks' files and impulse
 * responses) become blobs in the client's local store, the coordinator is
 * asked which it lacks, the document goes over with a manifest of the
 * sources (path as the session writes it -> blob and header), then only
 * the files it lacks are uploaded: the farm starts on the tasks whose files
 * it has while the others arrive (coordinator/coord_sources.c). An album's
 * files all go first (its nested sessions are read at the submit). */
#include "client_internal.h"
#include "client_ref.h"
#include "mf_hashcache.h"
#include "mf_log.h"
#include "mf_msg.h"
#include "mf_parallel.h"
#include "mf_xfer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UPLOAD_TIMEOUT_MS 30000
#define PROGRESS_BYTES (64 << 20) /* smaller uploads end before a line is worth drawing */

typedef struct {
    Mixfarm__SourceRef *refs;
    Mixfarm__SourceRef **ptrs;
    mf_hash_t *hashes;
    /* Per source, the file to put into the client's store should the
     * coordinator lack it (a track's), else NULL: in the store already. */
    const char **files;
    size_t n;
} sources_t;

static void s_sources_fini(sources_t *s)
{
    free(s->refs);
    free(s->ptrs);
    free(s->hashes);
    free(s->files);
}

/* The cover image (metadata.cover) as a source with no audio header. */
static mf_err_t s_collect_cover(const mf_session_t *s, mf_store_t *store, sources_t *out)
{
    const char *written = json_string_value(json_object_get(s->metadata, "cover"));
    if (!written) return MF_OK;
    char *path = mf_session_file(s, written);
    mf_err_t err = mf_store_put_file(store, path, &out->hashes[out->n]);
    free(path);
    if (err != MF_OK) return err;
    Mixfarm__SourceRef *r = &out->refs[out->n];
    mixfarm__source_ref__init(r);
    r->path = (char *)written;
    r->hash = out->hashes[out->n].hex;
    out->ptrs[out->n++] = r;
    return MF_OK;
}

/* The auxiliary files (impulse responses) with their headers, each under the
 * name the session writes; one that is also a track's file is there already. */
static mf_err_t s_collect_aux(const mf_session_t *s, mf_store_t *store, sources_t *out)
{
    for (size_t k = 0; k < s->n_aux; k++) {
        const mf_aux_file_t *a = &s->aux[k];
        int dup = 0;
        for (size_t i = 0; i < out->n; i++) dup |= strcmp(out->refs[i].path, a->written) == 0;
        if (dup) continue;
        mf_err_t err = mf_store_put_file(store, a->file, &out->hashes[out->n]);
        if (err != MF_OK) return err;
        Mixfarm__SourceRef *r = &out->refs[out->n];
        mixfarm__source_ref__init(r);
        r->path = a->written;
        r->hash = out->hashes[out->n].hex;
        r->channels = (uint32_t)a->channels;
        r->sample_rate = (uint32_t)a->rate;
        r->frames = (uint64_t)a->frames;
        out->ptrs[out->n++] = r;
    }
    return MF_OK;
}

/* One source per track, named as the session writes it, the impulse
 * responses, and the cover. */
static mf_err_t s_collect(const mf_session_t *s, mf_store_t *store, sources_t *out)
{
    memset(out, 0, sizeof *out);
    out->refs = calloc(s->n_tracks + s->n_aux + 3, sizeof *out->refs);
    out->ptrs = calloc(s->n_tracks + s->n_aux + 3, sizeof *out->ptrs);
    out->hashes = calloc(s->n_tracks + s->n_aux + 3, sizeof *out->hashes);
    out->files = calloc(s->n_tracks + s->n_aux + 3, sizeof *out->files);
    if (!out->refs || !out->ptrs || !out->hashes || !out->files) return MF_ERR_NOMEM;
    const json_t *tracks = json_object_get(s->doc, "tracks");
    for (size_t i = 0; i < s->n_tracks; i++) {
        const mf_track_t *t = &s->tracks[i];
        const char *written = json_string_value(json_object_get(json_array_get(tracks, i), "file"));
        /* Hashed (a stat when the cache knows it); into the store only if
         * the coordinator lacks it (s_store_missing): a revision's files
         * are all there, and linking then unlinking each cost a few
         * metadata writes per track for nothing. */
        if (mf_hashcache_file(t->file, &out->hashes[i]) != 0) {
            mf_error("%s: cannot read it: %s", t->file, strerror(errno));
            return MF_ERR_IO;
        }
        if (!written) return MF_ERR_INVALID;
        out->files[i] = t->file;
        Mixfarm__SourceRef *r = &out->refs[i];
        mixfarm__source_ref__init(r);
        r->path = (char *)written;
        r->hash = out->hashes[i].hex;
        r->channels = (uint32_t)t->src_channels;
        r->sample_rate = (uint32_t)t->src_rate;
        r->frames = (uint64_t)t->src_frames;
        out->ptrs[out->n++] = r;
    }
    mf_err_t err = s_collect_aux(s, store, out);
    if (err == MF_OK) err = s_collect_cover(s, store, out);
    int added = 0; /* and the reference track (client_ref.c) */
    if (err == MF_OK)
        err =
            mf_client__reference_source(s, store, &out->refs[out->n], &out->hashes[out->n], &added);
    if (added) out->ptrs[out->n] = &out->refs[out->n], out->n++;
    return err;
}

typedef struct {
    mf_client_t *client;
    mf_err_t first; /* the first failure */
    int draw;       /* progress on a terminal */
    size_t files, done;
    int64_t bytes, sent;
} uploads_t;

/* "uploading: 3/16 files, 25.9/138.2 MB", over itself. */
static void s_draw(const uploads_t *up)
{
    fprintf(stderr, "\rmixfarm: uploading: %zu/%zu files, %.1f/%.1f MB ", up->done, up->files,
            (double)up->sent / 1e6, (double)up->bytes / 1e6);
}

/* Remembers the first failure, including one reported before the call
 * returned, and says which file it was (the coordinator's reason, when it
 * refused the upload, is on the line before). */
static void s_uploaded(void *ctx, const mf_hash_t *hash, mf_err_t err)
{
    uploads_t *up = ctx;
    if (err == MF_OK) {
        const int64_t size = mf_store_size(mf_client__store(up->client), hash);
        up->done++, up->sent += size > 0 ? size : 0;
        if (up->draw) s_draw(up);
        return;
    }
    if (up->draw) fputc('\n', stderr), up->draw = 0; /* the error on a line of its own */
    const char *doc = NULL;
    const char *name = mf_client__source_name(up->client, hash->hex, MF_HASH_HEX, &doc);
    if (name)
        mf_error("%s: %s: cannot upload it: %s", doc, name, mf_strerror(err));
    else
        mf_error("uploading %.12s: %s", hash->hex, mf_strerror(err));
    if (up->first == MF_OK) up->first = err;
}

mf_err_t mf_client__missing(mf_client_t *c, const mf_hash_t *blobs, size_t n_blobs,
                            const mf_hash_t *extra, mf_hash_t **missing, size_t *n)
{
    Mixfarm__BlobHave have = MIXFARM__BLOB_HAVE__INIT;
    char **hashes = calloc(n_blobs + 2, sizeof *hashes);
    *missing = NULL, *n = 0;
    if (!hashes) return MF_ERR_NOMEM;
    for (size_t i = 0; i < n_blobs; i++) hashes[i] = (char *)blobs[i].hex;
    have.hashes = hashes;
    have.n_hashes = n_blobs;
    if (extra) hashes[have.n_hashes++] = (char *)extra->hex;
    Mixfarm__Envelope req = MIXFARM__ENVELOPE__INIT, *rep;
    req.body_case = MIXFARM__ENVELOPE__BODY_BLOB_HAVE;
    req.blob_have = &have;
    mf_err_t err = mf_client_call(c, &req, MIXFARM__ENVELOPE__BODY_BLOB_HAVE_REPLY, &rep);
    free(hashes);
    if (err != MF_OK) return err;
    const Mixfarm__BlobHaveReply *r = rep->blob_have_reply;
    if (!(*missing = calloc(r->n_missing + 1, sizeof **missing))) err = MF_ERR_NOMEM;
    for (size_t i = 0; err == MF_OK && i < r->n_missing; i++)
        if (mf_hash_valid(r->missing[i]))
            memcpy((*missing)[(*n)++].hex, r->missing[i], MF_HASH_HEX);
    mixfarm__envelope__free_unpacked(rep, NULL);
    return err;
}

/* Uploads the n blobs of hashes from the client's store, in that order. */
static mf_err_t s_upload(mf_client_t *c, const mf_hash_t *hashes, size_t n)
{
    if (!n) return MF_OK;
    mf_xfer_t *x = mf_xfer_new(mf_client__socket(c), mf_client__store(c));
    uploads_t up = {.client = c, .first = MF_OK, .files = n};
    if (!x) return MF_ERR_NOMEM;
    /* Progress for uploads worth watching (a few files of gigabytes take
     * minutes on gigabit Ethernet), per file as each completes. */
    for (size_t i = 0; i < n; i++) {
        const int64_t size = mf_store_size(mf_client__store(c), &hashes[i]);
        up.bytes += size > 0 ? size : 0;
    }
    up.draw = up.bytes >= PROGRESS_BYTES && isatty(2) && mf_log_enabled(MF_LOG_INFO);
    if (up.draw) s_draw(&up);
    for (size_t i = 0; i < n; i++) mf_xfer_put(x, &hashes[i], s_uploaded, &up);
    mf_err_t err = mf_xfer_pending(x) ? mf_xfer_wait(x, UPLOAD_TIMEOUT_MS) : MF_OK;
    if (err == MF_OK) err = up.first;
    if (up.draw) fputc('\n', stderr);
    mf_xfer_free(&x);
    return err;
}

/* The document as it is on disk now, whole: the session was validated from
 * it a moment ago, and one that has grown past the limit since is said, not
 * cut. */
static char *s_read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        mf_error("%s: %s", path, strerror(errno));
        if (f) fclose(f);
        return NULL;
    }
    if (st.st_size > (off_t)MF_DOC_MAX) {
        mf_error("%s: %lld bytes, more than a document may have (%lld)", path,
                 (long long)st.st_size, (long long)MF_DOC_MAX);
        fclose(f);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    const size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (buf) buf[n] = 0;
    return buf;
}

static const char *s_base(const char *path)
{
    const char *sl = strrchr(path, '/');
    return sl ? sl + 1 : path;
}

/* Sends the Submit; *job is 0 when the coordinator refused it. */
static mf_err_t s_send_submit(mf_client_t *c, const char *path, const char *doc,
                              const mf_hash_t *doc_blob, Mixfarm__SourceRef **refs, size_t n,
                              int priority, int follow, uint64_t *job)
{
    Mixfarm__Submit sub = MIXFARM__SUBMIT__INIT;
    sub.name = (char *)s_base(path);
    sub.document = doc_blob ? "" : (char *)doc;
    sub.document_hash = doc_blob ? (char *)doc_blob->hex : "";
    sub.sources = refs;
    sub.n_sources = n;
    sub.priority = priority;
    sub.sources_follow = follow;
    Mixfarm__Envelope req = MIXFARM__ENVELOPE__INIT, *rep = NULL;
    req.body_case = MIXFARM__ENVELOPE__BODY_SUBMIT;
    req.submit = &sub;
    mf_err_t err = mf_client_call(c, &req, MIXFARM__ENVELOPE__BODY_SUBMIT_REPLY, &rep);
    if (err != MF_OK) return err;
    const Mixfarm__SubmitReply *r = rep->submit_reply;
    /* Every command validates the document itself before it submits it, and
     * has printed its warnings: the coordinator's, for a job it took, are
     * the same ones (the same validation), so they are only logged. */
    for (size_t i = 0; i < r->n_problems; i++)
        if (r->job && !strncmp(r->problems[i], "warning: ", 9))
            mf_debug("%s: the coordinator says: %s", path, r->problems[i]);
        else
            fprintf(stderr, "mixfarm: %s: %s\n", path, r->problems[i]);
    if (!r->job) {
        mf_error("%s: the coordinator refused the job: %s", path, r->error);
        /* Problems are the input's (exit 2); none: the farm's (a full
         * disk at the coordinator: exit 1). */
        err = r->n_problems ? MF_ERR_INVALID : MF_ERR_IO;
    }
    *job = r->job;
    mixfarm__envelope__free_unpacked(rep, NULL);
    return err;
}

/* Missing sources being put into the client's store, several at a time. */
typedef struct {
    mf_client_t *c;
    const sources_t *src;
    const mf_hash_t *missing;
    size_t *file; /* missing[k]'s index in src, or src->n when it is no file */
} putting_t;

static mf_err_t s_put_one(void *ctx, size_t k)
{
    const putting_t *p = ctx;
    const size_t i = p->file[k];
    if (i == p->src->n) return MF_OK;
    mf_hash_t got;
    const mf_err_t err = mf_hashcache_put_file(mf_client__store(p->c), p->src->files[i], &got);
    if (err != MF_OK) {
        mf_error("%s: cannot read it: %s", p->src->files[i], mf_strerror(err));
        return err;
    }
    if (strcmp(got.hex, p->missing[k].hex)) {
        mf_error("%s: changed while it was being submitted; submit again", p->src->files[i]);
        return MF_ERR_INVALID;
    }
    return MF_OK;
}

/* p for the n missing sources. MF_ERR_NOMEM. */
static mf_err_t s_putting(putting_t *p, mf_client_t *c, const sources_t *src,
                          const mf_hash_t *missing, size_t n)
{
    *p =
        (putting_t){.c = c, .src = src, .missing = missing, .file = calloc(n + 1, sizeof *p->file)};
    if (!p->file) return MF_ERR_NOMEM;
    for (size_t k = 0; k < n; k++) {
        size_t i = 0;
        while (i < src->n && (!src->files[i] || strcmp(src->hashes[i].hex, missing[k].hex))) i++;
        p->file[k] = i;
    }
    return MF_OK;
}

/* The coordinator is told of source k, in its store now: the tasks that
 * waited for it run. */
static mf_err_t s_tell_arrived(void *ctx, size_t k)
{
    const putting_t *p = ctx;
    return mf_client__tell_arrived(p->c, &p->missing[k]);
}

/* The n missing sources, after the submit, copied into the coordinator's
 * store mounted here (several at a time), the coordinator told of each as
 * it lands. */
static mf_err_t s_copy_following(mf_client_t *c, const sources_t *src, const mf_hash_t *missing,
                                 size_t n)
{
    putting_t p;
    if (s_putting(&p, c, src, missing, n) != MF_OK) return MF_ERR_NOMEM;
    const mf_err_t err = mf_parallel_for_done(n, s_put_one, s_tell_arrived, &p);
    free(p.file);
    return err;
}

/* Puts the missing sources that are still files into the client's store,
 * to upload from there; into a farm's own store (an embedded farm's, or a
 * coordinator's mounted here), the farm has them then. Several at a time:
 * into a farm's store each is a copy (and its hash checked), as long as an
 * upload. */
static mf_err_t s_store_missing(mf_client_t *c, const sources_t *src, mf_hash_t *missing,
                                size_t *n_missing)
{
    putting_t p;
    if (s_putting(&p, c, src, missing, *n_missing) != MF_OK) return MF_ERR_NOMEM;
    mf_err_t err = mf_parallel_for(*n_missing, s_put_one, &p);
    size_t kept = 0;
    for (size_t k = 0; err == MF_OK && k < *n_missing; k++)
        if (p.file[k] == src->n || !mf_client__farm_store(c)) missing[kept++] = missing[k];
    if (err == MF_OK) *n_missing = kept;
    free(p.file);
    return err;
}

mf_err_t mf_client__submit_doc(mf_client_t *c, const char *path, const char *doc,
                               Mixfarm__SourceRef **refs, const mf_hash_t *hashes,
                               const char **files, size_t n, int priority, int follow,
                               uint64_t *job)
{
    sources_t src = {.ptrs = refs, .hashes = (mf_hash_t *)hashes, .files = files, .n = n};
    mf_err_t err = MF_OK;
    for (size_t i = 0; err == MF_OK && i < n; i++)
        err = mf_client__name_source(c, &hashes[i], path, refs[i]->path);
    const int as_blob = strlen(doc) > MF_DOC_INLINE;
    mf_hash_t doc_hash;
    if (err == MF_OK && as_blob)
        err = mf_store_put_bytes(mf_client__store(c), doc, strlen(doc), &doc_hash);
    mf_hash_t *missing = NULL;
    size_t n_missing = 0, n_doc = 0;
    if (err == MF_OK)
        err = mf_client__missing(c, src.hashes, src.n, as_blob ? &doc_hash : NULL, &missing,
                                 &n_missing);
    /* Into a coordinator's store mounted here (--shared-store), sources
     * follow the submit as uploads do: copied after it. */
    const int copy_after =
        follow && files && mf_client__farm_store(c) && mf_store_lasting(mf_client__store(c));
    if (err == MF_OK && files && !copy_after) err = s_store_missing(c, &src, missing, &n_missing);
    /* The document's blob first: the coordinator reads it at the submit. */
    for (size_t i = 0; err == MF_OK && i < n_missing; i++)
        if (as_blob && !strcmp(missing[i].hex, doc_hash.hex)) {
            missing[i] = missing[0], missing[0] = doc_hash;
            n_doc = 1;
        }
    follow = follow && n_missing > n_doc;
    if (err == MF_OK && n_missing > n_doc)
        mf_info("%s %zu of %zu source files%s",
                copy_after ? "copying into the farm's store" : "uploading", n_missing - n_doc, n,
                follow ? " (the render starts on those there already)" : "");
    /* Sources after the submit (follow): the farm starts on the tasks whose
     * files are there while the others arrive; else everything first. */
    if (err == MF_OK) err = s_upload(c, missing, follow ? n_doc : n_missing);
    if (err == MF_OK)
        err =
            s_send_submit(c, path, doc, as_blob ? &doc_hash : NULL, refs, n, priority, follow, job);
    /* A job whose sources could not all be uploaded is taken back (its
     * tasks would wait for them until the coordinator's --source-wait). */
    if (err == MF_OK && follow &&
        (err = copy_after ? s_copy_following(c, &src, missing + n_doc, n_missing - n_doc)
                          : s_upload(c, missing + n_doc, n_missing - n_doc)) != MF_OK)
        mf_client_cancel(c, *job, NULL, 0);
    free(missing);
    return err;
}

/* Each track's source by its track, so that a task's error about its blob
 * names the file (the other sources are named by their path in
 * mf_client__submit_doc). */
static mf_err_t s_name_tracks(mf_client_t *c, const mf_session_t *s, const sources_t *src)
{
    mf_err_t err = MF_OK;
    for (size_t i = 0; err == MF_OK && i < s->n_tracks && i < src->n; i++) {
        char name[1024];
        snprintf(name, sizeof name, "tracks[%zu] \"%s\" (%s)", i, s->tracks[i].ch.name,
                 src->refs[i].path);
        err = mf_client__name_source(c, &src->hashes[i], s->path, name);
    }
    return err;
}

/* The order the sources go up in (they follow the submit): the tracks in
 * turns over their destinations (the first track of each bus, then the
 * second of each...), so that while the files arrive the farm can keep
 * each bus's strips on one worker (mf_sched.h, placement) instead of
 * spreading the first bus over all of them; the other files after. perm
 * gets src->n indices. */
static void s_upload_order(const mf_session_t *s, const sources_t *src, size_t *perm)
{
    const size_t tracks = s->n_tracks < src->n ? s->n_tracks : src->n;
    size_t n = 0, turns = 0;
    for (size_t i = 0; i < tracks; i++) { /* perm[i]: i's place among its destination's tracks */
        size_t rank = 0;
        for (size_t k = 0; k < i; k++) {
            const mf_ref_t *a = &s->tracks[k].ch.output, *b = &s->tracks[i].ch.output;
            rank += a->kind == b->kind && a->index == b->index;
        }
        perm[i] = rank;
        turns = rank + 1 > turns ? rank + 1 : turns;
    }
    size_t *order = calloc(tracks + 1, sizeof *order);
    for (size_t turn = 0; order && turn < turns; turn++)
        for (size_t i = 0; i < tracks; i++)
            if (perm[i] == turn) order[n++] = i;
    for (size_t i = 0; i < tracks; i++)
        perm[i] = order ? order[i] : i; /* out of memory: as they are */
    for (size_t i = tracks; i < src->n; i++) perm[i] = i;
    free(order);
}

mf_err_t mf_client_submit(mf_client_t *c, const mf_session_t *s, int priority, uint64_t *job)
{
    /* Before any hashing or upload: a short file is the user's to fix. */
    mf_err_t err = mf_client__check_sources(s);
    if (err != MF_OK) return err;
    sources_t src;
    char *doc = s_read_text(s->path);
    err = doc ? s_collect(s, mf_client__store(c), &src) : MF_ERR_IO;
    if (err == MF_OK) err = s_name_tracks(c, s, &src);
    size_t *perm = err == MF_OK ? calloc(src.n + 1, sizeof *perm) : NULL;
    Mixfarm__SourceRef **refs = perm ? calloc(src.n + 1, sizeof *refs) : NULL;
    mf_hash_t *hashes = refs ? calloc(src.n + 1, sizeof *hashes) : NULL;
    const char **files = hashes ? calloc(src.n + 1, sizeof *files) : NULL;
    if (err == MF_OK && !files) err = MF_ERR_NOMEM;
    if (err == MF_OK) {
        s_upload_order(s, &src, perm);
        for (size_t k = 0; k < src.n; k++)
            refs[k] = src.ptrs[perm[k]], hashes[k] = src.hashes[perm[k]],
            files[k] = src.files[perm[k]];
        err = mf_client__submit_doc(c, s->path, doc, refs, hashes, files, src.n, priority, 1, job);
    }
    free(perm), free(refs), free(hashes), free(files);
    if (doc) s_sources_fini(&src);
    free(doc);
    return err;
}
