/* session/: loading and validating session.json.
 *
 * Each test writes a small document into a temporary folder that holds a few
 * audio files made here with libsndfile, loads it, and checks the model or the
 * problems reported (one test per kind of problem). Processor-generic code
 * (bands, choices, sidechains) is tested with a fake class defined below,
 * since the registry holds only "gain" for now. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mf_file_name.h"
#include "mf_session.h"
#include "session_fixture.h"
#include "session_int.h"

/* ---- fixtures --------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    if (sfx_open("mf-session")) return -1;
    char sub[300];
    snprintf(sub, sizeof sub, "%s/audio", sfx_dir());
    if (mkdir(sub, 0755)) return -1;
    snprintf(sub, sizeof sub, "%s/refs", sfx_dir());
    if (mkdir(sub, 0755)) return -1;
    sfx_write_wav("audio/kick.wav", 1, 48000, 48000, 0.25f);  /* 1 s mono */
    sfx_write_wav("audio/snare.wav", 2, 48000, 24000, 0.25f); /* 0.5 s stereo */
    sfx_write_wav("audio/gtr44.wav", 1, 44100, 44100, 0.25f); /* 1 s at 44.1 kHz */
    sfx_write_wav("audio/six.wav", 6, 48000, 4800, 0.25f);    /* 5.1 */
    sfx_write_wav("refs/reference.wav", 2, 44100, 4410, 0.25f);
    /* Names as macOS's HFS+ stores them, decomposed (NFD): "e" and a
     * combining acute accent; "Ångström" with a combining ring and
     * diaeresis; and one in the composed form (NFC). */
    sfx_write_wav("audio/Cafe\xcc\x81.wav", 1, 48000, 4800, 0.25f);
    snprintf(sub, sizeof sub, "%s/audio/A\xcc\x8angstro\xcc\x88m", sfx_dir());
    if (mkdir(sub, 0755)) return -1;
    sfx_write_wav("audio/A\xcc\x8angstro\xcc\x88m/take.wav", 1, 48000, 4800, 0.25f);
    sfx_write_wav("audio/na\xc3\xafve.wav", 1, 48000, 4800, 0.25f);
    static const char text[] = "this is not audio\n";
    sfx_write_file("audio/x.txt", text, sizeof text - 1);
    /* The head of an M4A as phones and iTunes write it; an empty file. */
    static const char m4a[] = "\0\0\0\x20"
                              "ftypM4A \0\0\0\0M4A mp42isom\0\0\0\0";
    sfx_write_file("audio/phone.m4a", m4a, sizeof m4a - 1);
    sfx_write_file("audio/empty.wav", "", 0);
    static const unsigned char jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0};
    sfx_write_file("cover.jpg", jpeg, sizeof jpeg);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return sfx_close();
}

/* Writes doc as NAME.json in the temp folder and loads it. */
static mf_session_t *load_named(const char *name, const char *doc, mf_diags_t *d)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.json", sfx_dir(), name);
    sfx_write_file(strrchr(path, '/') + 1, doc, strlen(doc));
    mf_diags_init(d, path);
    return mf_session_load(path, d);
}

static mf_session_t *load(const char *doc, mf_diags_t *d)
{
    return load_named("session", doc, d);
}

/* Whether d holds an item of kind at exactly path whose message contains
 * text; prints every item when not, to show what was reported instead. */
static int has(const mf_diags_t *d, mf_diag_kind_t kind, const char *path, const char *text)
{
    for (size_t i = 0; i < d->count; i++)
        if (d->items[i].kind == kind && strcmp(d->items[i].path, path) == 0 &&
            strstr(d->items[i].message, text))
            return 1;
    fprintf(stderr, "expected %s at %s containing: %s\n",
            kind == MF_DIAG_ERROR ? "error" : "warning", path, text);
    mf_diags_print(d);
    return 0;
}
#define assert_error(d, path, text) assert_true(has((d), MF_DIAG_ERROR, (path), (text)))
#define assert_warning(d, path, text) assert_true(has((d), MF_DIAG_WARNING, (path), (text)))

/* A one-track session with extra keys spliced into the track, the buses, and
 * the top level. */
static mf_session_t *load_track(const char *track_extra, const char *buses, const char *top,
                                mf_diags_t *d)
{
    char doc[8192];
    snprintf(doc, sizeof doc,
             "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"Kick\", \"file\": "
             "\"audio/kick.wav\"%s%s}], \"buses\": [%s]%s%s}",
             track_extra[0] ? ", " : "", track_extra, buses, top[0] ? ", " : "", top);
    return load(doc, d);
}

/* ---- a fake processor: choices, bands and a sidechain ------------------ */

static const char *const s_detectors[] = {"peak", "rms", NULL};
static const char *const s_kinds[] = {"lowshelf", "peak", "highshelf", NULL};
static const mf_param_desc_t s_fake_params[] = {
    {"ratio", "ratio", 2.0, 1.0, 20.0, NULL, "compression ratio"},
    {"detector", "", 0.0, 0.0, 1.0, s_detectors, "level detector"},
    {"threshold_db", "dB", -20.0, -120.0, 0.0, NULL, "threshold"},
    {"knee_db", "dB", 0.0, 0.0, 24.0, NULL, "knee (no -inf: min is 0)"},
};
static const mf_param_desc_t s_fake_band[] = {
    {"kind", "", 1.0, 0.0, 2.0, s_kinds, "filter shape"},
    {"freq_hz", "Hz", 1000.0, 20.0, 20000.0, NULL, "frequency"},
    {"gain_db", "dB", 0.0, -24.0, 24.0, NULL, "gain"},
};
static const mf_processor_class_t s_fake = {
    .type = "fake",
    .params = s_fake_params,
    .n_params = 4,
    .band_params = s_fake_band,
    .n_band_params = 3,
    .max_bands = 2,
    .has_sidechain = 1,
};

static int parse_fake(const char *text, const mf_session_t *names, mf_diags_t *d, mf_insert_t *ins)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    assert_non_null(j);
    mf_diags_init(d, "fake");
    int rc = mf_sess__parse_insert_as(&s_fake, j, "ins", names, d, ins);
    json_decref(j);
    return rc;
}

/* ---- a valid session loads --------------------------------------------- */

