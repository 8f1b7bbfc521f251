/* What a session delivers: stems, mastering, outputs and metadata. The model
 * keeps mastering, outputs and metadata as JSON for the stages that interpret
 * them; this file makes sure they hold nothing those stages must reject. */
#include "mf_file_name.h"
#include "mf_mp3_rates.h"
#include "session_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t s_count(const char *const *names)
{
    size_t n = 0;
    while (names[n]) n++;
    return n;
}

/* ---- stems ------------------------------------------------------------ */

/* Two stems whose files would be one (names that differ only in case, or
 * in characters a file name cannot hold: "Drums" and "drums", "AC/DC" and
 * "AC:DC"): the second would replace the first, on macOS, Windows and USB
 * drives or everywhere. listed: the stems are the document's "stems". */
static int s_check_stem_files(const mf_session_t *s, int listed, mf_diags_t *d)
{
    int rc = 0;
    for (size_t i = 0; i < s->n_stems; i++) {
        char a[MF_SESS_PATH_MAX], b[MF_SESS_PATH_MAX], p[MF_SESS_PATH_MAX];
        const char *name = mf_session_ref_name(s, s->stems[i]);
        snprintf(a, sizeof a, "%s", name);
        mf_file_name_clean(a);
        for (size_t k = 0; k < i; k++) {
            snprintf(b, sizeof b, "%s", mf_session_ref_name(s, s->stems[k]));
            mf_file_name_clean(b);
            if (!mf_file_name_same(a, b)) continue;
            if (listed)
                mf_sess__path_index(p, "stems", i);
            else
                snprintf(p, sizeof p, "buses[%d].name", s->stems[i].index);
            mf_diags_error(d, p,
                           "the stems \"%s\" and \"%s\" would be one file, stems/%s.wav (names "
                           "that differ only in case, or in characters a file name cannot hold, "
                           "are one file on macOS, Windows and USB drives): rename one",
                           mf_session_ref_name(s, s->stems[k]), name, b);
            rc = -1;
        }
    }
    return rc;
}

int mf_sess__parse_stems(mf_session_t *s, const json_t *j, mf_diags_t *d)
{
    if (!j) {
        /* Default: every bus that feeds master, in bus order. */
        s->stems = calloc(s->n_buses ? s->n_buses : 1, sizeof *s->stems);
        if (!s->stems) abort();
        for (size_t i = 0; i < s->n_buses; i++)
            if (s->buses[i].output.kind == MF_REF_MASTER) {
                mf_ref_t r = {MF_REF_BUS, (int)i};
                s->stems[s->n_stems++] = r;
            }
        return s_check_stem_files(s, 0, d);
    }
    if (mf_sess__expect(j, "stems", d, JSON_ARRAY, "an array") ||
        mf_sess__count(j, "stems", d, MF_LIMIT_STEMS, "stems"))
        return -1;
    size_t n = json_array_size(j);
    s->stems = calloc(n ? n : 1, sizeof *s->stems);
    if (!s->stems) abort();
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char p[MF_SESS_PATH_MAX];
        mf_sess__path_index(p, "stems", i);
        mf_ref_t r =
            mf_sess__ref(s, json_array_get(j, i), p, d, 1, 1, 0, "a stem is a track or a bus");
        if (r.kind == MF_REF_NONE) {
            rc = -1;
            continue;
        }
        for (size_t k = 0; k < s->n_stems; k++)
            if (s->stems[k].kind == r.kind && s->stems[k].index == r.index) {
                mf_diags_error(d, p, "\"%s\" is listed twice", mf_session_ref_name(s, r));
                rc = -1;
            }
        s->stems[s->n_stems++] = r;
    }
    return rc == 0 ? s_check_stem_files(s, 1, d) : rc;
}

/* ---- mastering -------------------------------------------------------- */

static const char *const s_mastering_keys[] = {"target",          "inserts", "limiter", "reference",
                                               "match_reference", "mono",    NULL};
