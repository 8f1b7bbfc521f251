/* Channel strips: tracks, buses and the master, their names, sends, outputs
 * and inserts. References between channels are names (one namespace for
 * tracks and buses, "master" reserved), resolved here into mf_ref_t. */
#include "session_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Loudest a fader or a send may go, in dB (SESSION.md: -inf .. +24). */
#define MAX_GAIN_DB 24.0

static const char *const s_track_keys[] = {
    "name", "file", "start_s", "trim",  "gain_db", "invert",     "mute",
    "solo", "pan",  "inserts", "sends", "output",  "automation", NULL,
};
static const char *const s_bus_keys[] = {
    "name", "inserts", "gain_db", "pan", "sends", "output", "automation", NULL,
};
static const char *const s_master_keys[] = {"inserts", "gain_db", "pan", "automation", NULL};
static const char *const s_send_keys[] = {"bus", "level_db", "pre_fader", NULL};
static const char *const s_trim_keys[] = {"from_s", "length_s", NULL};

/* ---- names ------------------------------------------------------------ */

/* Where a name was first seen, for "also tracks[0]". */
static int s_find_earlier(const mf_session_t *s, const char *name, size_t nt, size_t nb,
                          char *where)
{
    for (size_t i = 0; i < nt; i++)
        if (s->tracks[i].ch.name && strcmp(s->tracks[i].ch.name, name) == 0) {
            mf_sess__path_index(where, "tracks", i);
            return 1;
        }
    for (size_t i = 0; i < nb; i++)
        if (s->buses[i].name && strcmp(s->buses[i].name, name) == 0) {
            mf_sess__path_index(where, "buses", i);
            return 1;
        }
    return 0;
}

static char *s_parse_name(const mf_session_t *s, const json_t *j, const char *path, size_t nt,
                          size_t nb, mf_diags_t *d)
{
    if (mf_sess__expect(j, path, d, JSON_OBJECT, "an object")) return NULL;
    char p[MF_SESS_PATH_MAX], where[MF_SESS_PATH_MAX];
    mf_sess__path_key(p, path, "name");
    const json_t *v = json_object_get(j, "name");
    const char *name;
    if (!v) {
        mf_diags_error(d, p, "required");
        return NULL;
    }
    if (mf_sess__string_max(v, p, d, MF_LIMIT_NAME_BYTES, "names become file names", &name))
        return NULL;
    if (strcmp(name, "master") == 0) {
        mf_diags_error(d, p, "\"master\" is reserved for the master bus");
        return NULL;
    }
    if (s_find_earlier(s, name, nt, nb, where)) {
        mf_diags_error(d, p, "duplicate name \"%s\" (also %s)", name, where);
        return NULL;
    }
    char *r = strdup(name);
    if (!r) abort();
    return r;
}

int mf_sess__parse_names(mf_session_t *s, const json_t *jtracks, const json_t *jbuses,
                         mf_diags_t *d)
{
    size_t before = d->errors;
    char p[MF_SESS_PATH_MAX];
    s->n_tracks = json_array_size(jtracks);
    s->n_buses = json_array_size(jbuses);
    s->tracks = calloc(s->n_tracks ? s->n_tracks : 1, sizeof *s->tracks);
    s->buses = calloc(s->n_buses ? s->n_buses : 1, sizeof *s->buses);
    if (!s->tracks || !s->buses) abort();
    for (size_t i = 0; i < s->n_tracks; i++) {
        mf_sess__path_index(p, "tracks", i);
        s->tracks[i].ch.name = s_parse_name(s, json_array_get(jtracks, i), p, i, 0, d);
    }
    for (size_t i = 0; i < s->n_buses; i++) {
        mf_sess__path_index(p, "buses", i);
        s->buses[i].name = s_parse_name(s, json_array_get(jbuses, i), p, s->n_tracks, i, d);
    }
    return d->errors > before ? -1 : 0;
}

/* ---- references ------------------------------------------------------- */