static const char *const s_full =
    "{\n"
    "  \"mixfarm\": 1, \"name\": \"Night Drive\", \"sample_rate\": 48000, \"tempo_bpm\": 120,\n"
    "  \"tracks\": [\n"
    "    {\"name\": \"Kick\", \"file\": \"audio/kick.wav\", \"start_s\": 0.0,\n"
    "     \"trim\": {\"from_s\": 0.0, \"length_s\": null}, \"gain_db\": -3.0, \"invert\": false,\n"
    "     \"mute\": false, \"solo\": false, \"pan\": 0.0,\n"
    "     \"inserts\": [{\"type\": \"gain\", \"gain_db\": 3.0}, {\"type\": \"gain\"}],\n"
    "     \"sends\": [{\"bus\": \"Verb\", \"level_db\": -14, \"pre_fader\": false}],\n"
    "     \"output\": \"Drums\",\n"
    "     \"automation\": {\"gain_db\": [[0.0, \"-inf\"], [1.5, 0.0]],\n"
    "                    \"pan\": [[30.0, 0.0], [32.0, -0.6]],\n"
    "                    \"inserts.1.gain_db\": [[0.0, 3.0], [60.0, 5.0]],\n"
    "                    \"sends.Verb.level_db\": [[0, -14], [2, -10]]}},\n"
    "    {\"name\": \"Snare\", \"file\": \"audio/snare.wav\", \"start_s\": 1.5,\n"
    "     \"trim\": {\"from_s\": 0.1, \"length_s\": 0.2}, \"invert\": true,\n"
    "     \"sends\": [{\"bus\": \"Verb\", \"level_db\": -10, \"pre_fader\": true}],\n"
    "     \"output\": \"Drums\"}\n"
    "  ],\n"
    "  \"buses\": [\n"
    "    {\"name\": \"Drums\", \"inserts\": [{\"type\": \"gain\", \"gain_db\": -1}],\n"
    "     \"gain_db\": 0, \"output\": \"master\"},\n"
    "    {\"name\": \"Verb\", \"inserts\": [{\"type\": \"gain\", \"gain_db\": -6}],\n"
    "     \"output\": \"master\"}\n"
    "  ],\n"
    "  \"master\": {\"inserts\": [], \"gain_db\": 0},\n"
    "  \"stems\": [\"Drums\", \"Verb\"],\n"
    "  \"mastering\": {\"target\": \"streaming\",\n"
    "    \"inserts\": [{\"type\": \"gain\", \"gain_db\": 1}],\n"
    "    \"limiter\": {\"ceiling_dbtp\": -1.0, \"release_ms\": 80, \"lookahead_ms\": 5},\n"
    "    \"reference\": \"refs/reference.wav\"},\n"
    "  \"outputs\": [{\"format\": \"wav\", \"bits\": 24},\n"
    "              {\"format\": \"flac\", \"bits\": 16, \"sample_rate\": 44100},\n"
    "              {\"format\": \"mp3\", \"bitrate_kbps\": 320},\n"
    "              {\"format\": \"opus\", \"bitrate_kbps\": 160}],\n"
    "  \"metadata\": {\"title\": \"Night Drive\", \"artist\": \"The Examples\",\n"
    "    \"album\": \"Demo\", \"track\": 1, \"year\": 2026, \"genre\": \"Pop\",\n"
    "    \"isrc\": \"XXA0A2600001\", \"cover\": \"cover.jpg\"}\n"
    "}\n";

static void test_full_session_loads(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s = load(s_full, &d);
    if (d.count) mf_diags_print(&d);
    assert_non_null(s);
    assert_int_equal(d.count, 0);
    assert_string_equal(s->name, "Night Drive");
    assert_int_equal(s->sample_rate, 48000);
    assert_int_equal(s->n_tracks, 2);
    assert_int_equal(s->n_buses, 2);

    const mf_track_t *kick = &s->tracks[0];
    assert_string_equal(kick->ch.name, "Kick");
    char want[600];
    snprintf(want, sizeof want, "%s/audio/kick.wav", sfx_dir());
    assert_string_equal(kick->file, want);
    assert_int_equal(kick->src_channels, 1);
    assert_int_equal(kick->src_rate, 48000);
    assert_int_equal(kick->src_frames, 48000);
    assert_true(kick->trim_length_s < 0);
    assert_true(kick->ch.gain_db == -3.0);
    assert_int_equal(kick->ch.output.kind, MF_REF_BUS);
    assert_int_equal(kick->ch.output.index, 0);
    assert_int_equal(kick->ch.n_inserts, 2);
    assert_ptr_equal(kick->ch.inserts[0].cls, mf_processor_find("gain"));
    assert_true(kick->ch.inserts[0].values[0] == 3.0);
    assert_true(kick->ch.inserts[1].values[0] == 0.0); /* default filled */
    assert_int_equal(kick->ch.n_sends, 1);
    assert_int_equal(kick->ch.sends[0].bus, 1);
    assert_true(kick->ch.sends[0].level_db == -14.0);

    assert_int_equal(kick->ch.n_autos, 4);
    assert_int_equal(kick->ch.autos[0].kind, MF_AUTO_GAIN);
    assert_true(isinf(kick->ch.autos[0].pts[0].v) && kick->ch.autos[0].pts[0].v < 0);
    assert_int_equal(kick->ch.autos[1].kind, MF_AUTO_PAN);
    assert_true(kick->ch.autos[1].pts[1].v == -0.6);
    assert_int_equal(kick->ch.autos[2].kind, MF_AUTO_INSERT_PARAM);
    assert_int_equal(kick->ch.autos[2].index, 1);
    assert_int_equal(kick->ch.autos[2].param, 0);
    assert_string_equal(kick->ch.autos[2].path, "inserts.1.gain_db");
    assert_int_equal(kick->ch.autos[3].kind, MF_AUTO_SEND_LEVEL);
    assert_int_equal(kick->ch.autos[3].index, 0);

    const mf_track_t *snare = &s->tracks[1];
    assert_int_equal(snare->src_channels, 2);
    assert_true(snare->ch.invert);
    assert_true(snare->ch.sends[0].pre_fader);
    assert_true(snare->trim_from_s == 0.1 && snare->trim_length_s == 0.2);
    assert_true(snare->start_s == 1.5);

    assert_int_equal(s->buses[1].output.kind, MF_REF_MASTER);
    assert_string_equal(s->master.name, "master");
    assert_int_equal(s->master.output.kind, MF_REF_NONE);
    assert_int_equal(s->n_stems, 2);
    assert_int_equal(s->stems[1].kind, MF_REF_BUS);
    assert_int_equal(s->stems[1].index, 1);
    assert_non_null(s->mastering);
    assert_int_equal(json_array_size(s->outputs), 4);
    assert_non_null(s->metadata);

    mf_ref_t r = mf_session_find(s, "Verb");
    assert_int_equal(r.kind, MF_REF_BUS);
    assert_ptr_equal(mf_session_channel(s, r), &s->buses[1]);
    assert_int_equal(mf_session_find(s, "master").kind, MF_REF_MASTER);
    assert_int_equal(mf_session_find(s, "Nope").kind, MF_REF_NONE);
    assert_string_equal(mf_session_ref_name(s, s->stems[0]), "Drums");
    assert_null(mf_session_channel(s, (mf_ref_t){MF_REF_NONE, 0}));

    mf_session_free(&s);
    assert_null(s);
    mf_session_free(&s); /* NULL-safe */
    mf_session_free(NULL);
    mf_diags_fini(&d);
}

/* ---- one test per kind of problem ------------------------------------- */

static void test_bad_type(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s =
        load_track("\"pan\": \"left\", \"mute\": 1, \"gain_db\": \"loud\"", "", "", &d);
    assert_null(s);
    assert_error(&d, "tracks[0].pan", "must be a number (got string)");
    assert_error(&d, "tracks[0].mute", "must be true or false (got number)");
    assert_error(&d, "tracks[0].gain_db", "must be a number or \"-inf\" (got string)");
    mf_diags_fini(&d);
}

static void test_out_of_range(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s = load_track("\"pan\": 1.5, \"gain_db\": 30, \"inserts\": [{\"type\": "
                                 "\"gain\", \"gain_db\": 60}]",
                                 "", "\"tempo_bpm\": 10, \"sample_rate\": 1000", &d);
    assert_null(s);
    assert_error(&d, "tracks[0].pan", "must be <= 1 (got 1.5)");
    assert_error(&d, "tracks[0].gain_db", "must be <= 24 (got 30)");
    assert_error(&d, "tracks[0].inserts[0].gain_db", "must be <= 48 (got 60)");
    assert_error(&d, "tempo_bpm", "must be >= 20 (got 10)");
    assert_error(&d, "sample_rate", "must be >= 8000 (got 1000)");
    mf_diags_fini(&d);
}

