#include "mf_album_params.h"
#include "mf_limits.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17))
#define MAX_TRACKS MF_LIMIT_ALBUM_TRACKS
#define MAX_TEXT MF_LIMIT_TEXT_BYTES

static const char *s_or(const char *v)
{
    return v ? v : "";
}

char *mf_sequence_spec_to_json(const mf_sequence_spec_t *q)
{
    json_t *tracks = json_array();
    for (size_t i = 0; tracks && i < q->n_tracks; i++) {
        const mf_seq_track_t *t = &q->tracks[i];
        json_array_append_new(tracks,
                              json_pack("{s:f,s:f,s:s,s:s,s:s}", "gap_s", t->gap_s, "crossfade_s",
                                        t->crossfade_s, "title", s_or(t->title), "performer",
                                        s_or(t->performer), "isrc", s_or(t->isrc)));
    }
    json_t *cue =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "file", s_or(q->file), "type", s_or(q->type),
                  "title", s_or(q->title), "performer", s_or(q->performer), "catalog",
                  s_or(q->catalog), "genre", s_or(q->genre), "date", s_or(q->date));
    json_t *j = json_pack("{s:i,s:o,s:o}", "rate", q->rate, "tracks", tracks, "cue", cue);
    char *text = j ? json_dumps(j, DUMP_FLAGS) : NULL;
    json_decref(j);
    return text;
}

/* A string of o (NULL when not a string or too long), copied. */
static int s_str(const json_t *o, const char *k, char **out)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_string(v) || json_string_length(v) > MAX_TEXT) return -1;
    return (*out = strdup(json_string_value(v))) ? 0 : -1;
}

mf_err_t mf_sequence_spec_from_json(const char *text, mf_sequence_spec_t *q, const char **why)
{
    memset(q, 0, sizeof *q);
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    const json_t *tracks = json_object_get(o, "tracks"), *cue = json_object_get(o, "cue");
    const json_t *rate = json_object_get(o, "rate");
    *why = "bad parameters";
    if (!json_is_integer(rate) || json_integer_value(rate) < MF_LIMIT_RATE_MIN ||
        json_integer_value(rate) > MF_LIMIT_RATE_MAX || !json_is_array(tracks) ||
        json_array_size(tracks) == 0 || json_array_size(tracks) > MAX_TRACKS ||
        !json_is_object(cue))
        goto fail;
    q->rate = (int)json_integer_value(rate);
    if (!(q->tracks = calloc(json_array_size(tracks), sizeof *q->tracks))) goto fail;
    for (; q->n_tracks < json_array_size(tracks); q->n_tracks++) {
        const json_t *t = json_array_get(tracks, q->n_tracks);
        mf_seq_track_t *st = &q->tracks[q->n_tracks];
        const json_t *gap = json_object_get(t, "gap_s"), *xf = json_object_get(t, "crossfade_s");
        if (!json_is_number(gap) || !json_is_number(xf)) goto fail;
        st->gap_s = json_number_value(gap), st->crossfade_s = json_number_value(xf);
        if (!(st->gap_s >= 0 && st->gap_s <= 600) ||
            !(st->crossfade_s >= 0 && st->crossfade_s <= 60))
            goto fail;
        if (s_str(t, "title", &st->title) || s_str(t, "performer", &st->performer) ||
            s_str(t, "isrc", &st->isrc)) {
            q->n_tracks++; /* so fini frees what was copied */
            goto fail;
        }
    }
    if (s_str(cue, "file", &q->file) || s_str(cue, "type", &q->type) ||
        s_str(cue, "title", &q->title) || s_str(cue, "performer", &q->performer) ||
        s_str(cue, "catalog", &q->catalog) || s_str(cue, "genre", &q->genre) ||
        s_str(cue, "date", &q->date))
        goto fail;
    json_decref(o);
    return MF_OK;
fail:
    json_decref(o);
    mf_sequence_spec_fini(q);
    return MF_ERR_INVALID;
}

void mf_sequence_spec_fini(mf_sequence_spec_t *q)
{
    for (size_t i = 0; q->tracks && i < q->n_tracks; i++) {
        free(q->tracks[i].title);
        free(q->tracks[i].performer);
        free(q->tracks[i].isrc);
    }
    free(q->tracks);
    free(q->file), free(q->type), free(q->title), free(q->performer);
    free(q->catalog), free(q->genre), free(q->date);
    memset(q, 0, sizeof *q);
}

char *mf_levels_spec_to_json(double target_lufs)
{
    json_t *j = json_pack("{s:o}", "target_lufs",
                          isnan(target_lufs) ? json_null() : json_real(target_lufs));
    char *text = j ? json_dumps(j, DUMP_FLAGS) : NULL;
    json_decref(j);
    return text;
}

mf_err_t mf_levels_spec_from_json(const char *text, double *target_lufs, const char **why)
{
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    const json_t *t = json_object_get(o, "target_lufs");
    mf_err_t err = json_is_null(t) || json_is_number(t) ? MF_OK : MF_ERR_INVALID;
    *target_lufs = json_is_number(t) ? json_number_value(t) : NAN;
    if (err != MF_OK) *why = "bad target_lufs";
    json_decref(o);
    return err;
}
