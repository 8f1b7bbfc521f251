/* Loading an album: its keys, each track (a nested session, loaded by the
 * session loader, or a stereo mix file), the album's metadata (checked as a
 * session's metadata is), mastering (with "mode") and outputs (as a
 * session's). Nested problems are reported under the album's own paths. */
#include "mf_album.h"
#include "session_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GAP_S 600.0

static const char *const s_top_keys[] = {"mixfarm", "name",    "album", "sample_rate", "mastering",
                                         "tracks",  "outputs", "cue",   NULL};
static const char *const s_track_keys[] = {"session",  "mix",  "gap_s", "crossfade_s",
                                           "metadata", "mono", NULL};

int mf_album_text_is_album(const char *text)
{
    json_error_t e;
    text = mf_sess__skip_bom(text);
    json_t *doc = text && strlen(text) <= MF_LIMIT_DOC_BYTES ? json_loads(text, 0, &e) : NULL;
    int yes = json_is_object(doc) && json_object_get(doc, "album");
    json_decref(doc);
    return yes;
}

int mf_album_is_album(const char *path)
{
    mf_diags_t quiet; /* a document that cannot be read is no album; its loader says why */
    mf_diags_init(&quiet, path);
    json_t *doc = mf_sess__read_document(path, &quiet);
    mf_diags_fini(&quiet);
    int yes = json_is_object(doc) && json_object_get(doc, "album");
    json_decref(doc);
    return yes;
}

char *mf_album_key(const char *session_file, const char *file)
{
    const char *slash = strrchr(session_file, '/');
    size_t dir = file[0] == '/' || !slash ? 0 : (size_t)(slash - session_file) + 1;
    size_t n = dir + strlen(file) + 1;
    char *k = malloc(n);
    if (!k) abort();
    snprintf(k, n, "%.*s%s", (int)dir, session_file, file);
    return k;
}

/* Problems found by a checker run on another document (a nested session)
 * or under another name ("metadata" checked as "album"): copied into d,
 * with from (a path prefix) replaced by to, and what (the nested file)
 * before the message. */
static void s_copy_diags(mf_diags_t *d, const mf_diags_t *from_d, const char *from, const char *to,
                         const char *what)
{
    for (size_t i = 0; i < from_d->count; i++) {
        const mf_diag_t *it = &from_d->items[i];
        char path[MF_SESS_PATH_MAX];
        size_t n = strlen(from);
        if (what)
            snprintf(path, sizeof path, "%s", to);
        else if (!strncmp(it->path, from, n))
            snprintf(path, sizeof path, "%s%s", to, it->path + n);
        else
            snprintf(path, sizeof path, "%s", it->path);
        if (what)
            mf_diags_add(d, it->kind, path, "%s: %s%s%s", what, it->path, it->path[0] ? ": " : "",
                         it->message);
        else
            mf_diags_add(d, it->kind, path, "%s", it->message);
    }
}

/* A session-shaped shell for the session checkers: the album's folder and
 * file source, nothing else. */
static mf_session_t s_shell(const mf_album_t *a, const mf_album_source_t *src)
{
    mf_session_t s = {.path = a->path, .dir = a->dir, .name = a->name};
    s.source = src ? src->files : NULL;
    return s;
}

static void s_check_meta(const mf_album_t *a, const mf_album_source_t *src, const json_t *j,
                         const char *path, mf_diags_t *d)
{
    mf_session_t shell = s_shell(a, src);
    mf_diags_t tmp;
    mf_diags_init(&tmp, d->file);
    mf_sess__check_metadata(&shell, j, &tmp);
    s_copy_diags(d, &tmp, "metadata", path, NULL);
    mf_diags_fini(&tmp);
}

