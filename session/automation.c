/* Automation: "automation": {target: [[time_s, value], ...]} on a channel.
 *
 * Targets (SESSION.md):
 *   gain_db                          the fader, -inf .. +24 dB
 *   pan                              -1 .. 1
 *   sends.<bus>.level_db             a send of this channel, by its bus's name
 *   inserts.<i>.<param>              a parameter of insert i
 *   inserts.<i>.bands.<j>.<param>    a parameter of band j of insert i
 *   inserts.<i>.<list>.<k>           item k of a list parameter (a crossover)
 * Indexes are plain decimal ("0", "12"; no sign, no leading zero), so one
 * target has one spelling. Choice parameters cannot be automated (there is
 * nothing between "peak" and "rms").
 *
 * Diagnostics name the target with the key quoted, since it holds dots:
 *   tracks[0].automation["inserts.3.freq_hz"]        the target itself
 *   tracks[0].automation["pan"][2][0]                time of point 2
 *   tracks[0].automation["pan"][2][1]                value of point 2 */
#include "session_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GAIN_DB 24.0

/* A resolved target and the range its values must lie in. */
typedef struct {
    mf_auto_kind_t kind;
    int index, param;
    double min, max;
    int neg_inf;
} target_t;

/* A decimal index at *p ending at '.' or the end: returns it and moves *p
 * past it, or -1. */
static long s_index(const char **p)
{
    const char *s = *p;
    if (s[0] < '0' || s[0] > '9') return -1;
    if (s[0] == '0' && s[1] >= '0' && s[1] <= '9') return -1;
    long v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s - '0');
        if (v > 1000000) return -1;
        s++;
    }
    if (*s != '.' && *s != '\0') return -1;
    *p = s;
    return v;
}

static void s_unknown_param(const mf_param_desc_t *p, size_t n, const char *name, const char *where,
                            const char *path, mf_diags_t *d)
{
    const char **names = calloc(n ? n : 1, sizeof *names);
    if (!names) abort();
    for (size_t i = 0; i < n; i++) names[i] = p[i].name;
    char hint[128];
    mf_diags_error(d, path, "%s has no parameter \"%s\"%s", where, name,
                   mf_sess__did_you_mean(hint, sizeof hint, name, names, n));
    free(names);
}

static int s_param_target(const mf_param_desc_t *desc, int position, const char *path,
                          mf_diags_t *d, target_t *t)
{
    if (desc->choices) {
        mf_diags_error(d, path, "\"%s\" is a choice and cannot be automated", desc->name);
        return -1;
    }
    t->kind = MF_AUTO_INSERT_PARAM;
    t->param = position;
    t->min = desc->min;
    t->max = desc->max;
    t->neg_inf = mf_sess__param_allows_neg_inf(desc);
    return 0;
}

/* The list of cls named by the len characters at name, or -1. */
static int s_list_index(const mf_processor_class_t *cls, const char *name, size_t len)
{
    for (size_t l = 0; l < cls->n_lists; l++)
        if (strlen(cls->lists[l].item.name) == len &&
            strncmp(cls->lists[l].item.name, name, len) == 0)
            return (int)l;
    return -1;
}