/* SESSION.md: streaming (-14 LUFS, -1 dBTP), apple, youtube, ebu-r128,
 * atsc-a85, cd, none. */
static const char *const s_presets[] = {"streaming", "apple", "youtube", "ebu-r128",
                                        "atsc-a85",  "cd",    "none",    NULL};
static const char *const s_target_keys[] = {"lufs", "true_peak_dbtp", NULL};

static int s_check_target(const json_t *j, mf_diags_t *d)
{
    const char *p = "mastering.target";
    if (json_is_string(j)) {
        const char *name = json_string_value(j);
        for (size_t i = 0; s_presets[i]; i++)
            if (strcmp(s_presets[i], name) == 0) return 0;
        char hint[128];
        mf_diags_error(
            d, p,
            "unknown preset \"%s\"%s; one of streaming, apple, youtube, ebu-r128, "
            "atsc-a85, cd, none, or {\"lufs\": L, \"true_peak_dbtp\": TP}",
            name, mf_sess__did_you_mean(hint, sizeof hint, name, s_presets, s_count(s_presets)));
        return -1;
    }
    if (!json_is_object(j)) {
        mf_diags_error(d, p, "must be a preset name or an object (got %s)", mf_sess__type_name(j));
        return -1;
    }
    mf_sess__check_keys(j, p, d, s_target_keys);
    int rc = 0;
    double x;
    const json_t *v = json_object_get(j, "lufs");
    if (!v) {
        mf_diags_error(d, "mastering.target.lufs", "required");
        rc = -1;
    } else if (mf_sess__number(v, "mastering.target.lufs", d, -70.0, 0.0, 0, &x)) {
        rc = -1;
    }
    v = json_object_get(j, "true_peak_dbtp");
    if (!v) {
        mf_diags_error(d, "mastering.target.true_peak_dbtp", "required");
        rc = -1;
    } else if (mf_sess__number(v, "mastering.target.true_peak_dbtp", d, -20.0, 0.0, 0, &x)) {
        rc = -1;
    }
    return rc;
}

static int s_check_limiter(const json_t *j, mf_diags_t *d)
{
    const char *p = "mastering.limiter";
    if (mf_sess__expect(j, p, d, JSON_OBJECT, "an object")) return -1;
    const mf_processor_class_t *limiter = mf_processor_find("limiter");
    if (limiter) {
        /* The registered limiter's own table is the authority. */
        mf_insert_t ins;
        int rc = mf_sess__parse_insert_as(limiter, j, p, NULL, d, &ins);
        mf_session_insert_fini(&ins);
        return rc;
    }
    static const char *const keys[] = {"ceiling_dbtp", "release_ms", "lookahead_ms", NULL};
    static const double lo[] = {-20.0, 1.0, 0.0}, hi[] = {0.0, 5000.0, 50.0};
    mf_sess__check_keys(j, p, d, keys);
    int rc = 0;
    for (size_t i = 0; keys[i]; i++) {
        const json_t *v = json_object_get(j, keys[i]);
        char kp[MF_SESS_PATH_MAX];
        double x;
        mf_sess__path_key(kp, p, keys[i]);
        if (v && mf_sess__number(v, kp, d, lo[i], hi[i], 0, &x)) rc = -1;
    }
    return rc;
}

/* An insert's file input ("ir"): checked and registered like a channel's,
 * so the client uploads it and the planner decodes it for the mastering. */
static int s_mastering_file(mf_session_t *s, mf_insert_t *ins, const json_t *j, const char *path,
                            mf_diags_t *d, int album)
{
    const char *name = ins->cls && ins->cls->aux ? ins->cls->aux->name : NULL;
    if (!name || !json_object_get(j, name)) return 0;
    if (!album) return mf_sess__parse_aux(s, ins, j, path, d);
    char p[MF_SESS_PATH_MAX];
    mf_sess__path_key(p, path, name);
    mf_diags_error(d, p,
                   "an album's mastering takes no file input; put the %s in the songs' "
                   "sessions, or in each session's own mastering",
                   ins->cls->type);
    return -1;
}

