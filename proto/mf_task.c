#include "mf_task.h"
#include "mixfarm.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mf_task_fini(mf_task_t *t)
{
    for (size_t i = 0; i < t->n_inlined; i++) mf_task_fini(&t->inlined[i]);
    free(t->inlined);
    free(t->kind);
    free(t->params);
    free(t->inputs);
    free(t->numerics);
    memset(t, 0, sizeof *t);
}

void mf_task_result_fini(mf_task_result_t *r)
{
    free(r->outputs);
    free(r->error);
    memset(r, 0, sizeof *r);
}

void mf_task_key(const mf_task_t *t, mf_hash_t *key)
{
    mf_hasher_t *h = mf_hasher_new();
    if (!h) abort();
    /* NUL separators keep field boundaries unambiguous. */
    mf_hasher_update(h, MF_ENGINE_VERSION, sizeof MF_ENGINE_VERSION);
    const char *numerics = t->numerics ? t->numerics : "";
    mf_hasher_update(h, numerics, strlen(numerics) + 1);
    mf_hasher_update(h, t->kind, strlen(t->kind) + 1);
    mf_hasher_update(h, t->params, strlen(t->params) + 1);
    for (size_t i = 0; i < t->n_inputs; i++) mf_hasher_update(h, t->inputs[i].hex, MF_HASH_HEX);
    mf_hasher_final(h, key);
    mf_hasher_free(&h);
}

void mf_task_output_name(const mf_hash_t *key, size_t index, mf_hash_t *out)
{
    char text[32 + MF_HASH_HEX + 24];
    int n = snprintf(text, sizeof text, "mixfarm-output%c%s%c%zu", 0, key->hex, 0, index);
    mf_hash_bytes(text, (size_t)n, out);
}

int mf_task_inlined_for(const mf_task_t *t, size_t k)
{
    for (size_t i = 0; i < t->n_inlined; i++) {
        mf_hash_t name;
        mf_task_output_name(&t->inlined[i].key, 0, &name);
        if (!strcmp(name.hex, t->inputs[k].hex)) return (int)i;
    }
    return -1;
}

static char **s_hex_array(const mf_hash_t *hs, size_t n)
{
    char **a = malloc((n ? n : 1) * sizeof *a);
    if (a)
        for (size_t i = 0; i < n; i++) a[i] = (char *)hs[i].hex;
    return a;
}

static mf_err_t s_hashes_from(char **hex, size_t n, size_t max, mf_hash_t **out)
{
    if (n > max) return MF_ERR_PROTOCOL;
    *out = calloc(n ? n : 1, sizeof **out);
    if (!*out) return MF_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!mf_hash_valid(hex[i])) {
            free(*out);
            *out = NULL;
            return MF_ERR_PROTOCOL;
        }
        memcpy((*out)[i].hex, hex[i], MF_HASH_HEX);
    }
    return MF_OK;
}

/* m's fields from t's, t's key in *key (computed when t has none). */
static int s_to_pb(const mf_task_t *t, Mixfarm__Task *m, mf_hash_t *key)
{
    mixfarm__task__init(m);
    if (t->key.hex[0])
        *key = t->key;
    else
        mf_task_key(t, key);
    m->version = MF_PROTOCOL_VERSION;
    m->id = t->id;
    m->kind = t->kind;
    m->params = t->params;
    m->key = key->hex;
    m->numerics = t->numerics ? t->numerics : "";
    m->unread = t->unread;
    m->n_inputs = t->n_inputs;
    m->inputs = s_hex_array(t->inputs, t->n_inputs);
    return m->inputs ? 0 : -1;
}

int mf_task_to_pb(const mf_task_t *t, Mixfarm__Task *m, mf_hash_t *key)
{
    if (s_to_pb(t, m, key) != 0) return -1;
    if (!t->n_inlined) return 0;
    Mixfarm__InlinedTask *sub = calloc(t->n_inlined, sizeof *sub);
    if (!sub || !(m->inlined = calloc(t->n_inlined, sizeof *m->inlined))) {
        free(sub);
        mf_task_pb_fini(m);
        return -1;
    }
    m->n_inlined = t->n_inlined;
    for (size_t i = 0; i < t->n_inlined; i++) {
        const mf_task_t *x = &t->inlined[i];
        Mixfarm__InlinedTask *y = m->inlined[i] = &sub[i];
        mixfarm__inlined_task__init(y);
        y->kind = x->kind;
        y->params = x->params;
        y->key = (char *)x->key.hex; /* set, and borrowed */
        y->numerics = x->numerics ? x->numerics : "";
        y->n_inputs = x->n_inputs;
        y->inputs = s_hex_array(x->inputs, x->n_inputs);
        if (!y->inputs || !x->key.hex[0]) {
            mf_task_pb_fini(m);
            return -1;
        }
    }
    return 0;
}

void mf_task_pb_fini(Mixfarm__Task *m)
{
    for (size_t i = 0; i < m->n_inlined; i++) free(m->inlined[i]->inputs);
    if (m->n_inlined) free(m->inlined[0]); /* the array of them all */
    free(m->inlined);
    free(m->inputs);
    m->inlined = NULL, m->n_inlined = 0, m->inputs = NULL;
}

uint8_t *mf_task_pack(const mf_task_t *t, size_t *len)
{
    Mixfarm__Task m;
    mf_hash_t key;
    if (mf_task_to_pb(t, &m, &key) != 0) return NULL;
    uint8_t *buf = malloc(mixfarm__task__get_packed_size(&m) + 1);
    if (buf) *len = mixfarm__task__pack(&m, buf);
    mf_task_pb_fini(&m);
    return buf;
}

