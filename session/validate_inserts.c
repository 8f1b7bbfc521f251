/* Inserts: an insert object checked against its processor's parameter table
 * (dsp/mf_processor.h). Nothing here knows any processor by name: the tables
 * say which keys exist, their ranges, choices and defaults, and whether the
 * class takes bands or a sidechain. */
#include "session_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "peak, rms" into buf. */
static const char *s_join(char *buf, size_t size, const char *const *names)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; names[i] && len < size; i++) {
        int n = snprintf(buf + len, size - len, "%s%s", i ? ", " : "", names[i]);
        if (n < 0) break;
        len += (size_t)n;
    }
    return buf;
}

static size_t s_count(const char *const *names)
{
    size_t n = 0;
    while (names[n]) n++;
    return n;
}

int mf_sess__param_allows_neg_inf(const mf_param_desc_t *p)
{
    size_t n = strlen(p->name);
    return !p->choices && n >= 3 && strcmp(p->name + n - 3, "_db") == 0 && p->min <= -120.0;
}

static int s_choice_index(const char *const *choices, const char *name)
{
    for (int i = 0; choices[i]; i++)
        if (strcmp(choices[i], name) == 0) return i;
    return -1;
}

int mf_sess__param_value(const mf_param_desc_t *p, const json_t *v, const char *path, mf_diags_t *d,
                         double *out)
{
    if (p->choices) {
        int i = -1;
        if (json_is_string(v))
            i = s_choice_index(p->choices, json_string_value(v));
        else if (json_is_boolean(v))
            i = s_choice_index(p->choices, json_is_true(v) ? "true" : "false");
        if (i >= 0) {
            *out = i;
            return 0;
        }
        char list[256], hint[128];
        s_join(list, sizeof list, p->choices);
        if (json_is_string(v))
            mf_diags_error(d, path, "must be one of %s (got \"%s\")%s", list, json_string_value(v),
                           mf_sess__did_you_mean(hint, sizeof hint, json_string_value(v),
                                                 p->choices, s_count(p->choices)));
        else
            mf_diags_error(d, path, "must be one of %s (got %s)", list, mf_sess__type_name(v));
        return -1;
    }
    if (json_is_boolean(v) && p->min == 0.0 && p->max == 1.0) {
        *out = json_is_true(v) ? 1.0 : 0.0;
        return 0;
    }
    return mf_sess__number(v, path, d, p->min, p->max, mf_sess__param_allows_neg_inf(p), out);
}

static void s_fill_defaults(const mf_param_desc_t *p, size_t n, double *values)
{
    for (size_t i = 0; i < n; i++) values[i] = p[i].def;
}

/* Reports a key that is not a parameter, with the nearest one. */
static void s_unknown_param(const mf_processor_class_t *cls, int band, const char *key,
                            const char *path, mf_diags_t *d)
{
    const mf_param_desc_t *p = band ? cls->band_params : cls->params;
    size_t n = band ? cls->n_band_params : cls->n_params;
    if (!band && cls->band_params && mf_processor_param_index(cls, 1, key) >= 0) {
        mf_diags_error(d, path, "is a band parameter of %s: it goes in \"bands\"", cls->type);
        return;
    }
    const char **names = calloc(n + cls->n_lists + 4, sizeof *names);
    if (!names) abort();
    for (size_t i = 0; i < n; i++) names[i] = p[i].name;
    if (!band) {
        /* The keys every insert may carry are candidates too. */
        names[n++] = "type";
        if (cls->band_params) names[n++] = "bands";
        if (cls->has_sidechain) names[n++] = "sidechain";
        if (cls->aux) names[n++] = cls->aux->name;
        for (size_t i = 0; i < cls->n_lists; i++) names[n++] = cls->lists[i].item.name;
    }
    char hint[128];
    mf_diags_error(d, path, "unknown parameter of %s%s%s", cls->type, band ? " bands" : "",
                   mf_sess__did_you_mean(hint, sizeof hint, key, names, n));
    free(names);
}