static void test_unknown_insert_type(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s =
        load_track("\"inserts\": [{\"type\": \"gian\"}, {\"type\": \"zzzzzz\"}]", "", "", &d);
    assert_null(s);
    assert_error(&d, "tracks[0].inserts[0].type",
                 "unknown insert type \"gian\" (did you mean \"gain\"?)");
    assert_error(&d, "tracks[0].inserts[1].type", "unknown insert type \"zzzzzz\" (known: ");
    mf_diags_fini(&d);
}

static void test_unknown_key_warns(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s = load_track("\"gain_bd\": -3, \"colour\": \"red\"", "", "\"tempo\": 100", &d);
    assert_non_null(s); /* warnings only */
    assert_int_equal(d.errors, 0);
    assert_warning(&d, "tracks[0].gain_bd", "unknown key (did you mean \"gain_db\"?)");
    assert_warning(&d, "tracks[0].colour", "unknown key");
    assert_warning(&d, "tempo", "unknown key (did you mean \"tempo_bpm\"?)");
    mf_session_free(&s);
    mf_diags_fini(&d);
}

/* Frequencies past half the session's rate: warned where they are written
 * (a band, a list's item, a parameter, the mastering's), not refused; the
 * same settings at 48 kHz say nothing. */
static void test_frequency_past_nyquist(void **state)
{
    (void)state;
    static const char *const inserts =
        "\"inserts\": [{\"type\": \"eq\", \"bands\": [{\"kind\": \"peak\", \"freq_hz\": 1000}, "
        "{\"kind\": \"highshelf\", \"freq_hz\": 12000, \"gain_db\": 2}]}, "
        "{\"type\": \"multiband\", \"crossovers_hz\": [200, 2000, 12000]}, "
        "{\"type\": \"delay\", \"time_ms\": 100, \"lowpass_hz\": 11025}]";
    char top[512];
    for (int r = 0; r < 2; r++) {
        snprintf(top, sizeof top,
                 "\"sample_rate\": %d, \"mastering\": {\"target\": \"streaming\", "
                 "\"inserts\": [{\"type\": \"eq\", \"bands\": [{\"kind\": \"lowpass\", "
                 "\"freq_hz\": 16000}]}]}",
                 r ? 48000 : 22050);
        mf_diags_t d;
        mf_session_t *s = load_track(inserts, "", top, &d);
        assert_non_null(s); /* warnings only */
        assert_int_equal(d.errors, 0);
        if (r) {
            if (d.count) mf_diags_print(&d);
            assert_int_equal(d.count, 0);
        } else {
            assert_warning(&d, "tracks[0].inserts[0].bands[1].freq_hz",
                           "12000 Hz is at or above half the session's sample rate (11025 Hz at "
                           "22050 Hz)");
            assert_warning(&d, "tracks[0].inserts[1].crossovers_hz[2]", "12000 Hz is at or above");
            assert_warning(&d, "tracks[0].inserts[2].lowpass_hz", "11025 Hz is at or above");
            assert_warning(&d, "mastering.inserts[0].bands[0].freq_hz", "16000 Hz is at or above");
            assert_int_equal(d.count, 4); /* 1000, 200 and 2000 Hz are fine */
        }
        mf_session_free(&s);
        mf_diags_fini(&d);
    }
}

static void test_missing_file(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s = load("{\"mixfarm\": 1, \"tracks\": [{\"name\": \"Gtr\", \"file\": "
                           "\"audio/gtr.wav\"}, {\"name\": \"Bass\"}]}",
                           &d);
    assert_null(s);
    assert_error(&d, "tracks[0].file", "audio/gtr.wav: no such file");
    assert_error(&d, "tracks[1].file", "required");
    mf_diags_fini(&d);

    /* What a session from another machine holds, said with what to do. */
    s = load("{\"mixfarm\": 1, \"tracks\": ["
             "{\"name\": \"A\", \"file\": \"Audio/KICK.wav\"},"
             "{\"name\": \"B\", \"file\": \"audio\\\\Kick.WAV\"},"
             "{\"name\": \"C\", \"file\": \"C:\\\\Music\\\\kick.wav\"},"
             "{\"name\": \"D\", \"file\": \"~/kick.wav\"},"
             "{\"name\": \"E\", \"file\": \"file:///audio/kick.wav\"},"
             "{\"name\": \"F\", \"file\": \"audio/kik.wav\"},"
             "{\"name\": \"G\", \"file\": \"$HOME/audio/kick.wav\"}]}",
             &d);
    assert_null(s);
    assert_error(&d, "tracks[0].file",
                 "Audio/KICK.wav: no such file (\"audio/kick.wav\" is there: the names differ in "
                 "case, which counts here)");
    assert_error(&d, "tracks[1].file",
                 "(a Windows path; \"audio/kick.wav\" is there: write paths "
                 "with /)");
    assert_error(&d, "tracks[2].file", "(a Windows path: write paths with /, relative to");
    assert_error(&d, "tracks[3].file", "(~ is the shell's shorthand");
    assert_error(&d, "tracks[4].file", "(a URL: give the file's path");
    assert_error(&d, "tracks[6].file", "($ names a shell variable");
    for (size_t i = 0; i < d.count; i++) /* nothing to suggest: nothing suggested */
        if (!strcmp(d.items[i].path, "tracks[5].file"))
            assert_string_equal(d.items[i].message, "audio/kik.wav: no such file");
    mf_diags_fini(&d);
}

/* A session from another machine names files in another Unicode form than
 * the disk holds them (macOS's HFS+ decomposes; most text is composed): the
 * same text, so the file on disk is the one meant. A name that is not the
 * same text is still not there. */
static void test_unicode_forms(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s = load("{\"mixfarm\": 1, \"tracks\": ["
                           "{\"name\": \"A\", \"file\": \"audio/Caf\xc3\xa9.wav\"},"
                           "{\"name\": \"B\", \"file\": \"audio/\xc3\x85ngstr\xc3\xb6m/take.wav\"},"
                           "{\"name\": \"C\", \"file\": \"audio/nai\xcc\x88ve.wav\"}]}",
                           &d);
    assert_non_null(s);
    assert_int_equal(d.errors, 0);
    char want[512];
    snprintf(want, sizeof want, "%s/audio/Cafe\xcc\x81.wav", sfx_dir());
    assert_string_equal(s->tracks[0].file, want);
    snprintf(want, sizeof want, "%s/audio/A\xcc\x8angstro\xcc\x88m/take.wav", sfx_dir());
    assert_string_equal(s->tracks[1].file, want);
    snprintf(want, sizeof want, "%s/audio/na\xc3\xafve.wav", sfx_dir());
    assert_string_equal(s->tracks[2].file, want);
    mf_session_free(&s);
    mf_diags_fini(&d);

    /* By absolute path too; and "Cafe.wav" (no accent) is another name. */
    char doc[1024];
    snprintf(
        doc, sizeof doc,
        "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"A\", \"file\": \"%s/audio/Caf\xc3\xa9.wav\"},"
        " {\"name\": \"B\", \"file\": \"audio/Cafe.wav\"}]}",
        sfx_dir());
    s = load(doc, &d);
    assert_null(s);
    assert_error(&d, "tracks[1].file", "audio/Cafe.wav: no such file");
    for (size_t i = 0; i < d.count; i++)
        if (strstr(d.items[i].path, "tracks[0]")) fail_msg("%s", d.items[i].message);
    mf_diags_fini(&d);
}

/* Stems whose files would be one: buses "Drums" and "drums" (one file on
 * macOS, Windows and USB drives), "AC/DC" and "AC:DC" (both AC_DC.wav
 * everywhere): one stem was lost. Refused, naming both. */
