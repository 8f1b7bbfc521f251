/* A render must not write over a file it reads. Rendered into the folder
 * that holds its sources (-o . beside the session), a track named
 * "mix.wav" (a previous bounce, a client's reference) was replaced by the
 * new mix, with exit 0: the studio's file was gone. Refused before any
 * work, saying which file and what to do. A file OUTDIR's manifest.json
 * lists is mixfarm's own output of an earlier render there (a revision
 * reading its last mix as a reference): replacing it is what rendering
 * into that folder means, so it is allowed. Likewise any file at a path
 * the render writes (mix.wav, a stem, a master, qc.json...) that no earlier
 * render wrote: the paths are the render's plan, made here as the farm
 * will make it. A fetch checks its job's paths the same way
 * (mf_outdir_check_foreign). */
#include "mf_cli.h"
#include "mf_outdir.h"
#include "mf_plan.h"
#include "plan_album.h"

#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    char dir[PATH_MAX]; /* OUTDIR, real */
    const char *outdir; /* as given */
    json_t *manifests;  /* OUTDIR's manifest.json (an earlier render's) and those of
                           commits cut short (s_load_manifests), an array */
    const char **rels;  /* every path inside OUTDIR the render writes, n of them */
    size_t n;
    int refused;
} guard_t;

/* Whether the render writes rel (a path inside OUTDIR). */
static int s_written(const guard_t *g, const char *rel)
{
    for (size_t i = 0; i < g->n; i++)
        if (!strcmp(rel, g->rels[i])) return 1;
    return 0;
}

/* OUTDIR's manifest.json, and the one in each staging folder a render
 * left (.mixfarm-partial-*): a render killed in its commit has placed
 * some of its files, and only its staging folder's manifest lists them;
 * the next render's sweep removes that folder. */
static void s_load_manifests(guard_t *g)
{
    char path[PATH_MAX * 2];
    g->manifests = json_array();
    snprintf(path, sizeof path, "%s/manifest.json", g->dir);
    json_t *m = json_load_file(path, 0, NULL);
    if (m) json_array_append_new(g->manifests, m);
    DIR *d = opendir(g->dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strncmp(e->d_name, ".mixfarm-partial-", 17)) continue;
        snprintf(path, sizeof path, "%s/%s/manifest.json", g->dir, e->d_name);
        if ((m = json_load_file(path, 0, NULL))) json_array_append_new(g->manifests, m);
    }
    if (d) closedir(d);
}

/* Whether one of those manifests lists rel. */
static int s_listed(const guard_t *g, const char *rel)
{
    for (size_t k = 0; k < json_array_size(g->manifests); k++) {
        const json_t *files = json_object_get(json_array_get(g->manifests, k), "files");
        for (size_t i = 0; i < json_array_size(files); i++) {
            const char *p = json_string_value(json_object_get(json_array_get(files, i), "path"));
            if (p && !strcmp(p, rel)) return 1;
        }
    }
    return 0;
}

static void s_check(guard_t *g, const char *what, const char *file)
{
    char real[PATH_MAX];
    const size_t n = strlen(g->dir);
    if (!file || !realpath(file, real) || strncmp(real, g->dir, n) || real[n] != '/') return;
    const char *rel = real + n + 1;
    if (!s_written(g, rel) || s_listed(g, rel)) return;
    fprintf(stderr,
            "mixfarm: %s: %s: rendering into %s would replace it (its %s): render into another "
            "folder\n",
            what, file, g->outdir, rel);
    g->refused = 1;
}

static void s_check_session(guard_t *g, const mf_session_t *s)
{
    char what[600];
    s_check(g, "the session", s->path);
    for (size_t i = 0; i < s->n_tracks; i++) {
        snprintf(what, sizeof what, "%s: tracks[%zu] \"%s\"", s->path, i, s->tracks[i].ch.name);
        s_check(g, what, s->tracks[i].file);
    }
    for (size_t k = 0; k < s->n_aux; k++) {
        snprintf(what, sizeof what, "%s: an impulse response", s->path);
        s_check(g, what, s->aux[k].file);
    }
    const char *named[][2] = {
        {"mastering.reference", json_string_value(json_object_get(s->mastering, "reference"))},
        {"metadata.cover", json_string_value(json_object_get(s->metadata, "cover"))}};
    for (size_t k = 0; k < 2; k++) {
        if (!named[k][1]) continue;
        char *file = mf_session_file(s, named[k][1]);
        snprintf(what, sizeof what, "%s: %s", s->path, named[k][0]);
        s_check(g, what, file);
        free(file);
    }
}

/* What the render will write, planned as the farm will plan it (from
 * zero hashes: only the paths are read); NULL when out of memory. */
