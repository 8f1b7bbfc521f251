/* Loading a session: the document read whole, every part validated (each
 * problem reported, not only the first), references resolved, defaults
 * filled. The order matters only where one part needs another: names before
 * anything that refers to them, inserts and sends before the automation that
 * targets them, buses' outputs before the default stems, everything before
 * the routing check. */
#include "session_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_top_keys[] = {
    "mixfarm", "name",  "sample_rate", "tempo_bpm", "pan_law_db", "tracks", "buses",
    "master",  "stems", "mastering",   "outputs",   "metadata",   NULL,
};

/* The session's folder and its default name (the file name without .json). */
static void s_names_from_path(mf_session_t *s, const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!slash)
        s->dir = strdup(".");
    else if (slash == path)
        s->dir = strdup("/");
    else
        s->dir = strndup(path, (size_t)(slash - path));
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".json") == 0) n -= 5;
    s->name = strndup(base, n);
    s->path = strdup(path);
    if (!s->dir || !s->name || !s->path) abort();
}

static int s_check_version(const json_t *doc, mf_diags_t *d)
{
    const json_t *v = json_object_get(doc, "mixfarm");
    if (!v) {
        mf_diags_error(d, "mixfarm", "required: \"mixfarm\": 1 (the format version)");
        return -1;
    }
    if (!json_is_number(v)) {
        mf_diags_error(d, "mixfarm", "must be 1 (got %s)", mf_sess__type_name(v));
        return -1;
    }
    if (json_number_value(v) != 1.0) {
        mf_diags_error(d, "mixfarm", "unsupported format version %.10g (this version reads 1)",
                       json_number_value(v));
        return -1;
    }
    return 0;
}

/* sample_rate, tempo_bpm, pan_law_db, name. */
static int s_parse_globals(mf_session_t *s, const json_t *doc, mf_diags_t *d)
{
    int rc = 0;
    const json_t *v;
    if ((v = json_object_get(doc, "name"))) {
        const char *name;
        if (mf_sess__string_max(v, "name", d, MF_LIMIT_NAME_BYTES, "names become file names",
                                &name)) {
            rc = -1;
        } else {
            free(s->name);
            s->name = strdup(name);
            if (!s->name) abort();
        }
    }
    /* Default: the first track's rate (SESSION.md); 48 kHz when it is unknown,
     * which happens only when that track has an error anyway. */
    s->sample_rate = s->n_tracks && s->tracks[0].src_rate > 0 ? s->tracks[0].src_rate : 48000;
    if ((v = json_object_get(doc, "sample_rate"))) {
        long long x;
        if (mf_sess__int(v, "sample_rate", d, MF_LIMIT_RATE_MIN, MF_LIMIT_RATE_MAX, &x))
            rc = -1;
        else
            s->sample_rate = (int)x;
    }
    s->tempo_bpm = 120.0;
    if ((v = json_object_get(doc, "tempo_bpm")) &&
        mf_sess__number(v, "tempo_bpm", d, 20.0, 999.0, 0, &s->tempo_bpm))
        rc = -1;
    s->pan_law_db = -3.0;
    if ((v = json_object_get(doc, "pan_law_db"))) {
        if (!json_is_number(v)) {
            mf_diags_error(d, "pan_law_db", "must be a number (got %s)", mf_sess__type_name(v));
            rc = -1;
        } else {
            double x = json_number_value(v);
            if (x != -3.0 && x != -4.5 && x != -6.0) {
                mf_diags_error(d, "pan_law_db", "must be -3, -4.5 or -6 (got %.10g)", x);
                rc = -1;
            } else {
                s->pan_law_db = x;
            }
        }
    }
    return rc;
}

static size_t s_channel_points(const mf_channel_t *ch)
{
    size_t n = 0;
    for (size_t i = 0; i < ch->n_autos; i++) n += ch->autos[i].n;
    return n;
}

/* Each channel's points are bounded where its automation is read; this is
 * the session's sum. */