static void test_stem_files_collide(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s = load("{\"mixfarm\": 1, \"tracks\": [{\"name\": \"K\", \"file\": "
                           "\"audio/kick.wav\", \"output\": \"Drums\"}],"
                           " \"buses\": [{\"name\": \"Drums\"}, {\"name\": \"drums\"},"
                           " {\"name\": \"AC/DC\"}, {\"name\": \"AC:DC\"}, {\"name\": \"Keys\"}]}",
                           &d);
    assert_null(s);
    assert_error(&d, "buses[1].name",
                 "the stems \"Drums\" and \"drums\" would be one file, stems/Drums.wav");
    assert_error(&d, "buses[3].name",
                 "the stems \"AC/DC\" and \"AC:DC\" would be one file, stems/AC_DC.wav");
    assert_int_equal(d.errors, 2);
    mf_diags_fini(&d);
    /* Listed: the stem as the list names it. */
    s = load("{\"mixfarm\": 1, \"tracks\": [{\"name\": \"Vox\", \"file\": \"audio/kick.wav\"},"
             " {\"name\": \"VOX\", \"file\": \"audio/kick.wav\"}], \"stems\": [\"Vox\", \"VOX\"]}",
             &d);
    assert_null(s);
    assert_error(&d, "stems[1]", "the stems \"Vox\" and \"VOX\" would be one file");
    mf_diags_fini(&d);
}

static void test_not_audio(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s = load("{\"mixfarm\": 1, \"tracks\": [{\"name\": \"X\", \"file\": "
                           "\"audio/x.txt\"}, {\"name\": \"Dir\", \"file\": \"audio\"}]}",
                           &d);
    assert_null(s);
    assert_error(&d, "tracks[0].file", "audio/x.txt: not an audio file (");
    assert_error(&d, "tracks[1].file", "audio: is a folder");
    mf_diags_fini(&d);
    /* Formats libsndfile does not read, named with what to do. */
    s = load("{\"mixfarm\": 1, \"tracks\": [{\"name\": \"P\", \"file\": \"audio/phone.m4a\"},"
             " {\"name\": \"E\", \"file\": \"audio/empty.wav\"}]}",
             &d);
    assert_null(s);
    assert_error(&d, "tracks[0].file",
                 "audio/phone.m4a: an M4A file (AAC or ALAC), which is not read here: convert it "
                 "to WAV or FLAC, e.g. with ffmpeg -i IN OUT.wav");
    assert_error(&d, "tracks[1].file", "audio/empty.wav: an empty file");
    mf_diags_fini(&d);
}

static void test_too_many_channels(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s = load("{\"mixfarm\": 1, \"tracks\": [{\"name\": \"Amb\", \"file\": "
                           "\"audio/six.wav\"}]}",
                           &d);
    assert_null(s);
    assert_error(&d, "tracks[0].file", "has 6 channels; only mono or stereo");
    mf_diags_fini(&d);
    /* A surround reference: the master it is compared with is stereo. */
    s = load("{\"mixfarm\": 1, \"tracks\": [{\"name\": \"K\", \"file\": \"audio/kick.wav\"}],"
             " \"mastering\": {\"reference\": \"audio/six.wav\"}}",
             &d);
    assert_null(s);
    assert_error(&d, "mastering.reference", "audio/six.wav: has 6 channels; a reference track is");
    mf_diags_fini(&d);
}

static void test_duplicate_and_reserved_names(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s = load("{\"mixfarm\": 1, \"tracks\": ["
                           "{\"name\": \"Kick\", \"file\": \"audio/kick.wav\"},"
                           "{\"name\": \"Kick\", \"file\": \"audio/kick.wav\"},"
                           "{\"name\": \"master\", \"file\": \"audio/kick.wav\"},"
                           "{\"name\": \"\", \"file\": \"audio/kick.wav\"}],"
                           "\"buses\": [{\"name\": \"Kick\"}]}",
                           &d);
    assert_null(s);
    assert_error(&d, "tracks[1].name", "duplicate name \"Kick\" (also tracks[0])");
    assert_error(&d, "buses[0].name", "duplicate name \"Kick\" (also tracks[0])");
    assert_error(&d, "tracks[2].name", "\"master\" is reserved");
    assert_error(&d, "tracks[3].name", "must not be empty");
    mf_diags_fini(&d);
}

static void test_unknown_bus(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s =
        load_track("\"output\": \"Drms\", \"sends\": [{\"bus\": \"Verbb\"}, {\"bus\": \"Kick\"}]",
                   "{\"name\": \"Drums\"}, {\"name\": \"Verb\", \"output\": \"Mastr\"}",
                   "\"stems\": [\"Drum\"]", &d);
    assert_null(s);
    assert_error(&d, "tracks[0].output", "unknown bus \"Drms\" (did you mean \"Drums\"?)");
    assert_error(&d, "tracks[0].sends[0].bus", "unknown bus \"Verbb\" (did you mean \"Verb\"?)");
    assert_error(&d, "tracks[0].sends[1].bus", "\"Kick\" is a track; a send goes to a bus");
    assert_error(&d, "buses[1].output", "unknown bus \"Mastr\" (did you mean \"master\"?)");
    assert_error(&d, "stems[0]", "unknown track or bus \"Drum\" (did you mean \"Drums\"?)");
    mf_diags_fini(&d);
}

static void test_unknown_sidechain(void **state)
{
    (void)state;
    /* No registered class takes a sidechain yet: the fake one, named against
     * a loaded session. */
    mf_diags_t d;
    mf_session_t *s = load_track("", "{\"name\": \"Drums\"}", "", &d);
    assert_non_null(s);
    mf_diags_fini(&d);

    mf_insert_t ins;
    assert_int_equal(parse_fake("{\"sidechain\": \"Kik\"}", s, &d, &ins), -1);
    assert_error(&d, "ins.sidechain", "unknown track or bus \"Kik\" (did you mean \"Kick\"?)");
    mf_session_insert_fini(&ins);
    mf_diags_fini(&d);

    assert_int_equal(parse_fake("{\"sidechain\": \"master\"}", s, &d, &ins), -1);
    assert_error(&d, "ins.sidechain", "\"master\" is the master");
    mf_session_insert_fini(&ins);
    mf_diags_fini(&d);

    assert_int_equal(parse_fake("{\"sidechain\": \"Drums\"}", s, &d, &ins), 0);
    assert_int_equal(ins.sidechain.kind, MF_REF_BUS);
    assert_int_equal(ins.sidechain.index, 0);
    mf_session_insert_fini(&ins);
    mf_diags_fini(&d);

    /* A class without a sidechain refuses one. */
    d = (mf_diags_t){0};
    mf_session_free(&s);
    s = load_track("\"inserts\": [{\"type\": \"gain\", \"sidechain\": \"Kick\"}]", "", "", &d);
    assert_null(s);
    assert_error(&d, "tracks[0].inserts[0].sidechain", "gain takes no sidechain");
    mf_diags_fini(&d);
}

static void test_routing_cycle(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s = load_track(
        "",
        "{\"name\": \"A\", \"output\": \"B\"}, {\"name\": \"B\", \"output\": \"A\"},"
        "{\"name\": \"C\", \"sends\": [{\"bus\": \"D\"}]}, {\"name\": \"D\", \"output\": "
        "\"E\"}, {\"name\": \"E\", \"output\": \"C\"}, {\"name\": \"F\", \"output\": \"F\"}",
        "", &d);
    assert_null(s);
    assert_error(&d, "buses", "routing cycle: A -> B -> A");
    assert_error(&d, "buses", "routing cycle: C -> D -> E -> C");
    assert_error(&d, "buses[5].output", "a bus cannot output to itself");
    mf_diags_fini(&d);
}

