/* Outputs written into OUTDIR's staging folder while the job still runs
 * (render, on a farm or embedded): the mix and the stems are final once
 * the master is done, a listening copy once its task is; writing and
 * hashing them then, rather than after the job's last task, takes that
 * work off the end of every render. The fetch at the end writes only what is not staged
 * here exactly as it would write it.
 *
 * Once a file is staged, its blob leaves the client's temporary store
 * (unless another output not yet staged has the same one): TMPDIR then
 * holds what is in flight, not every output of the render a second time
 * (a 20-minute session at 96 kHz writes gigabytes of stems), and freeing
 * those pages happens while the job runs rather than at the end. An
 * embedded farm's store is its own: there the blob stays for the farm. */
#include "client_internal.h"
#include "client_ref.h"
#include "mf_blob_json.h"
#include "mf_keeper.h"
#include "mf_log.h"
#include "mf_outdir.h"
#include "mf_prev.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char *path;
    mf_hash_t hash;
    char format[8];
    uint32_t bits;
    int64_t frames;
    int streaming; /* written as its blob arrives, not yet whole */
    int keeping;   /* being taken from an earlier render by the keeper */
    /* Arrived whole before the mix's length was known (an aligned output
     * while the master runs): ended once it is, by a step or the fetch. */
    mf_outdir_stream_t *held;
} staged_t;

struct mf_early {
    char *outdir;
    int release;              /* staged files' blobs leave the store */
    const mf_store_t *store;  /* the client's: where a streamed file's report arrives */
    mf_outdir_t *o;           /* opened with the first file */
    Mixfarm__Envelope *ready; /* the last partial FetchReply */
    staged_t *v;
    size_t n;
    size_t kept[3];      /* taken from earlier renders (mf_client__keep_as) */
    mf_keeper_t *keeper; /* taking them, off the watch's loop */
};

mf_early_t *mf_early_new(const char *outdir, int release, const mf_store_t *store)
{
    mf_early_t *e = calloc(1, sizeof *e);
    if (e && !(e->outdir = strdup(outdir))) free(e), e = NULL;
    if (e) e->release = release, e->store = store;
    return e;
}

void mf_early_free(mf_early_t **pe)
{
    mf_early_t *e = pe ? *pe : NULL;
    if (!e) return;
    mf_keeper_free(&e->keeper); /* before the staging it writes into */
    for (size_t i = 0; i < e->n; i++) mf_outdir_stream_abort(e->v[i].held);
    mf_outdir_free(&e->o); /* removes what it staged */
    if (e->ready) mixfarm__envelope__free_unpacked(e->ready, NULL);
    for (size_t i = 0; i < e->n; i++) free(e->v[i].path);
    free(e->v);
    free(e->outdir);
    free(e);
    *pe = NULL;
}

const char *mf_early_outdir(const mf_early_t *e)
{
    return e->outdir;
}

void mf_early_offer(mf_early_t *e, Mixfarm__Envelope *ready)
{
    if (e->ready) mixfarm__envelope__free_unpacked(e->ready, NULL);
    e->ready = ready;
}

static const staged_t *s_find(const mf_early_t *e, const char *path)
{
    for (size_t i = 0; i < e->n; i++)
        if (!strcmp(e->v[i].path, path)) return &e->v[i];
    return NULL;
}

int mf_early_staged(const mf_early_t *e, const Mixfarm__OutputRef *o, int64_t frames)
{
    const staged_t *s = e ? s_find(e, o->path) : NULL;
    return s && !s->streaming && !s->held && !s->keeping && !strcmp(s->hash.hex, o->hash) &&
           !strcmp(s->format, o->format) && s->bits == o->bits && s->frames == frames;
}

static int s_arrived(const mf_store_t *s, const char *hex)
{
    mf_hash_t h;
    if (!mf_hash_valid(hex)) return 1; /* no such blob to wait for */
    memcpy(h.hex, hex, MF_HASH_HEX);
    return mf_store_has(s, &h);
}

/* Drops output i's blob from the store unless another output still to be
 * staged needs it. */