static void s_load_nested(mf_album_t *a, mf_album_track_t *t, const char *p,
                          const mf_album_source_t *src, mf_diags_t *d)
{
    mf_diags_t tmp;
    mf_diags_init(&tmp, t->session);
    if (src) {
        char why[256] = "not among the files sent";
        char *text = src->document(src->ctx, t->session, why, sizeof why);
        if (!text)
            mf_diags_error(d, p, "%s: %s", t->session, why);
        else
            t->s = mf_session_load_text(t->session, text, src->nested(src->ctx, t->session), &tmp);
        free(text);
    } else {
        mf_session_t shell = s_shell(a, NULL);
        char *resolved = mf_sess__resolve(&shell, t->session);
        t->s = mf_session_load(resolved, &tmp);
        free(resolved);
    }
    s_copy_diags(d, &tmp, "", p, t->session);
    mf_diags_fini(&tmp);
}

static void s_parse_track(mf_album_t *a, size_t k, const json_t *j, const mf_album_source_t *src,
                          mf_diags_t *d)
{
    mf_album_track_t *t = &a->tracks[k];
    char p[MF_SESS_PATH_MAX], kp[MF_SESS_PATH_MAX];
    mf_sess__path_index(p, "tracks", k);
    if (mf_sess__expect(j, p, d, JSON_OBJECT, "an object")) return;
    mf_sess__check_keys(j, p, d, s_track_keys);
    const json_t *js = json_object_get(j, "session"), *jm = json_object_get(j, "mix"), *v;
    if (!js == !jm) {
        mf_diags_error(d, p, "give a \"session\" (mixed in this job) or a finished \"mix\"%s",
                       js ? ", not both" : "");
        return;
    }
    if (js) {
        mf_sess__path_key(kp, p, "session");
        if (mf_sess__string(js, kp, d, &t->session) == 0) s_load_nested(a, t, kp, src, d);
    } else {
        mf_sess__path_key(kp, p, "mix");
        if (mf_sess__string(jm, kp, d, &t->mix) == 0) {
            mf_session_t shell = s_shell(a, src);
            t->mix_path = mf_sess__resolve(&shell, t->mix);
            if (mf_sess__probe_audio(&shell, t->mix_path, t->mix, kp, d, &t->mix_channels,
                                     &t->mix_rate, &t->mix_frames) == 0 &&
                t->mix_channels > 2)
                mf_diags_error(d, kp, "%s: a mix is mono or stereo (this has %d channels)", t->mix,
                               t->mix_channels);
        }
    }
    if ((v = json_object_get(j, "gap_s"))) {
        mf_sess__path_key(kp, p, "gap_s");
        mf_sess__number(v, kp, d, 0.0, MAX_GAP_S, 0, &t->gap_s);
    }
    if ((v = json_object_get(j, "crossfade_s"))) {
        mf_sess__path_key(kp, p, "crossfade_s");
        if (mf_sess__number(v, kp, d, 0.0, 60.0, 0, &t->crossfade_s) == 0 && t->crossfade_s > 0) {
            if (k == 0)
                mf_diags_error(d, kp, "the first track has nothing to cross-fade with");
            else if (t->gap_s > 0)
                mf_diags_error(d, kp, "give gap_s or crossfade_s, not both");
        }
    }
    if ((t->metadata = json_object_get(j, "metadata"))) {
        mf_sess__path_key(kp, p, "metadata");
        s_check_meta(a, src, t->metadata, kp, d);
    }
    if ((v = json_object_get(j, "mono"))) {
        mf_sess__path_key(kp, p, "mono");
        mf_sess__bool(v, kp, d, &t->mono);
    }
    /* A song whose own session masters it as mono is a mono record; so is
     * a mono mix (a back catalogue's), played in both channels. */
    if (t->s && json_is_true(json_object_get(t->s->mastering, "mono"))) t->mono = 1;
    if (t->mix && t->mix_channels == 1) t->mono = 1;
}