static void test_routing_cycle_through_sidechain(void **state)
{
    (void)state;
    /* Kick feeds Drums; a Kick insert keyed from Drums closes a loop. The
     * graph is generic, so the edge is set on the model by hand. */
    mf_diags_t d;
    mf_session_t *s = load_track("\"output\": \"Drums\", \"inserts\": [{\"type\": \"gain\"}]",
                                 "{\"name\": \"Drums\"}", "", &d);
    assert_non_null(s);
    assert_int_equal(mf_sess__check_routing(s, &d), 0);
    s->tracks[0].ch.inserts[0].sidechain = (mf_ref_t){MF_REF_BUS, 0};
    assert_int_equal(mf_sess__check_routing(s, &d), -1);
    assert_error(&d, "buses", "routing cycle: Kick -> Drums -> Kick");
    mf_session_free(&s);
    mf_diags_fini(&d);
}

static void test_bad_automation_path(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s =
        load_track("\"inserts\": [{\"type\": \"gain\"}], \"automation\": {"
                   "\"inserts.3.gain_db\": [[0, 0]], \"inserts.0.freq_hz\": [[0, 0]],"
                   "\"inserts.0.gian_db\": [[0, 0]], \"inserts.0.bands.0.gain_db\": [[0, 0]],"
                   "\"inserts.01.gain_db\": [[0, 0]], \"gian_db\": [[0, 0]],"
                   "\"sends.Verb.level_db\": [[0, 0]]}",
                   "{\"name\": \"Verb\"}", "", &d);
    assert_null(s);
    const char *a = "tracks[0].automation";
    char p[256];
    snprintf(p, sizeof p, "%s[\"inserts.3.gain_db\"]", a);
    assert_error(&d, p, "no insert 3 (the track has 1)");
    snprintf(p, sizeof p, "%s[\"inserts.0.freq_hz\"]", a);
    assert_error(&d, p, "insert 0 (gain) has no parameter \"freq_hz\"");
    snprintf(p, sizeof p, "%s[\"inserts.0.gian_db\"]", a);
    assert_error(&d, p, "(did you mean \"gain_db\"?)");
    snprintf(p, sizeof p, "%s[\"inserts.0.bands.0.gain_db\"]", a);
    assert_error(&d, p, "insert 0 (gain) has no bands");
    snprintf(p, sizeof p, "%s[\"inserts.01.gain_db\"]", a);
    assert_error(&d, p, "unknown automation target");
    snprintf(p, sizeof p, "%s[\"gian_db\"]", a);
    assert_error(&d, p, "unknown automation target (did you mean \"gain_db\"?)");
    snprintf(p, sizeof p, "%s[\"sends.Verb.level_db\"]", a);
    assert_error(&d, p, "the track has no send to \"Verb\"");
    mf_diags_fini(&d);
}

static void test_automation_value_out_of_range(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s = load_track("\"inserts\": [{\"type\": \"gain\"}], \"automation\": {"
                                 "\"pan\": [[0, 0], [1, 2]], \"gain_db\": [[0, 30]],"
                                 "\"inserts.0.gain_db\": [[0, 49]], \"pan \": 3}",
                                 "", "", &d);
    assert_null(s);
    assert_error(&d, "tracks[0].automation[\"pan\"][1][1]", "must be <= 1 (got 2)");
    assert_error(&d, "tracks[0].automation[\"gain_db\"][0][1]", "must be <= 24 (got 30)");
    assert_error(&d, "tracks[0].automation[\"inserts.0.gain_db\"][0][1]", "must be <= 48 (got 49)");
    mf_diags_fini(&d);
}

static void test_automation_times_not_monotonic(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s = load_track("\"automation\": {\"pan\": [[0, 0], [2, 0.5], [1, 0]],"
                                 "\"gain_db\": [[1, 0], [1, -6], [1, -3]],"
                                 "\"pan_x\": [], \"inserts.0.gain_db\": [[-1, 0]]}",
                                 "", "", &d);
    assert_null(s);
    assert_error(&d, "tracks[0].automation[\"pan\"][2][0]",
                 "times must not go backwards (1 after 2)");
    assert_error(&d, "tracks[0].automation[\"gain_db\"][2][0]", "a third point at 1 s");
    mf_diags_fini(&d);

    s = load_track("\"inserts\": [{\"type\": \"gain\"}], \"automation\": {\"pan\": [],"
                   "\"gain_db\": [[-1, 0], [0]], \"inserts.0.gain_db\": 4}",
                   "", "", &d);
    assert_null(s);
    assert_error(&d, "tracks[0].automation[\"pan\"]", "needs at least one");
    assert_error(&d, "tracks[0].automation[\"gain_db\"][0][0]", "must be >= 0 (got -1)");
    assert_error(&d, "tracks[0].automation[\"gain_db\"][1]", "must be a [time_s, value] pair");
    assert_error(&d, "tracks[0].automation[\"inserts.0.gain_db\"]", "must be an array of");
    mf_diags_fini(&d);
}

static void test_version(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s = load("{\"mixfarm\": 2, \"tracks\": [{\"name\": \"K\", \"file\": "
                           "\"audio/kick.wav\"}]}",
                           &d);
    assert_null(s);
    assert_error(&d, "mixfarm", "unsupported format version 2 (this version reads 1)");
    mf_diags_fini(&d);

    s = load("{\"tracks\": [{\"name\": \"K\", \"file\": \"audio/kick.wav\"}]}", &d);
    assert_null(s);
    assert_error(&d, "mixfarm", "required");
    mf_diags_fini(&d);

    s = load("{\"mixfarm\": \"1\", \"tracks\": [{\"name\": \"K\", \"file\": "
             "\"audio/kick.wav\"}]}",
             &d);
    assert_null(s);
    assert_error(&d, "mixfarm", "must be 1 (got string)");
    mf_diags_fini(&d);
}

static void test_album_not_supported(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s = load("{\"mixfarm\": 1, \"album\": {\"title\": \"Demo\"}, \"tracks\": "
                           "[{\"session\": \"a/session.json\"}]}",
                           &d);
    assert_null(s);
    assert_error(&d, "album", "album documents are not supported by this version yet");
    assert_int_equal(d.errors, 1); /* and nothing else */
    mf_diags_fini(&d);
}

/* Every file a text names: one mono second at 48 kHz. */
static int s_any_audio(void *ctx, const char *file, int *channels, int *rate, int64_t *frames,
                       char *why, size_t why_size)
{
    (void)ctx, (void)file, (void)why, (void)why_size;
    *channels = 1, *rate = 48000, *frames = 48000;
    return 0;
}

/* File names from titles and bus names: what Windows, macOS and Linux all
 * take, and never a hidden file. */
static void test_file_names(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"Night Drive", "Night Drive"},
        {"AC/DC: Back\\In <Black>?*|\"", "AC_DC_ Back_In _Black_____"},
        {".hidden", "_hidden"},
        {"..", "__"},
        {"Intro...", "Intro___"},
        {"Outro ", "Outro_"},
        {"tab\there", "tab_here"}, /* \t */
        {"Überlänge ☂", "Überlänge ☂"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s", cases[i][0]);
        mf_file_name_clean(name);
        assert_string_equal(name, cases[i][1]);
    }
}