static void s_release(const mf_early_t *e, mf_store_t *s, const Mixfarm__FetchReply *r, size_t i)
{
    const Mixfarm__OutputRef *o = r->outputs[i];
    mf_hash_t h;
    if (!e->release || !mf_hash_valid(o->hash)) return;
    for (size_t k = 0; k < r->n_outputs; k++)
        if (k != i && !strcmp(r->outputs[k]->hash, o->hash) && !s_find(e, r->outputs[k]->path))
            return;
    memcpy(h.hex, o->hash, MF_HASH_HEX);
    if (mf_store_discard(s, &h) == 0 && mf_store_empty_trash(s) >= 0)
        mf_debug("%s: %s's blob released from the client's store", e->outdir, o->path);
}

/* Room for one more entry, and the staging open; NULL when out of memory
 * or the staging cannot be made. */
static staged_t *s_new_entry(mf_early_t *e)
{
    staged_t *v = realloc(e->v, (e->n + 1) * sizeof *v);
    if (!v) return NULL;
    e->v = v;
    if (!e->o && !(e->o = mf_outdir_open(e->outdir))) return NULL;
    return &e->v[e->n];
}

/* Ends a held output in a file of frames frames (a failure is not fatal:
 * the fetch writes the file again). */
static void s_end_held(mf_early_t *e, staged_t *st, int64_t frames)
{
    mf_outdir_stream_t *h = st->held;
    st->held = NULL;
    st->frames = frames;
    if (mf_outdir_stream_end(h, frames) == MF_OK) {
        mf_debug("%s: %s ended at the mix's length", e->outdir, st->path);
    } else {
        mf_debug("%s: %s: could not be ended; fetched again", e->outdir, st->path);
        st->hash.hex[0] = 0;
    }
}

void mf_early_settle(mf_early_t *e, const Mixfarm__FetchReply *r)
{
    for (size_t i = 0; e && i < e->n; i++) {
        staged_t *st = &e->v[i];
        if (st->held && r->frames) {
            s_end_held(e, st, (int64_t)r->frames);
        } else if (st->held) { /* no length to end it at: the fetch writes the file */
            mf_outdir_stream_abort(st->held);
            st->held = NULL;
            st->hash.hex[0] = 0;
        }
    }
}

/* The outputs the keeper has finished with (wait: all of them): counted,
 * or, when not taken, left to the fetch. */
static void s_take_kept(mf_early_t *e, int wait)
{
    size_t id;
    int kept;
    while (e->keeper && mf_keeper_done(e->keeper, wait, &id, &kept)) {
        staged_t *st = &e->v[id];
        st->keeping = 0;
        if (kept) {
            e->kept[kept]++;
            mf_debug("%s: %s taken from an earlier render while the job runs", e->outdir, st->path);
        } else {
            st->hash.hex[0] = 0;
        }
    }
}

/* Hands output o (entry id) to the keeper; 0 when it cannot take it. */
static int s_keep(mf_early_t *e, const mf_prev_t *prev, size_t id, const Mixfarm__FetchReply *r,
                  const Mixfarm__OutputRef *o)
{
    if (!e->keeper && !(e->keeper = mf_keeper_new(e->o, prev))) return 0;
    const mf_prev_how_t how = mf_client__how(o, mf_client__written_frames(r, o));
    return mf_keeper_add(e->keeper, id, o->path, &how) == MF_OK;
}

void mf_early_drain(mf_early_t *e, int finish)
{
    if (e && finish) s_take_kept(e, 1);
    if (e) mf_keeper_free(&e->keeper);
}