int mf_sess__check_mastering(mf_session_t *s, const json_t *j, mf_diags_t *d, int album)
{
    if (mf_sess__expect(j, "mastering", d, JSON_OBJECT, "an object")) return -1;
    mf_sess__check_keys(j, "mastering", d, s_mastering_keys);
    int rc = 0;
    const json_t *v;
    if (!(v = json_object_get(j, "target"))) {
        mf_diags_error(d, "mastering.target",
                       "required (a preset such as \"streaming\", or {\"lufs\": L, "
                       "\"true_peak_dbtp\": TP})");
        rc = -1;
    } else if (s_check_target(v, d)) {
        rc = -1;
    }
    if ((v = json_object_get(j, "inserts"))) {
        if (mf_sess__expect(v, "mastering.inserts", d, JSON_ARRAY, "an array") ||
            mf_sess__count(v, "mastering.inserts", d, MF_LIMIT_INSERTS, "inserts")) {
            rc = -1;
        } else {
            for (size_t i = 0; i < json_array_size(v); i++) {
                char p[MF_SESS_PATH_MAX];
                mf_sess__path_index(p, "mastering.inserts", i);
                const json_t *ji = json_array_get(v, i);
                mf_insert_t ins;
                if (mf_session_parse_insert(ji, p, NULL, d, &ins))
                    rc = -1;
                else
                    mf_sess__check_insert_rate(&ins, p, s->sample_rate, d);
                if (s_mastering_file(s, &ins, ji, p, d, album)) rc = -1;
                if (ins.cls && ins.cls->has_sidechain && json_object_get(ji, "sidechain")) {
                    char sp[MF_SESS_PATH_MAX];
                    mf_sess__path_key(sp, p, "sidechain");
                    mf_diags_error(d, sp, "mastering works on the mix alone; it has no sidechain");
                    rc = -1;
                }
                mf_session_insert_fini(&ins);
            }
        }
    }
    if ((v = json_object_get(j, "limiter")) && s_check_limiter(v, d)) rc = -1;
    const json_t *ref = json_object_get(j, "reference");
    if (ref) {
        const char *file;
        if (mf_sess__string(ref, "mastering.reference", d, &file)) {
            rc = -1;
        } else {
            char *resolved = mf_sess__resolve(s, file);
            int ch, rate;
            int64_t frames;
            if (mf_sess__probe_audio(s, resolved, file, "mastering.reference", d, &ch, &rate,
                                     &frames)) {
                rc = -1;
            } else if (ch < 1 || ch > 2) { /* the master it is compared with is stereo */
                mf_diags_error(d, "mastering.reference",
                               "%s: has %d channels; a reference track is mono or stereo "
                               "(mixfarm compare measures a surround file against the master)",
                               file, ch);
                rc = -1;
            }
            free(resolved);
        }
    }
    int mono = 0;
    if ((v = json_object_get(j, "mono")) && mf_sess__bool(v, "mastering.mono", d, &mono)) rc = -1;
    if ((v = json_object_get(j, "match_reference"))) {
        int match = 0;
        if (mf_sess__bool(v, "mastering.match_reference", d, &match)) {
            rc = -1;
        } else if (match && !ref) {
            mf_diags_error(d, "mastering.match_reference", "needs a \"reference\" to match");
            rc = -1;
        }
    }
    return rc;
}

/* ---- outputs ---------------------------------------------------------- */

static const char *const s_output_keys[] = {
    "format", "bits", "sample_rate", "bitrate_kbps", "vbr_quality", "name", "noise_shaping", NULL,
};
static const char *const s_formats[] = {"wav", "flac", "mp3", "opus", "aiff", NULL};

static int s_in(long long x, const int *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (x == set[i]) return 1;
    return 0;
}

