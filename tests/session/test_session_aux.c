/* session/: list parameters (multiband's crossovers_hz, and a fake class
 * with two lists to show the layout is generic), the band count a list sets,
 * automation of list items and multiband bands, and auxiliary input files
 * (the convolution reverb's "ir"): checked like tracks' files, locally and
 * through a coordinator's source callback, each file listed once. */
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

#include "mf_session.h"
#include "session_fixture.h"
#include "session_int.h"

static int group_setup(void **state)
{
    (void)state;
    if (sfx_open("mf-session-aux")) return -1;
    sfx_write_wav("kick.wav", 1, 48000, 48000, 0.0f);
    sfx_write_wav("hall.wav", 2, 44100, 44100 * 2, 0.0f); /* 2 s stereo IR at 44.1 kHz */
    sfx_write_wav("long.wav", 1, 8000, 8000 * 31, 0.0f);  /* 31 s: too long for an IR */
    sfx_write_wav("six.wav", 6, 48000, 480, 0.0f);
    sfx_write_file("x.txt", "not audio\n", 10);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return sfx_close();
}

static int has(const mf_diags_t *d, const char *path, const char *text)
{
    for (size_t i = 0; i < d->count; i++)
        if (d->items[i].kind == MF_DIAG_ERROR && strcmp(d->items[i].path, path) == 0 &&
            strstr(d->items[i].message, text))
            return 1;
    fprintf(stderr, "expected an error at %s containing: %s\n", path, text);
    mf_diags_print(d);
    return 0;
}
#define assert_error(d, path, text) assert_true(has((d), (path), (text)))

/* A one-track session with inserts (a JSON array) and automation (an object)
 * on the track, written to the temp folder and loaded. */
static mf_session_t *load_inserts(const char *inserts, const char *automation, mf_diags_t *d)
{
    char doc[8192], path[512];
    snprintf(doc, sizeof doc,
             "{\"mixfarm\": 1, \"sample_rate\": 48000, \"tracks\": [{\"name\": \"Kick\", "
             "\"file\": \"kick.wav\", \"inserts\": %s, \"automation\": %s}]}",
             inserts, automation ? automation : "{}");
    snprintf(path, sizeof path, "%s/session.json", sfx_dir());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(doc, f);
    fclose(f);
    mf_diags_init(d, path);
    return mf_session_load(path, d);
}

static mf_session_t *load_ok(const char *inserts, const char *automation)
{
    mf_diags_t d;
    mf_session_t *s = load_inserts(inserts, automation, &d);
    if (!s) mf_diags_print(&d);
    mf_diags_fini(&d);
    assert_non_null(s);
    return s;
}

static const double *xo(const mf_insert_t *in)
{
    return in->values + mf_processor_list_offset(in->cls, in->nbands, 0);
}

/* ---- lists ------------------------------------------------------------- */

static void test_multiband_defaults(void **state)
{
    (void)state;
    mf_session_t *s = load_ok("[{\"type\": \"multiband\"}, {\"type\": \"multiband\", "
                              "\"crossovers_hz\": [100, 1000, 5000]}]",
                              NULL);
    const mf_insert_t *a = &s->tracks[0].ch.inserts[0], *b = &s->tracks[0].ch.inserts[1];
    /* No crossovers: the defaults (200, 2000) and three default bands. */
    assert_int_equal(a->nbands, 3);
    assert_int_equal(a->n_values, 3 * 6 + 1 + 5);
    assert_true(xo(a)[0] == 2 && xo(a)[1] == 200 && xo(a)[2] == 2000 && xo(a)[3] == 0);
    for (size_t band = 0; band < 3; band++) {
        assert_true(a->values[band * 6 + 0] == -20); /* threshold_db */
        assert_true(a->values[band * 6 + 1] == 4);   /* ratio */
    }
    /* Three crossovers and no bands: four default bands. */
    assert_int_equal(b->nbands, 4);
    assert_true(xo(b)[0] == 3 && xo(b)[3] == 5000);
    mf_session_free(&s);

    s = load_ok("[{\"type\": \"multiband\", \"crossovers_hz\": [120.5], \"bands\": "
                "[{\"ratio\": 2, \"makeup_db\": 1}, {\"threshold_db\": -30}]}]",
                NULL);
    const mf_insert_t *c = &s->tracks[0].ch.inserts[0];
    assert_int_equal(c->nbands, 2);
    assert_true(c->values[1] == 2 && c->values[5] == 1 && c->values[6] == -30);
    assert_true(xo(c)[0] == 1 && xo(c)[1] == 120.5);
    mf_session_free(&s);
}

