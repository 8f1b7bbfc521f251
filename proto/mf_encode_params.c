#include "mf_encode_params.h"
#include "mf_limits.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17))
#define MAX_TAG 4096

static const char *const s_tag_keys[MF_TAG__COUNT] = {
    "title", "artist", "album",    "album_artist", "track",   "track_total", "disc",
    "year",  "genre",  "composer", "copyright",    "comment", "isrc",        "upc",
};

const char *mf_tag_key(mf_tag_t t)
{
    return t < MF_TAG__COUNT ? s_tag_keys[t] : "";
}

int mf_encode_lossy(const char *format)
{
    return !strcmp(format, "mp3") || !strcmp(format, "opus");
}

char *mf_encode_spec_to_json(const mf_encode_spec_t *e)
{
    json_t *tags = json_object();
    for (int i = 0; tags && i < MF_TAG__COUNT; i++)
        if (e->tags[i]) json_object_set_new(tags, s_tag_keys[i], json_string(e->tags[i]));
    json_t *j = json_pack(
        "{s:s,s:i,s:i,s:i,s:o,s:b,s:f,s:f,s:f,s:f,s:b,s:o}", "format", e->format, "bits", e->bits,
        "rate", e->rate, "bitrate_kbps", e->bitrate_kbps, "vbr_quality",
        isnan(e->vbr_quality) ? json_null() : json_real(e->vbr_quality), "noise_shaping",
        e->noise_shaping, "ceiling_dbtp", e->ceiling_dbtp, "release_ms", e->release_ms,
        "lookahead_ms", e->lookahead_ms, "gain_db", e->gain_db, "cover", e->cover, "tags", tags);
    char *text = j ? json_dumps(j, DUMP_FLAGS) : NULL;
    json_decref(j);
    return text;
}

static int s_num(const json_t *o, const char *k, double lo, double hi, double *v)
{
    const json_t *x = json_object_get(o, k);
    if (!json_is_number(x)) return -1;
    *v = json_number_value(x);
    return isfinite(*v) && *v >= lo && *v <= hi ? 0 : -1;
}

#define FAIL(msg)                                                                                  \
    do {                                                                                           \
        *why = (msg);                                                                              \
        goto fail;                                                                                 \
    } while (0)

mf_err_t mf_encode_spec_from_json(const char *text, mf_encode_spec_t *e, const char **why)
{
    memset(e, 0, sizeof *e);
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    double bits, rate, kbps;
    if (!json_is_object(o)) FAIL("parameters are not a JSON object");
    const char *fmt = json_string_value(json_object_get(o, "format"));
    if (!fmt || (strcmp(fmt, "wav") && strcmp(fmt, "aiff") && strcmp(fmt, "flac") &&
                 strcmp(fmt, "mp3") && strcmp(fmt, "opus")))
        FAIL("unknown format");
    snprintf(e->format, sizeof e->format, "%s", fmt);
    if (s_num(o, "bits", 0, 32, &bits) ||
        s_num(o, "rate", MF_LIMIT_RATE_MIN, MF_LIMIT_RATE_MAX, &rate) ||
        s_num(o, "bitrate_kbps", 0, 512, &kbps) ||
        s_num(o, "ceiling_dbtp", -40, 0, &e->ceiling_dbtp) ||
        s_num(o, "release_ms", 1, 5000, &e->release_ms) ||
        s_num(o, "lookahead_ms", 0, 50, &e->lookahead_ms) ||
        s_num(o, "gain_db", -100, 100, &e->gain_db))
        FAIL("missing or bad number");
    e->bits = (int)bits, e->rate = (int)rate, e->bitrate_kbps = (int)kbps;
    int lossy = mf_encode_lossy(fmt);
    if (lossy ? e->bits != 0 : (e->bits != 16 && e->bits != 24 && e->bits != 32))
        FAIL("bad bits for the format");
    if (!strcmp(fmt, "flac") && e->bits == 32) FAIL("flac has no float samples");
    const json_t *vq = json_object_get(o, "vbr_quality");
    e->vbr_quality = NAN;
    if (!json_is_null(vq) && (strcmp(fmt, "mp3") || s_num(o, "vbr_quality", 0, 9, &e->vbr_quality)))
        FAIL("bad vbr_quality");
    if (lossy && isnan(e->vbr_quality) && e->bitrate_kbps < 6) FAIL("no bitrate");
    e->noise_shaping = json_is_true(json_object_get(o, "noise_shaping"));
    e->cover = json_is_true(json_object_get(o, "cover"));
    const json_t *tags = json_object_get(o, "tags");
    if (!json_is_object(tags)) FAIL("bad tags");
    for (int i = 0; i < MF_TAG__COUNT; i++) {
        const json_t *v = json_object_get(tags, s_tag_keys[i]);
        if (!v) continue;
        if (!json_is_string(v) || json_string_length(v) > MAX_TAG) FAIL("bad tag");
        if (!(e->tags[i] = strdup(json_string_value(v)))) FAIL("out of memory");
    }
    json_decref(o);
    return MF_OK;
fail:
    json_decref(o);
    mf_encode_spec_fini(e);
    return MF_ERR_INVALID;
}

void mf_encode_spec_fini(mf_encode_spec_t *e)
{
    for (int i = 0; i < MF_TAG__COUNT; i++) free(e->tags[i]);
    memset(e, 0, sizeof *e);
}