static int s_parse_band(const mf_processor_class_t *cls, const json_t *j, const char *path,
                        mf_diags_t *d, double *values)
{
    if (mf_sess__expect(j, path, d, JSON_OBJECT, "an object")) return -1;
    int rc = 0;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)j, key, v)
    {
        char p[MF_SESS_PATH_MAX];
        mf_sess__path_key(p, path, key);
        int idx = mf_processor_param_index(cls, 1, key);
        if (idx < 0) {
            s_unknown_param(cls, 1, key, p, d);
            rc = -1;
            continue;
        }
        if (mf_sess__param_value(&cls->band_params[idx], v, p, d, &values[idx])) rc = -1;
    }
    return rc;
}

static const char *s_type_list(char *buf, size_t size)
{
    size_t n, len = 0;
    const mf_processor_class_t *const *all = mf_processors(&n);
    buf[0] = '\0';
    for (size_t i = 0; i < n && len < size; i++) {
        int k = snprintf(buf + len, size - len, "%s%s", i ? ", " : "", all[i]->type);
        if (k < 0) break;
        len += (size_t)k;
    }
    return buf;
}

static const mf_processor_class_t *s_class(const json_t *j, const char *path, mf_diags_t *d)
{
    char p[MF_SESS_PATH_MAX], list[512];
    mf_sess__path_key(p, path, "type");
    const json_t *t = json_object_get(j, "type");
    if (!t) {
        mf_diags_error(d, p, "required (one of %s)", s_type_list(list, sizeof list));
        return NULL;
    }
    const char *type;
    if (mf_sess__string(t, p, d, &type)) return NULL;
    const mf_processor_class_t *cls = mf_processor_find(type);
    if (cls) return cls;

    size_t n;
    const mf_processor_class_t *const *all = mf_processors(&n);
    const char **names = calloc(n ? n : 1, sizeof *names);
    if (!names) abort();
    for (size_t i = 0; i < n; i++) names[i] = all[i]->type;
    const char *best = mf_sess__suggest(type, names, n);
    if (best)
        mf_diags_error(d, p, "unknown insert type \"%s\" (did you mean \"%s\"?)", type, best);
    else
        mf_diags_error(d, p, "unknown insert type \"%s\" (known: %s)", type,
                       s_type_list(list, sizeof list));
    free(names);
    return NULL;
}

/* One list parameter into out (1 + max_count values: count, items), from
 * its defaults when v is NULL. */
static int s_parse_list(const mf_list_param_t *l, const json_t *v, const char *path, mf_diags_t *d,
                        double *out)
{
    memset(out, 0, (1 + l->max_count) * sizeof *out);
    if (!v) {
        out[0] = (double)l->n_defaults;
        if (l->n_defaults) memcpy(out + 1, l->defaults, l->n_defaults * sizeof *out);
        if (l->n_defaults >= l->min_count) return 0;
        mf_diags_error(d, path, "required (%zu to %zu values)", l->min_count, l->max_count);
        return -1;
    }
    if (!json_is_array(v)) {
        mf_diags_error(d, path, "must be an array of numbers (got %s)", mf_sess__type_name(v));
        return -1;
    }
    const size_t n = json_array_size(v);
    if (n < l->min_count || n > l->max_count) {
        mf_diags_error(d, path, "takes %zu to %zu values (got %zu)", l->min_count, l->max_count, n);
        return -1;
    }
    int rc = 0;
    out[0] = (double)n;
    for (size_t i = 0; i < n; i++) {
        char p[MF_SESS_PATH_MAX];
        mf_sess__path_index(p, path, i);
        if (mf_sess__param_value(&l->item, json_array_get(v, i), p, d, &out[1 + i])) {
            rc = -1;
        } else if (l->increasing && i > 0 && rc == 0 && !(out[1 + i] > out[i])) {
            mf_diags_error(d, p, "must be above the value before it (%.10g after %.10g)",
                           out[1 + i], out[i]);
            rc = -1;
        }
    }
    return rc;
}

