#include "mf_prev.h"
#include "mf_hash.h"
#include "mf_hashcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct mf_prev {
    char *dir;
    json_t *render, *manifest; /* the two files as they were */
};

static json_t *s_load(const char *dir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    json_error_t err;
    return json_load_file(path, 0, &err);
}

mf_prev_t *mf_prev_load(const char *outdir)
{
    mf_prev_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->dir = strdup(outdir);
    p->render = s_load(outdir, "render.json");
    p->manifest = s_load(outdir, "manifest.json");
    if (!p->dir || !json_is_array(json_object_get(p->render, "outputs")) ||
        !json_is_array(json_object_get(p->manifest, "files")))
        mf_prev_free(&p);
    return p;
}

/* The object in array whose "path" is relpath. */
static const json_t *s_find(const json_t *array, const char *relpath)
{
    for (size_t i = 0; i < json_array_size(array); i++) {
        const json_t *e = json_array_get(array, i);
        const char *path = json_string_value(json_object_get(e, "path"));
        if (path && !strcmp(path, relpath)) return e;
    }
    return NULL;
}

int mf_prev_had(const mf_prev_t *p, const char *relpath, const mf_prev_how_t *how)
{
    const json_t *o = p ? s_find(json_object_get(p->render, "outputs"), relpath) : NULL;
    const char *blob = json_string_value(json_object_get(o, "blob"));
    const char *format = json_string_value(json_object_get(o, "format"));
    const json_t *bits = json_object_get(o, "bits"), *frames = json_object_get(o, "frames");
    /* A render.json from before these fields were written says too little. */
    if (!blob || !format || !json_is_integer(bits) || !json_is_integer(frames)) return 0;
    return !strcmp(blob, how->blob) && !strcmp(format, how->format) &&
           json_integer_value(bits) == how->bits &&
           (how->frames == MF_PREV_ANY_FRAMES || json_integer_value(frames) == how->frames);
}

const json_t *mf_prev_intact(const mf_prev_t *p, const char *relpath)
{
    const json_t *e = p ? s_find(json_object_get(p->manifest, "files"), relpath) : NULL;
    const char *sha = json_string_value(json_object_get(e, "sha256"));
    const json_t *size = json_object_get(e, "size");
    if (!sha || !json_is_integer(size)) return NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", p->dir, relpath);
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != json_integer_value(size))
        return NULL;
    mf_hash_t h;
    return mf_hashcache_file(path, &h) == 0 && !strcmp(h.hex, sha) ? e : NULL;
}

void mf_prev_free(mf_prev_t **pp)
{
    if (!pp || !*pp) return;
    free((*pp)->dir);
    json_decref((*pp)->render);
    json_decref((*pp)->manifest);
    free(*pp);
    *pp = NULL;
}
