/* The Vorbis comment field name of each tag, for the two containers that
 * carry Vorbis comments: FLAC and Ogg Opus (OpusTags). */
#include "deliver_int.h"

/* https://xiph.org/vorbis/doc/v-comment.html and the common extensions
 * (ALBUMARTIST, TRACKTOTAL, BARCODE). */
static const char *const s_names[MF_TAG__COUNT] = {
    [MF_TAG_TITLE] = "TITLE",         [MF_TAG_ARTIST] = "ARTIST",
    [MF_TAG_ALBUM] = "ALBUM",         [MF_TAG_ALBUM_ARTIST] = "ALBUMARTIST",
    [MF_TAG_TRACK] = "TRACKNUMBER",   [MF_TAG_TRACK_TOTAL] = "TRACKTOTAL",
    [MF_TAG_DISC] = "DISCNUMBER",     [MF_TAG_YEAR] = "DATE",
    [MF_TAG_GENRE] = "GENRE",         [MF_TAG_COMPOSER] = "COMPOSER",
    [MF_TAG_COPYRIGHT] = "COPYRIGHT", [MF_TAG_COMMENT] = "COMMENT",
    [MF_TAG_ISRC] = "ISRC",           [MF_TAG_UPC] = "BARCODE",
};

const char *mf_vorbis_comment_name(mf_tag_t t)
{
    return t < MF_TAG__COUNT ? s_names[t] : "";
}