mf_err_t mf_task_unpack(const uint8_t *buf, size_t len, mf_task_t *out)
{
    memset(out, 0, sizeof *out);
    Mixfarm__Task *m = mixfarm__task__unpack(NULL, len, buf);
    if (!m) return MF_ERR_PROTOCOL;
    mf_err_t err = mf_task_from_pb(m, out);
    mixfarm__task__free_unpacked(m, NULL);
    return err;
}

/* The fields a task and an inlined one share, its key checked. */
static mf_err_t s_fields_from(const char *kind, const char *params, char **inputs, size_t n_inputs,
                              const char *key, const char *numerics, mf_task_t *out)
{
    if (!kind[0]) return MF_ERR_PROTOCOL;
    mf_err_t err = s_hashes_from(inputs, n_inputs, MF_TASK_MAX_INPUTS, &out->inputs);
    if (err != MF_OK) return err;
    out->n_inputs = n_inputs;
    out->kind = strdup(kind);
    out->params = strdup(params);
    out->numerics = numerics[0] ? strdup(numerics) : NULL;
    if (!out->kind || !out->params || (numerics[0] && !out->numerics)) return MF_ERR_NOMEM;
    /* The key is derived; one that does not match means a confused peer. */
    mf_task_key(out, &out->key);
    return strcmp(out->key.hex, key) == 0 ? MF_OK : MF_ERR_PROTOCOL;
}

/* Inlined task i of out was read: it must make one of out's inputs. */
static mf_err_t s_feeds(const mf_task_t *out, size_t i)
{
    mf_hash_t name;
    mf_task_output_name(&out->inlined[i].key, 0, &name);
    for (size_t k = 0; k < out->n_inputs; k++)
        if (!strcmp(out->inputs[k].hex, name.hex)) return MF_OK;
    return MF_ERR_PROTOCOL;
}

mf_err_t mf_task_from_pb(const Mixfarm__Task *m, mf_task_t *out)
{
    memset(out, 0, sizeof *out);
    mf_err_t err =
        m->version == MF_PROTOCOL_VERSION
            ? s_fields_from(m->kind, m->params, m->inputs, m->n_inputs, m->key, m->numerics, out)
            : MF_ERR_PROTOCOL;
    out->id = m->id;
    out->unread = m->unread;
    if (err == MF_OK && m->n_inlined > MF_TASK_MAX_INPUTS) err = MF_ERR_PROTOCOL;
    if (err == MF_OK && m->n_inlined &&
        !(out->inlined = calloc(m->n_inlined, sizeof *out->inlined)))
        err = MF_ERR_NOMEM;
    for (size_t i = 0; err == MF_OK && i < m->n_inlined; i++, out->n_inlined++) {
        const Mixfarm__InlinedTask *y = m->inlined[i];
        err = s_fields_from(y->kind, y->params, y->inputs, y->n_inputs, y->key, y->numerics,
                            &out->inlined[i]);
        if (err == MF_OK) err = s_feeds(out, i);
    }
    if (err != MF_OK) mf_task_fini(out);
    return err;
}

int mf_task_result_to_pb(const mf_task_result_t *r, Mixfarm__TaskResult *m)
{
    mixfarm__task_result__init(m);
    m->version = MF_PROTOCOL_VERSION;
    m->id = r->id;
    m->seconds = r->seconds;
    m->audio_seconds = r->audio_seconds;
    m->error = r->error ? r->error : "";
    m->input_fault = r->error && r->input_fault;
    m->n_outputs = r->n_outputs;
    m->outputs = s_hex_array(r->outputs, r->n_outputs);
    return m->outputs ? 0 : -1;
}

uint8_t *mf_task_result_pack(const mf_task_result_t *r, size_t *len)
{
    Mixfarm__TaskResult m;
    if (mf_task_result_to_pb(r, &m) != 0) return NULL;
    uint8_t *buf = malloc(mixfarm__task_result__get_packed_size(&m) + 1);
    if (buf) *len = mixfarm__task_result__pack(&m, buf);
    free(m.outputs);
    return buf;
}

mf_err_t mf_task_result_unpack(const uint8_t *buf, size_t len, mf_task_result_t *out)
{
    memset(out, 0, sizeof *out);
    Mixfarm__TaskResult *m = mixfarm__task_result__unpack(NULL, len, buf);
    if (!m) return MF_ERR_PROTOCOL;
    mf_err_t err = mf_task_result_from_pb(m, out);
    mixfarm__task_result__free_unpacked(m, NULL);
    return err;
}

mf_err_t mf_task_result_from_pb(const Mixfarm__TaskResult *m, mf_task_result_t *out)
{
    memset(out, 0, sizeof *out);
    mf_err_t err = MF_ERR_PROTOCOL;
    if (m->version != MF_PROTOCOL_VERSION) goto done;
    err = s_hashes_from(m->outputs, m->n_outputs, MF_TASK_MAX_OUTPUTS, &out->outputs);
    if (err != MF_OK) goto done;
    out->n_outputs = m->n_outputs;
    out->id = m->id;
    out->seconds = m->seconds;
    out->audio_seconds = m->audio_seconds;
    if (m->error[0] && !(out->error = strdup(m->error))) err = MF_ERR_NOMEM;
    out->input_fault = m->error[0] && m->input_fault;
done:
    if (err != MF_OK) mf_task_result_fini(out);
    return err;
}
