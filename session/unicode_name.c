/* File names that are the same text in another Unicode form. macOS's HFS+
 * stores names decomposed (NFD: "e" then a combining acute accent), while
 * a session typed or exported elsewhere holds them composed (NFC: "é");
 * copied to the farm's Linux disks, where a name is its bytes, the file a
 * session names is "not there" though its name reads the same. libunistring
 * (u8_normalize) decides what is the same text: the Unicode tables are not
 * ours to keep. */
#include "session_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uninorm.h>

static int s_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80) return 0;
    return 1;
}

int mf_sess__same_text(const char *a, const char *b)
{
    if (!strcmp(a, b)) return 1;
    if (s_ascii(a) && s_ascii(b)) return 0; /* no other form of plain ASCII */
    size_t na = 0, nb = 0;
    uint8_t *x = u8_normalize(UNINORM_NFC, (const uint8_t *)a, strlen(a), NULL, &na);
    uint8_t *y = x ? u8_normalize(UNINORM_NFC, (const uint8_t *)b, strlen(b), NULL, &nb) : NULL;
    const int same = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}
