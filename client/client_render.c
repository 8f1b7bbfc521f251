#include "client_ref.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static json_t *s_tasks(const Mixfarm__FetchReply *r)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < r->n_tasks; i++) {
        const Mixfarm__TaskRef *t = r->tasks[i];
        json_t *outs = json_array();
        for (size_t k = 0; outs && k < t->n_outputs; k++)
            json_array_append_new(outs, json_string(t->outputs[k]));
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o}", "label", t->label, "kind",
                                           t->kind, "key", t->key, "outputs", outs));
    }
    return a;
}

int64_t mf_client__written_frames(const Mixfarm__FetchReply *r, const Mixfarm__OutputRef *o)
{
    return o->aligned ? (int64_t)r->frames : -1;
}

mf_err_t mf_client__write_render(mf_outdir_t *o, mf_store_t *s, const Mixfarm__FetchReply *r)
{
    json_error_t jerr;
    json_t *doc = r->document && r->document[0] ? json_loads(r->document, 0, &jerr) : NULL;
    json_t *outs = json_array();
    /* How each file was written, so that a revision rendered into the same
     * folder can keep the ones it would write the same way (mf_prev.h). */
    for (size_t i = 0; outs && i < r->n_outputs; i++) {
        const Mixfarm__OutputRef *o = r->outputs[i];
        json_array_append_new(outs,
                              json_pack("{s:s, s:s, s:s, s:i, s:I}", "path", o->path, "blob",
                                        o->hash, "format", o->format, "bits", (int)o->bits,
                                        "frames", (json_int_t)mf_client__written_frames(r, o)));
    }
    json_t *root =
        json_pack("{s:i, s:s, s:o, s:o, s:b, s:o, s:s}", "mixfarm", 1, "session_name",
                  r->session_name, "session", doc ? doc : json_null(), "tasks", s_tasks(r),
                  "tasks_complete", r->tasks_complete, "outputs", outs, "numerics", r->numerics);
    char *text = root ? json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
    json_decref(root);
    mf_hash_t h;
    mf_err_t err = text ? mf_store_put_bytes(s, text, strlen(text), &h) : MF_ERR_NOMEM;
    free(text);
    return err == MF_OK ? mf_outdir_write_raw(o, "render.json", s, &h, "json") : err;
}