int mf_early_step(mf_early_t *e, mf_store_t *s, const mf_prev_t *prev)
{
    s_take_kept(e, 0);
    const Mixfarm__FetchReply *r = e->ready ? e->ready->fetch_reply : NULL;
    for (size_t i = 0; r && r->frames && i < e->n; i++)
        if (e->v[i].held) {
            s_end_held(e, &e->v[i], (int64_t)r->frames);
            return 1;
        }
    for (size_t i = 0; r && i < r->n_outputs; i++) {
        const Mixfarm__OutputRef *o = r->outputs[i];
        const int64_t frames = mf_client__written_frames(r, o);
        /* qc.json's verdict is read at the end; an aligned output waits for
         * the mix's length; one an earlier render wrote so is taken from
         * there (not fetched: mf_client__had); the others once here. */
        if (!strcmp(o->path, "qc.json") || s_find(e, o->path) || (o->aligned && r->frames == 0))
            continue;
        const int had = mf_client__had(prev, o, frames);
        if (!had && (mf_client__had(prev, o, MF_PREV_ANY_FRAMES) || !s_arrived(s, o->hash) ||
                     !s_arrived(s, o->info)))
            continue;
        staged_t *st = s_new_entry(e);
        if (!st) return 0;
        *st = (staged_t){.path = strdup(o->path), .bits = o->bits, .frames = frames};
        memcpy(st->hash.hex, o->hash, MF_HASH_HEX);
        snprintf(st->format, sizeof st->format, "%s", o->format);
        if (!st->path) return 0;
        e->n++;
        /* A failure is not fatal here: the fetch writes the file again. */
        if (had) {
            st->keeping = s_keep(e, prev, e->n - 1, r, o);
            if (!st->keeping) st->hash.hex[0] = 0;
        } else if (mf_client__write_output(e->o, s, r, o, NULL) != MF_OK) {
            st->hash.hex[0] = 0;
        } else {
            mf_debug("%s: %s written while the job runs", e->outdir, o->path);
            s_release(e, s, r, i);
        }
        return 1;
    }
    return 0;
}

void mf_early_kept(const mf_early_t *e, size_t kept[3])
{
    for (int k = 0; e && k < 3; k++) kept[k] += e->kept[k];
}

mf_outdir_t *mf_early_take_outdir(mf_early_t *e)
{
    mf_outdir_t *o = e->o;
    e->o = NULL;
    return o;
}

/* ---- a fetched signal written as it arrives ---- */

typedef struct {
    mf_early_t *e;
    size_t i; /* its entry */
    mf_outdir_stream_t *s;
    int file;       /* a file with a report, not a signal */
    int held;       /* a signal whose file's length is not known yet */
    mf_hash_t info; /* the file's report (its manifest fields), fetched beside it */
} stream_t;

static mf_err_t s_sink_write(void *ctx, const uint8_t *data, size_t n)
{
    return mf_outdir_stream_write(((stream_t *)ctx)->s, data, n);
}

/* A file's report was asked for before its bytes and is one chunk: it is
 * in the store by now, or the stream fails and the fetch writes the file. */
static mf_err_t s_sink_commit(void *ctx, uint64_t size)
{
    stream_t *t = ctx;
    mf_outdir_stream_t *s = t->s;
    t->s = NULL;
    if (t->held) {
        const mf_err_t err = mf_outdir_stream_hold(s, size);
        if (err == MF_OK) t->e->v[t->i].held = s;
        return err;
    }
    if (!t->file) return mf_outdir_stream_commit(s, size);
    json_t *rep = mf_blob_json(t->e->store, &t->info);
    const mf_err_t err = mf_outdir_stream_commit_file(s, size, json_object_get(rep, "manifest"));
    json_decref(rep);
    return err;
}

static void s_sink_abort(void *ctx)
{
    stream_t *t = ctx;
    mf_outdir_stream_abort(t->s);
    t->s = NULL;
}

static void s_streamed(void *ctx, const mf_hash_t *hash, mf_err_t err)
{
    (void)hash;
    stream_t *t = ctx;
    staged_t *st = &t->e->v[t->i];
    st->streaming = 0;
    if (err == MF_OK && st->held) {
        mf_debug("%s: %s written as its blob arrived; its length waits for the mix's", t->e->outdir,
                 st->path);
    } else if (err == MF_OK) {
        mf_debug("%s: %s written as its blob arrived, the job running", t->e->outdir, st->path);
    } else {
        mf_debug("%s: %s: %s; fetched again", t->e->outdir, st->path, mf_strerror(err));
        st->hash.hex[0] = 0; /* not staged: the fetch writes it */
    }
    free(t);
}