static int s_insert_target(const mf_channel_t *ch, const char *key, const char *what,
                           const char *path, mf_diags_t *d, target_t *t)
{
    const char *p = key + strlen("inserts.");
    long i = s_index(&p);
    if (i < 0 || *p != '.' || !p[1]) return 1;
    p++;
    if ((size_t)i >= ch->n_inserts) {
        mf_diags_error(d, path, "no insert %ld (the %s has %zu)", i, what, ch->n_inserts);
        return -1;
    }
    const mf_insert_t *ins = &ch->inserts[i];
    const mf_processor_class_t *cls = ins->cls;
    if (!cls) return -1; /* its unknown type is reported already */
    t->index = (int)i;
    char where[128];
    if (strncmp(p, "bands.", 6) == 0) {
        p += 6;
        long b = s_index(&p);
        if (b < 0 || *p != '.' || !p[1]) return 1;
        p++;
        if (!cls->band_params) {
            mf_diags_error(d, path, "insert %ld (%s) has no bands", i, cls->type);
            return -1;
        }
        if ((size_t)b >= ins->nbands) {
            mf_diags_error(d, path, "no band %ld (insert %ld has %zu)", b, i, ins->nbands);
            return -1;
        }
        int k = mf_processor_param_index(cls, 1, p);
        if (k < 0) {
            snprintf(where, sizeof where, "a band of %s", cls->type);
            s_unknown_param(cls->band_params, cls->n_band_params, p, where, path, d);
            return -1;
        }
        int pos = (int)(cls->n_params + (size_t)b * cls->n_band_params) + k;
        return s_param_target(&cls->band_params[k], pos, path, d, t);
    }
    const char *dot = strchr(p, '.');
    const int l = dot ? s_list_index(cls, p, (size_t)(dot - p)) : -1;
    if (l >= 0) {
        const char *q = dot + 1;
        long k = s_index(&q);
        if (k < 0 || *q) return 1;
        const size_t at = mf_processor_list_offset(cls, ins->nbands, (size_t)l);
        const size_t count = (size_t)ins->values[at];
        if ((size_t)k >= count) {
            mf_diags_error(d, path, "no item %ld in %s (insert %ld has %zu)", k,
                           cls->lists[l].item.name, i, count);
            return -1;
        }
        return s_param_target(&cls->lists[l].item, (int)(at + 1 + (size_t)k), path, d, t);
    }
    int k = mf_processor_param_index(cls, 0, p);
    if (k < 0) {
        if (mf_processor_list_index(cls, p) >= 0) {
            mf_diags_error(d, path, "\"%s\" is a list: use inserts.%ld.%s.<k>", p, i, p);
        } else if (cls->band_params && mf_processor_param_index(cls, 1, p) >= 0) {
            mf_diags_error(d, path, "\"%s\" is a band parameter: use inserts.%ld.bands.<j>.%s", p,
                           i, p);
        } else {
            snprintf(where, sizeof where, "insert %ld (%s)", i, cls->type);
            s_unknown_param(cls->params, cls->n_params, p, where, path, d);
        }
        return -1;
    }
    return s_param_target(&cls->params[k], k, path, d, t);
}

static int s_send_target(const mf_channel_t *ch, const json_t *jsends, const char *key,
                         const char *what, const char *path, mf_diags_t *d, target_t *t)
{
    size_t lk = strlen(key), lp = strlen("sends."), ls = strlen(".level_db");
    if (lk <= lp + ls || strcmp(key + lk - ls, ".level_db") != 0) return 1;
    size_t nb = lk - lp - ls;
    const char *bus = key + lp;
    size_t n = jsends ? json_array_size(jsends) : 0;
    const char **names = calloc(n ? n : 1, sizeof *names);
    if (!names) abort();
    for (size_t k = 0; k < n; k++) {
        const char *b = json_string_value(json_object_get(json_array_get(jsends, k), "bus"));
        names[k] = b;
        if (b && strlen(b) == nb && strncmp(b, bus, nb) == 0 && k < ch->n_sends) {
            free(names);
            t->kind = MF_AUTO_SEND_LEVEL;
            t->index = (int)k;
            t->min = -INFINITY;
            t->max = MAX_GAIN_DB;
            t->neg_inf = 1;
            return 0;
        }
    }
    char name[MF_SESS_PATH_MAX], hint[MF_SESS_PATH_MAX];
    snprintf(name, sizeof name, "%.*s", (int)nb, bus);
    mf_diags_error(d, path, "the %s has no send to \"%s\"%s", what, name,
                   mf_sess__did_you_mean(hint, sizeof hint, name, names, n));
    free(names);
    return -1;
}

/* Resolves key into t: 0, or -1 after reporting why not. */
static int s_target(const mf_channel_t *ch, const json_t *jsends, const char *key, const char *what,
                    const char *path, mf_diags_t *d, target_t *t)
{
    memset(t, 0, sizeof *t);
    int rc = 1;
    if (strcmp(key, "gain_db") == 0) {
        t->kind = MF_AUTO_GAIN;
        t->min = -INFINITY;
        t->max = MAX_GAIN_DB;
        t->neg_inf = 1;
        return 0;
    }
    if (strcmp(key, "pan") == 0) {
        t->kind = MF_AUTO_PAN;
        t->min = -1.0;
        t->max = 1.0;
        return 0;
    }
    if (strncmp(key, "sends.", 6) == 0) {
        if (strcmp(what, "master") == 0) {
            mf_diags_error(d, path, "the master has no sends");
            return -1;
        }
        rc = s_send_target(ch, jsends, key, what, path, d, t);
    } else if (strncmp(key, "inserts.", 8) == 0) {
        rc = s_insert_target(ch, key, what, path, d, t);
    }
    if (rc <= 0) return rc;
    static const char *const simple[] = {"gain_db", "pan"};
    char hint[128];
    mf_diags_error(d, path,
                   "unknown automation target%s; expected gain_db, pan, sends.<bus>.level_db, "
                   "inserts.<i>.<param> or inserts.<i>.bands.<j>.<param>",
                   mf_sess__did_you_mean(hint, sizeof hint, key, simple, 2));
    return -1;
}