static void s_check_total_points(const mf_session_t *s, mf_diags_t *d)
{
    size_t n = s_channel_points(&s->master);
    for (size_t i = 0; i < s->n_tracks; i++) n += s_channel_points(&s->tracks[i].ch);
    for (size_t i = 0; i < s->n_buses; i++) n += s_channel_points(&s->buses[i]);
    if (n > MF_LIMIT_AUTO_POINTS_TOTAL)
        mf_diags_error(d, "", "%zu automation points in all, at most %d in a session", n,
                       MF_LIMIT_AUTO_POINTS_TOTAL);
}

/* Frequencies the session's rate cannot hold, in every channel's inserts
 * (known once the rate is). */
static void s_check_rates(const mf_session_t *s, mf_diags_t *d)
{
    char base[MF_SESS_PATH_MAX], key[MF_SESS_PATH_MAX], p[MF_SESS_PATH_MAX];
    const size_t n = s->n_tracks + s->n_buses + 1;
    for (size_t c = 0; c < n; c++) {
        const mf_channel_t *ch = c < s->n_tracks ? &s->tracks[c].ch
                                 : c < n - 1     ? &s->buses[c - s->n_tracks]
                                                 : &s->master;
        if (c < s->n_tracks)
            mf_sess__path_index(base, "tracks", c);
        else if (c < n - 1)
            mf_sess__path_index(base, "buses", c - s->n_tracks);
        else
            snprintf(base, sizeof base, "master");
        mf_sess__path_key(key, base, "inserts");
        for (size_t i = 0; i < ch->n_inserts; i++) {
            mf_sess__path_index(p, key, i);
            mf_sess__check_insert_rate(&ch->inserts[i], p, s->sample_rate, d);
        }
    }
}

static void s_parse_document(mf_session_t *s, const json_t *doc, mf_diags_t *d)
{
    s_check_version(doc, d);
    mf_sess__check_keys(doc, "", d, s_top_keys);

    /* Too many tracks or buses are not looked into: checking them all is
     * the work the limit is there to refuse. */
    const json_t *jt = json_object_get(doc, "tracks");
    if (!jt) {
        mf_diags_error(d, "tracks", "required (at least one track)");
        jt = NULL;
    } else if (mf_sess__expect(jt, "tracks", d, JSON_ARRAY, "an array") ||
               mf_sess__count(jt, "tracks", d, MF_LIMIT_TRACKS, "tracks")) {
        jt = NULL;
    } else if (json_array_size(jt) == 0) {
        mf_diags_error(d, "tracks", "must not be empty");
    }
    const json_t *jb = json_object_get(doc, "buses");
    if (jb && (mf_sess__expect(jb, "buses", d, JSON_ARRAY, "an array") ||
               mf_sess__count(jb, "buses", d, MF_LIMIT_BUSES, "buses")))
        jb = NULL;

    mf_sess__parse_names(s, jt, jb, d);
    for (size_t i = 0; i < s->n_tracks; i++) mf_sess__parse_track(s, json_array_get(jt, i), i, d);
    for (size_t i = 0; i < s->n_buses; i++) mf_sess__parse_bus(s, json_array_get(jb, i), i, d);
    mf_sess__parse_master(s, json_object_get(doc, "master"), d);
    s_parse_globals(s, doc, d);
    s_check_rates(s, d);
    mf_sess__parse_stems(s, json_object_get(doc, "stems"), d);

    if ((s->mastering = json_object_get(doc, "mastering")))
        mf_sess__check_mastering(s, s->mastering, d, 0);
    if ((s->outputs = json_object_get(doc, "outputs")))
        mf_sess__check_outputs(s->outputs, s->sample_rate, d);
    if ((s->metadata = json_object_get(doc, "metadata")))
        mf_sess__check_metadata(s, s->metadata, d);

    s_check_total_points(s, d);
    mf_sess__check_routing(s, d);
}