/* Whether another output of r has o's blob (it must then reach the store). */
static int s_blob_shared(const Mixfarm__FetchReply *r, const Mixfarm__OutputRef *o)
{
    for (size_t k = 0; k < r->n_outputs; k++)
        if (r->outputs[k] != o && !strcmp(r->outputs[k]->hash, o->hash)) return 1;
    return 0;
}

/* Whether output o of r may be written as its blob arrives: a plain
 * signal written as a float WAV (what mf_outdir_stream_signal writes) over
 * a span that holds it, whose blob no other output needs in the store,
 * with *file_frames (-1: not known yet, an aligned output before the
 * master is done: its file is ended once it is). */
static int s_streamable(const Mixfarm__FetchReply *r, const Mixfarm__OutputRef *o,
                        int64_t *file_frames)
{
    if (strcmp(o->format, "wav") || o->bits != 32 || o->channels < 1 || o->channels > 2 ||
        o->panned || o->start < 0 || s_blob_shared(r, o))
        return 0;
    const int64_t end = o->start + (int64_t)o->signal_frames;
    *file_frames = !o->aligned ? end : r->frames ? (int64_t)r->frames : -1;
    if (*file_frames < 0) return end > 0;
    return *file_frames >= end && *file_frames > 0;
}

/* Whether output o of r is a file written as its blob's bytes with a
 * report beside it (a listening copy, a deliverable) that may be written
 * as it arrives: its blob no other output needs in the store. */
static int s_file_streamable(const Mixfarm__FetchReply *r, const Mixfarm__OutputRef *o)
{
    return !strcmp(o->format, "raw") && mf_hash_valid(o->info) && !s_blob_shared(r, o);
}

static void s_report_fetched(void *ctx, const mf_hash_t *hash, mf_err_t err)
{
    (void)ctx; /* the stream's commit finds it missing and says so */
    if (err != MF_OK) mf_debug("fetching report %.12s: %s", hash->hex, mf_strerror(err));
}

int mf_early_stream(mf_early_t *e, mf_xfer_t *x, const Mixfarm__FetchReply *r,
                    const Mixfarm__OutputRef *o)
{
    const staged_t *had = e && e->release ? s_find(e, o->path) : NULL;
    if (had)
        return (had->streaming || had->held || had->keeping) && !strcmp(had->hash.hex, o->hash);
    int64_t file_frames = 0;
    const int file = e && e->release && s_file_streamable(r, o);
    if (!file && !(e && e->release && s_streamable(r, o, &file_frames))) return 0;
    staged_t *st = s_new_entry(e);
    stream_t *t = st ? calloc(1, sizeof *t) : NULL;
    if (t && file) {
        t->file = 1;
        memcpy(t->info.hex, o->info, MF_HASH_HEX);
        mf_xfer_get(x, &t->info, s_report_fetched, NULL); /* first: one chunk, here before */
        t->s = mf_outdir_stream_file(e->o, o->path);
    } else if (t) {
        t->held = file_frames < 0;
        t->s = mf_outdir_stream_signal(e->o, o->path, (int)o->channels, (int)o->rate, o->start,
                                       (int64_t)o->signal_frames, file_frames);
    }
    if (!t || !t->s || !(st->path = strdup(o->path))) {
        if (t) mf_outdir_stream_abort(t->s);
        free(t);
        return 0;
    }
    *st = (staged_t){.path = st->path,
                     .bits = o->bits,
                     .frames = mf_client__written_frames(r, o),
                     .streaming = 1};
    memcpy(st->hash.hex, o->hash, MF_HASH_HEX);
    snprintf(st->format, sizeof st->format, "%s", o->format);
    t->e = e, t->i = e->n++;
    mf_hash_t h = st->hash;
    const mf_xfer_sink_t sink = {s_sink_write, s_sink_commit, s_sink_abort, t};
    mf_xfer_get_into(x, &h, &sink, s_streamed, t);
    return 1;
}
