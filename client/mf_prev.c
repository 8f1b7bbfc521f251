#include "mf_prev.h"
#include "mf_fs.h"
#include "mf_hash.h"
#include "mf_hashcache.h"
#include "mf_recent.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char *dir;
    json_t *render, *manifest; /* the two files as they were */
    int here;                  /* OUTDIR itself */
} folder_t;

struct mf_prev {
    folder_t f[1 + MF_RECENT_MAX];
    size_t n;
    int elsewhere; /* MF_PREV_* */
};

static json_t *s_load(const char *dir, const char *name)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    json_error_t err;
    return json_load_file(path, 0, &err);
}

static void s_folder_fini(folder_t *f)
{
    free(f->dir);
    json_decref(f->render);
    json_decref(f->manifest);
    *f = (folder_t){0};
}

static int s_folder_load(folder_t *f, const char *dir, int here)
{
    *f = (folder_t){.dir = strdup(dir), .here = here};
    f->render = s_load(dir, "render.json");
    f->manifest = s_load(dir, "manifest.json");
    if (f->dir && json_is_array(json_object_get(f->render, "outputs")) &&
        json_is_array(json_object_get(f->manifest, "files")))
        return 1;
    s_folder_fini(f);
    return 0;
}

/* Another user's folder, or one others may write to, is not taken from:
 * its render.json and manifest.json could say anything of its files. */
static int s_trusted(const char *dir)
{
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
           !(st.st_mode & (S_IWGRP | S_IWOTH));
}

/* Whether files of dir can be cloned where OUTDIR's go (OUTDIR, else the
 * folder it will be made in): one tried, its manifest. */
static int s_clones_into(const char *dir, const char *outdir)
{
    char src[PATH_MAX + 16], at[PATH_MAX], probe[PATH_MAX + 64];
    struct stat st;
    snprintf(src, sizeof src, "%s/manifest.json", dir);
    snprintf(at, sizeof at, "%s", outdir);
    const char *in = stat(at, &st) == 0 ? at : dirname(at); /* "v2/" not made yet: "." */
    snprintf(probe, sizeof probe, "%s/.mixfarm-clone-%ld", in, (long)getpid());
    if (mf_fs_clone(src, probe) != 0) return 0;
    unlink(probe);
    return 1;
}

mf_prev_t *mf_prev_load(const char *outdir, int elsewhere)
{
    mf_prev_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->elsewhere = elsewhere;
    char here[PATH_MAX] = "";
    if (realpath(outdir, here) && s_folder_load(&p->f[p->n], outdir, 1)) p->n++;
    char *recent[MF_RECENT_MAX];
    const size_t n = elsewhere ? mf_recent_list(recent) : 0;
    for (size_t i = 0; i < n; i++) {
        char abs[PATH_MAX];
        if (realpath(recent[i], abs) && strcmp(abs, here) && s_trusted(abs) &&
            (elsewhere != MF_PREV_CLONES || s_clones_into(abs, outdir)) &&
            s_folder_load(&p->f[p->n], abs, 0))
            p->n++;
        free(recent[i]);
    }
    if (!p->n) mf_prev_free(&p);
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

/* Whether render.json's output o was written as how. */
static int s_written_as(const json_t *o, const mf_prev_how_t *how)
{
    const char *blob = json_string_value(json_object_get(o, "blob"));
    const char *format = json_string_value(json_object_get(o, "format"));
    const json_t *bits = json_object_get(o, "bits"), *frames = json_object_get(o, "frames");
    /* A render.json from before these fields were written says too little. */
    if (!blob || !format || !json_is_integer(bits) || !json_is_integer(frames)) return 0;
    return !strcmp(blob, how->blob) && !strcmp(format, how->format) &&
           json_integer_value(bits) == how->bits &&
           (how->frames == MF_PREV_ANY_FRAMES || json_integer_value(frames) == how->frames);
}

/* Folder f's output written as how: at relpath in OUTDIR, at any path
 * elsewhere, from the i-th output on; its index, or -1. */
static long s_next(const folder_t *f, const char *relpath, const mf_prev_how_t *how, size_t i)
{
    const json_t *outs = json_object_get(f->render, "outputs");
    for (; i < json_array_size(outs); i++) {
        const json_t *o = json_array_get(outs, i);
        const char *path = json_string_value(json_object_get(o, "path"));
        if (path && (!f->here || !strcmp(path, relpath)) && s_written_as(o, how)) return (long)i;
    }
    return -1;
}

int mf_prev_had(const mf_prev_t *p, const char *relpath, const mf_prev_how_t *how)
{
    for (size_t k = 0; p && k < p->n; k++)
        if (s_next(&p->f[k], relpath, how, 0) >= 0) return 1;
    return 0;
}

/* Folder f's file rel as its manifest lists it: its entry when the file
 * has the size listed and, as far as the hash cache knows (or, with check,
 * as reading it says), the SHA-256; *known when that is known. NULL
 * otherwise. */
static const json_t *s_intact(const folder_t *f, const char *rel, int check, char **path,
                              int *known)
{
    const json_t *e = s_find(json_object_get(f->manifest, "files"), rel);
    const char *sha = json_string_value(json_object_get(e, "sha256"));
    const json_t *size = json_object_get(e, "size");
    if (!sha || !mf_hash_valid(sha) || !json_is_integer(size)) return NULL;
    const size_t n = strlen(f->dir) + strlen(rel) + 2;
    if (!(*path = malloc(n))) return NULL;
    snprintf(*path, n, "%s/%s", f->dir, rel);
    struct stat st;
    mf_hash_t h;
    if (lstat(*path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == json_integer_value(size)) {
        *known = check ? mf_hashcache_file(*path, &h) == 0 : mf_hashcache_known(*path, &h);
        if (*known ? !strcmp(h.hex, sha) : !check) return e;
    }
    free(*path), *path = NULL;
    return NULL;
}

int mf_prev_find(const mf_prev_t *p, const char *relpath, const mf_prev_how_t *how,
                 mf_prev_file_t *out)
{
    *out = (mf_prev_file_t){0};
    for (size_t k = 0; p && k < p->n; k++) {
        const folder_t *f = &p->f[k];
        const json_t *outs = json_object_get(f->render, "outputs");
        for (long i = s_next(f, relpath, how, 0); i >= 0; i = s_next(f, relpath, how, i + 1)) {
            const char *rel = json_string_value(json_object_get(json_array_get(outs, i), "path"));
            /* OUTDIR's file is linked as it is, so it is checked first. */
            if ((out->entry = s_intact(f, rel, f->here, &out->path, &out->known))) {
                out->here = f->here;
                out->clone_only = !f->here && p->elsewhere == MF_PREV_CLONES;
                return 1;
            }
        }
    }
    return 0;
}

void mf_prev_file_fini(mf_prev_file_t *f)
{
    free(f->path);
    *f = (mf_prev_file_t){0};
}

void mf_prev_free(mf_prev_t **pp)
{
    if (!pp || !*pp) return;
    for (size_t k = 0; k < (*pp)->n; k++) s_folder_fini(&(*pp)->f[k]);
    free(*pp);
    *pp = NULL;
}