static mf_session_t *s_load_doc(json_t *doc, const char *path, const mf_session_source_t *source,
                                mf_diags_t *d)
{
    size_t errors = d->errors;
    mf_session_t *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->doc = doc;
    s->source = source;
    s_names_from_path(s, path);
    if (source) {
        free(s->dir);
        s->dir = strdup(""); /* names stay as written: they are keys, not paths */
        if (!s->dir) abort();
    }

    if (!json_is_object(doc)) {
        mf_diags_error(d, "", "must be a JSON object (got %s)", mf_sess__type_name(doc));
    } else if (json_object_get(doc, "album")) {
        /* An album has different tracks altogether: checking it as a session
         * would only bury this line under noise. */
        mf_diags_error(d, "album", "album documents are not supported by this version yet");
    } else {
        s_parse_document(s, doc, d);
    }
    s->source = NULL;
    if (d->errors > errors) mf_session_free(&s);
    return s;
}

mf_session_t *mf_session_load(const char *path, mf_diags_t *d)
{
    json_t *doc = mf_sess__read_document(path, d);
    return doc ? s_load_doc(doc, path, NULL, d) : NULL;
}

mf_session_t *mf_session_load_text(const char *name, const char *text,
                                   const mf_session_source_t *source, mf_diags_t *d)
{
    json_t *doc = mf_sess__parse_text(text, d);
    if (!doc) return NULL;
    return s_load_doc(doc, name, source, d);
}

void mf_session_free(mf_session_t **sp)
{
    if (!sp || !*sp) return;
    mf_session_t *s = *sp;
    for (size_t i = 0; i < s->n_tracks; i++) {
        mf_sess__channel_fini(&s->tracks[i].ch);
        free(s->tracks[i].file);
    }
    free(s->tracks);
    for (size_t i = 0; i < s->n_buses; i++) mf_sess__channel_fini(&s->buses[i]);
    free(s->buses);
    mf_sess__channel_fini(&s->master);
    mf_sess__aux_fini(s);
    free(s->stems);
    free(s->path);
    free(s->dir);
    free(s->name);
    json_decref(s->doc);
    free(s);
    *sp = NULL;
}

const mf_channel_t *mf_session_channel(const mf_session_t *s, mf_ref_t ref)
{
    switch (ref.kind) {
    case MF_REF_TRACK:
        return ref.index >= 0 && (size_t)ref.index < s->n_tracks ? &s->tracks[ref.index].ch : NULL;
    case MF_REF_BUS:
        return ref.index >= 0 && (size_t)ref.index < s->n_buses ? &s->buses[ref.index] : NULL;
    case MF_REF_MASTER:
        return &s->master;
    case MF_REF_NONE:
        break;
    }
    return NULL;
}

mf_ref_t mf_session_find(const mf_session_t *s, const char *name)
{
    mf_ref_t r = {MF_REF_NONE, 0};
    if (!name) return r;
    if (strcmp(name, "master") == 0) {
        r.kind = MF_REF_MASTER;
        return r;
    }
    for (size_t i = 0; i < s->n_tracks; i++)
        if (s->tracks[i].ch.name && strcmp(s->tracks[i].ch.name, name) == 0) {
            r.kind = MF_REF_TRACK;
            r.index = (int)i;
            return r;
        }
    for (size_t i = 0; i < s->n_buses; i++)
        if (s->buses[i].name && strcmp(s->buses[i].name, name) == 0) {
            r.kind = MF_REF_BUS;
            r.index = (int)i;
            return r;
        }
    return r;
}

const char *mf_session_ref_name(const mf_session_t *s, mf_ref_t ref)
{
    if (ref.kind == MF_REF_MASTER) return "master";
    const mf_channel_t *ch = mf_session_channel(s, ref);
    return ch ? ch->name : NULL;
}

int mf_session_track_audible(const mf_session_t *s, size_t track)
{
    if (track >= s->n_tracks || s->tracks[track].mute) return 0;
    for (size_t i = 0; i < s->n_tracks; i++)
        if (s->tracks[i].solo) return s->tracks[track].solo;
    return 1;
}
