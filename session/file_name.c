#include "mf_file_name.h"

#include <stdint.h>
#include <string.h>
#include <unicase.h>
#include <uninorm.h>

void mf_file_name_clean(char *name)
{
    for (char *c = name; *c; c++)
        if (strchr("/\\<>:\"|?*", *c) || (unsigned char)*c < 32) *c = '_';
    if (name[0] == '.') name[0] = '_'; /* no hidden files, no ".." */
    /* Windows drops them, and a name that differs only there collides. */
    for (size_t n = strlen(name); n > 1 && (name[n - 1] == '.' || name[n - 1] == ' '); n--)
        name[n - 1] = '_';
}

int mf_file_name_same(const char *a, const char *b)
{
    int order = 1;
    return u8_casecmp((const uint8_t *)a, strlen(a), (const uint8_t *)b, strlen(b), NULL,
                      UNINORM_NFC, &order) == 0 &&
           order == 0;
}
