#include "mf_cachedir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int mf_cache_dir(char *out, size_t n)
{
    const char *env = getenv("MIXFARM_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int len;
    if (env && env[0])
        len = snprintf(out, n, "%s", env);
    else if (xdg && xdg[0])
        len = snprintf(out, n, "%s/mixfarm", xdg);
    else if (home && home[0])
        len = snprintf(out, n, "%s/.cache/mixfarm", home);
    else
        return 0;
    return len > 0 && (size_t)len < n;
}

void mf_cache_mkdirs(const char *path)
{
    char *p = strdup(path);
    for (char *c = p ? p + 1 : NULL; c && *c; c++) {
        if (*c != '/') continue;
        *c = 0;
        mkdir(p, 0755);
        *c = '/';
    }
    free(p);
}

void mf_cache_replace(const char *path, const char *text)
{
    const size_t n = strlen(path) + 64;
    char *tmp = malloc(n);
    if (!tmp) return;
    snprintf(tmp, n, "%s.%ld.%ld", path, (long)getpid(), (long)gettid());
    mf_cache_mkdirs(tmp);
    FILE *f = fopen(tmp, "w");
    const int ok = f && fputs(text, f) >= 0;
    if (f && (fclose(f) != 0 || !ok || rename(tmp, path) != 0)) unlink(tmp);
    free(tmp);
}