static mf_plan_t *s_plan(const mf_session_t *s, const mf_album_t *a)
{
    if (s) {
        const size_t n = MF_PLAN_AUX_SOURCE(s, s->n_aux);
        mf_hash_t *zero = calloc(n, sizeof *zero);
        mf_plan_t *p = zero ? mf_plan_session_sources(s, zero, n) : NULL;
        free(zero);
        return p;
    }
    static const mf_hash_t cover;
    mf_album_sources_t src = {.session = calloc(a->n_tracks + 1, sizeof *src.session),
                              .mix = calloc(a->n_tracks + 1, sizeof *src.mix),
                              .cover = json_object_get(a->album, "cover") ? &cover : NULL};
    int ok = src.session && src.mix;
    for (size_t k = 0; ok && k < a->n_tracks; k++) {
        const mf_session_t *t = a->tracks[k].s;
        if (t && !(src.session[k] = calloc(MF_PLAN_AUX_SOURCE(t, t->n_aux), sizeof(mf_hash_t))))
            ok = 0;
    }
    mf_plan_t *p = ok ? mf_plan_album(a, &src) : NULL;
    for (size_t k = 0; src.session && k < a->n_tracks; k++) free(src.session[k]);
    free(src.session), free(src.mix);
    return p;
}

/* Every path inside OUTDIR the render writes: its plan's outputs,
 * render.json (the client's own) and manifest.json, in rels (malloc'd,
 * pointing into *plan); -1 when out of memory. */
static int s_paths(guard_t *g, const mf_session_t *s, const mf_album_t *a, mf_plan_t **plan)
{
    mf_plan_t *p = *plan = s_plan(s, a);
    if (!p || !(g->rels = calloc(p->n_outputs + 2, sizeof *g->rels))) return -1;
    for (size_t i = 0; i < p->n_outputs; i++) g->rels[g->n++] = p->outputs[i].path;
    g->rels[g->n++] = "render.json";
    g->rels[g->n++] = "manifest.json";
    return 0;
}

/* Says each of rels[0..n) at which OUTDIR holds a file none of g's
 * manifests lists; how many. */
static size_t s_foreign(const guard_t *g, const char *const *rels, size_t n)
{
    size_t found = 0;
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX * 2];
        snprintf(path, sizeof path, "%s/%s", g->dir, rels[i]);
        struct stat st;
        if (lstat(path, &st) != 0 || s_listed(g, rels[i])) continue;
        fprintf(stderr,
                "mixfarm: %s/%s: no earlier render wrote it (its manifest.json does not list it), "
                "and writing %s would replace it: write into another folder, or move it\n",
                g->outdir, rels[i], rels[i]);
        found++;
    }
    return found;
}

size_t mf_outdir_check_foreign(const char *outdir, const char *const *rels, size_t n)
{
    guard_t g = {.outdir = outdir};
    if (!realpath(outdir, g.dir)) return 0; /* not there yet: nothing in it to replace */
    s_load_manifests(&g);
    const size_t found = s_foreign(&g, rels, n);
    json_decref(g.manifests);
    return found;
}

int mf_cli_check_inputs(const char *outdir, const mf_session_t *s, const mf_album_t *a)
{
    guard_t g = {.outdir = outdir};
    if (!s && !a) return -1;
    if (!realpath(outdir, g.dir)) return -1; /* not there yet: nothing in it is read */
    mf_plan_t *plan = NULL;
    if (s_paths(&g, s, a, &plan) != 0) {
        fprintf(stderr, "mixfarm: out of memory\n");
        mf_plan_free(&plan);
        return MF_EXIT_FAILED;
    }
    s_load_manifests(&g);
    if (s) s_check_session(&g, s);
    if (a) {
        char what[600];
        s_check(&g, "the album", a->path);
        const char *cover = json_string_value(json_object_get(a->album, "cover"));
        if (cover) {
            char file[PATH_MAX * 2];
            snprintf(file, sizeof file, "%s%s%s", cover[0] == '/' ? "" : a->dir,
                     cover[0] == '/' ? "" : "/", cover);
            snprintf(what, sizeof what, "%s: album.cover", a->path);
            s_check(&g, what, file);
        }
        for (size_t k = 0; k < a->n_tracks; k++) {
            if (a->tracks[k].s) s_check_session(&g, a->tracks[k].s);
            snprintf(what, sizeof what, "%s: tracks[%zu].mix", a->path, k);
            s_check(&g, what, a->tracks[k].mix_path);
        }
    }
    /* Then any other file of the user's at those paths (manifest.json is
     * the render's record, replaced by every render). */
    if (!g.refused && s_foreign(&g, g.rels, g.n - 1)) g.refused = 1;
    json_decref(g.manifests);
    free(g.rels);
    mf_plan_free(&plan);
    return g.refused ? MF_EXIT_USAGE : -1;
}
