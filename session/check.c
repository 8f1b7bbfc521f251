/* Key paths and the checks of single JSON values that every validator uses. */
#include "session_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void mf_sess__path_key(char *out, const char *base, const char *key)
{
    if (!base || !base[0])
        snprintf(out, MF_SESS_PATH_MAX, "%s", key);
    else
        snprintf(out, MF_SESS_PATH_MAX, "%s.%s", base, key);
}

void mf_sess__path_index(char *out, const char *base, size_t i)
{
    snprintf(out, MF_SESS_PATH_MAX, "%s[%zu]", base, i);
}

void mf_sess__path_quoted(char *out, const char *base, const char *key)
{
    snprintf(out, MF_SESS_PATH_MAX, "%s[\"%s\"]", base, key);
}

const char *mf_sess__type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "value";
}

int mf_sess__number(const json_t *v, const char *path, mf_diags_t *d, double min, double max,
                    int allow_neg_inf, double *out)
{
    if (allow_neg_inf && json_is_string(v) && strcmp(json_string_value(v), "-inf") == 0) {
        *out = -INFINITY;
        return 0;
    }
    if (!json_is_number(v)) {
        if (allow_neg_inf)
            mf_diags_error(d, path, "must be a number or \"-inf\" (got %s)", mf_sess__type_name(v));
        else
            mf_diags_error(d, path, "must be a number (got %s)", mf_sess__type_name(v));
        return -1;
    }
    double x = json_number_value(v);
    if (x < min) {
        mf_diags_error(d, path, "must be >= %.10g (got %.10g)", min, x);
        return -1;
    }
    if (x > max) {
        mf_diags_error(d, path, "must be <= %.10g (got %.10g)", max, x);
        return -1;
    }
    *out = x;
    return 0;
}

int mf_sess__int(const json_t *v, const char *path, mf_diags_t *d, long long min, long long max,
                 long long *out)
{
    if (!json_is_number(v)) {
        mf_diags_error(d, path, "must be a whole number (got %s)", mf_sess__type_name(v));
        return -1;
    }
    double x = json_number_value(v);
    if (json_is_real(v) && x != floor(x)) {
        mf_diags_error(d, path, "must be a whole number (got %.10g)", x);
        return -1;
    }
    if (x < (double)min) {
        mf_diags_error(d, path, "must be >= %lld (got %.10g)", min, x);
        return -1;
    }
    if (x > (double)max) {
        mf_diags_error(d, path, "must be <= %lld (got %.10g)", max, x);
        return -1;
    }
    *out = (long long)x;
    return 0;
}

int mf_sess__bool(const json_t *v, const char *path, mf_diags_t *d, int *out)
{
    if (!json_is_boolean(v)) {
        mf_diags_error(d, path, "must be true or false (got %s)", mf_sess__type_name(v));
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

int mf_sess__string_max(const json_t *v, const char *path, mf_diags_t *d, size_t max,
                        const char *what, const char **out)
{
    if (!json_is_string(v)) {
        mf_diags_error(d, path, "must be a string (got %s)", mf_sess__type_name(v));
        return -1;
    }
    if (json_string_length(v) == 0) {
        mf_diags_error(d, path, "must not be empty");
        return -1;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        mf_diags_error(d, path, "must not contain a NUL character");
        return -1;
    }
    if (json_string_length(v) > max) {
        mf_diags_error(d, path, "%zu bytes long, at most %zu (%s)", json_string_length(v), max,
                       what);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

int mf_sess__string(const json_t *v, const char *path, mf_diags_t *d, const char **out)
{
    return mf_sess__string_max(v, path, d, MF_LIMIT_STRING_BYTES, "a path or a reference", out);
}

int mf_sess__count(const json_t *array, const char *path, mf_diags_t *d, size_t max,
                   const char *items)
{
    const size_t n = json_array_size(array);
    if (n <= max) return 0;
    mf_diags_error(d, path, "%zu %s, at most %zu", n, items, max);
    return -1;
}

int mf_sess__expect(const json_t *v, const char *path, mf_diags_t *d, int type, const char *what)
{
    if (json_typeof(v) == (json_type)type) return 0;
    mf_diags_error(d, path, "must be %s (got %s)", what, mf_sess__type_name(v));
    return -1;
}

void mf_sess__check_keys(const json_t *obj, const char *path, mf_diags_t *d,
                         const char *const *known)
{
    size_t n = 0;
    while (known[n]) n++;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        size_t i = 0;
        while (i < n && strcmp(known[i], key) != 0) i++;
        if (i < n) continue;
        char p[MF_SESS_PATH_MAX], hint[128];
        mf_sess__path_key(p, path, key);
        mf_diags_warn(d, p, "unknown key%s",
                      mf_sess__did_you_mean(hint, sizeof hint, key, known, n));
    }
}