mf_ref_t mf_sess__ref(const mf_session_t *s, const json_t *v, const char *path, mf_diags_t *d,
                      int want_track, int want_bus, int want_master, const char *role)
{
    mf_ref_t none = {MF_REF_NONE, 0};
    const char *name;
    if (mf_sess__string(v, path, d, &name)) return none;
    mf_ref_t r = mf_session_find(s, name);
    if (r.kind == MF_REF_NONE) {
        size_t n = 0;
        const char **cands = calloc(s->n_tracks + s->n_buses + 1, sizeof *cands);
        if (!cands) abort();
        if (want_track)
            for (size_t i = 0; i < s->n_tracks; i++) cands[n++] = s->tracks[i].ch.name;
        if (want_bus)
            for (size_t i = 0; i < s->n_buses; i++) cands[n++] = s->buses[i].name;
        if (want_master) cands[n++] = "master";
        char hint[MF_SESS_PATH_MAX];
        mf_diags_error(d, path, "unknown %s \"%s\"%s",
                       want_track ? (want_bus ? "track or bus" : "track") : "bus", name,
                       mf_sess__did_you_mean(hint, sizeof hint, name, cands, n));
        free(cands);
        return none;
    }
    int ok = (r.kind == MF_REF_TRACK && want_track) || (r.kind == MF_REF_BUS && want_bus) ||
             (r.kind == MF_REF_MASTER && want_master);
    if (!ok) {
        const char *is = r.kind == MF_REF_TRACK ? "a track"
                         : r.kind == MF_REF_BUS ? "a bus"
                                                : "the master";
        mf_diags_error(d, path, "\"%s\" is %s; %s", name, is, role);
        return none;
    }
    return r;
}

/* ---- the strip --------------------------------------------------------- */

static int s_same_ref(mf_ref_t a, mf_ref_t b)
{
    return a.kind == b.kind && a.kind != MF_REF_NONE && a.index == b.index;
}

static int s_parse_inserts(mf_session_t *s, mf_channel_t *ch, mf_ref_t self, const json_t *j,
                           const char *path, mf_diags_t *d)
{
    char p[MF_SESS_PATH_MAX], ip[MF_SESS_PATH_MAX];
    mf_sess__path_key(p, path, "inserts");
    if (mf_sess__expect(j, p, d, JSON_ARRAY, "an array") ||
        mf_sess__count(j, p, d, MF_LIMIT_INSERTS, "inserts"))
        return -1;
    int rc = 0;
    ch->n_inserts = json_array_size(j);
    ch->inserts = calloc(ch->n_inserts ? ch->n_inserts : 1, sizeof *ch->inserts);
    if (!ch->inserts) abort();
    for (size_t i = 0; i < ch->n_inserts; i++) {
        mf_sess__path_index(ip, p, i);
        mf_insert_t *ins = &ch->inserts[i];
        if (mf_session_parse_insert(json_array_get(j, i), ip, s, d, ins)) rc = -1;
        if (mf_sess__parse_aux(s, ins, json_array_get(j, i), ip, d)) rc = -1;
        if (s_same_ref(ins->sidechain, self)) {
            char sp[MF_SESS_PATH_MAX];
            mf_sess__path_key(sp, ip, "sidechain");
            mf_diags_error(d, sp,
                           "is this insert's own channel; without \"sidechain\" an insert "
                           "is keyed from its own input");
            ins->sidechain.kind = MF_REF_NONE;
            rc = -1;
        }
    }
    return rc;
}