static int s_points(const json_t *j, const target_t *t, const char *path, mf_diags_t *d,
                    mf_automation_t *a)
{
    if (!json_is_array(j)) {
        mf_diags_error(d, path, "must be an array of [time_s, value] points (got %s)",
                       mf_sess__type_name(j));
        return -1;
    }
    size_t n = json_array_size(j);
    if (n == 0) {
        mf_diags_error(d, path, "needs at least one [time_s, value] point");
        return -1;
    }
    if (n > MF_LIMIT_AUTO_POINTS) {
        mf_diags_error(d, path, "%zu points, at most %d", n, MF_LIMIT_AUTO_POINTS);
        return -1;
    }
    a->pts = calloc(n, sizeof *a->pts);
    if (!a->pts) abort();
    a->n = n;
    int rc = 0;
    double prev = -1.0;
    size_t same = 0; /* points so far at time prev */
    for (size_t k = 0; k < n; k++) {
        char pp[MF_SESS_PATH_MAX], tp[MF_SESS_PATH_MAX], vp[MF_SESS_PATH_MAX];
        mf_sess__path_index(pp, path, k);
        const json_t *pt = json_array_get(j, k);
        if (!json_is_array(pt) || json_array_size(pt) != 2) {
            mf_diags_error(d, pp, "must be a [time_s, value] pair (got %s%s)",
                           json_is_array(pt) ? "an array of " : "", mf_sess__type_name(pt));
            rc = -1;
            continue;
        }
        mf_sess__path_index(tp, pp, 0);
        mf_sess__path_index(vp, pp, 1);
        double time, value;
        if (mf_sess__number(json_array_get(pt, 0), tp, d, 0.0, MF_LIMIT_TIME_S, 0, &time) == 0) {
            if (time < prev) {
                mf_diags_error(d, tp, "times must not go backwards (%.10g after %.10g)", time,
                               prev);
                rc = -1;
            } else {
                same = time == prev ? same + 1 : 1;
                if (same > 2) {
                    mf_diags_error(d, tp,
                                   "a third point at %.10g s (two at one time make a step; "
                                   "three are ambiguous)",
                                   time);
                    rc = -1;
                }
                prev = time;
            }
            a->pts[k].t = time;
        } else {
            rc = -1;
        }
        if (mf_sess__number(json_array_get(pt, 1), vp, d, t->min, t->max, t->neg_inf, &value))
            rc = -1;
        else
            a->pts[k].v = value;
    }
    return rc;
}

/* All of a channel's lanes travel in its one task (see mf_limits.h). */
static int s_check_channel_points(const mf_channel_t *ch, const char *path, mf_diags_t *d)
{
    size_t n = 0;
    for (size_t i = 0; i < ch->n_autos; i++) n += ch->autos[i].n;
    if (n <= MF_LIMIT_AUTO_POINTS) return 0;
    mf_diags_error(d, path, "%zu points in all, at most %d on one channel", n,
                   MF_LIMIT_AUTO_POINTS);
    return -1;
}

int mf_sess__parse_automation(const mf_session_t *s, mf_channel_t *ch, const json_t *j,
                              const json_t *jsends, const char *path, const char *what,
                              mf_diags_t *d)
{
    (void)s;
    char p[MF_SESS_PATH_MAX];
    mf_sess__path_key(p, path, "automation");
    if (mf_sess__expect(j, p, d, JSON_OBJECT, "an object")) return -1;
    size_t n = json_object_size(j);
    if (n > MF_LIMIT_AUTO_LANES) {
        mf_diags_error(d, p, "%zu automated parameters, at most %d", n, MF_LIMIT_AUTO_LANES);
        return -1;
    }
    ch->autos = calloc(n ? n : 1, sizeof *ch->autos);
    if (!ch->autos) abort();
    int rc = 0;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)j, key, v)
    {
        char kp[MF_SESS_PATH_MAX];
        mf_sess__path_quoted(kp, p, key);
        target_t t;
        if (s_target(ch, jsends, key, what, kp, d, &t)) {
            rc = -1;
            continue;
        }
        mf_automation_t a = {.kind = t.kind, .index = t.index, .param = t.param};
        if (s_points(v, &t, kp, d, &a)) {
            mf_sess__automation_fini(&a);
            rc = -1;
            continue;
        }
        a.path = strdup(key);
        if (!a.path) abort();
        ch->autos[ch->n_autos++] = a;
    }
    if (s_check_channel_points(ch, p, d)) rc = -1;
    return rc;
}

void mf_sess__automation_fini(mf_automation_t *a)
{
    free(a->path);
    free(a->pts);
    memset(a, 0, sizeof *a);
}
