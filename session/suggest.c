/* "did you mean": the nearest known name to a misspelt one.
 *
 * The distance is the optimal string alignment distance (Damerau's
 * restricted edit distance): inserting, deleting or changing a letter, or
 * swapping two neighbours, costs 1, so "gain_bd" is 1 away from "gain_db".
 * Letter case is ignored ("drums" suggests "Drums"). A key written without
 * its unit suffix ("tempo") suggests the key with it ("tempo_bpm"). */
#include "session_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Names longer than this are compared on their first MAX letters only: no
 * one misspells a 200-letter bus name, and the table stays on the stack. */
#define MAX 64

static size_t s_min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

size_t mf_sess__distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > MAX) la = MAX;
    if (lb > MAX) lb = MAX;
    unsigned short t[MAX + 1][MAX + 1];
    for (size_t i = 0; i <= la; i++) t[i][0] = (unsigned short)i;
    for (size_t j = 0; j <= lb; j++) t[0][j] = (unsigned short)j;
    for (size_t i = 1; i <= la; i++) {
        int ca = tolower((unsigned char)a[i - 1]);
        for (size_t j = 1; j <= lb; j++) {
            int cb = tolower((unsigned char)b[j - 1]);
            size_t cost = ca != cb;
            size_t v = s_min3(t[i - 1][j] + 1u, t[i][j - 1] + 1u, t[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && t[i - 2][j - 2] + 1u < v)
                v = t[i - 2][j - 2] + 1u;
            t[i][j] = (unsigned short)v;
        }
    }
    return t[la][lb];
}

const char *mf_sess__suggest(const char *word, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    size_t lw = strlen(word);
    for (size_t i = 0; i < n; i++) {
        if (!cands[i] || strcmp(cands[i], word) == 0) continue;
        size_t lc = strlen(cands[i]);
        size_t longer = lw > lc ? lw : lc;
        /* Two edits at most, and fewer on short names, where two edits
         * turn anything into anything ("pan" is not a typo of "gain"). */
        size_t limit = longer / 3;
        if (limit < 1) limit = 1;
        if (limit > 2) limit = 2;
        size_t dist = mf_sess__distance(word, cands[i]);
        if (dist <= limit && dist < best_d) {
            best = cands[i];
            best_d = dist;
        }
    }
    if (best || lw == 0) return best;
    /* A name written without its unit: "tempo" for "tempo_bpm", "attack" for
     * "attack_ms". Too far by letters, but what was meant is plain. */
    for (size_t i = 0; i < n; i++) {
        if (!cands[i] || strncasecmp(cands[i], word, lw) != 0 || cands[i][lw] != '_') continue;
        if (!strchr(cands[i] + lw + 1, '_')) return cands[i];
    }
    return NULL;
}

const char *mf_sess__did_you_mean(char *buf, size_t size, const char *word,
                                  const char *const *cands, size_t n)
{
    const char *s = mf_sess__suggest(word, cands, n);
    if (s)
        snprintf(buf, size, " (did you mean \"%s\"?)", s);
    else if (size)
        buf[0] = '\0';
    return buf;
}