static const char *s_list(char *buf, size_t size, const int *set, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && len < size; i++) {
        int k = snprintf(buf + len, size - len, "%s%d", i ? ", " : "", set[i]);
        if (k < 0) break;
        len += (size_t)k;
    }
    return buf;
}

/* One integer from a fixed set ("must be one of 16, 24 (got 20)"). */
static int s_int_in(const json_t *v, const char *path, mf_diags_t *d, const int *set, size_t n)
{
    long long x;
    if (mf_sess__int(v, path, d, -1000000000LL, 1000000000LL, &x)) return -1;
    if (s_in(x, set, n)) return 0;
    char list[256];
    mf_diags_error(d, path, "must be one of %s (got %lld)", s_list(list, sizeof list, set, n), x);
    return -1;
}

/* The rate an MP3 output is encoded at: its own sample_rate, else the
 * master's (rate) as MP3 has it. */
static int s_mp3_rate(const json_t *j, int rate)
{
    const json_t *v = json_object_get(j, "sample_rate");
    return mf_mp3_rate(json_is_integer(v) ? (int)json_integer_value(v) : rate);
}

static int s_check_output(const json_t *j, const char *path, int rate, mf_diags_t *d)
{
    if (mf_sess__expect(j, path, d, JSON_OBJECT, "an object")) return -1;
    mf_sess__check_keys(j, path, d, s_output_keys);
    char p[MF_SESS_PATH_MAX];
    int rc = 0;
    const char *fmt = NULL;
    const json_t *v = json_object_get(j, "format");
    mf_sess__path_key(p, path, "format");
    if (!v) {
        mf_diags_error(d, p, "required (wav, flac, mp3, opus or aiff)");
        return -1;
    }
    if (mf_sess__string(v, p, d, &fmt)) return -1;
    size_t f = 0;
    while (s_formats[f] && strcmp(s_formats[f], fmt) != 0) f++;
    if (!s_formats[f]) {
        char hint[128];
        mf_diags_error(
            d, p, "unknown format \"%s\"%s; wav, flac, mp3, opus or aiff", fmt,
            mf_sess__did_you_mean(hint, sizeof hint, fmt, s_formats, s_count(s_formats)));
        return -1;
    }
    int lossy = strcmp(fmt, "mp3") == 0 || strcmp(fmt, "opus") == 0;
    int mp3 = strcmp(fmt, "mp3") == 0, opus = strcmp(fmt, "opus") == 0;

    if ((v = json_object_get(j, "bits"))) {
        mf_sess__path_key(p, path, "bits");
        static const int wav_bits[] = {16, 24, 32}, flac_bits[] = {16, 24};
        if (lossy) {
            mf_diags_error(d, p, "%s has no word length (set bitrate_kbps%s)", fmt,
                           mp3 ? " or vbr_quality" : "");
            rc = -1;
        } else if (strcmp(fmt, "flac") == 0) {
            if (s_int_in(v, p, d, flac_bits, 2)) rc = -1;
        } else if (json_is_string(v) && strcmp(json_string_value(v), "32f") == 0) {
            /* "32f": 32-bit float, as SESSION.md writes it; 32 means the same. */
        } else if (s_int_in(v, p, d, wav_bits, 3)) {
            rc = -1;
        }
    }
    const json_t *br = json_object_get(j, "bitrate_kbps");
    if (br) {
        mf_sess__path_key(p, path, "bitrate_kbps");
        long long x;
        if (!lossy) {
            mf_diags_error(d, p, "only mp3 and opus have a bitrate (%s is lossless)", fmt);
            rc = -1;
        } else if (mp3) {
            /* What MPEG allows at the rate: LAME turned 320 kbps at 8 kHz
             * into 64, and the manifest said 320. */
            const int mr = s_mp3_rate(j, rate);
            size_t n;
            const char *version;
            const int *kbps = mf_mp3_kbps(mr, &n, &version);
            char list[256];
            if (mf_sess__int(br, p, d, -1000000000LL, 1000000000LL, &x)) {
                rc = -1;
            } else if (!s_in(x, kbps, n)) {
                mf_diags_error(d, p, "at %d Hz an MP3 is %s, whose bitrates are %s (got %lld)", mr,
                               version, s_list(list, sizeof list, kbps, n), x);
                rc = -1;
            }
        } else if (mf_sess__int(br, p, d, 6, 510, &x)) {
            rc = -1;
        }
    }
    if ((v = json_object_get(j, "vbr_quality"))) {
        mf_sess__path_key(p, path, "vbr_quality");
        double x;
        if (!mp3) {
            mf_diags_error(d, p, "only mp3 has vbr_quality");
            rc = -1;
        } else if (br) {
            mf_diags_error(d, p, "give bitrate_kbps or vbr_quality, not both");
            rc = -1;
        } else if (mf_sess__number(v, p, d, 0.0, 9.0, 0, &x)) {
            rc = -1;
        }
    }
    if ((v = json_object_get(j, "sample_rate"))) {
        mf_sess__path_key(p, path, "sample_rate");
        static const int mp3_sr[] = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000};
        long long x;
        if (mp3) {
            if (s_int_in(v, p, d, mp3_sr, sizeof mp3_sr / sizeof mp3_sr[0])) rc = -1;
        } else if (mf_sess__int(v, p, d, MF_LIMIT_RATE_MIN, MF_LIMIT_RATE_MAX, &x)) {
            rc = -1;
        } else if (opus && x != 48000) {
            mf_diags_warn(d, p, "Opus always runs at 48000 Hz; this rate is ignored");
        }
    }
    if ((v = json_object_get(j, "noise_shaping"))) {
        mf_sess__path_key(p, path, "noise_shaping");
        int on = 0;
        const json_t *b = json_object_get(j, "bits");
        if (mf_sess__bool(v, p, d, &on)) {
            rc = -1;
        } else if (on && (lossy || json_is_string(b) || json_integer_value(b) == 32)) {
            mf_diags_error(d, p, "shapes the dither of 16- and 24-bit files only");
            rc = -1;
        }
    }
    if ((v = json_object_get(j, "name"))) {
        mf_sess__path_key(p, path, "name");
        const char *name;
        if (mf_sess__string_max(v, p, d, MF_LIMIT_NAME_BYTES, "names become file names", &name)) {
            rc = -1;
        } else if (strchr(name, '/')) {
            mf_diags_error(d, p, "is a file name and must not contain '/'");
            rc = -1;
        }
    }
    return rc;
}