int mf_session_parse_insert(const json_t *j, const char *path, const mf_session_t *names,
                            mf_diags_t *d, mf_insert_t *out)
{
    memset(out, 0, sizeof *out);
    out->sidechain.kind = MF_REF_NONE;
    out->aux = -1;
    if (mf_sess__expect(j, path, d, JSON_OBJECT, "an object")) return -1;
    const mf_processor_class_t *cls = s_class(j, path, d);
    if (!cls) return -1;
    return mf_sess__parse_insert_as(cls, j, path, names, d, out);
}

int mf_sess__parse_insert_as(const mf_processor_class_t *cls, const json_t *j, const char *path,
                             const mf_session_t *names, mf_diags_t *d, mf_insert_t *out)
{
    memset(out, 0, sizeof *out);
    out->sidechain.kind = MF_REF_NONE;
    out->aux = -1;
    if (mf_sess__expect(j, path, d, JSON_OBJECT, "an object")) return -1;
    out->cls = cls;
    int rc = 0;
    char p[MF_SESS_PATH_MAX];

    /* Lists first, then bands: together they decide how many values there
     * are (a list may set the band count). */
    const size_t lists_at = mf_processor_list_offset(cls, 0, 0);
    const size_t n_list_values = mf_processor_value_count(cls, 0) - lists_at;
    double *lists = calloc(n_list_values + 1, sizeof *lists);
    if (!lists) abort();
    double *sets_bands = NULL; /* the list that sets the band count, when valid */
    const char *lname = NULL;
    for (size_t l = 0; l < cls->n_lists; l++) {
        const mf_list_param_t *lp = &cls->lists[l];
        double *lv = lists + mf_processor_list_offset(cls, 0, l) - lists_at;
        mf_sess__path_key(p, path, lp->item.name);
        const int bad = s_parse_list(lp, json_object_get(j, lp->item.name), p, d, lv);
        if (bad) rc = -1;
        if (lp->sets_bands && !bad) sets_bands = lv, lname = lp->item.name;
    }
    const json_t *jb = json_object_get(j, "bands");
    mf_sess__path_key(p, path, "bands");
    if (jb) {
        if (!cls->band_params) {
            mf_diags_error(d, p, "%s has no bands", cls->type);
            rc = -1;
        } else if (mf_sess__expect(jb, p, d, JSON_ARRAY, "an array")) {
            rc = -1;
        } else if (json_array_size(jb) > cls->max_bands) {
            mf_diags_error(d, p, "%s takes at most %zu bands (got %zu)", cls->type, cls->max_bands,
                           json_array_size(jb));
            rc = -1;
        } else {
            out->nbands = json_array_size(jb);
        }
    }
    if (sets_bands) {
        const size_t want = (size_t)sets_bands[0] + 1;
        if (!jb) {
            out->nbands = want; /* default bands, one per region */
        } else if (json_is_array(jb) && out->nbands != want) {
            mf_diags_error(d, p, "%s takes one band more than %s has values (%zu bands; got %zu)",
                           cls->type, lname, want, json_array_size(jb));
            rc = -1;
            out->nbands = 0;
        }
    }
    out->n_values = mf_processor_value_count(cls, out->nbands);
    out->values = calloc(out->n_values ? out->n_values : 1, sizeof *out->values);
    if (!out->values) abort();
    s_fill_defaults(cls->params, cls->n_params, out->values);
    for (size_t b = 0; b < out->nbands; b++) {
        double *bv = out->values + cls->n_params + b * cls->n_band_params;
        s_fill_defaults(cls->band_params, cls->n_band_params, bv);
        char bp[MF_SESS_PATH_MAX];
        mf_sess__path_key(p, path, "bands");
        mf_sess__path_index(bp, p, b);
        if (jb && s_parse_band(cls, json_array_get(jb, b), bp, d, bv)) rc = -1;
    }
    memcpy(out->values + mf_processor_list_offset(cls, out->nbands, 0), lists,
           n_list_values * sizeof *lists);
    free(lists);

    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)j, key, v)
    {
        if (strcmp(key, "type") == 0 || strcmp(key, "bands") == 0 ||
            mf_processor_list_index(cls, key) >= 0)
            continue;
        mf_sess__path_key(p, path, key);
        if (cls->aux && strcmp(key, cls->aux->name) == 0)
            continue; /* the file is the caller's to check (mf_sess__parse_aux) */
        if (strcmp(key, "sidechain") == 0) {
            if (!cls->has_sidechain) {
                mf_diags_error(d, p, "%s takes no sidechain", cls->type);
                rc = -1;
            } else if (names) {
                out->sidechain =
                    mf_sess__ref(names, v, p, d, 1, 1, 0, "a sidechain source is a track or a bus");
                if (out->sidechain.kind == MF_REF_NONE) rc = -1;
            } else {
                const char *src;
                if (mf_sess__string(v, p, d, &src)) rc = -1;
            }
            continue;
        }
        int idx = mf_processor_param_index(cls, 0, key);
        if (idx < 0) {
            s_unknown_param(cls, 0, key, p, d);
            rc = -1;
            continue;
        }
        if (mf_sess__param_value(&cls->params[idx], v, p, d, &out->values[idx])) rc = -1;
    }
    return rc;
}