static void test_multiband_errors(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_session_t *s = load_inserts(
        "[{\"type\": \"multiband\", \"crossovers_hz\": [300, 200]},"
        " {\"type\": \"multiband\", \"crossovers_hz\": [100], \"bands\": [{}, {}, {}]},"
        " {\"type\": \"multiband\", \"crossovers_hz\": [1, 2, 3, 4, 5, 6]},"
        " {\"type\": \"multiband\", \"crossovers_hz\": []},"
        " {\"type\": \"multiband\", \"crossovers_hz\": 100},"
        " {\"type\": \"multiband\", \"crossovers_hz\": [100, 30000]},"
        " {\"type\": \"multiband\", \"crossovers_hz\": [\"x\"]},"
        " {\"type\": \"multiband\", \"bands\": [{\"detector\": \"rms\"}, {}, {}]},"
        " {\"type\": \"multiband\", \"crossover_hz\": [100]}]",
        NULL, &d);
    assert_null(s);
    const char *ins = "tracks[0].inserts";
    char p[128];
#define AT(i, rest) (snprintf(p, sizeof p, "%s[%d]%s", ins, i, rest), p)
    assert_error(&d, AT(0, ".crossovers_hz[1]"), "must be above the value before it");
    assert_error(&d, AT(1, ".bands"),
                 "one band more than crossovers_hz has values (2 bands; got 3)");
    assert_error(&d, AT(2, ".crossovers_hz"), "takes 1 to 5 values (got 6)");
    assert_error(&d, AT(3, ".crossovers_hz"), "takes 1 to 5 values (got 0)");
    assert_error(&d, AT(4, ".crossovers_hz"), "must be an array of numbers");
    assert_error(&d, AT(5, ".crossovers_hz[1]"), "must be <= 20000");
    assert_error(&d, AT(6, ".crossovers_hz[0]"), "must be a number");
    assert_error(&d, AT(7, ".bands[0].detector"), "unknown parameter of multiband bands");
    assert_error(&d, AT(8, ".crossover_hz"), "did you mean \"crossovers_hz\"");
    mf_diags_fini(&d);
}

static void test_list_automation(void **state)
{
    (void)state;
    mf_session_t *s =
        load_ok("[{\"type\": \"gain\"}, {\"type\": \"multiband\", \"crossovers_hz\": [150, 3000]}]",
                "{\"inserts.1.bands.2.threshold_db\": [[0, -20], [1, -30]],"
                " \"inserts.1.crossovers_hz.1\": [[0, 3000], [1, 5000]]}");
    const mf_channel_t *ch = &s->tracks[0].ch;
    assert_int_equal(ch->n_autos, 2);
    for (size_t i = 0; i < 2; i++) {
        const mf_automation_t *a = &ch->autos[i];
        assert_int_equal(a->index, 1);
        if (strstr(a->path, "bands"))
            assert_int_equal(a->param, 2 * 6 + 0);
        else
            assert_int_equal(a->param, 3 * 6 + 1 + 1); /* after the bands: count, item 0, item 1 */
    }
    mf_session_free(&s);

    mf_diags_t d;
    s = load_inserts("[{\"type\": \"multiband\", \"crossovers_hz\": [150, 3000]}]",
                     "{\"inserts.0.crossovers_hz.2\": [[0, 100]],"
                     " \"inserts.0.crossovers_hz\": [[0, 100]],"
                     " \"inserts.0.crossovers_hz.0\": [[0, 5]],"
                     " \"inserts.0.bands.3.ratio\": [[0, 2]]}",
                     &d);
    assert_null(s);
    assert_error(&d, "tracks[0].automation[\"inserts.0.crossovers_hz.2\"]",
                 "no item 2 in crossovers_hz (insert 0 has 2)");
    assert_error(&d, "tracks[0].automation[\"inserts.0.crossovers_hz\"]", "is a list");
    assert_error(&d, "tracks[0].automation[\"inserts.0.crossovers_hz.0\"][0][1]", "must be >= 20");
    assert_error(&d, "tracks[0].automation[\"inserts.0.bands.3.ratio\"]", "no band 3");
    mf_diags_fini(&d);
}

