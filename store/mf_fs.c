#include "mf_fs.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_remove(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int mf_fs_remove_tree(const char *dir)
{
    return nftw(dir, s_remove, 16, FTW_DEPTH | FTW_PHYS);
}

int64_t mf_parse_size(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !(v > 0)) return -1;
    double mult = 1;
    if (*end) {
        const char *units = "KMGT", *u = strchr(units, *end & ~0x20);
        if (!u || !*u || (end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB"))) return -1;
        for (const char *p = units; p <= u; p++) mult *= 1024;
    }
    v *= mult;
    return v < 9e18 ? (int64_t)v : -1;
}

char *mf_fs_buffer(FILE *f, size_t size)
{
    char *buf = malloc(size);
    if (buf) setvbuf(f, buf, _IOFBF, size);
    return buf;
}