static void test_not_a_document(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s = load("{\"mixfarm\": 1, \"tracks\": [", &d);
    assert_null(s);
    assert_error(&d, "", "not valid JSON: line 1");
    mf_diags_fini(&d);

    s = load("{\"mixfarm\": 1, \"mixfarm\": 1, \"tracks\": []}", &d);
    assert_null(s);
    assert_error(&d, "", "duplicate");
    mf_diags_fini(&d);

    s = load("[1, 2]", &d);
    assert_null(s);
    assert_error(&d, "", "must be a JSON object (got array)");
    mf_diags_fini(&d);

    /* A UTF-8 byte order mark (Notepad's) is skipped, from a file and from
     * a text as a coordinator gets it; a lone one is an empty document. */
    static const char bom[] = "\xEF\xBB\xBF{\"mixfarm\": 1, \"name\": \"B\", \"tracks\": "
                              "[{\"name\": \"Kick\", \"file\": \"audio/kick.wav\"}]}";
    s = load(bom, &d);
    assert_non_null(s);
    assert_int_equal(d.errors, 0);
    mf_session_free(&s);
    mf_diags_fini(&d);
    mf_diags_init(&d, "bom.json");
    mf_session_source_t src = {.audio = s_any_audio};
    s = mf_session_load_text("bom.json", bom, &src, &d);
    assert_non_null(s);
    mf_session_free(&s);
    mf_diags_fini(&d);
    s = load("\xEF\xBB\xBF", &d);
    assert_null(s);
    assert_error(&d, "", "not valid JSON: line 1");
    mf_diags_fini(&d);
    /* Notepad's "Unicode" is UTF-16: little-endian with its mark, and
     * big-endian without one. */
    static const char le[] = "\xFF\xFE{\0\"\0m\0", be[] = "\0{\0\"\0m";
    const char *u16[] = {le, be};
    const size_t u16_n[] = {sizeof le - 1, sizeof be - 1};
    for (int i = 0; i < 2; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/utf16.json", sfx_dir());
        sfx_write_file("utf16.json", u16[i], u16_n[i]);
        mf_diags_init(&d, path);
        assert_null(mf_session_load(path, &d));
        assert_error(&d, "", "is UTF-16 text; a JSON file is UTF-8: save it as UTF-8");
        mf_diags_fini(&d);
    }

    s = load("{\"mixfarm\": 1, \"tracks\": []}", &d);
    assert_null(s);
    assert_error(&d, "tracks", "must not be empty");
    mf_diags_fini(&d);

    mf_diags_init(&d, "nowhere.json");
    assert_null(mf_session_load("/nonexistent/nowhere.json", &d));
    assert_error(&d, "", "no such file");
    mf_diags_fini(&d);
}

static void test_every_error_reported(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s = load("{\"mixfarm\": 1, \"pan_law_db\": -5, \"tracks\": ["
                           "{\"name\": \"A\", \"file\": \"audio/gtr.wav\", \"pan\": 3},"
                           "{\"name\": \"B\", \"file\": \"audio/kick.wav\", "
                           "\"inserts\": [{\"type\": \"gain\", \"gain_db\": \"x\", \"mix\": 1}],"
                           "\"output\": \"Nowhere\"}],"
                           "\"outputs\": [{\"format\": \"wave\"}, {\"format\": \"flac\", "
                           "\"bits\": 32}, {\"format\": \"mp3\", \"bitrate_kbps\": 300},"
                           "{\"format\": \"mp3\", \"sample_rate\": 8000, \"bitrate_kbps\": 320},"
                           "{\"format\": \"mp3\", \"sample_rate\": 22050, \"bitrate_kbps\": 144}]}",
                           &d);
    assert_null(s);
    assert_true(d.errors >= 8);
    assert_error(&d, "pan_law_db", "must be -3, -4.5 or -6 (got -5)");
    assert_error(&d, "tracks[0].file", "no such file");
    assert_error(&d, "tracks[0].pan", "must be <= 1 (got 3)");
    assert_error(&d, "tracks[1].inserts[0].gain_db", "must be a number or \"-inf\"");
    assert_error(&d, "tracks[1].inserts[0].mix", "unknown parameter of gain");
    assert_error(&d, "tracks[1].output", "unknown bus \"Nowhere\"");
    assert_error(&d, "outputs[0].format", "unknown format \"wave\" (did you mean \"wav\"?)");
    assert_error(&d, "outputs[1].bits", "must be one of 16, 24 (got 32)");
    assert_error(&d, "outputs[2].bitrate_kbps", "MPEG 1, whose bitrates are 32, 40");
    /* What LAME would change (320 at 8 kHz became 64, and the manifest
     * said 320) is refused; 144 is an MPEG 2 rate. */
    assert_error(&d, "outputs[3].bitrate_kbps",
                 "at 8000 Hz an MP3 is MPEG 2.5, whose bitrates are 8, 16, 24, 32, 40, 48, 56, 64 "
                 "(got 320)");
    for (size_t i = 0; i < d.count; i++)
        assert_string_not_equal(d.items[i].path, "outputs[4].bitrate_kbps");
    mf_diags_fini(&d);
}

static void test_defaults_filled(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s = load_named("Late Song",
                                 "{\"mixfarm\": 1, \"tracks\": ["
                                 "{\"name\": \"Gtr\", \"file\": \"audio/gtr44.wav\","
                                 " \"output\": \"Sub\"},"
                                 "{\"name\": \"Kick\", \"file\": \"audio/kick.wav\"}],"
                                 "\"buses\": [{\"name\": \"Sub\", \"output\": \"Drums\"},"
                                 "{\"name\": \"Drums\"}, {\"name\": \"Fx\", \"output\": "
                                 "\"master\"}]}",
                                 &d);
    assert_non_null(s);
    assert_string_equal(s->name, "Late Song");
    assert_int_equal(s->sample_rate, 44100); /* the first track's */
    assert_true(s->pan_law_db == -3.0);
    assert_true(s->tempo_bpm == 120.0);
    const mf_track_t *k = &s->tracks[1];
    assert_true(k->start_s == 0.0 && k->trim_from_s == 0.0 && k->trim_length_s < 0);
    assert_true(k->ch.gain_db == 0.0 && k->ch.pan == 0.0);
    assert_false(k->ch.invert || k->mute || k->solo);
    assert_int_equal(k->ch.output.kind, MF_REF_MASTER);
    /* Stems: every bus that feeds master, in bus order. */
    assert_int_equal(s->n_stems, 2);
    assert_string_equal(mf_session_ref_name(s, s->stems[0]), "Drums");
    assert_string_equal(mf_session_ref_name(s, s->stems[1]), "Fx");
    assert_null(s->mastering);
    assert_null(s->outputs);
    mf_session_free(&s);
    mf_diags_fini(&d);

    s = load_track("", "", "\"pan_law_db\": -4.5", &d);
    assert_non_null(s);
    assert_true(s->pan_law_db == -4.5);
    assert_int_equal(s->sample_rate, 48000);
    assert_int_equal(s->n_stems, 0);
    mf_session_free(&s);
    mf_diags_fini(&d);
}

static void test_solo_mute_audibility(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s =
        load("{\"mixfarm\": 1, \"tracks\": ["
             "{\"name\": \"A\", \"file\": \"audio/kick.wav\"},"
             "{\"name\": \"B\", \"file\": \"audio/kick.wav\", \"mute\": true},"
             "{\"name\": \"C\", \"file\": \"audio/kick.wav\", \"solo\": true},"
             "{\"name\": \"D\", \"file\": \"audio/kick.wav\", \"solo\": true, \"mute\": true}]}",
             &d);
    assert_non_null(s);
    assert_false(mf_session_track_audible(s, 0)); /* not soloed while C is */
    assert_false(mf_session_track_audible(s, 1)); /* muted */
    assert_true(mf_session_track_audible(s, 2));
    assert_false(mf_session_track_audible(s, 3)); /* mute wins */
    assert_false(mf_session_track_audible(s, 4)); /* no such track */
    s->tracks[2].solo = s->tracks[3].solo = 0;
    assert_true(mf_session_track_audible(s, 0));
    assert_false(mf_session_track_audible(s, 1));
    mf_session_free(&s);
    mf_diags_fini(&d);
}