static int s_parse_send(mf_session_t *s, mf_channel_t *ch, mf_ref_t self, size_t k, const json_t *j,
                        const char *path, mf_diags_t *d)
{
    mf_send_t *snd = &ch->sends[k];
    snd->bus = -1;
    snd->level_db = 0.0;
    if (mf_sess__expect(j, path, d, JSON_OBJECT, "an object")) return -1;
    mf_sess__check_keys(j, path, d, s_send_keys);
    int rc = 0;
    char p[MF_SESS_PATH_MAX];

    mf_sess__path_key(p, path, "bus");
    const json_t *v = json_object_get(j, "bus");
    if (!v) {
        mf_diags_error(d, p, "required");
        rc = -1;
    } else {
        mf_ref_t r = mf_sess__ref(s, v, p, d, 0, 1, 0, "a send goes to a bus");
        if (r.kind == MF_REF_NONE) {
            rc = -1;
        } else if (s_same_ref(r, self)) {
            mf_diags_error(d, p, "a bus cannot send to itself");
            rc = -1;
        } else {
            for (size_t i = 0; i < k; i++)
                if (ch->sends[i].bus == r.index) {
                    mf_diags_error(d, p, "a second send to \"%s\" (also sends[%zu])",
                                   s->buses[r.index].name, i);
                    rc = -1;
                }
            snd->bus = r.index;
        }
    }
    if ((v = json_object_get(j, "level_db"))) {
        mf_sess__path_key(p, path, "level_db");
        if (mf_sess__number(v, p, d, -INFINITY, MAX_GAIN_DB, 1, &snd->level_db)) rc = -1;
    }
    if ((v = json_object_get(j, "pre_fader"))) {
        mf_sess__path_key(p, path, "pre_fader");
        if (mf_sess__bool(v, p, d, &snd->pre_fader)) rc = -1;
    }
    return rc;
}

static int s_parse_sends(mf_session_t *s, mf_channel_t *ch, mf_ref_t self, const json_t *j,
                         const char *path, mf_diags_t *d)
{
    char p[MF_SESS_PATH_MAX], sp[MF_SESS_PATH_MAX];
    mf_sess__path_key(p, path, "sends");
    if (mf_sess__expect(j, p, d, JSON_ARRAY, "an array") ||
        mf_sess__count(j, p, d, MF_LIMIT_SENDS, "sends"))
        return -1;
    int rc = 0;
    ch->n_sends = json_array_size(j);
    ch->sends = calloc(ch->n_sends ? ch->n_sends : 1, sizeof *ch->sends);
    if (!ch->sends) abort();
    for (size_t i = 0; i < ch->n_sends; i++) {
        mf_sess__path_index(sp, p, i);
        if (s_parse_send(s, ch, self, i, json_array_get(j, i), sp, d)) rc = -1;
    }
    return rc;
}

/* What tracks, buses and the master share: fader, pan, inserts, sends,
 * output, automation. self is the channel's own reference. */
static int s_parse_strip(mf_session_t *s, mf_channel_t *ch, mf_ref_t self, const json_t *j,
                         const char *path, const char *what, mf_diags_t *d)
{
    int rc = 0;
    char p[MF_SESS_PATH_MAX];
    const json_t *v;
    ch->output.kind = self.kind == MF_REF_MASTER ? MF_REF_NONE : MF_REF_MASTER;

    if ((v = json_object_get(j, "gain_db"))) {
        mf_sess__path_key(p, path, "gain_db");
        if (mf_sess__number(v, p, d, -INFINITY, MAX_GAIN_DB, 1, &ch->gain_db)) rc = -1;
    }
    if ((v = json_object_get(j, "pan"))) {
        mf_sess__path_key(p, path, "pan");
        if (mf_sess__number(v, p, d, -1.0, 1.0, 0, &ch->pan)) rc = -1;
    }
    if (self.kind == MF_REF_TRACK && (v = json_object_get(j, "invert"))) {
        mf_sess__path_key(p, path, "invert");
        if (mf_sess__bool(v, p, d, &ch->invert)) rc = -1;
    }
    if ((v = json_object_get(j, "inserts")) && s_parse_inserts(s, ch, self, v, path, d)) rc = -1;
    const json_t *jsends = NULL;
    if (self.kind != MF_REF_MASTER && (jsends = json_object_get(j, "sends"))) {
        if (s_parse_sends(s, ch, self, jsends, path, d)) rc = -1;
        if (!json_is_array(jsends) || json_array_size(jsends) > MF_LIMIT_SENDS) jsends = NULL;
    }
    if (self.kind != MF_REF_MASTER && (v = json_object_get(j, "output"))) {
        mf_sess__path_key(p, path, "output");
        mf_ref_t r = mf_sess__ref(s, v, p, d, 0, 1, 1, "an output goes to a bus or \"master\"");
        if (s_same_ref(r, self)) {
            mf_diags_error(d, p, "a bus cannot output to itself");
            r.kind = MF_REF_NONE;
        }
        if (r.kind == MF_REF_NONE) rc = -1;
        ch->output = r;
    }
    if ((v = json_object_get(j, "automation")) &&
        mf_sess__parse_automation(s, ch, v, jsends, path, what, d))
        rc = -1;
    return rc;
}

