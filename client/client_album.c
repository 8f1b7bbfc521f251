/* Albums on the client: loading one (every nested session validated where
 * its files are) and submitting it with everything it names as sources:
 * each nested session's document (keyed as the album writes it, without
 * its own mastering, outputs and cover, which the album replaces), the
 * files that session names (its tracks' and impulse responses, keyed by
 * mf_album_key), the mix files and the album's cover. */
#include "client_internal.h"
#include "mf_cli.h"
#include "mf_log.h"
#include "mf_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mf_album_t *mf_cli_load_album(const char *path)
{
    mf_diags_t d;
    mf_diags_init(&d, path);
    mf_album_t *a = mf_album_load(path, &d);
    mf_diags_print(&d);
    mf_diags_fini(&d);
    for (size_t k = 0; a && k < a->n_tracks; k++) {
        int rate = a->tracks[k].s ? a->tracks[k].s->sample_rate : a->tracks[k].mix_rate;
        if (rate != a->sample_rate)
            mf_info("%s: tracks[%zu]: %d Hz, resampled to the album's %d Hz", path, k, rate,
                    a->sample_rate);
    }
    return a;
}

typedef struct {
    Mixfarm__SourceRef *refs, **ptrs;
    mf_hash_t *hashes;
    char **keys; /* owned */
    size_t n, cap;
} album_sources_t;

static Mixfarm__SourceRef *s_add(album_sources_t *as, char *key)
{
    if (!key) return NULL;
    if (as->n == as->cap) {
        size_t cap = as->cap ? 2 * as->cap : 16;
        Mixfarm__SourceRef *r = realloc(as->refs, cap * sizeof *r);
        if (r) as->refs = r;
        mf_hash_t *h = realloc(as->hashes, cap * sizeof *h);
        if (h) as->hashes = h;
        char **k = realloc(as->keys, cap * sizeof *k);
        if (k) as->keys = k;
        if (!r || !h || !k) {
            free(key);
            return NULL;
        }
        as->cap = cap;
    }
    as->keys[as->n] = key;
    mixfarm__source_ref__init(&as->refs[as->n]);
    as->refs[as->n].path = key;
    return &as->refs[as->n++];
}

static mf_err_t s_add_file(album_sources_t *as, mf_store_t *st, char *key, const char *path, int ch,
                           int rate, int64_t frames)
{
    Mixfarm__SourceRef *r = s_add(as, key);
    if (!r) return MF_ERR_NOMEM;
    mf_err_t err = mf_store_put_file(st, path, &as->hashes[as->n - 1]);
    r->channels = (uint32_t)ch, r->sample_rate = (uint32_t)rate, r->frames = (uint64_t)frames;
    return err;
}

/* A nested session's impulse responses (s->aux), keyed like its track
 * files; one that is also a track's file is there already. */
static mf_err_t s_add_aux(album_sources_t *as, mf_store_t *st, const mf_album_track_t *t)
{
    mf_err_t err = MF_OK;
    for (size_t k = 0; err == MF_OK && k < t->s->n_aux; k++) {
        const mf_aux_file_t *f = &t->s->aux[k];
        char *key = mf_album_key(t->session, f->written);
        int dup = 0;
        for (size_t i = 0; i < as->n; i++) dup |= strcmp(as->keys[i], key) == 0;
        if (dup)
            free(key);
        else
            err = s_add_file(as, st, key, f->file, f->channels, f->rate, f->frames);
    }
    return err;
}

/* A nested session's document as the coordinator gets it, then its files. */
static mf_err_t s_add_session(album_sources_t *as, mf_store_t *st, const mf_album_track_t *t)
{
    json_t *doc = json_deep_copy(t->s->doc);
    if (doc) {
        json_object_del(doc, "mastering");
        json_object_del(doc, "outputs");
        json_object_del(json_object_get(doc, "metadata"), "cover");
    }
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    Mixfarm__SourceRef *r = text ? s_add(as, strdup(t->session)) : NULL;
    mf_err_t err =
        r ? mf_store_put_bytes(st, text, strlen(text), &as->hashes[as->n - 1]) : MF_ERR_NOMEM;
    free(text);
    const json_t *tracks = json_object_get(t->s->doc, "tracks");
    for (size_t i = 0; err == MF_OK && i < t->s->n_tracks; i++) {
        const mf_track_t *tr = &t->s->tracks[i];
        const char *written = json_string_value(json_object_get(json_array_get(tracks, i), "file"));
        err = written ? s_add_file(as, st, mf_album_key(t->session, written), tr->file,
                                   tr->src_channels, tr->src_rate, tr->src_frames)
                      : MF_ERR_INVALID;
    }
    return err == MF_OK ? s_add_aux(as, st, t) : err;
}

static mf_err_t s_collect(const mf_album_t *a, mf_store_t *st, album_sources_t *as)
{
    mf_err_t err = MF_OK;
    for (size_t k = 0; err == MF_OK && k < a->n_tracks; k++) {
        const mf_album_track_t *t = &a->tracks[k];
        err = t->s ? s_add_session(as, st, t)
                   : s_add_file(as, st, strdup(t->mix), t->mix_path, t->mix_channels, t->mix_rate,
                                t->mix_frames);
    }
    const char *cover = json_string_value(json_object_get(a->album, "cover"));
    if (err == MF_OK && cover) {
        char path[4096];
        int local = cover[0] == '/' || !a->dir[0] || !strcmp(a->dir, ".");
        snprintf(path, sizeof path, "%s%s%s", local ? "" : a->dir, local ? "" : "/", cover);
        err = s_add_file(as, st, strdup(cover), path, 0, 0, 0);
    }
    for (size_t i = 0; i < as->n; i++) as->refs[i].hash = as->hashes[i].hex;
    return err;
}

/* Every audio file the album names, checked whole before anything is
 * uploaded: each nested session's files (impulse responses too), and the
 * mix files. */
static mf_err_t s_check_files(const mf_album_t *a)
{
    int bad = 0;
    for (size_t k = 0; k < a->n_tracks; k++) {
        const mf_album_track_t *t = &a->tracks[k];
        if (t->s) {
            bad |= mf_client__check_sources(t->s) != MF_OK;
            continue;
        }
        char what[1024];
        snprintf(what, sizeof what, "tracks[%zu].mix (%s)", k, t->mix);
        bad |= mf_client__check_audio(a->path, what, t->mix_path) != 0;
    }
    return bad ? MF_ERR_INVALID : MF_OK;
}

mf_err_t mf_client_submit_album(mf_client_t *c, const mf_album_t *a, int priority, uint64_t *job)
{
    mf_err_t err = s_check_files(a);
    if (err != MF_OK) return err;
    album_sources_t as = {0};
    char *doc = json_dumps(a->doc, JSON_COMPACT | JSON_SORT_KEYS);
    err = doc ? s_collect(a, mf_client__store(c), &as) : MF_ERR_NOMEM;
    if (err == MF_OK && !(as.ptrs = calloc(as.n + 1, sizeof *as.ptrs))) err = MF_ERR_NOMEM;
    for (size_t i = 0; err == MF_OK && i < as.n; i++) as.ptrs[i] = &as.refs[i];
    if (err == MF_OK)
        err = mf_client__submit_doc(c, a->path, doc, as.ptrs, as.hashes, NULL, as.n, priority, 0,
                                    job);
    else
        mf_error("%s: cannot gather the album's files: %s", a->path, mf_strerror(err));
    for (size_t i = 0; i < as.n; i++) free(as.keys[i]);
    free(as.keys);
    free(as.refs);
    free(as.ptrs);
    free(as.hashes);
    free(doc);
    return err;
}
