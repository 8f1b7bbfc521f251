#include "mf_params.h"
#include "mf_limits.h"
#include "mf_task.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17))

static json_t *s_curve_json(const mf_curve_t *c)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < c->n; i++)
        json_array_append_new(a, json_pack("[ff]", c->pts[i].t, c->pts[i].v));
    return a;
}

static json_t *s_insert_json(const mf_insert_spec_t *in)
{
    json_t *values = json_array(), *autos = json_array();
    for (size_t i = 0; i < in->n_values; i++)
        json_array_append_new(values, json_real(in->values[i]));
    for (size_t i = 0; i < in->n_autos; i++)
        json_array_append_new(autos, json_pack("{s:i,s:o}", "param", in->autos[i].param, "curve",
                                               s_curve_json(&in->autos[i].curve)));
    json_t *o = json_pack("{s:s,s:o,s:I,s:i,s:o}", "type", in->cls->type, "values", values, "bands",
                          (json_int_t)in->nbands, "key", in->key, "auto", autos);
    if (o && in->aux >= 0) json_object_set_new(o, "aux", json_integer(in->aux));
    return o;
}

static char *s_dump(json_t *j)
{
    char *text = j ? json_dumps(j, DUMP_FLAGS) : NULL;
    json_decref(j);
    return text;
}

static json_t *s_decode_json(const mf_decode_spec_t *d)
{
    json_t *o = json_pack("{s:f,s:f,s:f,s:i}", "from_s", d->from_s, "length_s", d->length_s,
                          "start_s", d->start_s, "rate", d->rate);
    if (o && d->stereo) /* only then: every other decode keeps its key */
        json_object_set_new(o, "stereo", json_true());
    return o;
}

static json_t *s_in_gains_json(const mf_chan_spec_t *c)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < c->sum; i++) {
        const mf_in_gain_t *g = &c->in_gains[i];
        json_array_append_new(a, g->set ? json_pack("{s:f,s:f,s:f,s:f}", "pan", g->pan,
                                                    "pan_law_db", g->pan_law_db, "fader_db",
                                                    g->fader_db, "level_db", g->level_db)
                                        : json_null());
    }
    return a;
}

char *mf_chan_spec_to_json(const mf_chan_spec_t *c)
{
    json_t *inserts = json_array(), *outs = json_array();
    for (size_t i = 0; i < c->n_inserts; i++)
        json_array_append_new(inserts, s_insert_json(&c->inserts[i]));
    for (size_t i = 0; i < c->n_outputs; i++)
        json_array_append_new(outs, json_pack("{s:b,s:f,s:o}", "pre_fader", c->outputs[i].pre_fader,
                                              "level_db", c->outputs[i].level_db, "auto",
                                              s_curve_json(&c->outputs[i].curve)));
    json_t *o = json_pack(
        "{s:i,s:f,s:f,s:b,s:f,s:o,s:f,s:o,s:o,s:I,s:o}", "rate", c->rate, "tempo_bpm", c->tempo_bpm,
        "pan_law_db", c->pan_law_db, "invert", c->invert, "gain_db", c->gain_db, "gain_auto",
        s_curve_json(&c->gain_curve), "pan", c->pan, "pan_auto", s_curve_json(&c->pan_curve),
        "inserts", inserts, "sum", (json_int_t)c->sum, "outputs", outs);
    if (o && c->has_decode) json_object_set_new(o, "decode", s_decode_json(&c->decode));
    /* Only when used, so that the keys of every other channel stay as they were. */
    if (o && c->unpanned) json_object_set_new(o, "unpanned", json_true());
    if (o && c->in_gains) json_object_set_new(o, "in_gains", s_in_gains_json(c));
    return s_dump(o);
}

char *mf_decode_spec_to_json(const mf_decode_spec_t *d)
{
    return s_dump(s_decode_json(d));
}

/* ---- parsing: every field checked, since a peer may send anything ---- */

#define FAIL(msg)                                                                                  \
    do {                                                                                           \
        *why = (msg);                                                                              \
        goto fail;                                                                                 \
    } while (0)

static int s_curve_from(json_t *a, mf_curve_t *c)
{
    memset(c, 0, sizeof *c);
    if (!json_is_array(a) || json_array_size(a) > MF_LIMIT_AUTO_POINTS) return -1;
    c->n = json_array_size(a);
    if (c->n == 0) return 0;
    c->pts = calloc(c->n, sizeof *c->pts);
    if (!c->pts) return -1;
    for (size_t i = 0; i < c->n; i++) {
        json_t *p = json_array_get(a, i);
        if (!json_is_array(p) || json_array_size(p) != 2 || !json_is_number(json_array_get(p, 0)) ||
            !json_is_number(json_array_get(p, 1)))
            return -1;
        c->pts[i].t = json_number_value(json_array_get(p, 0));
        c->pts[i].v = json_number_value(json_array_get(p, 1));
        if (!isfinite(c->pts[i].t) || (i > 0 && c->pts[i].t < c->pts[i - 1].t)) return -1;
    }
    return 0;
}