int mf_sess__check_outputs(const json_t *j, int rate, mf_diags_t *d)
{
    if (mf_sess__expect(j, "outputs", d, JSON_ARRAY, "an array") ||
        mf_sess__count(j, "outputs", d, MF_LIMIT_OUTPUTS, "outputs"))
        return -1;
    int rc = 0;
    for (size_t i = 0; i < json_array_size(j); i++) {
        char p[MF_SESS_PATH_MAX];
        mf_sess__path_index(p, "outputs", i);
        const json_t *o = json_array_get(j, i);
        if (s_check_output(o, p, rate, d)) {
            rc = -1;
            continue;
        }
        for (size_t k = 0; k < i; k++)
            if (json_equal((json_t *)o, json_array_get(j, k))) {
                mf_diags_error(d, p, "the same deliverable as outputs[%zu]", k);
                rc = -1;
                break;
            }
    }
    return rc;
}

/* ---- metadata --------------------------------------------------------- */

static const char *const s_text_keys[] = {
    "title", "artist", "album", "album_artist", "genre", "composer", "copyright", "comment", NULL,
};
static const char *const s_metadata_keys[] = {
    "title",    "artist",    "album",   "album_artist", "track", "disc",  "year", "genre",
    "composer", "copyright", "comment", "isrc",         "upc",   "cover", NULL,
};

