/* A render must not write over a file it reads. Rendered into the folder
 * that holds its sources (-o . beside the session), a track named
 * "mix.wav" (a previous bounce, a client's reference) was replaced by the
 * new mix, with exit 0: the studio's file was gone. Refused before any
 * work, saying which file and what to do. A file OUTDIR's manifest.json
 * lists is mixfarm's own output of an earlier render there (a revision
 * reading its last mix as a reference): replacing it is what rendering
 * into that folder means, so it is allowed. Likewise a file at a name
 * every render writes (mix.wav, qc.json...) that no earlier render wrote
 * (session 31). */
#include "mf_cli.h"
#include "mf_playback.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Whether rel (a path inside OUTDIR) is one a render or a fetch writes:
 * CLI.md's layout, an album's and a reference's files. */
static int s_written(const char *rel)
{
    static const char *const files[] = {"mix.wav",        "qc.json",       "qc.html",
                                        "listen.json",    "render.json",   "manifest.json",
                                        "reference.json", "reference.html"};
    static const char *const folders[] = {"stems/", "master/", "listen/", "tracks/"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        if (!strcmp(rel, files[i])) return 1;
    for (size_t i = 0; i < sizeof folders / sizeof *folders; i++)
        if (!strncmp(rel, folders[i], strlen(folders[i]))) return 1;
    return !strncmp(rel, "album.", 6) && !strchr(rel, '/');
}

typedef struct {
    char dir[PATH_MAX]; /* OUTDIR, real */
    const char *outdir; /* as given */
    json_t *manifest;   /* OUTDIR's manifest.json (an earlier render's), or NULL */
    int refused;
} guard_t;

/* Whether OUTDIR's manifest.json lists rel. */
static int s_listed(const guard_t *g, const char *rel)
{
    const json_t *files = json_object_get(g->manifest, "files");
    for (size_t i = 0; i < json_array_size(files); i++) {
        const char *p = json_string_value(json_object_get(json_array_get(files, i), "path"));
        if (p && !strcmp(p, rel)) return 1;
    }
    return 0;
}

static void s_check(guard_t *g, const char *what, const char *file)
{
    char real[PATH_MAX];
    const size_t n = strlen(g->dir);
    if (!file || !realpath(file, real) || strncmp(real, g->dir, n) || real[n] != '/') return;
    const char *rel = real + n + 1;
    if (!s_written(rel) || s_listed(g, rel)) return;
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

/* A file at a name every render of its kind writes (a DAW's mix.wav
 * bounce in the project folder, rendered into with -o .) that no earlier
 * render wrote, which the manifest would list: it was replaced, exit 0. */
static void s_check_name(guard_t *g, const char *rel)
{
    char path[PATH_MAX * 2];
    snprintf(path, sizeof path, "%s/%s", g->dir, rel);
    struct stat st;
    if (lstat(path, &st) != 0 || s_listed(g, rel)) return;
    fprintf(stderr,
            "mixfarm: %s/%s: no earlier render wrote it (its manifest.json does not list it), and "
            "rendering into %s would replace it: render into another folder, or move it\n",
            g->outdir, rel, g->outdir);
    g->refused = 1;
}

static void s_check_names(guard_t *g, int session)
{
    static const char *const always[] = {"qc.json", "qc.html", "render.json"};
    for (size_t i = 0; i < sizeof always / sizeof *always; i++) s_check_name(g, always[i]);
    if (!session) return; /* an album's names depend on its outputs */
    s_check_name(g, "mix.wav");
    s_check_name(g, "listen.json");
    size_t n;
    const mf_playback_model_t *m = mf_playback_models(&n);
    for (size_t i = 0; i < n; i++) {
        char rel[96];
        snprintf(rel, sizeof rel, "listen/%s.wav", m[i].name);
        s_check_name(g, rel);
    }
}

int mf_cli_check_inputs(const char *outdir, const mf_session_t *s, const mf_album_t *a)
{
    guard_t g = {.outdir = outdir};
    if (!realpath(outdir, g.dir)) return -1; /* not there yet: nothing in it is read */
    char manifest[PATH_MAX + 32];
    snprintf(manifest, sizeof manifest, "%s/manifest.json", g.dir);
    g.manifest = json_load_file(manifest, 0, NULL);
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
    if (!g.refused && (s || a)) s_check_names(&g, s != NULL);
    json_decref(g.manifest);
    return g.refused ? MF_EXIT_USAGE : -1;
}
