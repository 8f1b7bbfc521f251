/* An ID3v2.4 tag (id3.org, id3v2.4.0-structure and -frames), written here
 * because LAME's id3tag API writes version 2.3. Text is UTF-8 (encoding 3);
 * sizes are "syncsafe" (7 bits per byte), in the header and, new in 2.4, in
 * every frame header. No unsynchronisation, no padding, no extended header. */
#include "deliver_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    unsigned char *p;
    size_t n, cap;
    int failed;
} buf_t;

static void s_put(buf_t *b, const void *data, size_t n)
{
    if (b->failed) return;
    if (b->n + n > b->cap) {
        size_t cap = (b->n + n) * 2 + 256;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p, b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void s_syncsafe(unsigned char out[4], size_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 7) out[i] = (unsigned char)(v & 0x7f);
}

/* A frame: id, syncsafe size, no flags, then the parts in order. */
static void s_frame(buf_t *b, const char *id, const void *const *parts, const size_t *lens,
                    size_t n)
{
    size_t size = 0;
    for (size_t i = 0; i < n; i++) size += lens[i];
    if (size >= (1u << 28)) {
        b->failed = 1;
        return;
    }
    unsigned char head[10] = {0};
    memcpy(head, id, 4);
    s_syncsafe(head + 4, size);
    s_put(b, head, 10);
    for (size_t i = 0; i < n; i++) s_put(b, parts[i], lens[i]);
}

static void s_text(buf_t *b, const char *id, const char *text)
{
    if (!text) return;
    const void *parts[] = {"\x03", text};
    const size_t lens[] = {1, strlen(text)};
    s_frame(b, id, parts, lens, 2);
}

unsigned char *mf_id3v24(const mf_encode_spec_t *e, const unsigned char *cover, size_t cover_len,
                         size_t *len)
{
    buf_t b = {0};
    s_put(&b, "ID3\x04\x00\x00\x00\x00\x00\x00", 10); /* the size comes last */
    static const struct {
        const char *id;
        mf_tag_t tag;
    } texts[] = {
        {"TIT2", MF_TAG_TITLE},        {"TPE1", MF_TAG_ARTIST},   {"TALB", MF_TAG_ALBUM},
        {"TPE2", MF_TAG_ALBUM_ARTIST}, {"TPOS", MF_TAG_DISC},     {"TDRC", MF_TAG_YEAR},
        {"TCON", MF_TAG_GENRE},        {"TCOM", MF_TAG_COMPOSER}, {"TCOP", MF_TAG_COPYRIGHT},
        {"TSRC", MF_TAG_ISRC},
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        s_text(&b, texts[i].id, e->tags[texts[i].tag]);
    if (e->tags[MF_TAG_TRACK]) { /* "3" or "3/12" */
        char trck[64];
        snprintf(trck, sizeof trck, "%s%s%s", e->tags[MF_TAG_TRACK],
                 e->tags[MF_TAG_TRACK_TOTAL] ? "/" : "",
                 e->tags[MF_TAG_TRACK_TOTAL] ? e->tags[MF_TAG_TRACK_TOTAL] : "");
        s_text(&b, "TRCK", trck);
    }
    if (e->tags[MF_TAG_COMMENT]) { /* encoding, language, empty description, text */
        const void *parts[] = {"\x03"
                               "eng",
                               "", e->tags[MF_TAG_COMMENT]};
        const size_t lens[] = {4, 1, strlen(e->tags[MF_TAG_COMMENT])};
        s_frame(&b, "COMM", parts, lens, 3);
    }
    if (e->tags[MF_TAG_UPC]) {
        const void *parts[] = {"\x03"
                               "BARCODE",
                               e->tags[MF_TAG_UPC]};
        const size_t lens[] = {sizeof "\x03"
                                      "BARCODE",
                               strlen(e->tags[MF_TAG_UPC])};
        s_frame(&b, "TXXX", parts, lens, 2);
    }
    const char *mime = cover ? mf_image_mime(cover, cover_len) : NULL;
    if (mime) { /* encoding, MIME type, front cover (3), empty description, data */
        const void *parts[] = {"\x03", mime, "\x03", cover};
        const size_t lens[] = {1, strlen(mime) + 1, 2, cover_len};
        s_frame(&b, "APIC", parts, lens, 4);
    }
    if (b.failed || b.n - 10 >= (1u << 28)) {
        free(b.p);
        return NULL;
    }
    s_syncsafe(b.p + 6, b.n - 10);
    *len = b.n;
    return b.p;
}
