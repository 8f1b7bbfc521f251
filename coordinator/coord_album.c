/* Albums on the coordinator. The client sends the album document, each
 * nested session's document as a source (keyed as the album writes it),
 * the files those sessions name (tracks' files and impulse responses) keyed
 * by mf_album_key ("night-drive/" + "audio/kick.wav"), the mix files and
 * the cover keyed as the album writes them. As for sessions, no path is
 * ever opened: every name is a key into the sources, every file a blob. */
#include "coord_internal.h"
#include "mf_msg.h"
#include "plan_album.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A way to look files up: the album's own (nested NULL) or those of the
 * nested session being loaded. */
typedef struct {
    json_t *sources;
    const mf_store_t *store;
    const char *nested;
} album_ctx_t;

typedef struct {
    album_ctx_t album, inside;
    mf_session_source_t files, nested; /* ctx: &album and &inside */
} album_src_t;

static const char *s_str(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

/* The source sent under key, with its blob in the store; NULL with why. */
static const json_t *s_find(const album_ctx_t *ac, const char *file, mf_hash_t *h, char *why,
                            size_t n)
{
    char *key = ac->nested ? mf_album_key(ac->nested, file) : strdup(file);
    const json_t *found = NULL;
    for (size_t i = 0; key && !found && i < json_array_size(ac->sources); i++)
        if (!strcmp(s_str(json_array_get(ac->sources, i), "path"), key))
            found = json_array_get(ac->sources, i);
    free(key);
    if (!found) return NULL; /* the default reason: not among the files sent */
    snprintf(h->hex, sizeof h->hex, "%s", s_str(found, "hash"));
    if (mf_hash_valid(h->hex) && mf_store_has(ac->store, h)) return found;
    snprintf(why, n, "its blob %.12s was not uploaded", h->hex);
    return NULL;
}

static int s_audio(void *ctx, const char *file, int *channels, int *rate, int64_t *frames,
                   char *why, size_t n)
{
    mf_hash_t h;
    const json_t *s = s_find(ctx, file, &h, why, n);
    if (!s) return -1;
    *channels = (int)json_integer_value(json_object_get(s, "channels"));
    *rate = (int)json_integer_value(json_object_get(s, "sample_rate"));
    *frames = (int64_t)json_integer_value(json_object_get(s, "frames"));
    return 0;
}

static int s_file(void *ctx, const char *file, char *why, size_t n)
{
    mf_hash_t h;
    return s_find(ctx, file, &h, why, n) ? 0 : -1;
}

static char *s_document(void *ctx, const char *file, char *why, size_t n)
{
    album_ctx_t *ac = &((album_src_t *)ctx)->album; /* keyed as the album writes it */
    mf_hash_t h;
    const json_t *s = s_find(ac, file, &h, why, n);
    char *text = s ? mf_store_read_text(ac->store, &h, MF_DOC_MAX, NULL) : NULL;
    if (s && !text) snprintf(why, n, "cannot be read (too large, or its blob is gone)");
    return text;
}

static const mf_session_source_t *s_nested(void *ctx, const char *session_file)
{
    album_src_t *as = ctx;
    as->inside.nested = session_file; /* until the next one: one is loaded at a time */
    return &as->nested;
}

static void s_hash(album_ctx_t *ac, const char *nested, const char *file, mf_hash_t *h)
{
    char why[8];
    ac->nested = nested;
    if (!s_find(ac, file, h, why, sizeof why)) memset(h, 0, sizeof *h);
}

mf_album_t *mf_coord_album_load(coord_t *c, const char *name, const char *document, json_t *sources,
                                mf_diags_t *d, mf_plan_t **plan)
{
    album_src_t as_ = {.album = {.sources = sources, .store = c->store}};
    as_.inside = as_.album;
    as_.files = (mf_session_source_t){.audio = s_audio, .file = s_file, .ctx = &as_.album};
    as_.nested = (mf_session_source_t){.audio = s_audio, .file = s_file, .ctx = &as_.inside};
    mf_album_source_t src = {
        .files = &as_.files, .document = s_document, .nested = s_nested, .ctx = &as_};
    *plan = NULL;
    mf_album_t *a = mf_album_load_text(name, document, &src, d);
    if (!a) return NULL;
    album_ctx_t ac = as_.album;
    mf_album_sources_t as = {.session = calloc(a->n_tracks + 1, sizeof *as.session),
                             .mix = calloc(a->n_tracks + 1, sizeof *as.mix)};
    mf_hash_t cover;
    const char *cover_file = json_string_value(json_object_get(a->album, "cover"));
    if (cover_file) s_hash(&ac, NULL, cover_file, &cover), as.cover = &cover;
    int ok = as.session && as.mix;
    for (size_t k = 0; ok && k < a->n_tracks; k++) {
        const mf_album_track_t *t = &a->tracks[k];
        if (t->mix) {
            s_hash(&ac, NULL, t->mix, &as.mix[k]);
            continue;
        }
        const size_t n = MF_PLAN_AUX_SOURCE(t->s, t->s->n_aux);
        if (!(as.session[k] = calloc(n, sizeof *as.session[k]))) ok = 0;
        for (size_t i = 0; ok && i < t->s->n_tracks; i++) /* names stay as written */
            s_hash(&ac, t->session, t->s->tracks[i].file, &as.session[k][i]);
        for (size_t i = 0; ok && i < t->s->n_aux; i++) /* under the name s_audio checked */
            s_hash(&ac, t->session, t->s->aux[i].written,
                   &as.session[k][MF_PLAN_AUX_SOURCE(t->s, i)]);
    }
    if (ok) *plan = mf_plan_album(a, &as);
    for (size_t k = 0; as.session && k < a->n_tracks; k++) free(as.session[k]);
    free(as.session);
    free(as.mix);
    return a;
}