/* A class with two lists that do not set bands: the layout is generic. */
static const double s_taps_def[] = {1, 2};
static const mf_list_param_t s_fake_lists[] = {
    {.item = {"taps_ms", "ms", 0, 0, 100, NULL, "tap times"},
     .defaults = s_taps_def,
     .n_defaults = 2,
     .min_count = 0,
     .max_count = 3},
    {.item = {"levels_db", "dB", 0, -60, 0, NULL, "levels"}, .min_count = 1, .max_count = 2},
};
static const mf_param_desc_t s_fake_params[] = {{"mix", "", 1, 0, 1, NULL, "mix"}};
static const mf_param_desc_t s_fake_band[] = {{"q", "", 1, 0.1, 10, NULL, "q"}};
static const mf_processor_class_t s_fake = {
    .type = "fake",
    .params = s_fake_params,
    .n_params = 1,
    .band_params = s_fake_band,
    .n_band_params = 1,
    .max_bands = 4,
    .lists = s_fake_lists,
    .n_lists = 2,
};

static void test_generic_lists(void **state)
{
    (void)state;
    assert_int_equal(mf_processor_value_count(&s_fake, 2), 1 + 2 + (1 + 3) + (1 + 2));
    assert_int_equal(mf_processor_list_offset(&s_fake, 2, 1), 1 + 2 + 4);
    json_error_t err;
    json_t *j = json_loads("{\"bands\": [{\"q\": 2}, {}], \"levels_db\": [-6, -12], "
                           "\"taps_ms\": [50, 10, 20]}",
                           0, &err);
    mf_diags_t d;
    mf_diags_init(&d, "fake");
    mf_insert_t in;
    assert_int_equal(mf_sess__parse_insert_as(&s_fake, j, "ins", NULL, &d, &in), 0);
    const double want[] = {1, 2, 1, 3, 50, 10, 20, 2, -6, -12};
    assert_int_equal(in.n_values, 10);
    for (size_t i = 0; i < 10; i++) assert_true(in.values[i] == want[i]);
    mf_session_insert_fini(&in);
    json_decref(j);
    /* Absent: defaults, unused items 0; a list without defaults needs a value. */
    j = json_loads("{}", 0, &err);
    assert_int_equal(mf_sess__parse_insert_as(&s_fake, j, "ins", NULL, &d, &in), -1);
    assert_error(&d, "ins.levels_db", "required (1 to 2 values)");
    assert_true(in.values[1] == 2 && in.values[2] == 1 && in.values[3] == 2 && in.values[4] == 0);
    mf_session_insert_fini(&in);
    json_decref(j);
    mf_diags_fini(&d);
}

/* ---- auxiliary inputs ---------------------------------------------------- */