/* ---- tracks, buses, master -------------------------------------------- */

static int s_parse_trim(mf_track_t *t, const json_t *j, const char *path, mf_diags_t *d)
{
    char p[MF_SESS_PATH_MAX];
    mf_sess__path_key(p, path, "trim");
    if (mf_sess__expect(j, p, d, JSON_OBJECT, "an object")) return -1;
    mf_sess__check_keys(j, p, d, s_trim_keys);
    int rc = 0;
    char q[MF_SESS_PATH_MAX];
    const json_t *v;
    if ((v = json_object_get(j, "from_s"))) {
        mf_sess__path_key(q, p, "from_s");
        if (mf_sess__number(v, q, d, 0.0, MF_LIMIT_TIME_S, 0, &t->trim_from_s)) rc = -1;
    }
    if ((v = json_object_get(j, "length_s")) && !json_is_null(v)) {
        mf_sess__path_key(q, p, "length_s");
        double len;
        if (mf_sess__number(v, q, d, 0.0, MF_LIMIT_TIME_S, 0, &len)) {
            rc = -1;
        } else if (len <= 0.0) {
            mf_diags_error(d, q, "must be > 0 (got %.10g); null plays to the end", len);
            rc = -1;
        } else {
            t->trim_length_s = len;
        }
    }
    return rc;
}

/* The track's file: present, audio, mono or stereo; trim within it. */
static int s_parse_file(mf_session_t *s, mf_track_t *t, const json_t *j, const char *path,
                        mf_diags_t *d)
{
    char p[MF_SESS_PATH_MAX];
    mf_sess__path_key(p, path, "file");
    const json_t *v = json_object_get(j, "file");
    const char *file;
    if (!v) {
        mf_diags_error(d, p, "required");
        return -1;
    }
    if (mf_sess__string(v, p, d, &file)) return -1;
    t->file = mf_sess__resolve(s, file);
    if (mf_sess__probe_audio(s, t->file, file, p, d, &t->src_channels, &t->src_rate,
                             &t->src_frames))
        return -1;
    if (t->src_channels < 1 || t->src_channels > 2) {
        mf_diags_error(d, p, "%s: has %d channels; only mono or stereo", file, t->src_channels);
        return -1;
    }
    return 0;
}

static double s_played_s(const mf_track_t *t)
{
    if (t->src_rate <= 0) return 0;
    double left = (double)t->src_frames / t->src_rate - t->trim_from_s;
    if (left < 0) left = 0;
    return t->trim_length_s > 0 && t->trim_length_s < left ? t->trim_length_s : left;
}

double mf_sess__region_end(const mf_track_t *t)
{
    return t->start_s + s_played_s(t);
}

static int s_check_region_end(const mf_track_t *t, const char *path, mf_diags_t *d)
{
    const double end = mf_sess__region_end(t);
    if (end <= MF_LIMIT_TIME_S) return 0;
    mf_diags_error(d, path, "the region ends at %.10g s (start_s + %.10g s played), at most %g s",
                   end, s_played_s(t), MF_LIMIT_TIME_S);
    return -1;
}