static int s_num(json_t *o, const char *k, double *v)
{
    json_t *x = json_object_get(o, k);
    if (!json_is_number(x)) return -1;
    *v = json_number_value(x);
    return isfinite(*v) ? 0 : -1;
}

int mf_params_insert_values(const json_t *o, const mf_processor_class_t **cls, double **values,
                            size_t *n_values, size_t *nbands)
{
    const json_t *type = json_object_get(o, "type"), *vals = json_object_get(o, "values");
    const json_t *bands = json_object_get(o, "bands");
    *cls = json_is_string(type) ? mf_processor_find(json_string_value(type)) : NULL;
    if (!*cls || !json_is_array(vals) || !json_is_integer(bands)) return -1;
    json_int_t nb = json_integer_value(bands);
    if (nb < 0 || (size_t)nb > (*cls)->max_bands) return -1;
    *nbands = (size_t)nb;
    *n_values = mf_processor_value_count(*cls, *nbands);
    if (json_array_size(vals) != *n_values) return -1;
    *values = calloc(*n_values + 1, sizeof **values);
    if (!*values) return -1;
    for (size_t i = 0; i < *n_values; i++) {
        const json_t *v = json_array_get(vals, i);
        if (!json_is_number(v)) return -1;
        (*values)[i] = json_number_value(v);
    }
    return 0;
}

static int s_insert_from(json_t *o, mf_insert_spec_t *in, size_t n_inputs_limit)
{
    memset(in, 0, sizeof *in);
    in->key = -1;
    in->aux = -1;
    json_t *key = json_object_get(o, "key"), *autos = json_object_get(o, "auto");
    if (!json_is_integer(key) || !json_is_array(autos) ||
        mf_params_insert_values(o, &in->cls, &in->values, &in->n_values, &in->nbands))
        return -1;
    json_int_t k = json_integer_value(key);
    if (k < -1 || k >= (json_int_t)n_inputs_limit) return -1;
    in->key = (int)k;
    json_t *aux = json_object_get(o, "aux"); /* absent: none; present: an input */
    if (aux) {
        if (!json_is_integer(aux) || json_integer_value(aux) < 0 ||
            json_integer_value(aux) >= (json_int_t)n_inputs_limit || !in->cls->aux)
            return -1;
        in->aux = (int)json_integer_value(aux);
    }
    in->n_autos = json_array_size(autos);
    if (in->n_autos > in->n_values) return -1; /* one curve per parameter at most */
    in->autos = calloc(in->n_autos ? in->n_autos : 1, sizeof *in->autos);
    if (!in->autos) return -1;
    for (size_t i = 0; i < in->n_autos; i++) {
        json_t *a = json_array_get(autos, i), *param = json_object_get(a, "param");
        if (!json_is_integer(param) || json_integer_value(param) < 0 ||
            json_integer_value(param) >= (json_int_t)in->n_values)
            return -1;
        in->autos[i].param = (int)json_integer_value(param);
        if (s_curve_from(json_object_get(a, "curve"), &in->autos[i].curve) != 0) return -1;
    }
    return 0;
}

/* All the channel's curves: bounded together, as the session's validator
 * bounds a channel's automation. */
static size_t s_chan_points(const mf_chan_spec_t *c)
{
    size_t n = c->gain_curve.n + c->pan_curve.n;
    for (size_t i = 0; i < c->n_outputs; i++) n += c->outputs[i].curve.n;
    for (size_t i = 0; i < c->n_inserts; i++)
        for (size_t j = 0; j < c->inserts[i].n_autos; j++) n += c->inserts[i].autos[j].curve.n;
    return n;
}

/* NULL when d is good, else why not. */
static const char *s_decode_from(json_t *o, mf_decode_spec_t *d)
{
    double rate;
    if (!json_is_object(o)) return "parameters are not a JSON object";
    if (s_num(o, "from_s", &d->from_s) || s_num(o, "length_s", &d->length_s) ||
        s_num(o, "start_s", &d->start_s) || s_num(o, "rate", &rate))
        return "missing or bad number";
    /* Negative length_s: to the end of the file. */
    if (rate < MF_LIMIT_RATE_MIN || rate > MF_LIMIT_RATE_MAX || d->from_s < 0 ||
        d->from_s > MF_LIMIT_TIME_S || d->start_s < 0 || d->start_s > MF_LIMIT_TIME_S ||
        d->length_s > MF_LIMIT_TIME_S)
        return "out of range";
    d->rate = (int)rate;
    const json_t *st = json_object_get(o, "stereo");
    if (st && !json_is_boolean(st)) return "bad stereo";
    d->stereo = json_is_true(st);
    return NULL;
}

static int s_in_gains_from(const json_t *a, mf_chan_spec_t *c)
{
    if (!a) return 0;
    if (!json_is_array(a) || json_array_size(a) != c->sum) return -1;
    if (!(c->in_gains = calloc(c->sum ? c->sum : 1, sizeof *c->in_gains))) return -1;
    for (size_t i = 0; i < c->sum; i++) {
        json_t *e = json_array_get(a, i);
        mf_in_gain_t *g = &c->in_gains[i];
        if (json_is_null(e)) continue;
        if (!json_is_object(e) || s_num(e, "pan", &g->pan) || g->pan < -1 || g->pan > 1 ||
            s_num(e, "pan_law_db", &g->pan_law_db) || s_num(e, "fader_db", &g->fader_db) ||
            s_num(e, "level_db", &g->level_db))
            return -1;
        g->set = 1;
    }
    return 0;
}