static void test_ir_files(void **state)
{
    (void)state;
    mf_session_t *s =
        load_ok("[{\"type\": \"reverb\", \"ir\": \"hall.wav\", \"normalize\": true},"
                " {\"type\": \"reverb\"}, {\"type\": \"reverb\", \"ir\": \"hall.wav\"},"
                " {\"type\": \"reverb\", \"ir\": \"kick.wav\"}]",
                NULL);
    const mf_channel_t *ch = &s->tracks[0].ch;
    assert_int_equal(s->n_aux, 2);
    assert_int_equal(ch->inserts[0].aux, 0);
    assert_int_equal(ch->inserts[1].aux, -1);
    assert_int_equal(ch->inserts[2].aux, 0); /* the same file once */
    assert_int_equal(ch->inserts[3].aux, 1);
    assert_string_equal(s->aux[0].written, "hall.wav");
    assert_int_equal(s->aux[0].channels, 2);
    assert_int_equal(s->aux[0].rate, 44100);
    assert_int_equal(s->aux[0].frames, 88200);
    const int norm = mf_processor_param_index(ch->inserts[0].cls, 0, "normalize");
    assert_true(norm >= 0 && ch->inserts[0].values[norm] == 1.0);
    /* A track's file may be an IR too: listed as an auxiliary file as well. */
    assert_string_equal(s->aux[1].written, "kick.wav");
    assert_non_null(strstr(s->aux[0].file, "/hall.wav"));
    mf_session_free(&s);

    mf_diags_t d;
    s = load_inserts("[{\"type\": \"reverb\", \"ir\": \"nope.wav\"},"
                     " {\"type\": \"reverb\", \"ir\": \"x.txt\"},"
                     " {\"type\": \"reverb\", \"ir\": \"six.wav\"},"
                     " {\"type\": \"reverb\", \"ir\": \"long.wav\"},"
                     " {\"type\": \"reverb\", \"ir\": 7},"
                     " {\"type\": \"gain\", \"ir\": \"hall.wav\"}]",
                     NULL, &d);
    assert_null(s);
    assert_error(&d, "tracks[0].inserts[0].ir", "nope.wav: no such file");
    assert_error(&d, "tracks[0].inserts[1].ir", "x.txt: not an audio file");
    assert_error(&d, "tracks[0].inserts[2].ir", "six.wav: has 6 channels");
    assert_error(&d, "tracks[0].inserts[3].ir", "long.wav: is 31 s long; ir takes at most 30 s");
    assert_error(&d, "tracks[0].inserts[4].ir", "must be a string");
    assert_error(&d, "tracks[0].inserts[5].ir", "unknown parameter of gain");
    mf_diags_fini(&d);
}

/* On a coordinator the IR resolves through the sources the client sent. */
static int s_audio(void *ctx, const char *file, int *channels, int *rate, int64_t *frames,
                   char *why, size_t n)
{
    (void)ctx;
    if (strcmp(file, "kick.wav") && strcmp(file, "ir/room.flac")) {
        snprintf(why, n, "not sent");
        return -1;
    }
    *channels = 1, *rate = 48000, *frames = 4800;
    return 0;
}

static void test_ir_through_sources(void **state)
{
    (void)state;
    const mf_session_source_t src = {.audio = s_audio};
    mf_diags_t d;
    mf_diags_init(&d, "s.json");
    /* The mastering's IR is the bus's: one file, listed once. */
    const char *doc = "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"A\", \"file\": \"kick.wav\"}],"
                      " \"buses\": [{\"name\": \"V\", \"inserts\": [{\"type\": \"reverb\", \"ir\": "
                      "\"ir/room.flac\"}]}], \"mastering\": {\"target\": \"none\", \"inserts\": "
                      "[{\"type\": \"reverb\", \"ir\": \"ir/room.flac\", \"mix\": 0.2}]}}";
    mf_session_t *s = mf_session_load_text("s.json", doc, &src, &d);
    assert_non_null(s);
    assert_int_equal(s->n_aux, 1);
    assert_int_equal(s->buses[0].inserts[0].aux, 0);
    assert_string_equal(s->aux[0].file, "ir/room.flac"); /* a key, not a path */
    assert_int_equal(s->aux[0].frames, 4800);
    mf_session_free(&s);
    mf_diags_fini(&d);

    mf_diags_init(&d, "s.json");
    const char *bad = "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"A\", \"file\": \"kick.wav\","
                      " \"inserts\": [{\"type\": \"reverb\", \"ir\": \"other.wav\"}]}],"
                      " \"mastering\": {\"target\": \"streaming\", \"inserts\": "
                      "[{\"type\": \"reverb\", \"ir\": \"gone.wav\"}]}}";
    assert_null(mf_session_load_text("s.json", bad, &src, &d));
    assert_error(&d, "tracks[0].inserts[0].ir", "other.wav: not sent");
    assert_error(&d, "mastering.inserts[0].ir", "gone.wav: not sent");
    mf_diags_fini(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multiband_defaults), cmocka_unit_test(test_multiband_errors),
        cmocka_unit_test(test_list_automation),    cmocka_unit_test(test_generic_lists),
        cmocka_unit_test(test_ir_files),           cmocka_unit_test(test_ir_through_sources),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
