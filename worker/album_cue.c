/* The CUE sheet of an album image: the disc's CATALOG (EAN-13), TITLE and
 * PERFORMER, then per track its TITLE, PERFORMER, ISRC and INDEX 00 (the
 * start of its gap, when it has one) and INDEX 01 (where it starts), in
 * minutes:seconds:frames of 1/75 s. Text has no escapes in a CUE sheet: a
 * double quote inside a title becomes a single one. */
#include "deliver_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_text(FILE *f, const char *v)
{
    fputc('"', f);
    for (const char *c = v; *c; c++) fputc(*c == '"' ? '\'' : (unsigned char)*c < 32 ? ' ' : *c, f);
    fputc('"', f);
}

static void s_quoted(FILE *f, const char *key, const char *v, const char *indent)
{
    if (!v || !v[0]) return;
    fprintf(f, "%s%s ", indent, key);
    s_text(f, v);
    fputs("\r\n", f);
}

static void s_time(FILE *f, const char *what, int64_t samples, int64_t frame)
{
    int64_t fr = samples / frame; /* CD frames */
    fprintf(f, "    INDEX %s %02lld:%02lld:%02lld\r\n", what, (long long)(fr / 75 / 60),
            (long long)(fr / 75 % 60), (long long)(fr % 75));
}

char *mf_album_cue(const mf_sequence_spec_t *q, const int64_t *index00, const int64_t *index01,
                   int64_t frame)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    if (q->genre[0]) s_quoted(f, "REM GENRE", q->genre, "");
    if (q->date[0]) fprintf(f, "REM DATE %s\r\n", q->date);
    fprintf(f, "REM COMMENT \"mixfarm %s\"\r\n", MF_VERSION);
    if (q->catalog[0]) /* EAN-13: a 12-digit UPC-A gets a leading zero */
        fprintf(f, "CATALOG %s%s\r\n", strlen(q->catalog) == 12 ? "0" : "", q->catalog);
    s_quoted(f, "PERFORMER", q->performer, "");
    s_quoted(f, "TITLE", q->title, "");
    fputs("FILE ", f);
    s_text(f, q->file);
    fprintf(f, " %s\r\n", q->type);
    for (size_t k = 0; k < q->n_tracks; k++) {
        const mf_seq_track_t *t = &q->tracks[k];
        fprintf(f, "  TRACK %02zu AUDIO\r\n", k + 1);
        s_quoted(f, "TITLE", t->title, "    ");
        s_quoted(f, "PERFORMER", t->performer, "    ");
        if (t->isrc[0]) fprintf(f, "    ISRC %s\r\n", t->isrc);
        if (index00[k] < index01[k]) s_time(f, "00", index00[k], frame);
        s_time(f, "01", index01[k], frame);
    }
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
