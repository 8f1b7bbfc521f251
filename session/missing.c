/* Why a file a session names is not there, when it can be guessed: a
 * session written on another machine often holds a home folder's ~, a
 * Windows path, a URL, or a name whose case differs from the file's (macOS
 * and Windows ignore case; Linux, where the farm runs, does not). */
#include "session_int.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static int s_same_but_case(const char *a, const char *b)
{
    return !strcasecmp(a, b);
}

int mf_sess__fix_path(const char *base, const char *rel, char *out, size_t n,
                      int (*same)(const char *a, const char *b))
{
    char cur[4096], part[256];
    snprintf(cur, sizeof cur, "%s", base);
    out[0] = 0;
    for (const char *p = rel; *p;) {
        const size_t len = strcspn(p, "/");
        if (len == 0 || len >= sizeof part) { /* "//", or a name too long to be one */
            p += len + (p[len] == '/');
            continue;
        }
        memcpy(part, p, len), part[len] = 0;
        char try[4096 + 256];
        struct stat st;
        snprintf(try, sizeof try, "%s/%s", cur, part);
        if (stat(try, &st) != 0) {
            DIR *d = opendir(cur);
            int found = 0;
            for (struct dirent *e; d && !found && (e = readdir(d));)
                if (same(e->d_name, part)) snprintf(part, sizeof part, "%s", e->d_name), found = 1;
            if (d) closedir(d);
            if (!found) return 0;
        }
        const size_t at = strlen(out), cl = strlen(cur);
        if (snprintf(out + at, n - at, "%s%s", at ? "/" : "", part) >= (int)(n - at) ||
            snprintf(cur + cl, sizeof cur - cl, "/%s", part) >= (int)(sizeof cur - cl))
            return 0;
        p += len + (p[len] == '/');
    }
    return out[0] != 0;
}

void mf_sess__missing_hint(const char *resolved, const char *shown, char *out, size_t n)
{
    out[0] = 0;
    if (!strcmp(shown, "~") || !strncmp(shown, "~/", 2)) {
        snprintf(out, n,
                 " (~ is the shell's shorthand: give the path in full, or relative to "
                 "the session's folder)");
        return;
    }
    if (shown[0] == '$' || strstr(shown, "/$") || strstr(shown, "${")) {
        snprintf(out, n,
                 " ($ names a shell variable, which a session does not expand: give the path "
                 "in full, or relative to the session's folder)");
        return;
    }
    if (!strncmp(shown, "file:", 5)) {
        snprintf(out, n,
                 " (a URL: give the file's path, in full or relative to the session's "
                 "folder)");
        return;
    }
    /* The folder a relative path starts from: resolved without shown. */
    const size_t rl = strlen(resolved), sl = strlen(shown);
    char base[4096] = "";
    if (shown[0] != '/' && rl > sl && !strcmp(resolved + rl - sl, shown))
        snprintf(base, sizeof base, "%.*s", (int)(rl - sl - 1), resolved);
    else if (shown[0] != '/')
        snprintf(base, sizeof base, ".");
    char fixed[4096];
    const int drive = isalpha((unsigned char)shown[0]) && shown[1] == ':';
    if (drive || strchr(shown, '\\')) {
        char slashed[4096];
        snprintf(slashed, sizeof slashed, "%s", shown);
        for (char *c = slashed; *c; c++)
            if (*c == '\\') *c = '/';
        if (!drive && mf_sess__fix_path(base, slashed, fixed, sizeof fixed, s_same_but_case))
            snprintf(out, n, " (a Windows path; \"%s\" is there: write paths with /)", fixed);
        else
            snprintf(out, n,
                     " (a Windows path: write paths with /, relative to the session's "
                     "folder)");
        return;
    }
    if (mf_sess__fix_path(base, shown[0] == '/' ? shown + 1 : shown, fixed, sizeof fixed,
                          s_same_but_case))
        snprintf(out, n, " (\"%s%s\" is there: the names differ in case, which counts here)",
                 shown[0] == '/' ? "/" : "", fixed);
}