mf_err_t mf_chan_spec_from_json(const char *text, mf_chan_spec_t *c, const char **why)
{
    memset(c, 0, sizeof *c);
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    double rate, sum;
    if (!json_is_object(o)) FAIL("parameters are not a JSON object");
    if (s_num(o, "rate", &rate) || rate < MF_LIMIT_RATE_MIN || rate > MF_LIMIT_RATE_MAX)
        FAIL("bad rate");
    c->rate = (int)rate;
    if (s_num(o, "tempo_bpm", &c->tempo_bpm) || s_num(o, "pan_law_db", &c->pan_law_db) ||
        s_num(o, "gain_db", &c->gain_db) || s_num(o, "pan", &c->pan) || s_num(o, "sum", &sum))
        FAIL("missing or bad number");
    if (sum < 0 || sum > MF_TASK_MAX_INPUTS) FAIL("bad sum");
    c->sum = (size_t)sum;
    c->invert = json_is_true(json_object_get(o, "invert"));
    if (s_curve_from(json_object_get(o, "gain_auto"), &c->gain_curve) ||
        s_curve_from(json_object_get(o, "pan_auto"), &c->pan_curve))
        FAIL("bad automation curve");
    json_t *ins = json_object_get(o, "inserts"), *outs = json_object_get(o, "outputs");
    if (!json_is_array(ins) || !json_is_array(outs) || json_array_size(ins) > MF_LIMIT_INSERTS ||
        json_array_size(outs) > 1 + MF_LIMIT_SENDS) /* the output, then the sends */
        FAIL("bad inserts or outputs");
    c->n_inserts = json_array_size(ins);
    c->inserts = calloc(c->n_inserts ? c->n_inserts : 1, sizeof *c->inserts);
    c->n_outputs = json_array_size(outs);
    c->outputs = calloc(c->n_outputs ? c->n_outputs : 1, sizeof *c->outputs);
    if (!c->inserts || !c->outputs) FAIL("out of memory");
    for (size_t i = 0; i < c->n_inserts; i++)
        if (s_insert_from(json_array_get(ins, i), &c->inserts[i], MF_TASK_MAX_INPUTS))
            FAIL("bad insert");
    for (size_t i = 0; i < c->n_outputs; i++) {
        json_t *out = json_array_get(outs, i);
        c->outputs[i].pre_fader = json_is_true(json_object_get(out, "pre_fader"));
        if (s_num(out, "level_db", &c->outputs[i].level_db) ||
            s_curve_from(json_object_get(out, "auto"), &c->outputs[i].curve))
            FAIL("bad output");
    }
    if (s_chan_points(c) > MF_LIMIT_AUTO_POINTS) FAIL("too many automation points");
    json_t *dec = json_object_get(o, "decode");
    if (dec) {
        const char *bad = s_decode_from(dec, &c->decode);
        if (bad) FAIL(bad);
        if (c->decode.rate != c->rate || c->sum != 1) FAIL("a strip's decode is at its rate");
        c->has_decode = 1;
    }
    c->unpanned = json_is_true(json_object_get(o, "unpanned"));
    if (c->unpanned && (c->n_outputs != 1 || c->outputs[0].level_db != 0.0 ||
                        c->outputs[0].curve.n || c->gain_curve.n || c->pan_curve.n))
        FAIL("an unpanned channel has one plain output");
    if (s_in_gains_from(json_object_get(o, "in_gains"), c)) FAIL("bad in_gains");
    json_decref(o);
    return MF_OK;
fail:
    json_decref(o);
    mf_chan_spec_fini(c);
    return MF_ERR_INVALID;
}

mf_err_t mf_decode_spec_from_json(const char *text, mf_decode_spec_t *d, const char **why)
{
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    *why = s_decode_from(o, d);
    json_decref(o);
    return *why ? MF_ERR_INVALID : MF_OK;
}

static void s_curve_fini(mf_curve_t *c)
{
    free(c->pts);
    memset(c, 0, sizeof *c);
}

void mf_chan_spec_fini(mf_chan_spec_t *c)
{
    free(c->in_gains);
    c->in_gains = NULL;
    for (size_t i = 0; c->inserts && i < c->n_inserts; i++) {
        mf_insert_spec_t *in = &c->inserts[i];
        for (size_t j = 0; in->autos && j < in->n_autos; j++) s_curve_fini(&in->autos[j].curve);
        free(in->autos);
        free(in->values);
    }
    for (size_t i = 0; c->outputs && i < c->n_outputs; i++) s_curve_fini(&c->outputs[i].curve);
    free(c->inserts);
    free(c->outputs);
    s_curve_fini(&c->gain_curve);
    s_curve_fini(&c->pan_curve);
    memset(c, 0, sizeof *c);
}
