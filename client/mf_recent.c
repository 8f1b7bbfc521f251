#include "mf_recent.h"
#include "mf_cachedir.h"
#include "mf_hashcache.h"

#include <jansson.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int s_file(char *out, size_t n)
{
    char dir[PATH_MAX];
    if (!mf_cache_dir(dir, sizeof dir)) return 0;
    const int len = snprintf(out, n, "%s/renders", dir);
    return len > 0 && (size_t)len < n;
}

static size_t s_read(const char *file, char *dirs[MF_RECENT_MAX])
{
    FILE *f = fopen(file, "r");
    size_t n = 0;
    char line[PATH_MAX + 2];
    while (f && n < MF_RECENT_MAX && fgets(line, sizeof line, f)) {
        const size_t len = strcspn(line, "\n");
        if (line[len] != '\n' || line[0] != '/') continue; /* cut, or not a path */
        line[len] = 0;
        if ((dirs[n] = strdup(line))) n++;
    }
    if (f) fclose(f);
    return n;
}

/* Forgets the hashes of the files dir's manifest lists. */
static void s_forget(const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    json_error_t jerr;
    json_t *m = json_load_file(path, 0, &jerr);
    const json_t *files = json_object_get(m, "files");
    for (size_t i = 0; i < json_array_size(files); i++) {
        const char *rel = json_string_value(json_object_get(json_array_get(files, i), "path"));
        if (rel && snprintf(path, sizeof path, "%s/%s", dir, rel) < (int)sizeof path)
            mf_hashcache_forget(path);
    }
    json_decref(m);
}

size_t mf_recent_list(char *dirs[MF_RECENT_MAX])
{
    char file[PATH_MAX];
    return s_file(file, sizeof file) ? s_read(file, dirs) : 0;
}

void mf_recent_add(const char *outdir)
{
    char file[PATH_MAX], abs[PATH_MAX];
    if (!s_file(file, sizeof file) || !realpath(outdir, abs) || strchr(abs, '\n')) return;
    char *old[MF_RECENT_MAX], text[(PATH_MAX + 1) * MF_RECENT_MAX + 1];
    const size_t n = s_read(file, old);
    size_t len = (size_t)snprintf(text, sizeof text, "%s\n", abs), kept = 1;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(old[i], abs) && kept++ < MF_RECENT_MAX)
            len += (size_t)snprintf(text + len, sizeof text - len, "%s\n", old[i]);
        else if (strcmp(old[i], abs))
            s_forget(old[i]); /* fell off the end: takes its files' hashes along */
        free(old[i]);
    }
    mf_cache_replace(file, text);
}