int mf_sess__parse_track(mf_session_t *s, const json_t *j, size_t i, mf_diags_t *d)
{
    if (!json_is_object(j)) return -1; /* reported with the names */
    mf_track_t *t = &s->tracks[i];
    mf_ref_t self = {MF_REF_TRACK, (int)i};
    char path[MF_SESS_PATH_MAX], p[MF_SESS_PATH_MAX];
    mf_sess__path_index(path, "tracks", i);
    mf_sess__check_keys(j, path, d, s_track_keys);
    t->trim_length_s = -1.0;

    int rc = 0;
    int file_ok = s_parse_file(s, t, j, path, d) == 0;
    if (!file_ok) rc = -1;
    const json_t *v;
    if ((v = json_object_get(j, "start_s"))) {
        mf_sess__path_key(p, path, "start_s");
        if (mf_sess__number(v, p, d, 0.0, MF_LIMIT_TIME_S, 0, &t->start_s)) rc = -1;
    }
    if ((v = json_object_get(j, "trim"))) {
        if (s_parse_trim(t, v, path, d)) {
            rc = -1;
        } else if (file_ok) {
            double dur = (double)t->src_frames / t->src_rate;
            if (t->trim_from_s > dur) {
                mf_sess__path_key(p, path, "trim.from_s");
                mf_diags_error(d, p, "%.10g s is beyond the end of %s (%.10g s long)",
                               t->trim_from_s, json_string_value(json_object_get(j, "file")), dur);
                rc = -1;
            } else if (t->trim_length_s > 0 && t->trim_from_s + t->trim_length_s > dur + 1e-9) {
                mf_sess__path_key(p, path, "trim.length_s");
                mf_diags_warn(d, p, "runs %.10g s past the end of the file; the region ends there",
                              t->trim_from_s + t->trim_length_s - dur);
            }
        }
    }
    if (file_ok && s_check_region_end(t, path, d)) rc = -1;
    if ((v = json_object_get(j, "mute"))) {
        mf_sess__path_key(p, path, "mute");
        if (mf_sess__bool(v, p, d, &t->mute)) rc = -1;
    }
    if ((v = json_object_get(j, "solo"))) {
        mf_sess__path_key(p, path, "solo");
        if (mf_sess__bool(v, p, d, &t->solo)) rc = -1;
    }
    if (s_parse_strip(s, &t->ch, self, j, path, "track", d)) rc = -1;
    return rc;
}

int mf_sess__parse_bus(mf_session_t *s, const json_t *j, size_t i, mf_diags_t *d)
{
    if (!json_is_object(j)) return -1; /* reported with the names */
    mf_ref_t self = {MF_REF_BUS, (int)i};
    char path[MF_SESS_PATH_MAX];
    mf_sess__path_index(path, "buses", i);
    mf_sess__check_keys(j, path, d, s_bus_keys);
    return s_parse_strip(s, &s->buses[i], self, j, path, "bus", d);
}

int mf_sess__parse_master(mf_session_t *s, const json_t *j, mf_diags_t *d)
{
    mf_ref_t self = {MF_REF_MASTER, 0};
    s->master.name = strdup("master");
    if (!s->master.name) abort();
    s->master.output.kind = MF_REF_NONE;
    if (!j) return 0;
    if (mf_sess__expect(j, "master", d, JSON_OBJECT, "an object")) return -1;
    mf_sess__check_keys(j, "master", d, s_master_keys);
    return s_parse_strip(s, &s->master, self, j, "master", "master", d);
}

void mf_sess__channel_fini(mf_channel_t *ch)
{
    free(ch->name);
    for (size_t i = 0; i < ch->n_inserts; i++) mf_session_insert_fini(&ch->inserts[i]);
    free(ch->inserts);
    free(ch->sends);
    for (size_t i = 0; i < ch->n_autos; i++) mf_sess__automation_fini(&ch->autos[i]);
    free(ch->autos);
    memset(ch, 0, sizeof *ch);
}
