#include "mf_audio_why.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* What the first bytes of a file say it is, for the formats not read here. */
static const char *s_kind(const unsigned char *h, size_t n)
{
    if (n >= 8 && !memcmp(h + 4, "ftyp", 4)) return "an M4A file (AAC or ALAC)";
    if (n >= 4 && (!memcmp(h, "DSD ", 4) || !memcmp(h, "FRM8", 4))) return "a DSD file";
    static const unsigned char asf[] = {0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11};
    if (n >= 8 && !memcmp(h, asf, 8)) return "a Windows Media file (WMA)";
    static const unsigned char ebml[] = {0x1A, 0x45, 0xDF, 0xA3};
    if (n >= 4 && !memcmp(h, ebml, 4)) return "a Matroska or WebM file";
    return NULL;
}

int mf_audio_why(const char *path, const char *sf_reason, char *out, size_t n)
{
    unsigned char head[16];
    size_t got = 0;
    int err = 0;
    FILE *f = fopen(path, "rb");
    if (!f) err = errno;
    if (f) {
        got = fread(head, 1, sizeof head, f);
        if (ferror(f)) err = errno ? errno : EIO;
        fclose(f);
    }
    /* Not the format: the file itself (a drive unplugged, a share gone),
     * where libsndfile says "No Error". */
    if (err) {
        snprintf(out, n, "cannot be read: %s", strerror(err));
        return 1;
    }
    if (got == 0) {
        snprintf(out, n, "an empty file");
        return 1;
    }
    const char *kind = s_kind(head, got);
    if (kind) {
        snprintf(out, n,
                 "%s, which is not read here: convert it to WAV or FLAC, e.g. with ffmpeg -i IN "
                 "OUT.wav",
                 kind);
        return 1;
    }
    const char *r =
        sf_reason && *sf_reason && strcmp(sf_reason, "No Error") ? sf_reason : "unknown format";
    if (!strncmp(r, "Error : ", 8)) r += 8;
    snprintf(out, n, "%s", r);
    size_t len = strlen(out);
    while (len > 0 && (out[len - 1] == '.' || out[len - 1] == '\n')) out[--len] = 0;
    return 0;
}