/* ISRC (ISO 3901): country (2 letters), registrant (3 letters or digits),
 * year (2 digits), designation (5 digits); hyphens allowed between. */
static int s_is_isrc(const char *v)
{
    char c[13];
    size_t n = 0;
    for (; *v; v++) {
        if (*v == '-') continue;
        if (n == 12) return 0;
        c[n++] = *v;
    }
    if (n != 12) return 0;
    for (size_t i = 0; i < 12; i++) {
        unsigned char ch = (unsigned char)c[i];
        if (i < 2 && !isalpha(ch)) return 0;
        if (i >= 2 && i < 5 && !isalnum(ch)) return 0;
        if (i >= 5 && !isdigit(ch)) return 0;
    }
    return 1;
}

/* UPC-A (12 digits) or EAN-13, with its check digit: weights 3 and 1
 * alternate from the right, the check digit makes the sum a multiple of 10. */
static int s_is_upc(const char *v)
{
    size_t n = strlen(v);
    if (n != 12 && n != 13) return 0;
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)v[i])) return 0;
        int dgt = v[i] - '0';
        size_t from_right = n - 1 - i; /* 0 is the check digit */
        sum += from_right % 2 ? 3 * dgt : dgt;
    }
    return sum % 10 == 0;
}

int mf_sess__check_metadata(const mf_session_t *s, const json_t *j, mf_diags_t *d)
{
    if (mf_sess__expect(j, "metadata", d, JSON_OBJECT, "an object")) return -1;
    mf_sess__check_keys(j, "metadata", d, s_metadata_keys);
    int rc = 0;
    char p[MF_SESS_PATH_MAX];
    const char *str;
    const json_t *v;
    for (size_t i = 0; s_text_keys[i]; i++)
        if ((v = json_object_get(j, s_text_keys[i]))) {
            /* The title names the deliverables; the rest is tag text. */
            const int title = strcmp(s_text_keys[i], "title") == 0;
            mf_sess__path_key(p, "metadata", s_text_keys[i]);
            if (mf_sess__string_max(v, p, d, title ? MF_LIMIT_NAME_BYTES : MF_LIMIT_TEXT_BYTES,
                                    title ? "the title names the deliverables"
                                          : "tags and CUE sheets carry at most that",
                                    &str))
                rc = -1;
        }
    static const char *const nums[] = {"track", "disc", "year"};
    static const long long hi[] = {999, 99, 9999};
    for (size_t i = 0; i < 3; i++)
        if ((v = json_object_get(j, nums[i]))) {
            long long x;
            mf_sess__path_key(p, "metadata", nums[i]);
            if (mf_sess__int(v, p, d, 1, hi[i], &x)) rc = -1;
        }
    if ((v = json_object_get(j, "isrc"))) {
        if (mf_sess__string(v, "metadata.isrc", d, &str)) {
            rc = -1;
        } else if (!s_is_isrc(str)) {
            mf_diags_error(d, "metadata.isrc", "must be an ISRC, CC-XXX-YY-NNNNN (got \"%s\")",
                           str);
            rc = -1;
        }
    }
    if ((v = json_object_get(j, "upc"))) {
        if (mf_sess__string(v, "metadata.upc", d, &str)) {
            rc = -1;
        } else if (!s_is_upc(str)) {
            mf_diags_error(d, "metadata.upc",
                           "must be a UPC (12 digits) or EAN (13) with a valid check digit "
                           "(got \"%s\")",
                           str);
            rc = -1;
        }
    }
    if ((v = json_object_get(j, "cover"))) {
        if (mf_sess__string(v, "metadata.cover", d, &str)) {
            rc = -1;
        } else {
            char *resolved = mf_sess__resolve(s, str);
            if (mf_sess__probe_image(s, resolved, str, "metadata.cover", d)) rc = -1;
            free(resolved);
        }
    }
    return rc;
}