void mf_session_insert_fini(mf_insert_t *ins)
{
    if (!ins) return;
    free(ins->values);
    memset(ins, 0, sizeof *ins);
}

/* A frequency an insert cannot act on at the session's rate: one at or
 * above half of it (a filter there is clamped just under it, a crossover
 * splits nothing). A warning, not an error: the session renders, but not
 * as written, which an 8 kHz or 22.05 kHz session meets with settings made
 * at 48 kHz. Static values only; automation goes through the same clamp. */
static void s_warn_hz(const mf_param_desc_t *p, double v, const char *path, double rate,
                      mf_diags_t *d)
{
    if (!p->unit || strcmp(p->unit, "Hz") || !(v >= rate / 2.0)) return;
    mf_diags_warn(d, path,
                  "%.10g Hz is at or above half the session's sample rate (%.10g Hz at %.10g Hz): "
                  "nothing there to act on; it works at the highest frequency the rate allows",
                  v, rate / 2.0, rate);
}

void mf_sess__check_insert_rate(const mf_insert_t *ins, const char *path, double rate,
                                mf_diags_t *d)
{
    const mf_processor_class_t *cls = ins->cls;
    if (!cls || !ins->values || rate <= 0) return;
    char p[MF_SESS_PATH_MAX], bp[MF_SESS_PATH_MAX], key[MF_SESS_PATH_MAX];
    for (size_t i = 0; i < cls->n_params; i++) {
        mf_sess__path_key(p, path, cls->params[i].name);
        s_warn_hz(&cls->params[i], ins->values[i], p, rate, d);
    }
    mf_sess__path_key(key, path, "bands");
    for (size_t b = 0; b < ins->nbands; b++) {
        mf_sess__path_index(bp, key, b);
        for (size_t i = 0; i < cls->n_band_params; i++) {
            mf_sess__path_key(p, bp, cls->band_params[i].name);
            s_warn_hz(&cls->band_params[i], ins->values[cls->n_params + b * cls->n_band_params + i],
                      p, rate, d);
        }
    }
    for (size_t l = 0; l < cls->n_lists; l++) {
        const double *at = ins->values + mf_processor_list_offset(cls, ins->nbands, l);
        mf_sess__path_key(key, path, cls->lists[l].item.name);
        for (size_t k = 0; k < (size_t)at[0]; k++) {
            mf_sess__path_index(p, key, k);
            s_warn_hz(&cls->lists[l].item, at[1 + k], p, rate, d);
        }
    }
}