static void s_parse_mastering(mf_album_t *a, const mf_album_source_t *src, mf_diags_t *d)
{
    if (mf_sess__expect(a->mastering, "mastering", d, JSON_OBJECT, "an object")) return;
    json_t *m = json_copy(a->mastering); /* "mode" is the album's; the rest a session's */
    if (!m) abort();
    const json_t *mode = json_object_get(m, "mode");
    a->mode_album = 1;
    if (mode && (!json_is_string(mode) || (strcmp(json_string_value(mode), "album") &&
                                           strcmp(json_string_value(mode), "track"))))
        mf_diags_error(d, "mastering.mode", "must be \"album\" or \"track\"");
    else if (mode)
        a->mode_album = !strcmp(json_string_value(mode), "album");
    json_object_del(m, "mode");
    if (json_object_get(m, "reference") || json_object_get(m, "match_reference")) {
        mf_diags_warn(d, "mastering.reference",
                      "an album is not compared with a reference; "
                      "ignored");
        json_object_del(m, "reference");
        json_object_del(m, "match_reference");
    }
    mf_session_t shell = s_shell(a, src);
    mf_sess__check_mastering(&shell, m, d, 1);
    json_decref(m);
}

/* A song's length as far as validation knows it: a mix file's, or where
 * the last region of a session ends (tails come later, and are bounded). */
static double s_track_length(const mf_album_track_t *t)
{
    if (t->mix) return t->mix_rate > 0 ? (double)t->mix_frames / t->mix_rate : 0;
    double end = 0;
    for (size_t i = 0; t->s && i < t->s->n_tracks; i++) {
        const double e = mf_sess__region_end(&t->s->tracks[i]);
        if (e > end) end = e;
    }
    return end;
}

/* A cross-fade takes at most half of each song it joins (worker/
 * exec_album.c): a longer one is said, with what it becomes. A session's
 * length is known here without its tails, so for one it is "about". */
static void s_check_crossfades(const mf_album_t *a, mf_diags_t *d)
{
    for (size_t k = 1; k < a->n_tracks; k++) {
        const mf_album_track_t *t = &a->tracks[k], *prev = &a->tracks[k - 1];
        const double lp = s_track_length(prev), l = s_track_length(t);
        const double room = fmin(lp, l) / 2;
        if (t->crossfade_s <= room || room <= 0) continue;
        char kp[64];
        snprintf(kp, sizeof kp, "tracks[%zu].crossfade_s", k);
        mf_diags_warn(d, kp,
                      "%.10g s is more than half of %s (%.10g s long): the cross-fade is %s%.10g s",
                      t->crossfade_s,
                      l < lp   ? "this song"
                      : l > lp ? "the song before"
                               : "each song it joins",
                      fmin(lp, l), t->s || prev->s ? "about " : "", room);
    }
}

/* The album is one timeline (its image): a day at most, like a session's. */
static void s_check_length(const mf_album_t *a, mf_diags_t *d)
{
    double total = 0;
    for (size_t k = 0; k < a->n_tracks; k++)
        total += a->tracks[k].gap_s + s_track_length(&a->tracks[k]) - a->tracks[k].crossfade_s;
    if (total > MF_LIMIT_TIME_S)
        mf_diags_error(d, "tracks", "the album runs %.10g s with its gaps, at most %g s", total,
                       MF_LIMIT_TIME_S);
}