static void test_neg_inf_accepted(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s = load_track(
        "\"gain_db\": \"-inf\", \"inserts\": [{\"type\": \"gain\", \"gain_db\": \"-inf\"}],"
        "\"sends\": [{\"bus\": \"Verb\", \"level_db\": \"-inf\"}],"
        "\"automation\": {\"sends.Verb.level_db\": [[0, \"-inf\"], [1, -6]],"
        "\"inserts.0.gain_db\": [[0, \"-inf\"]]}",
        "{\"name\": \"Verb\", \"gain_db\": \"-inf\"}", "", &d);
    if (d.count) mf_diags_print(&d);
    assert_non_null(s);
    const mf_channel_t *ch = &s->tracks[0].ch;
    assert_true(isinf(ch->gain_db) && ch->gain_db < 0);
    assert_true(isinf(ch->inserts[0].values[0]) && ch->inserts[0].values[0] < 0);
    assert_true(isinf(ch->sends[0].level_db) && ch->sends[0].level_db < 0);
    assert_true(isinf(ch->autos[0].pts[0].v));
    assert_true(isinf(s->buses[0].gain_db));
    mf_session_free(&s);
    mf_diags_fini(&d);

    /* Not where there is no dB. */
    s = load_track("\"pan\": \"-inf\", \"automation\": {\"pan\": [[0, \"-inf\"]]}", "", "", &d);
    assert_null(s);
    assert_error(&d, "tracks[0].pan", "must be a number (got string)");
    assert_error(&d, "tracks[0].automation[\"pan\"][0][1]", "must be a number (got string)");
    mf_diags_fini(&d);
}

static void test_sends_and_trim(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s = load_track("\"sends\": [{\"bus\": \"Verb\"}, {\"bus\": \"Verb\", "
                                 "\"level_db\": 30, \"pre_fadr\": true}],"
                                 "\"trim\": {\"from_s\": 2, \"length_s\": 0}",
                                 "{\"name\": \"Verb\", \"sends\": [{\"bus\": \"Verb\"}]}", "", &d);
    assert_null(s);
    assert_error(&d, "tracks[0].sends[1].bus", "a second send to \"Verb\" (also sends[0])");
    assert_error(&d, "tracks[0].sends[1].level_db", "must be <= 24 (got 30)");
    assert_warning(&d, "tracks[0].sends[1].pre_fadr", "unknown key (did you mean \"pre_fader\"?)");
    assert_error(&d, "tracks[0].trim.length_s", "must be > 0 (got 0)");
    assert_error(&d, "buses[0].sends[0].bus", "a bus cannot send to itself");
    mf_diags_fini(&d);

    s = load_track("\"trim\": {\"from_s\": 2}", "", "", &d);
    assert_null(s);
    assert_error(&d, "tracks[0].trim.from_s", "2 s is beyond the end of audio/kick.wav (1 s long)");
    mf_diags_fini(&d);
}

static void test_mastering_outputs_metadata(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s = load_track(
        "", "",
        "\"mastering\": {\"target\": \"streamin\", \"match_reference\": true,"
        " \"inserts\": [{\"type\": \"gain\", \"gain_db\": 100}], \"limiter\": {\"ceiling_dbtp\": "
        "1}},"
        "\"outputs\": [{\"format\": \"mp3\", \"bits\": 16}, {\"bits\": 16},"
        " {\"format\": \"mp3\", \"bitrate_kbps\": 320, \"vbr_quality\": 2},"
        " {\"format\": \"wav\", \"bitrate_kbps\": 320}, {\"format\": \"wav\", \"bits\": \"32f\"},"
        " {\"format\": \"wav\", \"bits\": \"32f\"}],"
        "\"metadata\": {\"isrc\": \"XX-12\", \"upc\": \"012345678900\", \"year\": 0,"
        " \"cover\": \"audio/kick.wav\", \"titel\": \"x\"}",
        &d);
    assert_null(s);
    assert_error(&d, "mastering.target",
                 "unknown preset \"streamin\" (did you mean \"streaming\"?)");
    assert_error(&d, "mastering.match_reference", "needs a \"reference\"");
    assert_error(&d, "mastering.inserts[0].gain_db", "must be <= 48 (got 100)");
    assert_error(&d, "mastering.limiter.ceiling_dbtp", "must be <= 0 (got 1)");
    assert_error(&d, "outputs[0].bits", "mp3 has no word length");
    assert_error(&d, "outputs[1].format", "required");
    assert_error(&d, "outputs[2].vbr_quality", "not both");
    assert_error(&d, "outputs[3].bitrate_kbps", "only mp3 and opus");
    assert_error(&d, "outputs[5]", "the same deliverable as outputs[4]");
    assert_error(&d, "metadata.isrc", "must be an ISRC");
    assert_error(&d, "metadata.upc", "check digit");
    assert_error(&d, "metadata.year", "must be >= 1 (got 0)");
    assert_error(&d, "metadata.cover", "not a JPEG or PNG image");
    assert_warning(&d, "metadata.titel", "(did you mean \"title\"?)");
    mf_diags_fini(&d);

    s = load_track("", "",
                   "\"mastering\": {\"target\": {\"lufs\": -14}, \"reference\": \"refs/none.wav\"}",
                   &d);
    assert_null(s);
    assert_error(&d, "mastering.target.true_peak_dbtp", "required");
    assert_error(&d, "mastering.reference", "refs/none.wav: no such file");
    mf_diags_fini(&d);

    s = load_track("", "",
                   "\"mastering\": {\"target\": {\"lufs\": -16, \"true_peak_dbtp\": -1}},"
                   "\"metadata\": {\"upc\": \"012345678905\", \"disc\": 1}",
                   &d);
    assert_non_null(s);
    mf_session_free(&s);
    mf_diags_fini(&d);
}

/* ---- generic insert validation, with the fake class -------------------- */