static void s_parse(mf_album_t *a, const mf_album_source_t *src, mf_diags_t *d)
{
    const json_t *doc = a->doc, *v;
    v = json_object_get(doc, "mixfarm");
    if (!json_is_number(v) || json_number_value(v) != 1.0)
        mf_diags_error(d, "mixfarm", "required: \"mixfarm\": 1 (the format version)");
    mf_sess__check_keys(doc, "", d, s_top_keys);
    a->album = json_object_get(doc, "album");
    if (mf_sess__expect(a->album, "album", d, JSON_OBJECT, "an object") == 0) {
        s_check_meta(a, src, a->album, "album", d);
        const char *title = json_string_value(json_object_get(a->album, "title"));
        if (title) {
            free(a->name);
            if (!(a->name = strdup(title))) abort();
        }
    }
    const json_t *jt = json_object_get(doc, "tracks");
    if (!jt) {
        mf_diags_error(d, "tracks", "required (at least one track)");
    } else if (mf_sess__expect(jt, "tracks", d, JSON_ARRAY, "an array") == 0) {
        a->n_tracks = json_array_size(jt);
        if (a->n_tracks == 0 || a->n_tracks > MF_LIMIT_ALBUM_TRACKS)
            mf_diags_error(d, "tracks", "must hold 1 to %d tracks (got %zu)", MF_LIMIT_ALBUM_TRACKS,
                           a->n_tracks);
        if (a->n_tracks > MF_LIMIT_ALBUM_TRACKS) a->n_tracks = 0;
        a->tracks = calloc(a->n_tracks + 1, sizeof *a->tracks);
        if (!a->tracks) abort();
        for (size_t k = 0; k < a->n_tracks; k++) s_parse_track(a, k, json_array_get(jt, k), src, d);
        s_check_length(a, d);
        s_check_crossfades(a, d);
    }
    const mf_album_track_t *t0 = a->n_tracks ? &a->tracks[0] : NULL;
    a->sample_rate = !t0 ? 44100 : t0->s ? t0->s->sample_rate : t0->mix_rate ? t0->mix_rate : 44100;
    long long x;
    if ((v = json_object_get(doc, "sample_rate")) &&
        mf_sess__int(v, "sample_rate", d, MF_LIMIT_RATE_MIN, MF_LIMIT_RATE_MAX, &x) == 0)
        a->sample_rate = (int)x;
    if ((a->mastering = json_object_get(doc, "mastering"))) s_parse_mastering(a, src, d);
    if ((a->outputs = json_object_get(doc, "outputs")))
        mf_sess__check_outputs(a->outputs, a->sample_rate, d);
    if ((v = json_object_get(doc, "cue"))) mf_sess__bool(v, "cue", d, &a->cue);
}

static mf_album_t *s_load_doc(json_t *doc, const char *path, const mf_album_source_t *src,
                              mf_diags_t *d)
{
    size_t errors = d->errors;
    mf_album_t *a = calloc(1, sizeof *a);
    if (!a) abort();
    a->doc = doc;
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    size_t n = strlen(base);
    if (n > 5 && !strcmp(base + n - 5, ".json")) n -= 5;
    a->path = strdup(path);
    a->name = strndup(base, n);
    a->dir = src ? strdup("") : !slash ? strdup(".") : strndup(path, (size_t)(slash - path));
    if (!a->path || !a->name || !a->dir) abort();
    if (!json_is_object(doc))
        mf_diags_error(d, "", "must be a JSON object (got %s)", mf_sess__type_name(doc));
    else
        s_parse(a, src, d);
    if (d->errors > errors) mf_album_free(&a);
    return a;
}

mf_album_t *mf_album_load(const char *path, mf_diags_t *d)
{
    json_t *doc = mf_sess__read_document(path, d);
    return doc ? s_load_doc(doc, path, NULL, d) : NULL;
}

mf_album_t *mf_album_load_text(const char *name, const char *text, const mf_album_source_t *src,
                               mf_diags_t *d)
{
    json_t *doc = mf_sess__parse_text(text, d);
    if (!doc) return NULL;
    return s_load_doc(doc, name, src, d);
}

void mf_album_free(mf_album_t **ap)
{
    if (!ap || !*ap) return;
    mf_album_t *a = *ap;
    for (size_t k = 0; a->tracks && k < a->n_tracks; k++) {
        mf_session_free(&a->tracks[k].s);
        free(a->tracks[k].mix_path);
    }
    free(a->tracks);
    free(a->path);
    free(a->dir);
    free(a->name);
    json_decref(a->doc);
    free(a);
    *ap = NULL;
}