static void test_insert_choices_and_bands(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_insert_t ins;
    assert_int_equal(parse_fake("{\"ratio\": 4, \"detector\": \"rms\", \"threshold_db\": "
                                "\"-inf\", \"bands\": [{\"kind\": \"highshelf\", \"freq_hz\": "
                                "8000}, {}]}",
                                NULL, &d, &ins),
                     0);
    assert_int_equal(d.count, 0);
    assert_int_equal(ins.nbands, 2);
    assert_int_equal(ins.n_values, 4 + 2 * 3);
    const double *v = ins.values;
    assert_true(v[0] == 4.0 && v[1] == 1.0 && isinf(v[2]) && v[3] == 0.0);
    assert_true(v[4] == 2.0 && v[5] == 8000.0 && v[6] == 0.0); /* band 0 */
    assert_true(v[7] == 1.0 && v[8] == 1000.0 && v[9] == 0.0); /* band 1: defaults */
    mf_session_insert_fini(&ins);
    mf_diags_fini(&d);

    assert_int_equal(parse_fake("{\"ratio\": 0, \"detector\": \"avg\", \"knee_db\": \"-inf\","
                                "\"bands\": [{\"kind\": \"peek\", \"freq_hz\": 30000, \"q\": 1},"
                                "5], \"freq_hz\": 100, \"treshold_db\": -3}",
                                NULL, &d, &ins),
                     -1);
    assert_error(&d, "ins.ratio", "must be >= 1 (got 0)");
    assert_error(&d, "ins.detector", "must be one of peak, rms (got \"avg\")");
    assert_error(&d, "ins.knee_db", "must be a number (got string)");
    assert_error(
        &d, "ins.bands[0].kind",
        "must be one of lowshelf, peak, highshelf (got \"peek\") (did you mean \"peak\"?)");
    assert_error(&d, "ins.bands[0].freq_hz", "must be <= 20000 (got 30000)");
    assert_error(&d, "ins.bands[0].q", "unknown parameter of fake bands");
    assert_error(&d, "ins.bands[1]", "must be an object (got number)");
    assert_error(&d, "ins.freq_hz", "is a band parameter of fake");
    assert_error(&d, "ins.treshold_db", "(did you mean \"threshold_db\"?)");
    mf_session_insert_fini(&ins);
    mf_diags_fini(&d);

    assert_int_equal(parse_fake("{\"bands\": [{}, {}, {}], \"detector\": 1}", NULL, &d, &ins), -1);
    assert_error(&d, "ins.bands", "fake takes at most 2 bands (got 3)");
    assert_error(&d, "ins.detector", "must be one of peak, rms (got number)");
    mf_session_insert_fini(&ins);
    mf_diags_fini(&d);

    /* The public entry point looks the class up by type. */
    json_t *j = json_loads("{\"type\": \"gain\", \"bands\": []}", 0, NULL);
    mf_diags_init(&d, "x");
    assert_int_equal(mf_session_parse_insert(j, "i", NULL, &d, &ins), -1);
    assert_error(&d, "i.bands", "gain has no bands");
    mf_session_insert_fini(&ins);
    mf_diags_fini(&d);
    json_decref(j);
    j = json_loads("{\"gain_db\": 1}", 0, NULL);
    mf_diags_init(&d, "x");
    assert_int_equal(mf_session_parse_insert(j, "i", NULL, &d, &ins), -1);
    assert_error(&d, "i.type", "required (one of ");
    assert_null(ins.cls);
    mf_session_insert_fini(&ins);
    mf_diags_fini(&d);
    json_decref(j);
}

static void test_automation_of_bands(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_insert_t ins;
    assert_int_equal(parse_fake("{\"bands\": [{}, {}]}", NULL, &d, &ins), 0);
    mf_diags_fini(&d);
    mf_channel_t ch = {.inserts = &ins, .n_inserts = 1};
    mf_session_t s = {0};
    json_t *j = json_loads("{\"inserts.0.bands.1.freq_hz\": [[0, 100], [1, 200]],"
                           "\"inserts.0.ratio\": [[0, 2]],"
                           "\"inserts.0.threshold_db\": [[0, \"-inf\"]],"
                           "\"inserts.0.bands.2.freq_hz\": [[0, 100]],"
                           "\"inserts.0.bands.0.q\": [[0, 1]],"
                           "\"inserts.0.detector\": [[0, 1]],"
                           "\"inserts.0.bands.0.kind\": [[0, 1]],"
                           "\"inserts.0.freq_hz\": [[0, 1]],"
                           "\"inserts.0.bands.0.gain_db\": [[0, 25]]}",
                           0, NULL);
    assert_non_null(j);
    mf_diags_init(&d, "x");
    assert_int_equal(mf_sess__parse_automation(&s, &ch, j, NULL, "ch", "bus", &d), -1);
    assert_int_equal(ch.n_autos, 3);
    assert_int_equal(ch.autos[0].kind, MF_AUTO_INSERT_PARAM);
    assert_int_equal(ch.autos[0].index, 0);
    assert_int_equal(ch.autos[0].param, 4 + 1 * 3 + 1); /* band 1, freq_hz */
    assert_int_equal(ch.autos[1].param, 0);
    assert_true(isinf(ch.autos[2].pts[0].v));
    assert_error(&d, "ch.automation[\"inserts.0.bands.2.freq_hz\"]", "no band 2 (insert 0 has 2)");
    assert_error(&d, "ch.automation[\"inserts.0.bands.0.q\"]",
                 "a band of fake has no parameter \"q\"");
    assert_error(&d, "ch.automation[\"inserts.0.detector\"]",
                 "\"detector\" is a choice and cannot be automated");
    assert_error(&d, "ch.automation[\"inserts.0.bands.0.kind\"]", "is a choice");
    assert_error(&d, "ch.automation[\"inserts.0.freq_hz\"]",
                 "\"freq_hz\" is a band parameter: use inserts.0.bands.<j>.freq_hz");
    assert_error(&d, "ch.automation[\"inserts.0.bands.0.gain_db\"][0][1]",
                 "must be <= 24 (got 25)");
    for (size_t i = 0; i < ch.n_autos; i++) mf_sess__automation_fini(&ch.autos[i]);
    free(ch.autos);
    mf_session_insert_fini(&ins);
    json_decref(j);
    mf_diags_fini(&d);
}

static void test_suggestions(void **state)
{
    (void)state;
    assert_int_equal(mf_sess__distance("gain_bd", "gain_db"), 1); /* a swap */
    assert_int_equal(mf_sess__distance("Drms", "Drums"), 1);
    assert_int_equal(mf_sess__distance("drums", "Drums"), 0);
    assert_int_equal(mf_sess__distance("", "abc"), 3);
    static const char *const c[] = {"gain_db", "pan", "Drums", NULL};
    assert_string_equal(mf_sess__suggest("gian_db", c, 3), "gain_db");
    assert_string_equal(mf_sess__suggest("drums", c, 3), "Drums");
    assert_string_equal(mf_sess__suggest("pam", c, 3), "pan");
    assert_null(mf_sess__suggest("mute", c, 3));
    assert_null(mf_sess__suggest("xyz", c, 3));
    assert_null(mf_sess__suggest("pan", c, 3));                     /* itself is no suggestion */
    assert_string_equal(mf_sess__suggest("gain", c, 3), "gain_db"); /* the unit left out */
    assert_null(mf_sess__suggest("ga", c, 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_session_loads),
        cmocka_unit_test(test_bad_type),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_unknown_insert_type),
        cmocka_unit_test(test_unknown_key_warns),
        cmocka_unit_test(test_frequency_past_nyquist),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_unicode_forms),
        cmocka_unit_test(test_stem_files_collide),
        cmocka_unit_test(test_not_audio),
        cmocka_unit_test(test_too_many_channels),
        cmocka_unit_test(test_duplicate_and_reserved_names),
        cmocka_unit_test(test_unknown_bus),
        cmocka_unit_test(test_unknown_sidechain),
        cmocka_unit_test(test_routing_cycle),
        cmocka_unit_test(test_routing_cycle_through_sidechain),
        cmocka_unit_test(test_bad_automation_path),
        cmocka_unit_test(test_automation_value_out_of_range),
        cmocka_unit_test(test_automation_times_not_monotonic),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_album_not_supported),
        cmocka_unit_test(test_file_names),
        cmocka_unit_test(test_not_a_document),
        cmocka_unit_test(test_every_error_reported),
        cmocka_unit_test(test_defaults_filled),
        cmocka_unit_test(test_solo_mute_audibility),
        cmocka_unit_test(test_neg_inf_accepted),
        cmocka_unit_test(test_sends_and_trim),
        cmocka_unit_test(test_mastering_outputs_metadata),
        cmocka_unit_test(test_insert_choices_and_bands),
        cmocka_unit_test(test_automation_of_bands),
        cmocka_unit_test(test_suggestions),
    };
    return cmocka_run_group_tests_name("session", tests, group_setup, group_teardown);
}
